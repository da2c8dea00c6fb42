"""Lossless JSON files of a ``Trajectory`` (``Trajectory.save`` / ``Trajectory.load``).

Layout: ``{"format": "worldsim.trajectory", "version": 1, ...fields}``. Numpy arrays are
``{"dtype", "shape", "data"}`` with ``data`` the nested list; floats are written with Python's
shortest round-trip ``repr`` (json does this), and non-finite floats as ``NaN`` / ``Infinity``,
so ``load(save(t))`` gives bit-identical arrays. Dataclasses are written with
``dataclasses.asdict`` and rebuilt field by field; a malformed file raises ``WorldsimError``
naming the file and the key path.
"""

from __future__ import annotations

import dataclasses
import json
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.camera.lens import CameraLens
from worldsim.camera.track import CameraTrack
from worldsim.errors import WorldsimError, format_issue
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec, TextureSpec
from worldsim.state import EVENT_KINDS, EntityInfo, Event, Trajectory

FORMAT_NAME = "worldsim.trajectory"
FORMAT_VERSION = 1
ALLOWED_DTYPES = ("float64", "float32", "int64", "int32", "uint16", "uint8", "bool")


class TrajectoryFileError(WorldsimError):
    """A trajectory file is unreadable or malformed; carries file, key path and reason."""

    def __init__(self, reason: str, *, file: str, key_path: str = "") -> None:
        self.file, self.key_path, self.reason = file, key_path, reason
        super().__init__(format_issue(file, key_path, reason))


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    array = np.asarray(array)
    return {"dtype": array.dtype.name, "shape": list(array.shape), "data": array.tolist()}


def trajectory_to_dict(trajectory: Trajectory) -> dict[str, Any]:
    """A JSON-ready dict of ``trajectory`` (see the module doc)."""
    cameras = {}
    for name, track in trajectory.cameras.items():
        cameras[name] = {
            "name": track.name,
            "cam_to_world": _encode_array(track.cam_to_world),
            **{key: _encode_array(getattr(track, key)) for key in ("fx", "fy", "cx", "cy")},
            "width": int(track.width),
            "height": int(track.height),
            "cuts": [int(cut) for cut in track.cuts],
            "lens": dataclasses.asdict(track.lens),
        }
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "scene_name": trajectory.scene_name,
        "seed": int(trajectory.seed),
        "fps": float(trajectory.fps),
        "resolution": [int(value) for value in trajectory.resolution],
        "entities": [dataclasses.asdict(info) for info in trajectory.entities],
        "object_to_world": _encode_array(trajectory.object_to_world),
        "present": _encode_array(trajectory.present),
        "cameras": cameras,
        "in_view": {name: _encode_array(mask) for name, mask in trajectory.in_view.items()},
        "events": [dataclasses.asdict(event) for event in trajectory.events],
        "lights": [dataclasses.asdict(light) for light in trajectory.lights],
        "semantic_classes": {str(k): int(v) for k, v in trajectory.semantic_classes.items()},
        "prompt": trajectory.prompt,
    }


def save_trajectory(trajectory: Trajectory, path: str | Path) -> Path:
    """Write ``trajectory`` to ``path`` as JSON atomically (temp file, then ``os.replace``)."""
    from worldsim.clip.atomic import write_text

    text = json.dumps(trajectory_to_dict(trajectory), allow_nan=True, separators=(",", ":"))
    return write_text(path, text)


class _Reader:
    """Validating accessors that raise ``TrajectoryFileError`` with the key path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key_path: str, reason: str) -> TrajectoryFileError:
        return TrajectoryFileError(reason, file=self.file, key_path=key_path)

    def get(self, data: Any, key: str, key_path: str, kind: type | tuple[type, ...]) -> Any:
        if not isinstance(data, dict):
            raise self.fail(key_path, "expected an object")
        if key not in data:
            raise self.fail(f"{key_path}.{key}".lstrip("."), "missing key")
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"{key_path}.{key}".lstrip("."), f"expected {name}, got {type(value).__name__}")
        return value

    def array(
        self,
        data: Any,
        key_path: str,
        *,
        dtype: str | None = None,
        shape: tuple[int | None, ...] | None = None,
    ) -> np.ndarray:
        dtype_name = self.get(data, "dtype", key_path, str)
        if dtype_name not in ALLOWED_DTYPES or (dtype is not None and dtype_name != dtype):
            raise self.fail(f"{key_path}.dtype", f"unexpected dtype {dtype_name!r}")
        declared = self.get(data, "shape", key_path, list)
        if not all(isinstance(size, int) and size >= 0 for size in declared):
            raise self.fail(f"{key_path}.shape", "expected a list of non-negative integers")
        try:
            array = np.array(self.get(data, "data", key_path, list), dtype=dtype_name)
        except (TypeError, ValueError) as error:
            raise self.fail(f"{key_path}.data", f"not a {dtype_name} array: {error}") from None
        if array.size == 0:
            array = array.reshape(declared)
        if list(array.shape) != declared:
            raise self.fail(f"{key_path}.data", f"shape {list(array.shape)} does not match {declared}")
        if shape is not None and (
            len(shape) != array.ndim
            or any(want is not None and want != got for want, got in zip(shape, array.shape))
        ):
            raise self.fail(key_path, f"expected shape {shape}, got {tuple(array.shape)}")
        return array

    def dataclass(self, cls: type, data: Any, key_path: str, nested: dict[str, Any] | None = None) -> Any:
        if not isinstance(data, dict):
            raise self.fail(key_path, "expected an object")
        nested = nested or {}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise self.fail(f"{key_path}.{unknown[0]}", f"unknown key for {cls.__name__}")
        values = {}
        for name, value in data.items():
            builder = nested.get(name)
            values[name] = builder(value, f"{key_path}.{name}") if builder and value is not None else value
        try:
            return cls(**values)
        except TypeError as error:
            raise self.fail(key_path, f"cannot build {cls.__name__}: {error}") from None


def _read_cuts(read: _Reader, camera: dict[str, Any], key_path: str, frames: int) -> tuple[int, ...]:
    """A camera's ``cuts`` (absent in files written before cuts were recorded: none)."""
    if "cuts" not in camera:
        return ()
    cuts = read.get(camera, "cuts", key_path, list)
    if not all(isinstance(cut, int) and not isinstance(cut, bool) and 0 < cut < frames for cut in cuts):
        raise read.fail(f"{key_path}.cuts", f"expected ascending frame indices in 1..{frames - 1}")
    if sorted(set(cuts)) != cuts:
        raise read.fail(f"{key_path}.cuts", "expected ascending frame indices without repeats")
    return tuple(cuts)


def trajectory_from_dict(data: Any, file: str = "<trajectory>") -> Trajectory:
    """Rebuild a ``Trajectory`` from ``trajectory_to_dict`` output, validating it."""
    read = _Reader(file)
    if read.get(data, "format", "", str) != FORMAT_NAME:
        raise read.fail("format", f"not a {FORMAT_NAME} file")
    version = read.get(data, "version", "", int)
    if version != FORMAT_VERSION:
        raise read.fail("version", f"unsupported version {version} (expected {FORMAT_VERSION})")
    texture = partial(read.dataclass, TextureSpec)
    material = partial(read.dataclass, MaterialSpec, nested={"texture": texture})
    mesh = partial(read.dataclass, MeshSpec)
    entities = [
        read.dataclass(EntityInfo, value, f"entities[{i}]", {"mesh": mesh, "material": material})
        for i, value in enumerate(read.get(data, "entities", "", list))
    ]
    object_to_world = read.array(
        read.get(data, "object_to_world", "", dict),
        "object_to_world",
        dtype="float64",
        shape=(None, len(entities), 4, 4),
    )
    frames = object_to_world.shape[0]
    present = read.array(
        read.get(data, "present", "", dict), "present", dtype="bool", shape=(frames, len(entities))
    )
    cameras = {}
    for name, value in read.get(data, "cameras", "", dict).items():
        path = f"cameras.{name}"
        per_frame = {
            key: read.array(
                read.get(value, key, path, dict), f"{path}.{key}", dtype="float64", shape=(frames,)
            )
            for key in ("fx", "fy", "cx", "cy")
        }
        cameras[name] = CameraTrack(
            name=read.get(value, "name", path, str),
            cam_to_world=read.array(
                read.get(value, "cam_to_world", path, dict),
                f"{path}.cam_to_world",
                dtype="float64",
                shape=(frames, 4, 4),
            ),
            width=read.get(value, "width", path, int),
            height=read.get(value, "height", path, int),
            cuts=_read_cuts(read, value, path, frames),
            # trajectories written before lenses existed are pinhole with the default tone map
            lens=read.dataclass(CameraLens, value["lens"], f"{path}.lens")
            if "lens" in value
            else CameraLens(),
            **per_frame,
        )
    if not cameras:
        raise read.fail("cameras", "a trajectory needs at least one camera")
    in_view = {
        name: read.array(value, f"in_view.{name}", dtype="bool", shape=(frames, len(entities)))
        for name, value in read.get(data, "in_view", "", dict).items()
    }
    events = [
        read.dataclass(Event, value, f"events[{i}]")
        for i, value in enumerate(read.get(data, "events", "", list))
    ]
    for i, event in enumerate(events):
        if event.kind not in EVENT_KINDS:
            raise read.fail(f"events[{i}].kind", f"unknown event kind {event.kind!r}")
    lights = [
        read.dataclass(LightSpec, value, f"lights[{i}]")
        for i, value in enumerate(read.get(data, "lights", "", list))
    ]
    resolution = read.get(data, "resolution", "", list)
    if len(resolution) != 2 or not all(isinstance(v, int) for v in resolution):
        raise read.fail("resolution", "expected [width, height] integers")
    return Trajectory(
        scene_name=read.get(data, "scene_name", "", str),
        seed=read.get(data, "seed", "", int),
        fps=read.get(data, "fps", "", float),
        resolution=(resolution[0], resolution[1]),
        entities=entities,
        object_to_world=object_to_world,
        present=present,
        cameras=cameras,
        in_view=in_view,
        events=events,
        lights=lights,
        semantic_classes=dict(read.get(data, "semantic_classes", "", dict)),
        prompt=read.get(data, "prompt", "", str),
    )


def load_trajectory(path: str | Path) -> Trajectory:
    """Read a trajectory JSON file; raises ``TrajectoryFileError`` (a WorldsimError) naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TrajectoryFileError(f"cannot read: {error}", file=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TrajectoryFileError(f"not valid JSON: {error}", file=str(path)) from None
    return trajectory_from_dict(data, str(path))
