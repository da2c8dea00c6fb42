"""Kinematic motion: every ``MotionSpec`` type evaluated at an array of times, vectorised.

Motion time is scene time (seconds from the first frame) for every type, also for entities
that spawn later. Each evaluator returns ``object_to_world`` as (T, 4, 4) float64.

- ``static``: the entity's pose.
- ``keyframes``: position by ``np.interp`` (linear) or ``CubicSpline`` (cubic, not-a-knot),
  rotation by ``Slerp`` or ``RotationSpline``; held at the first / last key outside the key
  range. A key field that is ``None`` falls back to the entity's pose.
- ``velocity``: ``p0 + v t`` and ``Rotation.from_rotvec(omega t) * R0`` (world axes through the
  entity's origin).
- ``orbit``: a circle of ``radius`` about ``axis`` through ``center`` or the (possibly moving)
  origin of entity ``target``. The angle is ``phase_deg + 360 t / period``, measured from the
  projection of world +X onto the orbit plane (world +Y where the axis is along X) and counter-
  clockwise about ``axis``. With ``face_center`` the entity's +X points at the centre and its +Z
  along ``axis``; otherwise it keeps its own rotation.
- ``path``: a polyline (``linear``) or a ``CubicSpline`` (``cubic``; periodic when ``closed``)
  through ``points``, parametrised by arc length and travelled at ``speed`` m/s, or over
  ``duration`` s (default 1 m/s when neither is given). Open paths stop at the end, closed
  paths loop. ``orient_along_path`` points +X along the tangent with +Z kept up; otherwise
  the entity keeps its own rotation.
- ``attach``: ``parent_pose @ local_pose`` with the entity's pose as the local pose.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline, Slerp

from worldsim.errors import SceneError
from worldsim.scene.model import EntitySpec, MotionSpec
from worldsim.world.rotations import (
    frame_along,
    pose_matrix,
    pose_position,
    pose_rotation,
    rotation_from,
    transforms,
)

DEFAULT_PATH_SPEED = 1.0
"""m/s when a path gives neither ``speed`` nor ``duration``."""
ARC_LENGTH_SAMPLES_PER_SEGMENT = 256
"""Samples per spline segment of the arc-length table of cubic paths."""


def motion_dependencies(entity: EntitySpec) -> list[str]:
    """Names of the entities whose poses ``entity``'s motion needs (parent or orbit target)."""
    motion = entity.motion
    if motion.type == "attach" and motion.parent:
        return [motion.parent]
    if motion.type == "orbit" and motion.target:
        return [motion.target]
    return []


def evaluation_order(
    entities: Sequence[EntitySpec], names: Iterable[str] | None = None, known: Iterable[str] = ()
) -> list[EntitySpec]:
    """``names`` (default: all) plus their dependencies, dependencies first.

    Entities in ``known`` are treated as given and not evaluated. Raises SceneError on an
    unknown dependency or a cycle.
    """
    by_name = {entity.name: entity for entity in entities}
    index = {entity.name: i for i, entity in enumerate(entities)}
    known = set(known)
    wanted = list(by_name) if names is None else list(names)
    order: list[EntitySpec] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(name: str, chain: list[str]) -> None:
        if name in known or state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*chain[chain.index(name) :], name])
            raise SceneError(f"motion dependency cycle: {cycle}", key_path=f"entities[{index[name]}].motion")
        state[name] = 1
        entity = by_name[name]
        for dependency in motion_dependencies(entity):
            if dependency not in by_name and dependency not in known:
                field_name = "parent" if entity.motion.type == "attach" else "target"
                raise SceneError(
                    f"unknown entity {dependency!r}", key_path=f"entities[{index[name]}].motion.{field_name}"
                )
            visit(dependency, [*chain, name])
        state[name] = 2
        order.append(entity)

    for name in wanted:
        visit(name, [])
    return order


def evaluate_motions(
    entities: Sequence[EntitySpec],
    times: np.ndarray,
    *,
    names: Iterable[str] | None = None,
    known: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Poses of ``names`` (default: all ``entities``) at ``times`` (T,) seconds.

    ``known``: name -> (T, 4, 4) poses already computed (e.g. by physics) that parents and
    orbit targets may refer to. Returns name -> (T, 4, 4) float64 for the evaluated entities
    and their dependencies.
    """
    times = np.asarray(times, dtype=float)
    known = dict(known or {})
    index = {entity.name: i for i, entity in enumerate(entities)}
    poses: dict[str, np.ndarray] = {}
    lookup = ChainMap(poses, known)
    for entity in evaluation_order(entities, names, known):
        poses[entity.name] = evaluate_motion(
            entity, times, lookup, key_path=f"entities[{index[entity.name]}]"
        )
    return poses


def evaluate_motion(
    entity: EntitySpec, times: np.ndarray, poses: Mapping[str, np.ndarray], *, key_path: str = "entity"
) -> np.ndarray:
    """(T, 4, 4) ``object_to_world`` of one entity at ``times``; ``poses`` holds its dependencies."""
    motion = entity.motion
    motion_path = f"{key_path}.motion"
    times = np.asarray(times, dtype=float)
    if motion.type == "static":
        return np.broadcast_to(
            pose_matrix(entity.pose, key_path=f"{key_path}.pose"), (len(times), 4, 4)
        ).copy()
    if motion.type == "keyframes":
        return _keyframes(entity, times, motion_path)
    if motion.type == "velocity":
        return _velocity(entity, times, motion_path)
    if motion.type == "orbit":
        center = poses[motion.target][:, :3, 3] if motion.target else None
        return _orbit(entity, times, center, motion_path)
    if motion.type == "path":
        return _path(entity, times, motion_path)
    if motion.type == "attach":
        if not motion.parent:
            raise SceneError("attach motion needs a parent", key_path=f"{motion_path}.parent")
        local = pose_matrix(entity.pose, key_path=f"{key_path}.pose")
        return poses[motion.parent] @ local
    raise SceneError(f"unknown motion type {motion.type!r}", key_path=f"{motion_path}.type")


def _vector(values: Sequence[float] | None, size: int, key_path: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (size,) or not np.all(np.isfinite(array)):
        raise SceneError(f"expected {size} finite numbers", key_path=key_path)
    return array


def keyframe_arrays(entity: EntitySpec, key_path: str = "motion") -> tuple[np.ndarray, np.ndarray, Rotation]:
    """Key times (K,), positions (K, 3) and rotations (K) with ``None`` fields from the pose."""
    keys = entity.motion.keyframes
    if not keys:
        raise SceneError("keyframes motion needs at least one keyframe", key_path=f"{key_path}.keyframes")
    key_times = np.array([float(key.t) for key in keys])
    if np.any(np.diff(key_times) <= 0.0) or not np.all(np.isfinite(key_times)):
        raise SceneError(
            "keyframe times must be finite and strictly increasing", key_path=f"{key_path}.keyframes"
        )
    base_position = pose_position(entity.pose)
    base_rotation = pose_rotation(entity.pose)
    positions = np.stack(
        [
            base_position
            if key.position is None
            else _vector(key.position, 3, f"{key_path}.keyframes[{i}].position")
            for i, key in enumerate(keys)
        ]
    )
    rotations = [
        rotation_from(key.euler_deg, key.quat_xyzw, key_path=f"{key_path}.keyframes[{i}]")
        for i, key in enumerate(keys)
    ]
    quats = np.stack([(rotation or base_rotation).as_quat() for rotation in rotations])
    return key_times, positions, Rotation.from_quat(quats)


def _keyframes(entity: EntitySpec, times: np.ndarray, key_path: str) -> np.ndarray:
    motion = entity.motion
    key_times, positions, rotations = keyframe_arrays(entity, key_path)
    if len(key_times) == 1:
        return np.broadcast_to(transforms(positions, rotations), (len(times), 4, 4)).copy()
    clamped = np.clip(times, key_times[0], key_times[-1])
    if motion.position_interpolation == "linear":
        position = np.stack([np.interp(clamped, key_times, positions[:, axis]) for axis in range(3)], axis=-1)
    elif motion.position_interpolation == "cubic":
        position = CubicSpline(key_times, positions)(clamped)
    else:
        raise SceneError(
            f"unknown position_interpolation {motion.position_interpolation!r} (linear | cubic)",
            key_path=f"{key_path}.position_interpolation",
        )
    if motion.rotation_interpolation == "slerp":
        rotation = Slerp(key_times, rotations)(clamped)
    elif motion.rotation_interpolation == "spline":
        rotation = RotationSpline(key_times, rotations)(clamped)
    else:
        raise SceneError(
            f"unknown rotation_interpolation {motion.rotation_interpolation!r} (slerp | spline)",
            key_path=f"{key_path}.rotation_interpolation",
        )
    return transforms(position, rotation)


def _velocity(entity: EntitySpec, times: np.ndarray, key_path: str) -> np.ndarray:
    motion = entity.motion
    velocity = _vector(motion.linear_velocity, 3, f"{key_path}.linear_velocity")
    omega = np.radians(_vector(motion.angular_velocity_deg, 3, f"{key_path}.angular_velocity_deg"))
    matrices = transforms(pose_position(entity.pose) + times[:, None] * velocity, Rotation.identity())
    if np.any(omega):
        # Rotation.from_rotvec(omega t) * R0, composed as matrices (scipy's composition is slower).
        spin = Rotation.from_rotvec(times[:, None] * omega).as_matrix()
        matrices[:, :3, :3] = spin @ pose_rotation(entity.pose).as_matrix()
    else:
        matrices[:, :3, :3] = pose_rotation(entity.pose).as_matrix()
    return matrices


def orbit_basis(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit ``axis`` and the in-plane directions at angle 0 and 90 degrees (see module doc)."""
    axis = axis / np.linalg.norm(axis)
    reference = np.array([1.0, 0.0, 0.0])
    start = reference - axis * np.dot(reference, axis)
    if np.linalg.norm(start) < 1e-6:
        reference = np.array([0.0, 1.0, 0.0])
        start = reference - axis * np.dot(reference, axis)
    start /= np.linalg.norm(start)
    return axis, start, np.cross(axis, start)


def _orbit(entity: EntitySpec, times: np.ndarray, center: np.ndarray | None, key_path: str) -> np.ndarray:
    motion = entity.motion
    axis_vector = _vector(motion.axis, 3, f"{key_path}.axis")
    if np.linalg.norm(axis_vector) < 1e-12:
        raise SceneError("orbit axis must be non-zero", key_path=f"{key_path}.axis")
    if not motion.period or not np.isfinite(motion.period) or motion.period <= 0:
        raise SceneError("orbit period must be a positive number of seconds", key_path=f"{key_path}.period")
    if center is None:
        if motion.center is None:
            raise SceneError("orbit needs a center or a target", key_path=f"{key_path}.center")
        center = np.broadcast_to(_vector(motion.center, 3, f"{key_path}.center"), (len(times), 3))
    axis, start, side = orbit_basis(axis_vector)
    angle = np.radians(motion.phase_deg) + 2.0 * np.pi * times / motion.period
    radial = np.cos(angle)[:, None] * start + np.sin(angle)[:, None] * side
    position = center + float(motion.radius) * radial
    if motion.face_center:
        x_axis = -radial
        y_axis = np.cross(axis, x_axis)
        rotation_matrices = np.stack([x_axis, y_axis, np.broadcast_to(axis, x_axis.shape)], axis=-1)
        matrices = transforms(position, Rotation.identity())
        matrices[:, :3, :3] = rotation_matrices
        return matrices
    return transforms(position, pose_rotation(entity.pose))


class PathCurve:
    """A path through points, parametrised by arc length ``s`` in metres.

    ``position(s)`` (N, 3) and ``tangent(s)`` (N, 3) unit; ``length`` the total arc length.
    """

    def __init__(self, motion: MotionSpec, key_path: str = "motion") -> None:
        points = np.asarray(motion.points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 3 or len(points) < 2 or not np.all(np.isfinite(points)):
            raise SceneError(
                "a path needs at least two points of 3 finite numbers", key_path=f"{key_path}.points"
            )
        if motion.closed and np.linalg.norm(points[-1] - points[0]) > 1e-12:
            points = np.vstack([points, points[:1]])
        chords = np.linalg.norm(np.diff(points, axis=0), axis=1)
        if np.any(chords < 1e-12):
            raise SceneError("consecutive path points must differ", key_path=f"{key_path}.points")
        self.closed = bool(motion.closed)
        knots = np.concatenate([[0.0], np.cumsum(chords)])
        if motion.interpolation == "linear":
            self._spline = None
            self._knots = knots
            self._points = points
            self.length = float(knots[-1])
        elif motion.interpolation == "cubic":
            bc_type = "periodic" if self.closed else "not-a-knot"
            if len(points) < 3 and not self.closed:
                bc_type = "natural"
            self._spline = CubicSpline(knots, points, bc_type=bc_type)
            samples = np.linspace(0.0, knots[-1], ARC_LENGTH_SAMPLES_PER_SEGMENT * (len(points) - 1) + 1)
            steps = np.linalg.norm(np.diff(self._spline(samples), axis=0), axis=1)
            self._arc = np.concatenate([[0.0], np.cumsum(steps)])
            self._parameter = samples
            self.length = float(self._arc[-1])
        else:
            raise SceneError(
                f"unknown path interpolation {motion.interpolation!r} (linear | cubic)",
                key_path=f"{key_path}.interpolation",
            )

    def _wrap(self, arc_length: np.ndarray) -> np.ndarray:
        if self.closed:
            return np.mod(arc_length, self.length)
        return np.clip(arc_length, 0.0, self.length)

    def position(self, arc_length: np.ndarray) -> np.ndarray:
        s = self._wrap(np.asarray(arc_length, dtype=float))
        if self._spline is None:
            return np.stack([np.interp(s, self._knots, self._points[:, axis]) for axis in range(3)], axis=-1)
        return self._spline(np.interp(s, self._arc, self._parameter))

    def tangent(self, arc_length: np.ndarray) -> np.ndarray:
        s = self._wrap(np.asarray(arc_length, dtype=float))
        if self._spline is None:
            segment = np.clip(np.searchsorted(self._knots, s, side="right") - 1, 0, len(self._knots) - 2)
            direction = self._points[segment + 1] - self._points[segment]
        else:
            direction = self._spline(np.interp(s, self._arc, self._parameter), 1)
        return direction / np.linalg.norm(direction, axis=-1, keepdims=True)


def path_arc_length(motion: MotionSpec, length: float, times: np.ndarray, key_path: str) -> np.ndarray:
    """(T,) distance travelled along the path at ``times``."""
    if motion.speed is not None:
        if not np.isfinite(motion.speed) or motion.speed < 0:
            raise SceneError("path speed must be a non-negative number", key_path=f"{key_path}.speed")
        return float(motion.speed) * times
    if motion.duration is not None:
        if not np.isfinite(motion.duration) or motion.duration <= 0:
            raise SceneError("path duration must be positive", key_path=f"{key_path}.duration")
        return length * times / float(motion.duration)
    return DEFAULT_PATH_SPEED * times


def _path(entity: EntitySpec, times: np.ndarray, key_path: str) -> np.ndarray:
    motion = entity.motion
    curve = PathCurve(motion, key_path)
    arc_length = path_arc_length(motion, curve.length, times, key_path)
    position = curve.position(arc_length)
    if motion.orient_along_path:
        matrices = transforms(position, Rotation.identity())
        matrices[:, :3, :3] = frame_along(curve.tangent(arc_length))
        return matrices
    return transforms(position, pose_rotation(entity.pose))
