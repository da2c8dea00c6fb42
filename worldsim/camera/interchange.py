"""Camera interchange files: nerfstudio ``camera_path.json``, keyframe lists (JSON/YAML) and the
clip folder's per-frame ``cameras.json``. Every file we write records the world frame and units
(``WORLD_FRAME``) so a round trip never silently re-orients."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.camera.conventions import WORLD_FRAME, opencv_to_opengl, opengl_to_opencv
from worldsim.camera.spec import CameraKeyframe, CameraSpec
from worldsim.camera.track import CameraTrack
from worldsim.errors import SceneError

NERFSTUDIO_CAMERA_TYPE = "perspective"


def _write_json(data: dict[str, Any], path: str | Path) -> Path:
    from worldsim.clip.atomic import write_text

    return write_text(path, json.dumps(data, indent=1))


def _read_mapping(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise SceneError(f"cannot read camera file: {error.strerror}", file=str(path)) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as error:  # json.JSONDecodeError / yaml.YAMLError: report, no traceback
        raise SceneError(f"not valid {path.suffix.lstrip('.') or 'JSON'}: {error}", file=str(path)) from None
    if not isinstance(data, dict):
        raise SceneError("expected a mapping at the top level", file=str(path))
    return data


def _check_world_frame(data: dict[str, Any], file: str) -> None:
    frame = data.get("world_frame")
    if frame is not None and frame != WORLD_FRAME:
        raise SceneError(
            f"world frame {frame} differs from ours {WORLD_FRAME}", file=file, key_path="world_frame"
        )


def _matrix(value: Any, shape: tuple[int, ...], file: str, key_path: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64).reshape(shape)
    except (TypeError, ValueError):
        raise SceneError(f"expected {math.prod(shape)} numbers", file=file, key_path=key_path) from None
    if not np.all(np.isfinite(array)):
        raise SceneError("non-finite value", file=file, key_path=key_path)
    return array


# nerfstudio camera_path.json ------------------------------------------------------------------


def export_nerfstudio(track: CameraTrack, fps: float, path: str | Path) -> Path:
    """Write nerfstudio's ``camera_path.json``: per frame ``camera_to_world`` (row-major 16 floats,
    OpenGL axes), vertical ``fov`` in degrees and ``aspect``; plus render size, fps, seconds."""
    poses = opencv_to_opengl(track.cam_to_world)
    fov = np.degrees(2.0 * np.arctan(0.5 * track.height / track.fy))
    data = {
        "camera_type": NERFSTUDIO_CAMERA_TYPE,
        "render_height": track.height,
        "render_width": track.width,
        "fps": fps,
        "seconds": len(track) / fps,
        "is_cycle": False,
        "smoothness_value": 0.0,
        "keyframes": [],
        "camera_path": [
            {
                "camera_to_world": pose.reshape(-1).tolist(),
                "fov": float(f),
                "aspect": track.width / track.height,
            }
            for pose, f in zip(poses, fov)
        ],
        "world_frame": WORLD_FRAME,
    }
    return _write_json(data, path)


def import_nerfstudio(
    path: str | Path, name: str = "main", resolution: tuple[int, int] | None = None
) -> tuple[CameraTrack, float]:
    """Read nerfstudio's ``camera_path.json`` -> ``(track, fps)`` (square pixels, centred principal point).

    ``resolution`` ``(width, height)``: build the intrinsics for that image size (the scene's)
    instead of the file's ``render_width`` x ``render_height``, keeping each frame's vertical
    field of view (nerfstudio's viewer exports at its own window size by default).
    """
    file = str(path)
    data = _read_mapping(path)
    _check_world_frame(data, file)
    try:
        width, height = int(data["render_width"]), int(data["render_height"])
        entries = data["camera_path"]
        fps = float(data.get("fps", 24.0))
    except (KeyError, TypeError, ValueError) as error:
        raise SceneError(f"missing or bad field {error}", file=file) from None
    if not entries:
        raise SceneError("camera_path is empty", file=file, key_path="camera_path")
    poses = np.stack(
        [
            _matrix(e.get("camera_to_world"), (4, 4), file, f"camera_path[{i}].camera_to_world")
            for i, e in enumerate(entries)
        ]
    )
    try:
        fov = np.array([float(entry.get("fov", 50.0)) for entry in entries])
    except (TypeError, ValueError, AttributeError):
        raise SceneError("fov must be a number of degrees", file=file, key_path="camera_path") from None
    if not np.all((fov > 0) & (fov < 180)):
        index = int(np.argmax(~((fov > 0) & (fov < 180))))
        raise SceneError("fov must be in (0, 180) degrees", file=file, key_path=f"camera_path[{index}].fov")
    if resolution is not None:
        width, height = int(resolution[0]), int(resolution[1])
    fy = 0.5 * height / np.tan(np.radians(fov) / 2.0)
    count = len(entries)
    track = CameraTrack(
        name,
        opengl_to_opencv(poses),
        fy.copy(),
        fy,
        np.full(count, width / 2.0),
        np.full(count, height / 2.0),
        width,
        height,
    )
    return track, fps


# per-frame cameras.json -----------------------------------------------------------------------


def export_cameras(tracks: dict[str, CameraTrack], fps: float, path: str | Path) -> Path:
    """Write ``cameras.json``: per camera and frame ``K`` (3x3) and ``cam_to_world`` (4x4, OpenCV)."""
    cameras = {}
    for name, track in tracks.items():
        frames = []
        for frame in range(len(track)):
            frames.append(
                {
                    "frame": frame,
                    "time": frame / fps,
                    "K": track.intrinsics(frame).matrix.tolist(),
                    "cam_to_world": track.cam_to_world[frame].tolist(),
                }
            )
        cameras[name] = {"width": track.width, "height": track.height, "frames": frames}
    return _write_json({"world_frame": WORLD_FRAME, "fps": fps, "cameras": cameras}, path)


def rescale_track(track: CameraTrack, resolution: tuple[int, int]) -> CameraTrack:
    """``track`` for images of ``resolution`` ``(width, height)``: fx, cx scaled by the width ratio
    and fy, cy by the height ratio, so both fields of view and the principal point's place in
    the image are kept."""
    width, height = int(resolution[0]), int(resolution[1])
    sx, sy = width / track.width, height / track.height
    return CameraTrack(
        track.name,
        track.cam_to_world,
        np.asarray(track.fx) * sx,
        np.asarray(track.fy) * sy,
        np.asarray(track.cx) * sx,
        np.asarray(track.cy) * sy,
        width,
        height,
    )


def import_cameras(path: str | Path) -> tuple[dict[str, CameraTrack], float]:
    """Read ``cameras.json`` -> ``({name: track}, fps)`` (at the file's image size; see ``rescale_track``)."""
    file = str(path)
    data = _read_mapping(path)
    _check_world_frame(data, file)
    if not isinstance(data.get("cameras"), dict) or not data["cameras"]:
        raise SceneError("expected a non-empty 'cameras' mapping", file=file, key_path="cameras")
    tracks = {}
    for name, camera in data["cameras"].items():
        frames = camera.get("frames") or []
        if not frames:
            raise SceneError("no frames", file=file, key_path=f"cameras.{name}.frames")
        poses = np.stack(
            [
                _matrix(f.get("cam_to_world"), (4, 4), file, f"cameras.{name}.frames[{i}].cam_to_world")
                for i, f in enumerate(frames)
            ]
        )
        K = np.stack(
            [_matrix(f.get("K"), (3, 3), file, f"cameras.{name}.frames[{i}].K") for i, f in enumerate(frames)]
        )
        tracks[name] = CameraTrack(
            name,
            poses,
            K[:, 0, 0],
            K[:, 1, 1],
            K[:, 0, 2],
            K[:, 1, 2],
            int(camera["width"]),
            int(camera["height"]),
        )
    return tracks, float(data.get("fps", 24.0))


# plain keyframe lists -------------------------------------------------------------------------


KEYFRAME_FILE_KEYS = ("world_frame", "camera")
"""Keys of a keyframe file besides the camera's own fields (``camera`` holds its name)."""


def export_keyframes(spec: CameraSpec, path: str | Path) -> Path:
    """Write the camera as a keyframe file, JSON or YAML by suffix: its keyframes and every field
    that shapes the path between them (interpolation, timing, easing, orientation, roll, moves,
    shake, segments, intrinsics), so ``import_keyframes`` gives back the same camera."""
    from worldsim.scene.schema import to_data

    fields = to_data(spec, omit_defaults=True)
    fields.pop("name", None)
    keyframes = fields.pop("keyframes", [])
    data = {"world_frame": WORLD_FRAME, "camera": spec.name, **fields, "keyframes": keyframes}
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        from worldsim.clip.atomic import write_text

        return write_text(path, yaml.safe_dump(data, sort_keys=False))
    return _write_json(data, path)


def import_keyframes(path: str | Path) -> CameraSpec:
    """Read a keyframe file (JSON or YAML) -> a ``CameraSpec``; fields the file does not give
    keep their defaults (``look_at``: none, so keys without one must aim themselves)."""
    from worldsim.scene.schema import from_data

    file = str(path)
    data = _read_mapping(path)
    _check_world_frame(data, file)
    raw = data.get("keyframes")
    if not isinstance(raw, list) or not raw:
        raise SceneError("expected a non-empty 'keyframes' list", file=file, key_path="keyframes")
    known = {f.name for f in dataclasses.fields(CameraKeyframe)}
    for index, entry in enumerate(raw):
        unknown = set(entry) - known if isinstance(entry, dict) else {"<not a mapping>"}
        if unknown:
            raise SceneError(
                f"unknown keys {sorted(unknown, key=str)}; allowed: {sorted(known)}",
                file=file,
                key_path=f"keyframes[{index}]",
            )
    fields = {key: value for key, value in data.items() if key not in KEYFRAME_FILE_KEYS}
    fields["name"] = str(data.get("camera", "main"))
    fields.setdefault("look_at", None)
    issues: list[tuple[str, str]] = []
    spec = from_data(CameraSpec, fields, "", issues)
    if issues:
        raise SceneError(issues[0][1], issues=[(file, key_path, reason) for key_path, reason in issues])
    return spec


def track_to_spec(track: CameraTrack, fps: float) -> CameraSpec:
    """A keyframed ``CameraSpec`` reproducing ``track`` exactly at frame times ``i / fps``
    (one key per frame: position, rotation quaternion, vertical fov; linear + slerp; the
    intrinsics of frame 0 as fx, fy, cx, cy)."""
    from scipy.spatial.transform import Rotation

    quats = Rotation.from_matrix(track.cam_to_world[:, :3, :3]).as_quat()
    fov = np.degrees(2.0 * np.arctan(0.5 * track.height / track.fy))
    keyframes = [
        CameraKeyframe(
            t=frame / fps,
            position=track.cam_to_world[frame, :3, 3].tolist(),
            quat_xyzw=quats[frame].tolist(),
            fov_deg=float(fov[frame]),
        )
        for frame in range(len(track))
    ]
    intrinsics = track.intrinsics(0)
    return CameraSpec(
        name=track.name,
        fov_deg=float(fov[0]),
        fx=intrinsics.fx,
        fy=intrinsics.fy,
        cx=intrinsics.cx,
        cy=intrinsics.cy,
        look_at=None,
        keyframes=keyframes,
    )
