"""Batched kinematics against a straightforward per-entity reference, and batched splines against scipy.

The reference is the implementation kinematics had before it was batched over entities: one
entity at a time, scipy's ``CubicSpline``, ``Slerp``, ``RotationSpline`` and ``Rotation`` calls.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline, Slerp

from worldsim.scene.model import EntitySpec, Keyframe, MotionSpec, Pose
from worldsim.world.kinematics import MOTIONS, evaluate_motions
from worldsim.world.splines import BatchedCubicSpline

SAME_POSES = 1e-12
"""Metres (and rotation-matrix entries): batched splines and quaternion products reorder sums."""
SAME_SPLINE = 1e-12
"""Relative: a batched tridiagonal solve against LAPACK's banded solver."""


def _rotation(euler: list[float] | None, quat: list[float] | None) -> Rotation | None:
    if quat is not None:
        return Rotation.from_quat(quat)
    if euler is not None:
        return Rotation.from_euler("xyz", euler, degrees=True)
    return None


def _matrices(positions: np.ndarray, rotations: Rotation) -> np.ndarray:
    matrices = np.tile(np.eye(4), (len(positions), 1, 1))
    matrices[:, :3, :3] = rotations.as_matrix()
    matrices[:, :3, 3] = positions
    return matrices


def _reference_path(motion: MotionSpec, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    points = np.asarray(motion.points, dtype=float)
    if motion.closed and np.linalg.norm(points[-1] - points[0]) > 1e-12:
        points = np.vstack([points, points[:1]])
    knots = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    if motion.interpolation == "cubic":
        boundary = "periodic" if motion.closed else ("natural" if len(points) < 3 else "not-a-knot")
        spline = CubicSpline(knots, points, bc_type=boundary)
        samples = np.linspace(0.0, knots[-1], 256 * (len(points) - 1) + 1)
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(spline(samples), axis=0), axis=1))])
        length = arc[-1]
    else:
        length = knots[-1]
    if motion.speed is not None:
        distance = motion.speed * times
    elif motion.duration is not None:
        distance = length * times / motion.duration
    else:
        distance = times
    distance = np.mod(distance, length) if motion.closed else np.clip(distance, 0.0, length)
    if motion.interpolation == "cubic":
        parameter = np.interp(distance, arc, samples)
        position, direction = spline(parameter), spline(parameter, 1)
    else:
        position = np.stack([np.interp(distance, knots, points[:, axis]) for axis in range(3)], axis=-1)
        segment = np.clip(np.searchsorted(knots, distance, side="right") - 1, 0, len(knots) - 2)
        direction = points[segment + 1] - points[segment]
    return position, direction / np.linalg.norm(direction, axis=-1, keepdims=True)


def _reference_frame_along(forward: np.ndarray) -> np.ndarray:
    x_axis = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    frames = []
    for x in x_axis:
        y = np.cross([0.0, 0.0, 1.0], x)
        if np.linalg.norm(y) < 1e-9:
            y = np.cross(x, [1.0, 0.0, 0.0])
            if np.linalg.norm(y) < 1e-9:
                y = np.array([0.0, 1.0, 0.0])
        y = y / np.linalg.norm(y)
        frames.append(np.stack([x, y, np.cross(x, y)], axis=-1))
    return np.array(frames)


def reference_motion(entity: EntitySpec, times: np.ndarray, poses: dict[str, np.ndarray]) -> np.ndarray:
    """(T, 4, 4) pose of one entity, evaluated the straightforward way."""
    motion, pose = entity.motion, entity.pose
    base_rotation = _rotation(pose.euler_deg, pose.quat_xyzw) or Rotation.identity()
    base_position = np.asarray(pose.position, dtype=float)
    count = len(times)
    if motion.type == "static":
        return _matrices(
            np.broadcast_to(base_position, (count, 3)), Rotation.concatenate([base_rotation] * count)
        )
    if motion.type == "keyframes":
        key_times = np.array([key.t for key in motion.keyframes], dtype=float)
        positions = np.array([base_position if k.position is None else k.position for k in motion.keyframes])
        rotations = Rotation.from_quat(
            [(_rotation(k.euler_deg, k.quat_xyzw) or base_rotation).as_quat() for k in motion.keyframes]
        )
        if len(key_times) == 1:
            return np.broadcast_to(_matrices(positions, rotations), (count, 4, 4)).copy()
        clamped = np.clip(times, key_times[0], key_times[-1])
        if motion.position_interpolation == "cubic":
            position = CubicSpline(key_times, positions)(clamped)
        else:
            position = np.stack([np.interp(clamped, key_times, positions[:, a]) for a in range(3)], axis=-1)
        if motion.rotation_interpolation == "spline":
            rotation = RotationSpline(key_times, rotations)(clamped)
        else:
            rotation = Slerp(key_times, rotations)(clamped)
        return _matrices(position, rotation)
    if motion.type == "velocity":
        position = base_position + times[:, None] * np.asarray(motion.linear_velocity, dtype=float)
        spin = Rotation.from_rotvec(times[:, None] * np.radians(motion.angular_velocity_deg))
        return _matrices(position, spin * base_rotation)
    if motion.type == "orbit":
        axis = np.asarray(motion.axis, dtype=float) / np.linalg.norm(motion.axis)
        reference = np.array([1.0, 0.0, 0.0])
        if np.linalg.norm(reference - axis * (reference @ axis)) < 1e-6:
            reference = np.array([0.0, 1.0, 0.0])
        start = reference - axis * (reference @ axis)
        start /= np.linalg.norm(start)
        side = np.cross(axis, start)
        center = poses[motion.target][:, :3, 3] if motion.target else np.asarray(motion.center, dtype=float)
        angle = np.radians(motion.phase_deg) + 2.0 * np.pi * times / motion.period
        radial = np.cos(angle)[:, None] * start + np.sin(angle)[:, None] * side
        matrices = _matrices(center + motion.radius * radial, Rotation.concatenate([base_rotation] * count))
        if motion.face_center:
            x_axis = -radial
            matrices[:, :3, :3] = np.stack(
                [x_axis, np.cross(axis, x_axis), np.broadcast_to(axis, x_axis.shape)], -1
            )
        return matrices
    if motion.type == "path":
        position, tangent = _reference_path(motion, times)
        matrices = _matrices(position, Rotation.concatenate([base_rotation] * count))
        if motion.orient_along_path:
            matrices[:, :3, :3] = _reference_frame_along(tangent)
        return matrices
    if motion.type == "attach":
        local = _matrices(base_position[None], base_rotation)[0]
        return poses[motion.parent] @ local
    raise AssertionError(motion.type)


def reference_motions(entities: list[EntitySpec], times: np.ndarray) -> dict[str, np.ndarray]:
    poses: dict[str, np.ndarray] = {}
    pending = list(entities)
    while pending:  # dependencies first
        for entity in list(pending):
            needs = entity.motion.parent if entity.motion.type == "attach" else entity.motion.target
            if entity.motion.type in ("attach", "orbit") and needs and needs not in poses:
                continue
            poses[entity.name] = reference_motion(entity, times, poses)
            pending.remove(entity)
    return poses


def _every_motion_variant() -> list[EntitySpec]:
    rng = np.random.default_rng(7)
    entities = []

    def add(name: str, motion: MotionSpec, pose: Pose | None = None) -> None:
        entities.append(EntitySpec(name=name, motion=motion, pose=pose or Pose()))

    tilted = Pose(position=[0.5, -1.0, 2.0], euler_deg=[10.0, -20.0, 35.0])
    quat_pose = Pose(position=[1.0, 2.0, 0.0], quat_xyzw=[0.1, 0.2, 0.3, 0.9])
    add("still", MotionSpec(type="static"), tilted)
    for i, (position_interpolation, rotation_interpolation) in enumerate(
        [("linear", "slerp"), ("cubic", "slerp"), ("linear", "spline"), ("cubic", "spline")] * 2
    ):
        count = 2 + i  # 2 .. 9 keys: the 2- and 3-key special cases of the splines included
        key_times = np.sort(rng.uniform(0.0, 4.0, count)) + np.arange(count) * 0.05
        keys = [
            Keyframe(
                t=float(t),
                position=None if j == 1 else rng.normal(size=3).tolist(),
                euler_deg=None if j == 2 else rng.uniform(-180, 180, 3).tolist(),
            )
            for j, t in enumerate(key_times)
        ]
        if count > 3:
            keys[3] = Keyframe(t=keys[3].t, quat_xyzw=rng.normal(size=4).tolist())
        add(
            f"keys{i}",
            MotionSpec(
                type="keyframes",
                keyframes=keys,
                position_interpolation=position_interpolation,
                rotation_interpolation=rotation_interpolation,
            ),
            tilted if i % 2 else quat_pose,
        )
    add("one_key", MotionSpec(type="keyframes", keyframes=[Keyframe(t=1.0, position=[1, 2, 3])]), tilted)
    add("glide", MotionSpec(type="velocity", linear_velocity=[1.0, -0.5, 0.2]), tilted)
    add("spin", MotionSpec(type="velocity", angular_velocity_deg=[30.0, -50.0, 90.0]), quat_pose)
    add("orbit_fixed", MotionSpec(type="orbit", center=[1, 1, 1], radius=2.0, period=3.0, phase_deg=20))
    add(
        "orbit_x",
        MotionSpec(type="orbit", center=[0, 0, 1], axis=[1, 0, 0], radius=1.0, period=2.0, face_center=True),
        tilted,
    )
    add("orbit_spin", MotionSpec(type="orbit", target="spin", axis=[1, 1, 1], period=1.5, face_center=True))
    paths = [rng.normal(size=(count, 3)) * [3, 3, 0.5] for count in (2, 3, 5, 5)]
    for i, points in enumerate(paths):
        for interpolation in ("linear", "cubic"):
            for closed in (False, True):
                if closed and len(points) < 3 and interpolation == "cubic":
                    continue
                timing = [{"speed": 1.3}, {"duration": 2.5}, {}][(i + closed) % 3]
                add(
                    f"path{i}_{interpolation}_{closed}",
                    MotionSpec(
                        type="path",
                        points=points.tolist(),
                        interpolation=interpolation,
                        closed=closed,
                        orient_along_path=(i + closed) % 2 == 0,
                        **timing,
                    ),
                    tilted,
                )
    add("rider", MotionSpec(type="attach", parent="spin"), Pose(position=[0, 0.5, 0], euler_deg=[0, 0, 45]))
    add("passenger", MotionSpec(type="attach", parent="rider"), tilted)
    add("on_path", MotionSpec(type="attach", parent="path2_cubic_True"), Pose(position=[0, 0, 0.3]))
    add("vertical", MotionSpec(type="path", points=[[0, 0, 0], [0, 0, 2], [0, 0, 3]]))
    return entities


def test_registry_covers_every_motion_type() -> None:
    from worldsim.scene.model import MOTION_TYPES

    assert set(MOTIONS) == set(MOTION_TYPES)
    assert all(callable(motion) for motion in MOTIONS.values())


def test_batched_kinematics_match_the_per_entity_reference() -> None:
    entities = _every_motion_variant()
    times = np.linspace(-0.5, 7.0, 181)
    poses = evaluate_motions(entities, times)
    expected = reference_motions(entities, times)
    assert set(poses) == set(expected)
    worst = max(np.abs(poses[name] - expected[name]).max() for name in expected)
    assert worst <= SAME_POSES, worst
    # Without splines or quaternion products the arithmetic is the same: bit-identical (positions
    # of linear paths; the reference builds path frames row by row, which rounds differently).
    for entity in entities:
        motion = entity.motion
        if motion.type in ("static", "orbit") and motion.target != "spin":
            np.testing.assert_array_equal(poses[entity.name], expected[entity.name], err_msg=entity.name)
        if motion.type == "path" and motion.interpolation == "linear":
            np.testing.assert_array_equal(poses[entity.name][:, :3, 3], expected[entity.name][:, :3, 3])


def test_shuffled_entities_give_the_same_poses() -> None:
    entities = _every_motion_variant()
    times = np.linspace(0.0, 3.0, 37)
    poses = evaluate_motions(entities, times)
    shuffled = [entities[i] for i in np.random.default_rng(3).permutation(len(entities))]
    again = evaluate_motions(shuffled, times)
    for name, pose in poses.items():
        np.testing.assert_array_equal(again[name], pose, err_msg=name)


@pytest.mark.parametrize("boundary", ["not-a-knot", "natural", "periodic"])
def test_batched_cubic_spline_matches_scipy(boundary: str) -> None:
    rng = np.random.default_rng(11)
    for count in range(2, 9):
        if boundary == "periodic" and count < 3:
            continue
        knots = np.sort(rng.uniform(0, 10, size=(4, count)), axis=1) + np.arange(count) * 0.01
        values = rng.normal(size=(4, count, 3))
        if boundary == "periodic":
            values[:, -1] = values[:, 0]
        spline = BatchedCubicSpline(knots, values, boundary)
        points = np.stack([np.linspace(k[0], k[-1], 53) for k in knots])
        position, slope = spline.values_and_derivatives(points)
        for row in range(4):
            reference = CubicSpline(knots[row], values[row], bc_type=boundary)
            scale = np.abs(values[row]).max()
            np.testing.assert_allclose(
                position[row], reference(points[row]), rtol=0, atol=SAME_SPLINE * scale
            )
            np.testing.assert_allclose(
                slope[row], reference(points[row], 1), rtol=0, atol=SAME_SPLINE * 100 * scale
            )
