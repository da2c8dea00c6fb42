"""Kinematic motion: every ``MotionSpec`` type evaluated for many entities and times at once.

``MOTIONS`` maps each motion type to one function of a ``MotionBatch`` (the entities of that type
whose dependencies are known, and the times) that checks and prepares them and returns a
``fill(frames, out)`` writing their ``object_to_world`` (t, N, 4, 4) float64 for a chunk of frames.
Motion time is scene time (seconds from the first frame) for every type, also for entities that
spawn later.

- ``static``: the entity's pose.
- ``keyframes``: position by ``np.interp`` (linear) or a cubic spline (cubic, not-a-knot, as
  scipy's ``CubicSpline``), rotation by scipy's ``Slerp`` formula or ``RotationSpline``; held at
  the first / last key outside the key range. A key field that is ``None`` falls back to the
  entity's pose.
- ``velocity``: ``p0 + v t`` and ``Rotation.from_rotvec(omega t) * R0`` (world axes through the
  entity's origin).
- ``orbit``: a circle of ``radius`` about ``axis`` through ``center`` or the (possibly moving)
  origin of entity ``target``. The angle is ``phase_deg + 360 t / period``, measured from the
  projection of world +X onto the orbit plane (world +Y where the axis is along X) and counter-
  clockwise about ``axis``. With ``face_center`` the entity's +X points at the centre and its +Z
  along ``axis``; otherwise it keeps its own rotation.
- ``path``: a curve through ``points`` (see ``paths.py``), travelled at ``speed`` m/s, or over
  ``duration`` s (default 1 m/s when neither is given). Open paths stop at the end, closed
  paths loop. ``orient_along_path`` points +X along the tangent with +Z kept up; otherwise
  the entity keeps its own rotation.
- ``attach``: ``parent_pose @ local_pose`` with the entity's pose as the local pose.

Entities are evaluated in dependency levels (parents and orbit targets first); within a level,
one call per motion type covers all its entities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, RotationSpline

from worldsim.errors import SceneError
from worldsim.scene.model import MOTION_TYPES, EntitySpec, MotionSpec
from worldsim.world.paths import PathCurves, chord_knots, path_points
from worldsim.world.rotations import (
    compose_quats,
    frame_along,
    pose_positions,
    pose_rotations,
    quat_matrices,
    rotations_from,
)
from worldsim.world.splines import BatchedCubicSpline

DEFAULT_PATH_SPEED = 1.0
"""m/s when a path gives neither ``speed`` nor ``duration``."""
POSITION_INTERPOLATIONS = ("linear", "cubic")
ROTATION_INTERPOLATIONS = ("slerp", "spline")
CHUNK_ENTITY_FRAMES = 16384
"""Entity-frames filled per call of a motion's fill function: its temporaries stay in cache."""
DEPENDENCY_FIELDS = {"attach": "parent", "orbit": "target"}
"""Motion type -> the ``MotionSpec`` field naming the entity whose pose it needs."""


@dataclass(frozen=True)
class MotionBatch:
    """Entities of one motion type evaluated together.

    times: (T,) float64 seconds; key_paths: each entity's ``entities[i]`` path for errors;
    poses: name -> (T, 4, 4) of the entities they depend on (parents, orbit targets).
    """

    entities: Sequence[EntitySpec]
    key_paths: Sequence[str]
    times: np.ndarray
    poses: Mapping[str, np.ndarray]

    @property
    def motions(self) -> list[MotionSpec]:
        return [entity.motion for entity in self.entities]

    def motion_path(self, index: int) -> str:
        return f"{self.key_paths[index]}.motion"


def motion_dependencies(entity: EntitySpec) -> list[str]:
    """Names of the entities whose poses ``entity``'s motion needs (parent or orbit target)."""
    field_name = DEPENDENCY_FIELDS.get(entity.motion.type)
    dependency = getattr(entity.motion, field_name) if field_name else None
    return [dependency] if dependency else []


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
                field_name = DEPENDENCY_FIELDS[entity.motion.type]
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
    and their dependencies (views into one (T, N, 4, 4) array).
    """
    times = np.asarray(times, dtype=float)
    order = evaluation_order(entities, names, known or {})
    columns = {entity.name: column for column, entity in enumerate(order)}
    poses = np.empty((len(times), len(order), 4, 4))
    evaluate_motions_into(entities, times, poses, columns, names=names, known=known)
    return {name: poses[:, column] for name, column in columns.items()}


def evaluate_motions_into(
    entities: Sequence[EntitySpec],
    times: np.ndarray,
    out: np.ndarray,
    columns: Mapping[str, int],
    *,
    names: Iterable[str] | None = None,
    known: Mapping[str, np.ndarray] | None = None,
) -> None:
    """``evaluate_motions`` written straight into ``out`` (T, C, 4, 4): entity ``name`` at column
    ``columns[name]``, for ``names`` and their dependencies; other columns are left as they are.

    Each motion type fills chunks of ``CHUNK_ENTITY_FRAMES`` entity-frames in a small buffer that
    stays in cache, copied into ``out`` chunk by chunk (no whole-clip temporaries).
    """
    times = np.asarray(times, dtype=float)
    poses: dict[str, np.ndarray] = dict(known or {})
    index = {entity.name: i for i, entity in enumerate(entities)}
    for level in _dependency_levels(evaluation_order(entities, names, poses)):
        by_type: dict[str, list[EntitySpec]] = defaultdict(list)
        for entity in level:
            if entity.motion.type not in MOTIONS:
                raise SceneError(
                    f"unknown motion type {entity.motion.type!r}; choose one of {list(MOTIONS)}",
                    key_path=f"entities[{index[entity.name]}].motion.type",
                )
            by_type[entity.motion.type].append(entity)
        for motion_type, group in by_type.items():
            batch = MotionBatch(group, [f"entities[{index[e.name]}]" for e in group], times, poses)
            fill = MOTIONS[motion_type](batch)
            target = _as_slice(np.array([columns[entity.name] for entity in group]))
            step = max(1, CHUNK_ENTITY_FRAMES // len(group))
            buffer = np.empty((min(step, len(times)), len(group), 4, 4))
            buffer[..., 3, :3] = 0.0  # fill functions write the upper 3 x 4 only
            buffer[..., 3, 3] = 1.0
            for start in range(0, len(times), step):
                frames = slice(start, min(start + step, len(times)))
                chunk = buffer[: frames.stop - frames.start]
                fill(frames, chunk)
                out[frames, target] = chunk
            for entity in group:
                poses[entity.name] = out[:, columns[entity.name]]


def _as_slice(index: np.ndarray) -> slice | np.ndarray:
    """Column indices as a slice when they are evenly spaced (entities declared in runs or in a
    regular interleave): copying into a strided slice costs a third of a fancy-indexed copy."""
    if len(index) == 1:
        return slice(int(index[0]), int(index[0]) + 1)
    step = int(index[1] - index[0])
    if step > 0 and np.all(np.diff(index) == step):
        return slice(int(index[0]), int(index[-1]) + 1, step)
    return index


def _dependency_levels(order: list[EntitySpec]) -> list[list[EntitySpec]]:
    """``order`` (dependencies first) split into levels whose entities depend only on earlier ones."""
    depth: dict[str, int] = {}
    levels: list[list[EntitySpec]] = []
    for entity in order:
        level = 1 + max((depth.get(name, -1) for name in motion_dependencies(entity)), default=-1)
        depth[entity.name] = level
        if level == len(levels):
            levels.append([])
        levels[level].append(entity)
    return levels


def _stacked(values: Sequence[object], size: int, key_paths: Sequence[str]) -> np.ndarray:
    """(N, size) float64 of ``values``; SceneError naming the first that is not ``size`` finite numbers."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        array = None
    if array is not None and array.shape == (len(values), size) and np.all(np.isfinite(array)):
        return array
    for value, key_path in zip(values, key_paths):
        try:
            vector = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            vector = None
        if vector is None or vector.shape != (size,) or not np.all(np.isfinite(vector)):
            raise SceneError(f"expected {size} finite numbers", key_path=key_path)
    raise AssertionError("unreachable")  # pragma: no cover


def _pose_blocks(batch: MotionBatch) -> tuple[np.ndarray, Rotation]:
    """(N, 3) positions and N rotations of the batch's entity poses."""
    pose_paths = [f"{key_path}.pose" for key_path in batch.key_paths]
    poses = [entity.pose for entity in batch.entities]
    return pose_positions(poses, pose_paths), pose_rotations(poses, pose_paths)


def _columns(index: np.ndarray, count: int) -> slice | np.ndarray:
    """``index`` as a slice when it is every column (plain slicing writes faster than fancy indexing)."""
    return slice(None) if len(index) == count else index


def static(batch: MotionBatch) -> FillPoses:
    positions, rotations = _pose_blocks(batch)
    matrices = np.zeros((len(positions), 4, 4))
    matrices[:, :3, :3] = rotations.as_matrix()
    matrices[:, :3, 3] = positions
    matrices[:, 3, 3] = 1.0

    def fill(frames: slice, out: np.ndarray) -> None:
        out[:] = matrices[None]

    return fill


def velocity(batch: MotionBatch) -> FillPoses:
    motions, times = batch.motions, batch.times
    paths = [batch.motion_path(i) for i in range(len(motions))]
    linear = _stacked([m.linear_velocity for m in motions], 3, [f"{p}.linear_velocity" for p in paths])
    degrees = _stacked(
        [m.angular_velocity_deg for m in motions], 3, [f"{p}.angular_velocity_deg" for p in paths]
    )
    omega = np.radians(degrees)
    positions, rotations = _pose_blocks(batch)
    base = rotations.as_matrix()
    spinning = np.flatnonzero(np.any(omega != 0.0, axis=1))
    spin_columns = _columns(spinning, len(motions))
    spin_omega, spin_base = omega[spinning], rotations.as_quat()[spinning]

    def fill(frames: slice, out: np.ndarray) -> None:
        t = times[frames]
        out[..., :3, 3] = positions[None] + t[:, None, None] * linear[None]
        if len(spinning) < len(motions):
            out[..., :3, :3] = base[None]
        if len(spinning):
            # Rotation.from_rotvec(omega t) * R0, composed as quaternions (3x3 matmuls cost more).
            spin = Rotation.from_rotvec((t[:, None, None] * spin_omega[None]).reshape(-1, 3)).as_quat()
            base_quats = np.broadcast_to(spin_base, (len(t), len(spinning), 4)).reshape(-1, 4)
            composed = quat_matrices(compose_quats(spin, base_quats))
            out[:, spin_columns, :3, :3] = composed.reshape(len(t), len(spinning), 3, 3)

    return fill


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


def orbit(batch: MotionBatch) -> FillPoses:
    motions, times = batch.motions, batch.times
    count = len(motions)
    paths = [batch.motion_path(i) for i in range(count)]
    axis_vectors = _stacked([m.axis for m in motions], 3, [f"{p}.axis" for p in paths])
    fixed_centers = np.zeros((count, 3))
    for i, (motion, path) in enumerate(zip(motions, paths)):
        if np.linalg.norm(axis_vectors[i]) < 1e-12:
            raise SceneError("orbit axis must be non-zero", key_path=f"{path}.axis")
        if not motion.period or not np.isfinite(motion.period) or motion.period <= 0:
            raise SceneError("orbit period must be a positive number of seconds", key_path=f"{path}.period")
        if not motion.target:
            if motion.center is None:
                raise SceneError("orbit needs a center or a target", key_path=f"{path}.center")
            fixed_centers[i] = _stacked([motion.center], 3, [f"{path}.center"])[0]
    targeted = [(i, m.target) for i, m in enumerate(motions) if m.target]
    bases = [orbit_basis(vector) for vector in axis_vectors]
    axes, starts, sides = (np.stack([basis[k] for basis in bases]) for k in range(3))
    phases = np.radians([float(m.phase_deg) for m in motions])
    periods = np.array([float(m.period) for m in motions])
    radii = np.array([float(m.radius) for m in motions])
    _, rotations = _pose_blocks(batch)
    own = rotations.as_matrix()
    facing = np.flatnonzero([bool(m.face_center) for m in motions])
    facing_columns = _columns(facing, count)

    def fill(frames: slice, out: np.ndarray) -> None:
        t = times[frames]
        angle = phases[None] + (2.0 * np.pi * t)[:, None] / periods[None]
        radial = np.cos(angle)[..., None] * starts[None] + np.sin(angle)[..., None] * sides[None]
        centers = np.broadcast_to(fixed_centers, radial.shape).copy() if targeted else fixed_centers
        for i, target in targeted:
            centers[:, i] = batch.poses[target][frames, :3, 3]
        out[..., :3, 3] = centers + radii[None, :, None] * radial
        if len(facing) < count:
            out[..., :3, :3] = own[None]
        if len(facing):
            x_axis = -radial[:, facing_columns]
            z_axis = np.broadcast_to(axes[None, facing_columns], x_axis.shape)
            out[:, facing_columns, :3, :3] = np.stack([x_axis, np.cross(z_axis, x_axis), z_axis], axis=-1)

    return fill


def _path_distance_terms(motion: MotionSpec, key_path: str) -> tuple[str, float]:
    """How distance grows with time: ``("speed", v)``, ``("duration", d)`` or the default speed."""
    if motion.speed is not None:
        if not np.isfinite(motion.speed) or motion.speed < 0:
            raise SceneError("path speed must be a non-negative number", key_path=f"{key_path}.speed")
        return "speed", float(motion.speed)
    if motion.duration is not None:
        if not np.isfinite(motion.duration) or motion.duration <= 0:
            raise SceneError("path duration must be positive", key_path=f"{key_path}.duration")
        return "duration", float(motion.duration)
    return "speed", DEFAULT_PATH_SPEED


def path(batch: MotionBatch) -> FillPoses:
    motions, times = batch.motions, batch.times
    count = len(motions)
    paths = [batch.motion_path(i) for i in range(count)]
    groups: dict[tuple, list[int]] = defaultdict(list)
    points, knots, timing = [], [], []
    for i, (motion, key_path) in enumerate(zip(motions, paths)):
        points.append(path_points(motion, key_path))
        knots.append(chord_knots(points[-1], key_path))
        timing.append(_path_distance_terms(motion, key_path))
        cubic = motion.interpolation == "cubic"
        groups[(cubic, len(points[-1]) if cubic else 0, bool(motion.closed) if cubic else False)].append(i)
    orient = np.array([bool(m.orient_along_path) for m in motions])
    # Interpolation tables are per path (np.interp one path at a time): evaluated for all frames
    # here, the per-frame rest in chunks by ``fill``.
    positions = np.empty((len(times), count, 3))
    tangents = np.empty((len(times), count, 3))
    for members in groups.values():
        curves = PathCurves(
            [motions[i] for i in members], [points[i] for i in members], [knots[i] for i in members]
        )
        # distance = speed * t, or length * t / duration (path_arc_length's arithmetic)
        arc_length = np.stack(
            [
                value * times if kind == "speed" else curves.length[j] * times / value
                for j, (kind, value) in enumerate(timing[i] for i in members)
            ]
        )
        position, tangent = curves.positions_and_tangents(arc_length, tangents=bool(orient[members].any()))
        positions[:, members] = np.swapaxes(position, 0, 1)
        if tangent is not None:
            tangents[:, members] = np.swapaxes(tangent, 0, 1)
    _, rotations = _pose_blocks(batch)
    own = rotations.as_matrix()
    oriented = np.flatnonzero(orient)
    oriented_columns = _columns(oriented, count)

    def fill(frames: slice, out: np.ndarray) -> None:
        out[..., :3, 3] = positions[frames]
        if len(oriented) < count:
            out[..., :3, :3] = own[None]
        if len(oriented):
            frame_count = len(range(*frames.indices(len(times))))
            axes = frame_along(tangents[frames, oriented_columns].reshape(-1, 3))
            out[:, oriented_columns, :3, :3] = axes.reshape(frame_count, len(oriented), 3, 3)

    return fill


def path_arc_length(motion: MotionSpec, length: float, times: np.ndarray, key_path: str) -> np.ndarray:
    """(T,) distance travelled along the path at ``times``."""
    kind, value = _path_distance_terms(motion, key_path)
    return value * times if kind == "speed" else length * times / value


def keyframe_arrays(batch: MotionBatch) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per entity: key times (K,), positions (K, 3), unit quaternions (K, 4); ``None`` fields from
    the pose."""
    base_positions, base_rotations = _pose_blocks(batch)
    base_quats = base_rotations.as_quat()
    eulers, quats, key_paths, owners = [], [], [], []
    arrays = []
    for i, motion in enumerate(batch.motions):
        path = batch.motion_path(i)
        keys = motion.keyframes
        if not keys:
            raise SceneError("keyframes motion needs at least one keyframe", key_path=f"{path}.keyframes")
        key_times = np.array([float(key.t) for key in keys])
        if np.any(np.diff(key_times) <= 0.0) or not np.all(np.isfinite(key_times)):
            raise SceneError(
                "keyframe times must be finite and strictly increasing", key_path=f"{path}.keyframes"
            )
        given = [j for j, key in enumerate(keys) if key.position is not None]
        positions = np.broadcast_to(base_positions[i], (len(keys), 3)).copy()
        if given:
            positions[given] = _stacked(
                [keys[j].position for j in given], 3, [f"{path}.keyframes[{j}].position" for j in given]
            )
        for j, key in enumerate(keys):
            eulers.append(key.euler_deg)
            quats.append(key.quat_xyzw)
            key_paths.append(f"{path}.keyframes[{j}]")
            owners.append(i)
        arrays.append((key_times, positions))
    rotations, given = rotations_from(eulers, quats, key_paths)
    key_quats = np.where(given[:, None], rotations.as_quat(), base_quats[owners])
    quats_per_entity = np.split(key_quats, np.cumsum([len(times) for times, _ in arrays])[:-1])
    return [(times, positions, q) for (times, positions), q in zip(arrays, quats_per_entity)]


def keyframes(batch: MotionBatch) -> FillPoses:
    motions, times = batch.motions, batch.times
    for i, motion in enumerate(motions):
        if motion.position_interpolation not in POSITION_INTERPOLATIONS:
            raise SceneError(
                f"unknown position_interpolation {motion.position_interpolation!r} (linear | cubic)",
                key_path=f"{batch.motion_path(i)}.position_interpolation",
            )
        if motion.rotation_interpolation not in ROTATION_INTERPOLATIONS:
            raise SceneError(
                f"unknown rotation_interpolation {motion.rotation_interpolation!r} (slerp | spline)",
                key_path=f"{batch.motion_path(i)}.rotation_interpolation",
            )
    keys = keyframe_arrays(batch)
    count = len(motions)
    # Per-entity interpolation (searches, np.interp, RotationSpline) for all frames here; the
    # slerp's quaternion arithmetic per chunk of frames in ``fill``.
    positions = np.empty((len(times), count, 3))
    rotations = np.empty((len(times), count, 3, 3))
    clamped = np.stack([np.clip(times, key_times[0], key_times[-1]) for key_times, _, _ in keys], axis=1)
    for i, (key_times, key_positions, key_quats) in enumerate(keys):
        if len(key_times) == 1:
            rotations[:, i] = Rotation.from_quat(key_quats).as_matrix()[0]
            positions[:, i] = key_positions[0]
            continue
        if motions[i].position_interpolation == "linear":
            for axis in range(3):
                positions[:, i, axis] = np.interp(clamped[:, i], key_times, key_positions[:, axis])
        if motions[i].rotation_interpolation == "spline":
            spline = RotationSpline(key_times, Rotation.from_quat(key_quats))
            rotations[:, i] = spline(clamped[:, i]).as_matrix()
    cubic: dict[int, list[int]] = defaultdict(list)
    for i, (key_times, _, _) in enumerate(keys):
        if len(key_times) > 1 and motions[i].position_interpolation == "cubic":
            cubic[len(key_times)].append(i)
    for members in cubic.values():
        spline = BatchedCubicSpline(
            np.stack([keys[i][0] for i in members]), np.stack([keys[i][1] for i in members])
        )
        positions[:, members] = np.swapaxes(spline(clamped[:, members].T), 0, 1)
    slerped = np.array(
        [
            i
            for i, (key_times, _, _) in enumerate(keys)
            if len(key_times) > 1 and motions[i].rotation_interpolation == "slerp"
        ],
        dtype=np.intp,
    )
    slerp = _Slerp([keys[i] for i in slerped], clamped[:, slerped]) if len(slerped) else None
    slerped_columns = _columns(slerped, count)

    def fill(frames: slice, out: np.ndarray) -> None:
        out[..., :3, 3] = positions[frames]
        if len(slerped) < count:
            out[..., :3, :3] = rotations[frames]
        if slerp is not None:
            out[:, slerped_columns, :3, :3] = slerp.matrices(frames)

    return fill


class _Slerp:
    """scipy ``Slerp`` of every entity's keys at once: ``matrices(frames)`` is (t, N, 3, 3).

    ``scipy.spatial.transform.Slerp``'s operations (key pair, fraction, rotation vector of the
    pair, composition) applied to all entities together; the composition is vectorised and agrees
    with scipy's to 1 ulp.
    """

    def __init__(self, keys: list[tuple[np.ndarray, np.ndarray, np.ndarray]], clamped: np.ndarray) -> None:
        starts = Rotation.from_quat(np.concatenate([quats[:-1] for _, _, quats in keys]))
        ends = Rotation.from_quat(np.concatenate([quats[1:] for _, _, quats in keys]))
        self.start_quats = starts.as_quat()
        self.rotvecs = (starts.inv() * ends).as_rotvec()
        offsets = np.cumsum([0] + [len(key_times) - 1 for key_times, _, _ in keys])
        self.pair = np.empty(clamped.shape, dtype=np.intp)  # (T, N) index into the key pairs
        self.alpha = np.empty(clamped.shape)  # (T, N) fraction of the pair
        for column, (key_times, _, _) in enumerate(keys):
            at = clamped[:, column]
            index = np.searchsorted(key_times, at) - 1
            index[at == key_times[0]] = 0
            self.alpha[:, column] = (at - key_times[index]) / np.diff(key_times)[index]
            self.pair[:, column] = offsets[column] + index

    def matrices(self, frames: slice) -> np.ndarray:
        pair, alpha = self.pair[frames], self.alpha[frames]
        flat_pair = pair.ravel()
        steps = Rotation.from_rotvec(self.rotvecs[flat_pair] * alpha.reshape(-1, 1)).as_quat()
        result = compose_quats(self.start_quats[flat_pair], steps)
        return quat_matrices(result).reshape(*pair.shape, 3, 3)


def attach(batch: MotionBatch) -> FillPoses:
    positions, rotations = _pose_blocks(batch)
    locals_ = np.zeros((len(positions), 4, 4))
    locals_[:, :3, :3] = rotations.as_matrix()
    locals_[:, :3, 3] = positions
    locals_[:, 3, 3] = 1.0
    for i, motion in enumerate(batch.motions):
        if not motion.parent:
            raise SceneError("attach motion needs a parent", key_path=f"{batch.motion_path(i)}.parent")
    parents = [motion.parent for motion in batch.motions]

    def fill(frames: slice, out: np.ndarray) -> None:
        for i, parent in enumerate(parents):
            out[:, i] = batch.poses[parent][frames] @ locals_[i]

    return fill


FillPoses = Callable[[slice, np.ndarray], None]
"""``fill(frames, out)``: write the batch's ``object_to_world`` at ``times[frames]`` into ``out``
(t, N, 4, 4), whose last rows are already ``0 0 0 1``."""
Motion = Callable[[MotionBatch], FillPoses]
"""A motion type: checks and prepares a batch (per-entity work over all frames) and returns the
function that fills its poses, called on chunks of ``CHUNK_ENTITY_FRAMES`` entity-frames."""

MOTIONS: dict[str, Motion] = {
    "static": static, "keyframes": keyframes, "velocity": velocity, "orbit": orbit, "path": path,
    "attach": attach,
}  # fmt: skip
assert set(MOTIONS) == set(MOTION_TYPES)
