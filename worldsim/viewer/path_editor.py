"""Camera path authoring as data: keyframes with explicit poses, previewed and saved.

The editor starts from one camera of a scene. A camera made of keyframes keeps its key times; a
fixed camera, moves or segments are *baked*: sampled every ``BAKE_INTERVAL_S`` seconds into pose
keyframes (``baked`` says so; the viewer tells the user before saving). Every key is a position,
a rotation (``quat_xyzw`` of ``cam_to_world``, OpenCV axes) and a vertical field of view.
``preview`` evaluates the edited camera with worldsim's own camera evaluator, so a render of the
saved path shows exactly what was previewed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from worldsim.camera.easing import EASINGS
from worldsim.camera.spec import CameraKeyframe, CameraSpec
from worldsim.camera.track import CameraTrack
from worldsim.errors import SceneError
from worldsim.scene.scene import Scene
from worldsim.state import Trajectory

BAKE_INTERVAL_S = 0.5
"""Seconds between the first keyframes a fixed camera, moves or segments are baked into; keys are
then added at the frames that deviate most until the baked path is within ``BAKE_TOLERANCE``."""

BAKE_TOLERANCE = (5e-3, 0.25)
"""(metres, degrees): a baked path stays this close to the original at every frame."""


@dataclass
class PathKey:
    """One editable keyframe. cam_to_world: (4, 4) OpenCV axes; fov_deg: vertical field of view."""

    time: float
    cam_to_world: np.ndarray
    fov_deg: float


class CameraPathEditor:
    """Keyframes of one camera of ``scene``; ``trajectory`` gives target entities' positions."""

    def __init__(self, scene: Scene, trajectory: Trajectory, camera: str) -> None:
        names = [spec.name for spec in scene.cameras]
        if camera not in names:
            raise SceneError(f"no camera named {camera!r}; the scene has: {', '.join(names)}")
        self.scene = scene
        self.trajectory = trajectory
        self.original = scene.cameras[names.index(camera)]
        self.easing = self.original.easing if _editable_as_is(self.original) else "linear"
        self.baked = not _editable_as_is(self.original)
        self.bake_error = (0.0, 0.0)
        """(metres, degrees) between the baked path and the original (0 when nothing was baked)."""
        self.keys = self._initial_keys()

    # --- editing ---------------------------------------------------------------------------
    def add(self, time: float, cam_to_world: np.ndarray, fov_deg: float | None = None) -> int:
        """Insert a key (kept sorted by time); returns its index. A key at the same time is replaced."""
        time = self._check_time(time)
        fov = self._check_fov(fov_deg if fov_deg is not None else self.keys[0].fov_deg if self.keys else 50.0)
        pose = _check_pose(cam_to_world)
        self.keys = [key for key in self.keys if abs(key.time - time) > 1e-9]
        self.keys.append(PathKey(time, pose, fov))
        self.keys.sort(key=lambda key: key.time)
        return next(index for index, key in enumerate(self.keys) if key.time == time)

    def move(self, index: int, cam_to_world: np.ndarray) -> None:
        """Give key ``index`` a new pose."""
        self._key(index).cam_to_world = _check_pose(cam_to_world)

    def retime(self, index: int, time: float) -> int:
        """Move key ``index`` to ``time``; returns its new index."""
        key = self._key(index)
        del self.keys[index]
        return self.add(time, key.cam_to_world, key.fov_deg)

    def set_fov(self, index: int, fov_deg: float) -> None:
        self._key(index).fov_deg = self._check_fov(fov_deg)

    def delete(self, index: int) -> None:
        if len(self.keys) <= 1:
            raise SceneError("a camera path needs at least one keyframe")
        self._key(index)
        del self.keys[index]

    def set_easing(self, easing: str) -> None:
        if easing not in EASINGS:
            raise SceneError(f"unknown easing {easing!r}; choose one of {', '.join(sorted(EASINGS))}")
        self.easing = easing

    # --- results ---------------------------------------------------------------------------
    def spec(self) -> CameraSpec:
        """The edited camera: the original's intrinsics, shake and shot times with these keyframes."""
        spec = copy.deepcopy(self.original)
        spec.keyframes = [
            CameraKeyframe(
                t=float(key.time),
                position=[float(value) for value in key.cam_to_world[:3, 3]],
                quat_xyzw=[
                    float(value) for value in Rotation.from_matrix(key.cam_to_world[:3, :3]).as_quat()
                ],
                fov_deg=float(key.fov_deg),
            )
            for key in self.keys
        ]
        spec.look_at, spec.target, spec.moves, spec.segments = None, None, [], []
        spec.easing, spec.orient_along_path = self.easing, False
        if self.baked:  # smooth through the baked samples (the original path was smooth)
            spec.position_interpolation, spec.rotation_interpolation, spec.timing = (
                "catmull_rom",
                "spline",
                "keys",
            )
        spec.roll_deg = 0.0
        return spec

    def preview(self) -> CameraTrack:
        """The edited camera over the clip, from worldsim's camera evaluator."""
        return self._evaluate(self.spec())

    def edited_scene(self) -> Scene:
        """A copy of the scene with this camera replaced by the edited one."""
        scene = copy.deepcopy(self.scene)
        scene.cameras = [self.spec() if spec.name == self.original.name else spec for spec in scene.cameras]
        return scene

    def save_yaml(self, path: str | Path) -> Path:
        """Write the whole scene with the edited ``cameras:`` section as a new YAML file."""
        from worldsim.clip.atomic import write_text
        from worldsim.scene.yaml_io import scene_to_yaml

        return write_text(Path(path), scene_to_yaml(self.edited_scene()))

    def save_nerfstudio(self, path: str | Path) -> Path:
        """Write the previewed path as a nerfstudio ``camera_path.json``."""
        from worldsim.camera.interchange import export_nerfstudio

        return export_nerfstudio(self.preview(), self.trajectory.fps, path)

    # --- internals -------------------------------------------------------------------------
    def _initial_keys(self) -> list[PathKey]:
        spec = copy.deepcopy(self.original)
        spec.shake = None  # baked poses must not carry the shake twice: the edited camera keeps it
        track = self._evaluate(spec)
        fov = np.degrees(2.0 * np.arctan(track.height / (2.0 * track.fy)))
        times = self.trajectory.times
        if not self.baked:
            nearest = [int(np.argmin(np.abs(times - key.t))) for key in spec.keyframes]
            return [
                PathKey(float(key.t), _key_pose(key), float(key.fov_deg if key.fov_deg else fov[frame]))
                for key, frame in zip(spec.keyframes, nearest)
            ]
        count = max(2, round(float(times[-1] - times[0]) / BAKE_INTERVAL_S) + 1)
        frames = set(np.rint(np.linspace(0, len(times) - 1, min(count, len(times)))).astype(int).tolist())
        while True:
            self.keys = [
                PathKey(float(times[f]), track.cam_to_world[f].copy(), float(fov[f])) for f in sorted(frames)
            ]
            unshaken = self.spec()
            unshaken.shake = None
            baked = self._evaluate(unshaken)
            worst, error = _worst_frame(track, baked)
            if error <= 1.0 or worst in frames:
                self.bake_error = _deviation(track, baked)
                return self.keys
            frames.add(worst)

    def _entity_position(self, name: str, frames: np.ndarray) -> np.ndarray:
        columns = {entity.name: index for index, entity in enumerate(self.trajectory.entities)}
        if name not in columns:
            raise SceneError(f"camera target {name!r} is not an entity", key_path="cameras")
        frames = np.clip(np.asarray(frames), 0, len(self.trajectory) - 1)
        return self.trajectory.object_to_world[frames, columns[name], :3, 3]

    def _evaluate(self, spec: CameraSpec) -> CameraTrack:
        from worldsim.camera.evaluate import evaluate_camera

        return evaluate_camera(
            spec,
            self.trajectory.times,
            tuple(self.trajectory.resolution),
            entity_position=self._entity_position,
            scene_seed=int(self.scene.seed),
            scene_exposure_ev=float(self.scene.exposure_ev),
        )

    def _key(self, index: int) -> PathKey:
        if not 0 <= index < len(self.keys):
            raise SceneError(f"no keyframe {index}; the path has {len(self.keys)}")
        return self.keys[index]

    def _check_time(self, time: float) -> float:
        times = self.trajectory.times
        if not np.isfinite(time) or not times[0] <= time <= times[-1] + 1e-9:
            raise SceneError(f"keyframe time {time} s is outside the clip (0 .. {times[-1]:.3f} s)")
        return float(time)

    @staticmethod
    def _check_fov(fov_deg: float) -> float:
        if not np.isfinite(fov_deg) or not 0.0 < fov_deg < 180.0:
            raise SceneError(f"field of view must be in (0, 180) degrees, got {fov_deg}")
        return float(fov_deg)


def _deviation(original: CameraTrack, baked: CameraTrack) -> tuple[float, float]:
    """(metres, degrees): the largest position and rotation difference over all frames."""
    position = np.linalg.norm(original.cam_to_world[:, :3, 3] - baked.cam_to_world[:, :3, 3], axis=-1)
    relative = np.einsum("tji,tjk->tik", original.cam_to_world[:, :3, :3], baked.cam_to_world[:, :3, :3])
    cosine = np.clip((np.trace(relative, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    return float(position.max()), float(np.degrees(np.arccos(cosine)).max())


def _worst_frame(original: CameraTrack, baked: CameraTrack) -> tuple[int, float]:
    """The frame whose deviation, in units of ``BAKE_TOLERANCE``, is largest, and that ratio."""
    position = np.linalg.norm(original.cam_to_world[:, :3, 3] - baked.cam_to_world[:, :3, 3], axis=-1)
    relative = np.einsum("tji,tjk->tik", original.cam_to_world[:, :3, :3], baked.cam_to_world[:, :3, :3])
    angle = np.degrees(np.arccos(np.clip((np.trace(relative, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)))
    ratio = np.maximum(position / BAKE_TOLERANCE[0], angle / BAKE_TOLERANCE[1])
    worst = int(np.argmax(ratio))
    return worst, float(ratio[worst])


def _editable_as_is(spec: CameraSpec) -> bool:
    """Keyframes that are already poses (position + rotation, no roll, holds, moves or segments)."""
    plain = not (spec.moves or spec.segments or spec.orient_along_path or spec.roll_deg)
    return (
        plain
        and bool(spec.keyframes)
        and spec.rotation_interpolation == "slerp"
        and all(
            key.position is not None
            and (key.quat_xyzw is not None or key.euler_deg is not None)
            and not key.hold
            and not key.roll_deg
            for key in spec.keyframes
        )
    )


def _key_pose(key: CameraKeyframe) -> np.ndarray:
    """(4, 4) cam_to_world of a keyframe with an explicit rotation (as the camera evaluator reads it)."""
    if key.quat_xyzw is not None:
        rotation = Rotation.from_quat(np.asarray(key.quat_xyzw, dtype=np.float64)).as_matrix()
    else:
        rotation = Rotation.from_euler(
            "xyz", np.asarray(key.euler_deg, dtype=np.float64), degrees=True
        ).as_matrix()
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = rotation, np.asarray(key.position, dtype=np.float64)
    return pose


def _check_pose(cam_to_world: np.ndarray) -> np.ndarray:
    pose = np.asarray(cam_to_world, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise SceneError("a camera pose must be a finite (4, 4) matrix")
    rotation = pose[:3, :3]
    if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6) or np.linalg.det(rotation) < 0:
        raise SceneError("a camera pose's rotation must be orthonormal and right-handed")
    return pose.copy()
