"""``evaluate_camera``: a ``CameraSpec`` (authoring data) -> ``CameraTrack`` (pose + intrinsics per frame).

Order of evaluation: base pose (fixed position with a look-at point or target entity, or
keyframes), then ``moves`` in list order, then ``roll_deg``, then ``shake``; ``segments`` chain
whole evaluations of this kind with cuts or blends. Everything is vectorised over frames.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.spatial.transform import Rotation, RotationSpline, Slerp

from worldsim.camera.conventions import compose_pose, look_at_rotation
from worldsim.camera.easing import smoothstep
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.lens import CameraLens
from worldsim.camera.paths import path_times, position_interpolator
from worldsim.camera.presets import apply_move, entity_positions
from worldsim.camera.rig import RigState, axis_rotation
from worldsim.camera.shake import shake_offsets
from worldsim.camera.spec import CameraKeyframe, CameraSpec
from worldsim.camera.track import CameraTrack, EntityPositionLookup
from worldsim.errors import SceneError

Z_AXIS = np.array([0.0, 0.0, 1.0])


def evaluate_camera(
    spec: CameraSpec,
    times: np.ndarray,
    resolution: tuple[int, int],
    entity_position: EntityPositionLookup | None = None,
    *,
    scene_seed: int = 0,
    scene_exposure_ev: float = 0.0,
    key_path: str | None = None,
) -> CameraTrack:
    """The camera over clip ``times`` (T,) seconds, frame ``i`` at ``times[i]``.

    ``resolution`` is ``(width, height)``. ``entity_position(name, frames) -> (T, 3)`` gives
    target entities' positions (physics included) at frame indices ``0..T-1``. ``scene_seed``
    seeds the shake unless ``spec.shake.seed`` is set; ``scene_exposure_ev`` is the exposure of a
    camera without its own. Raises SceneError naming ``key_path`` (default ``cameras[<name>]``)
    for bad input.
    """
    key_path = key_path if key_path is not None else f"cameras[{spec.name}]"
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    if len(times) == 0:
        raise SceneError("a camera needs at least one frame time", key_path=key_path)
    width, height = int(resolution[0]), int(resolution[1])
    base = base_intrinsics(spec, width, height, key_path)
    state = _evaluate_rig(spec, times, base.vertical_fov_deg, entity_position, scene_seed, key_path)
    if not (np.all(np.isfinite(state.position)) and np.all(np.isfinite(state.rotation))):
        raise SceneError("the camera path produced non-finite poses", key_path=key_path)
    if np.any(state.fov_deg <= 0.0) or np.any(state.fov_deg >= 180.0):
        raise SceneError("field of view left (0, 180) degrees", key_path=f"{key_path}.fov_deg")
    scale = math.tan(math.radians(base.vertical_fov_deg) / 2.0) / np.tan(np.radians(state.fov_deg) / 2.0)
    count = len(times)
    return CameraTrack(
        name=spec.name,
        cam_to_world=compose_pose(state.rotation, state.position),
        fx=base.fx * scale,
        fy=base.fy * scale,
        cx=np.full(count, base.cx),
        cy=np.full(count, base.cy),
        width=width,
        height=height,
        cuts=segment_cuts(spec, times),
        lens=camera_lens(spec, scene_exposure_ev),
    )


def camera_lens(spec: CameraSpec, scene_exposure_ev: float = 0.0) -> CameraLens:
    """The lens and film settings of ``spec`` (checked by scene validation); its exposure is its
    own ``exposure_ev`` when set, else ``scene_exposure_ev`` (the scene's)."""
    return CameraLens(
        exposure_ev=float(scene_exposure_ev if spec.exposure_ev is None else spec.exposure_ev),
        tonemap=str(spec.tonemap),
        aperture_f=None if spec.aperture_f is None else float(spec.aperture_f),
        focus_distance=None if spec.focus_distance is None else float(spec.focus_distance),
        focus_entity=spec.focus_entity,
    )


def segment_cuts(spec: CameraSpec, times: np.ndarray) -> tuple[int, ...]:
    """The frames where a ``cut`` segment takes over (the first frame at or after its
    ``start_time``), ascending; a cut at frame 0 or after the clip is no cut."""
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    cuts = set()
    for segment in spec.segments:
        if segment.transition != "cut" or not math.isfinite(segment.start_time):
            continue
        frame = int(np.searchsorted(times, segment.start_time, side="left"))
        if 0 < frame < len(times):
            cuts.add(frame)
    return tuple(sorted(cuts))


def base_intrinsics(spec: CameraSpec, width: int, height: int, key_path: str = "") -> Intrinsics:
    """Intrinsics before zoom: explicit ``fx`` (+fy, cx, cy), else 35 mm focal length, else fov."""
    if spec.fx is not None:
        fy = spec.fy if spec.fy is not None else spec.fx
        cx = spec.cx if spec.cx is not None else width / 2.0
        cy = spec.cy if spec.cy is not None else height / 2.0
        if not (np.isfinite([spec.fx, fy, cx, cy]).all() and spec.fx > 0 and fy > 0):
            raise SceneError("fx, fy must be finite and > 0", key_path=f"{key_path}.fx")
        return Intrinsics(float(spec.fx), float(fy), float(cx), float(cy), width, height)
    if spec.focal_length_35mm is not None:
        if not (math.isfinite(spec.focal_length_35mm) and spec.focal_length_35mm > 0):
            raise SceneError("focal_length_35mm must be > 0", key_path=f"{key_path}.focal_length_35mm")
        return Intrinsics.from_focal_35mm(spec.focal_length_35mm, width, height)
    if not (math.isfinite(spec.fov_deg) and 0.0 < spec.fov_deg < 180.0):
        raise SceneError(f"fov_deg must be in (0, 180), got {spec.fov_deg}", key_path=f"{key_path}.fov_deg")
    return Intrinsics.from_fov(spec.fov_deg, width, height)


def _vector(value: list[float] | None, key_path: str) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise SceneError(f"expected 3 finite numbers, got {value}", key_path=key_path)
    return array


def _evaluate_rig(
    spec: CameraSpec,
    times: np.ndarray,
    fov_deg: float,
    entity_position: EntityPositionLookup | None,
    scene_seed: int,
    key_path: str,
) -> RigState:
    if spec.segments:
        return _evaluate_segments(spec, times, fov_deg, entity_position, scene_seed, key_path)
    up = _vector(spec.up, f"{key_path}.up")
    if up is None or np.linalg.norm(up) == 0.0:
        raise SceneError("up must be a non-zero vector", key_path=f"{key_path}.up")
    up = up / np.linalg.norm(up)
    if spec.keyframes:
        state = _keyframed(spec, times, fov_deg, up, entity_position, key_path)
    else:
        state = _fixed(spec, times, fov_deg, up, entity_position, key_path)
    for index, move in enumerate(spec.moves):
        state = apply_move(move, state, times, up, entity_position, f"{key_path}.moves[{index}]")
    if not math.isfinite(spec.roll_deg):
        raise SceneError("roll_deg must be finite", key_path=f"{key_path}.roll_deg")
    if spec.roll_deg:
        roll = np.full(len(times), math.radians(spec.roll_deg))
        state.rotation = state.rotation @ axis_rotation(Z_AXIS, roll)
    if spec.shake is not None:
        seed = spec.shake.seed if spec.shake.seed is not None else scene_seed
        position, rotvec = shake_offsets(spec.shake, times, seed)
        state.position = state.position + np.einsum("tij,tj->ti", state.rotation, position)
        state.rotation = state.rotation @ Rotation.from_rotvec(rotvec).as_matrix()
    return state


def _fixed(
    spec: CameraSpec,
    times: np.ndarray,
    fov_deg: float,
    up: np.ndarray,
    entity_position: EntityPositionLookup | None,
    key_path: str,
) -> RigState:
    count = len(times)
    position = np.broadcast_to(_vector(spec.position, f"{key_path}.position"), (count, 3)).copy()
    if spec.target is not None:
        subject = entity_positions(entity_position, spec.target, count, f"{key_path}.target")
    elif spec.look_at is not None:
        subject = np.broadcast_to(_vector(spec.look_at, f"{key_path}.look_at"), (count, 3)).copy()
    else:
        raise SceneError("a camera without keyframes needs 'look_at' or 'target'", key_path=key_path)
    rotation = look_at_rotation(position, subject, up, key_path=key_path)
    return RigState(position, rotation, np.full(count, fov_deg), subject)


def _check_keys(keys: list[CameraKeyframe], key_path: str) -> np.ndarray:
    key_times = np.array([key.t for key in keys], dtype=np.float64)
    for index, key in enumerate(keys):
        path = f"{key_path}.keyframes[{index}]"
        if not math.isfinite(key.t):
            raise SceneError(f"t must be finite, got {key.t}", key_path=f"{path}.t")
        if index and key.t <= keys[index - 1].t:
            raise SceneError(
                f"keyframes out of order: t={key.t} after t={keys[index - 1].t} (times must increase)",
                key_path=f"{path}.t",
            )
        if key.position is None:
            raise SceneError("a camera keyframe needs a position", key_path=f"{path}.position")
        if not (math.isfinite(key.hold) and key.hold >= 0.0):
            raise SceneError(f"hold must be >= 0, got {key.hold}", key_path=f"{path}.hold")
        if not math.isfinite(key.roll_deg):
            raise SceneError("roll_deg must be finite", key_path=f"{path}.roll_deg")
        if key.fov_deg is not None and not (math.isfinite(key.fov_deg) and 0.0 < key.fov_deg < 180.0):
            raise SceneError(f"fov_deg must be in (0, 180), got {key.fov_deg}", key_path=f"{path}.fov_deg")
    return key_times


def _bracket(key_times: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per path time (T,): the keys before and after (``left``, ``right`` indices) and the linear
    weight of ``right``; held at the end keys outside the keyed range. O(T log K) memory O(T)."""
    right = np.clip(np.searchsorted(key_times, at, side="right"), 1, max(len(key_times) - 1, 1))
    left = right - 1
    if len(key_times) == 1:
        return np.zeros(len(at), int), np.zeros(len(at), int), np.zeros(len(at))
    span = key_times[right] - key_times[left]
    weight = np.clip((at - key_times[left]) / span, 0.0, 1.0)
    return left, right, weight


def _mix(values: np.ndarray, left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return values[left] * (1.0 - weight) + values[right] * weight


def _keyframed(
    spec: CameraSpec,
    times: np.ndarray,
    fov_deg: float,
    up: np.ndarray,
    entity_position: EntityPositionLookup | None,
    key_path: str,
) -> RigState:
    keys = spec.keyframes
    key_times = _check_keys(keys, key_path)
    key_positions = np.stack(
        [_vector(key.position, f"{key_path}.keyframes[{i}].position") for i, key in enumerate(keys)]
    )
    position_at = position_interpolator(
        key_times, key_positions, spec.position_interpolation, key_path=f"{key_path}.position_interpolation"
    )
    holds = np.array([key.hold for key in keys])
    at = path_times(
        times, key_times, holds, position_at, easing=spec.easing, timing=spec.timing, key_path=key_path
    )
    position = position_at(at)
    left, right, weight = _bracket(key_times, at)
    fov = _mix(
        np.array([key.fov_deg if key.fov_deg is not None else fov_deg for key in keys]), left, right, weight
    )
    roll = _mix(np.radians([key.roll_deg for key in keys]), left, right, weight)
    subject = None
    has_rotation = [key.euler_deg is not None or key.quat_xyzw is not None for key in keys]
    if spec.orient_along_path:
        rotation = _along_path(position_at, at, up, key_path)
    elif any(has_rotation):
        if not all(has_rotation):
            missing = has_rotation.index(False)
            raise SceneError(
                "mix of rotation keys and look-at keys: give every key euler_deg or quat_xyzw",
                key_path=f"{key_path}.keyframes[{missing}]",
            )
        rotation = _rotation_keys(spec, key_times, at, key_path)
    else:
        subject = _look_points(spec, left, right, weight, entity_position, key_path)
        rotation = look_at_rotation(position, subject, up, key_path=f"{key_path}.keyframes")
    if np.any(roll):
        rotation = rotation @ axis_rotation(Z_AXIS, roll)
    return RigState(position, rotation, fov, subject)


def _look_points(
    spec: CameraSpec,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    entity_position: EntityPositionLookup | None,
    key_path: str,
) -> np.ndarray:
    """(T, 3) look-at points blended between the bracketing keys; each key aims at a point or
    at an entity where that entity is at the current frame."""
    count = len(left)
    entities: dict[str, np.ndarray] = {}
    ends = []
    for indices in (left, right):
        points = np.empty((count, 3))
        for index in np.unique(indices):
            rows = indices == index
            aim = _key_aim(spec, spec.keyframes[index], int(index), key_path)
            if isinstance(aim, str):
                if aim not in entities:
                    entities[aim] = entity_positions(entity_position, aim, count, f"{key_path}.target")
                points[rows] = entities[aim][rows]
            else:
                points[rows] = aim
        ends.append(points)
    return ends[0] * (1.0 - weight)[:, None] + ends[1] * weight[:, None]


def _key_aim(spec: CameraSpec, key: CameraKeyframe, index: int, key_path: str) -> np.ndarray | str:
    """A key's look-at point (3,) or target entity name, falling back to the camera's."""
    path = f"{key_path}.keyframes[{index}]"
    if key.target is not None:
        return key.target
    if key.look_at is not None:
        return _vector(key.look_at, f"{path}.look_at")
    if spec.target is not None:
        return spec.target
    if spec.look_at is not None:
        return _vector(spec.look_at, f"{key_path}.look_at")
    raise SceneError(
        "keyframe needs look_at, target or a rotation (or set the camera's look_at)", key_path=path
    )


def _rotation_keys(spec: CameraSpec, key_times: np.ndarray, at: np.ndarray, key_path: str) -> Rotation:
    matrices = []
    for index, key in enumerate(spec.keyframes):
        path = f"{key_path}.keyframes[{index}]"
        if key.quat_xyzw is not None:
            quat = np.asarray(key.quat_xyzw, dtype=np.float64)
            if quat.shape != (4,) or not np.all(np.isfinite(quat)) or np.linalg.norm(quat) == 0:
                raise SceneError(
                    f"quat_xyzw must be 4 finite numbers, not all 0: {key.quat_xyzw}", key_path=path
                )
            matrices.append(Rotation.from_quat(quat).as_matrix())
        else:
            euler = np.asarray(key.euler_deg, dtype=np.float64)
            if euler.shape != (3,) or not np.all(np.isfinite(euler)):
                raise SceneError(f"euler_deg must be 3 finite numbers: {key.euler_deg}", key_path=path)
            matrices.append(Rotation.from_euler("xyz", euler, degrees=True).as_matrix())
    rotations = Rotation.from_matrix(np.stack(matrices))
    clipped = np.clip(at, key_times[0], key_times[-1])
    if len(key_times) == 1:
        return np.broadcast_to(rotations.as_matrix()[0], (len(at), 3, 3)).copy()
    if spec.rotation_interpolation == "slerp":
        return Slerp(key_times, rotations)(clipped).as_matrix()
    if spec.rotation_interpolation == "spline":
        return RotationSpline(key_times, rotations)(clipped).as_matrix()
    raise SceneError(
        f"unknown rotation_interpolation {spec.rotation_interpolation!r}; choose slerp or spline",
        key_path=f"{key_path}.rotation_interpolation",
    )


def _along_path(position_at, at: np.ndarray, up: np.ndarray, key_path: str) -> np.ndarray:
    """Look along the direction of travel; through stops the last direction is kept."""
    step = 1e-4
    forward = position_at(at + step) - position_at(at - step)
    length = np.linalg.norm(forward, axis=-1)
    moving = np.flatnonzero(length > 1e-9)
    if len(moving) == 0:
        raise SceneError(
            "orient_along_path needs a path that moves", key_path=f"{key_path}.orient_along_path"
        )
    # Index of the nearest earlier moving frame (or the first moving one before any motion).
    source = np.maximum.accumulate(np.where(length > 1e-9, np.arange(len(at)), -1))
    source[source < 0] = moving[0]
    forward = forward[source]
    position = position_at(at)
    return look_at_rotation(position, position + forward, up, key_path=f"{key_path}.orient_along_path")


def _evaluate_segments(
    spec: CameraSpec,
    times: np.ndarray,
    fov_deg: float,
    entity_position: EntityPositionLookup | None,
    scene_seed: int,
    key_path: str,
) -> RigState:
    """The camera itself until the first segment starts, then each segment (cut or blend)."""
    base = dataclasses.replace(spec, segments=[])
    state = _evaluate_rig(base, times, fov_deg, entity_position, scene_seed, key_path)
    previous_start = -math.inf
    for index, segment in enumerate(spec.segments):
        path = f"{key_path}.segments[{index}]"
        if not math.isfinite(segment.start_time) or segment.start_time <= previous_start:
            raise SceneError("segments must start at increasing, finite times", key_path=f"{path}.start_time")
        previous_start = segment.start_time
        aims = segment.look_at is not None or segment.target is not None
        piece_spec = dataclasses.replace(
            base,
            position=segment.position if segment.position is not None else spec.position,
            look_at=segment.look_at if aims else spec.look_at,
            target=segment.target if aims else spec.target,
            keyframes=segment.keyframes,
            moves=segment.moves,
        )
        piece_fov = segment.fov_deg if segment.fov_deg is not None else fov_deg
        piece = _evaluate_rig(piece_spec, times, piece_fov, entity_position, scene_seed, path)
        if segment.transition == "cut":
            weight = (times >= segment.start_time).astype(np.float64)
        elif segment.transition == "blend":
            if not segment.blend_duration > 0.0:
                raise SceneError("blend_duration must be > 0", key_path=f"{path}.blend_duration")
            weight = smoothstep(np.clip((times - segment.start_time) / segment.blend_duration, 0.0, 1.0))
        else:
            raise SceneError(f"unknown transition {segment.transition!r}; choose cut or blend", key_path=path)
        state = _blend(state, piece, weight)
    return state


def _blend(first: RigState, second: RigState, weight: np.ndarray) -> RigState:
    """Per-frame mix: positions and fov linearly, orientations by slerp, with ``weight`` (T,) in [0, 1]."""
    relative = Rotation.from_matrix(np.swapaxes(first.rotation, -1, -2) @ second.rotation).as_rotvec()
    rotation = first.rotation @ Rotation.from_rotvec(relative * weight[:, None]).as_matrix()
    position = first.position * (1.0 - weight)[:, None] + second.position * weight[:, None]
    fov = first.fov_deg * (1.0 - weight) + second.fov_deg * weight
    subject = None
    if first.subject is not None and second.subject is not None:
        subject = first.subject * (1.0 - weight)[:, None] + second.subject * weight[:, None]
    elif second.subject is not None:
        subject = second.subject
    return RigState(position, rotation, fov, subject)


def shot_frames(spec: CameraSpec, times: np.ndarray) -> np.ndarray:
    """(T,) bool: the frames inside this camera's shot (``start_time`` .. ``end_time``, inclusive)."""
    times = np.asarray(times, dtype=np.float64)
    start = -np.inf if spec.start_time is None else spec.start_time
    end = np.inf if spec.end_time is None else spec.end_time
    if start > end:
        raise SceneError(
            f"start_time {start} is after end_time {end}", key_path=f"cameras[{spec.name}].start_time"
        )
    return (times >= start - 1e-9) & (times <= end + 1e-9)


def edit_list(specs: list[CameraSpec], times: np.ndarray) -> list[str | None]:
    """Per frame, the camera that is live: of the cameras whose shot contains the frame, the one
    listed last (later shots cut in over earlier ones); None where no shot covers the frame."""
    live: list[str | None] = [None] * len(np.asarray(times))
    for spec in specs:
        for frame in np.flatnonzero(shot_frames(spec, times)):
            live[frame] = spec.name
    return live
