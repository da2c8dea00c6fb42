"""Kinematic motion against scipy evaluated directly and analytic expectations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline, Slerp

from worldsim.errors import SceneError
from worldsim.scene.model import EntitySpec, Keyframe, MotionSpec, Pose
from worldsim.world.kinematics import evaluate_motions

EXACT = 1e-12
"""Same scipy call, same inputs: only round-off may differ."""
ARC_TOLERANCE = 1e-4
"""Metres; error of the dense arc-length table of cubic paths."""

KEY_TIMES = np.array([0.0, 0.7, 1.5, 2.0, 3.2])
KEY_POSITIONS = np.array([[0, 0, 0], [1, 2, 0.5], [2, 1, 1], [1.5, -1, 0.2], [0, 0, 2]], dtype=float)
KEY_EULER = np.array([[0, 0, 0], [30, 10, 80], [90, -20, 160], [10, 45, 250], [0, 0, 350]], dtype=float)
TIMES = np.linspace(-0.5, 3.8, 97)


def _keyframed(position_interpolation: str, rotation_interpolation: str) -> EntitySpec:
    keys = [
        Keyframe(t=float(t), position=list(p), euler_deg=list(e))
        for t, p, e in zip(KEY_TIMES, KEY_POSITIONS, KEY_EULER)
    ]
    return EntitySpec(
        name="k",
        motion=MotionSpec(
            type="keyframes",
            keyframes=keys,
            position_interpolation=position_interpolation,
            rotation_interpolation=rotation_interpolation,
        ),
    )


def _scipy_reference(position_interpolation: str, rotation_interpolation: str) -> np.ndarray:
    clamped = np.clip(TIMES, KEY_TIMES[0], KEY_TIMES[-1])
    rotations = Rotation.from_euler("xyz", KEY_EULER, degrees=True)
    if position_interpolation == "cubic":
        positions = CubicSpline(KEY_TIMES, KEY_POSITIONS)(clamped)
    else:
        positions = np.stack([np.interp(clamped, KEY_TIMES, KEY_POSITIONS[:, i]) for i in range(3)], -1)
    if rotation_interpolation == "spline":
        matrices = RotationSpline(KEY_TIMES, rotations)(clamped).as_matrix()
    else:
        matrices = Slerp(KEY_TIMES, rotations)(clamped).as_matrix()
    expected = np.tile(np.eye(4), (len(TIMES), 1, 1))
    expected[:, :3, :3] = matrices
    expected[:, :3, 3] = positions
    return expected


@pytest.mark.parametrize("position_interpolation", ["linear", "cubic"])
@pytest.mark.parametrize("rotation_interpolation", ["slerp", "spline"])
def test_keyframes_match_scipy(position_interpolation: str, rotation_interpolation: str) -> None:
    entity = _keyframed(position_interpolation, rotation_interpolation)
    poses = evaluate_motions([entity], TIMES)["k"]
    expected = _scipy_reference(position_interpolation, rotation_interpolation)
    np.testing.assert_allclose(poses, expected, rtol=0, atol=EXACT)
    # Held constant outside the key range.
    np.testing.assert_array_equal(
        poses[TIMES < 0], np.broadcast_to(poses[TIMES < 0][0], poses[TIMES < 0].shape)
    )
    np.testing.assert_allclose(poses[-1, :3, 3], KEY_POSITIONS[-1], atol=EXACT)


def test_keyframe_fields_fall_back_to_entity_pose() -> None:
    entity = EntitySpec(
        name="k",
        pose=Pose(position=[1, 2, 3], euler_deg=[0, 0, 90]),
        motion=MotionSpec(type="keyframes", keyframes=[Keyframe(t=0.0), Keyframe(t=1.0, position=[3, 2, 3])]),
    )
    poses = evaluate_motions([entity], np.array([0.0, 0.5, 1.0]))["k"]
    np.testing.assert_allclose(poses[:, :3, 3], [[1, 2, 3], [2, 2, 3], [3, 2, 3]], atol=EXACT)
    expected = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    np.testing.assert_allclose(poses[:, :3, :3], np.broadcast_to(expected, (3, 3, 3)), atol=EXACT)


def test_keyframes_out_of_order_raise() -> None:
    entity = EntitySpec(
        name="k", motion=MotionSpec(type="keyframes", keyframes=[Keyframe(t=1.0), Keyframe(t=0.5)])
    )
    with pytest.raises(SceneError, match="strictly increasing"):
        evaluate_motions([entity], TIMES)


def test_constant_velocity() -> None:
    entity = EntitySpec(
        name="v",
        pose=Pose(position=[1, 0, 0], euler_deg=[20, 0, 0]),
        motion=MotionSpec(type="velocity", linear_velocity=[0.5, -1, 2], angular_velocity_deg=[0, 0, 45]),
    )
    times = np.linspace(0, 4, 9)
    poses = evaluate_motions([entity], times)["v"]
    np.testing.assert_allclose(poses[:, :3, 3], [1, 0, 0] + times[:, None] * [0.5, -1, 2], atol=EXACT)
    expected = [
        Rotation.from_euler("z", 45 * t, degrees=True) * Rotation.from_euler("x", 20, degrees=True)
        for t in times
    ]
    np.testing.assert_allclose(poses[:, :3, :3], [r.as_matrix() for r in expected], atol=EXACT)
    # A full turn after 8 s about world Z brings the rotation back.
    back = evaluate_motions([entity], np.array([8.0]))["v"][0, :3, :3]
    np.testing.assert_allclose(back, poses[0, :3, :3], atol=1e-12)


def test_orbit_radius_period_and_facing() -> None:
    axis = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    entity = EntitySpec(
        name="o",
        motion=MotionSpec(
            type="orbit",
            center=[1, 2, 3],
            radius=2.5,
            axis=list(axis),
            period=3.0,
            phase_deg=30,
            face_center=True,
        ),
    )
    times = np.linspace(0, 6, 61)
    poses = evaluate_motions([entity], times)["o"]
    offsets = poses[:, :3, 3] - [1, 2, 3]
    np.testing.assert_allclose(np.linalg.norm(offsets, axis=1), 2.5, atol=EXACT)
    np.testing.assert_allclose(offsets @ axis, 0.0, atol=EXACT)  # stays in the orbit plane
    np.testing.assert_allclose(poses[0, :3, 3], poses[30, :3, 3], atol=EXACT)  # one period = 3 s
    # +X points at the centre, +Z along the axis; rotations are proper.
    np.testing.assert_allclose(poses[:, :3, 0], -offsets / 2.5, atol=EXACT)
    np.testing.assert_allclose(poses[:, :3, 2], np.broadcast_to(axis, (61, 3)), atol=EXACT)
    np.testing.assert_allclose(np.linalg.det(poses[:, :3, :3]), 1.0, atol=EXACT)
    # Angle advances by 360 / period deg/s: a quarter period is 90 degrees about the axis.
    cos_quarter = offsets[0] @ offsets[5] / 2.5**2  # t = 0.5 s = 60 degrees
    np.testing.assert_allclose(cos_quarter, np.cos(np.radians(60)), atol=1e-12)


def test_orbit_tracks_a_moving_target() -> None:
    target = EntitySpec(name="car", motion=MotionSpec(type="velocity", linear_velocity=[2, 0, 0]))
    drone = EntitySpec(name="drone", motion=MotionSpec(type="orbit", target="car", radius=1.5, period=2.0))
    times = np.linspace(0, 3, 31)
    poses = evaluate_motions([drone, target], times)
    relative = poses["drone"][:, :3, 3] - poses["car"][:, :3, 3]
    np.testing.assert_allclose(np.linalg.norm(relative, axis=1), 1.5, atol=EXACT)
    np.testing.assert_allclose(relative[0], [1.5, 0, 0], atol=EXACT)  # phase 0 along world +X


@pytest.mark.parametrize("interpolation", ["linear", "cubic"])
def test_path_constant_speed(interpolation: str) -> None:
    points = [[0, 0, 0], [3, 0, 0], [3, 4, 0], [0, 4, 1]]
    entity = EntitySpec(
        name="p", motion=MotionSpec(type="path", points=points, speed=1.5, interpolation=interpolation)
    )
    times = np.linspace(0, 4, 401)
    poses = evaluate_motions([entity], times)["p"]
    steps = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    if interpolation == "linear":
        # A step across a corner is a chord, shorter than the distance travelled: at most 2 such.
        straight, tolerance = steps[np.abs(steps - 0.015) < 1e-3], EXACT
        assert len(straight) >= len(steps) - 2
    else:
        straight, tolerance = steps, ARC_TOLERANCE / 5
    np.testing.assert_allclose(straight, 1.5 * 0.01, atol=tolerance)
    np.testing.assert_allclose(poses[0, :3, 3], points[0], atol=EXACT)
    # +X along the direction of travel, Z up kept (no roll: +Y horizontal).
    directions = np.diff(poses[:, :3, 3], axis=0)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    alignment = np.sum(poses[:-1, :3, 0] * directions, axis=1)
    assert np.median(alignment) > 0.999
    np.testing.assert_allclose(poses[:, 2, 1], 0.0, atol=1e-12)


def test_path_closed_loop_over_duration() -> None:
    square = [[0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0]]
    entity = EntitySpec(name="p", motion=MotionSpec(type="path", points=square, duration=4.0, closed=True))
    times = np.array([0.0, 0.5, 1.0, 3.5, 4.0, 5.0])
    poses = evaluate_motions([entity], times)["p"][:, :3, 3]
    np.testing.assert_allclose(
        poses, [[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0], [0, 0, 0], [2, 0, 0]], atol=EXACT
    )


def test_open_path_stops_at_the_end() -> None:
    entity = EntitySpec(name="p", motion=MotionSpec(type="path", points=[[0, 0, 0], [1, 0, 0]], speed=1.0))
    poses = evaluate_motions([entity], np.array([0.5, 2.0, 9.0]))["p"][:, :3, 3]
    np.testing.assert_allclose(poses, [[0.5, 0, 0], [1, 0, 0], [1, 0, 0]], atol=EXACT)


def test_cubic_closed_path_is_smooth_and_periodic() -> None:
    points = [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0]]
    entity = EntitySpec(
        name="p", motion=MotionSpec(type="path", points=points, speed=1.0, closed=True, interpolation="cubic")
    )
    poses = evaluate_motions([entity], np.linspace(0, 30, 3001))["p"]
    radii = np.linalg.norm(poses[:, :3, 3], axis=1)
    assert radii.min() > 0.95 and radii.max() < 1.1  # a periodic spline through 4 circle points
    steps = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    np.testing.assert_allclose(steps, 0.01, atol=2e-5)  # constant speed across the seam too


def test_attach_follows_a_moving_rotating_parent() -> None:
    parent = EntitySpec(
        name="parent",
        pose=Pose(position=[0, 0, 1]),
        motion=MotionSpec(type="velocity", linear_velocity=[1, 0, 0], angular_velocity_deg=[0, 0, 90]),
    )
    child = EntitySpec(
        name="child",
        pose=Pose(position=[0.5, 0, 0.2], euler_deg=[0, 10, 0]),
        motion=MotionSpec(type="attach", parent="parent"),
    )
    grandchild = EntitySpec(
        name="gc", pose=Pose(position=[0, 0.3, 0]), motion=MotionSpec(type="attach", parent="child")
    )
    times = np.linspace(0, 2, 5)
    poses = evaluate_motions([grandchild, child, parent], times)
    local_child = np.eye(4)
    local_child[:3, :3] = Rotation.from_euler("y", 10, degrees=True).as_matrix()
    local_child[:3, 3] = [0.5, 0, 0.2]
    np.testing.assert_allclose(poses["child"], poses["parent"] @ local_child, atol=EXACT)
    # After 1 s the parent turned 90 degrees: the child's offset (0.5, 0) now points along +Y.
    np.testing.assert_allclose(poses["child"][2, :3, 3], [1.0, 0.5, 1.2], atol=1e-12)
    local_grandchild = np.eye(4)
    local_grandchild[:3, 3] = [0, 0.3, 0]
    np.testing.assert_allclose(poses["gc"], poses["child"] @ local_grandchild, atol=EXACT)


def test_attach_cycle_and_unknown_parent_raise() -> None:
    a = EntitySpec(name="a", motion=MotionSpec(type="attach", parent="b"))
    b = EntitySpec(name="b", motion=MotionSpec(type="attach", parent="a"))
    with pytest.raises(SceneError, match="cycle"):
        evaluate_motions([a, b], TIMES)
    lonely = EntitySpec(name="c", motion=MotionSpec(type="attach", parent="nobody"))
    with pytest.raises(SceneError, match="nobody") as info:
        evaluate_motions([lonely], TIMES)
    assert info.value.key_path == "entities[0].motion.parent"


def test_path_orientation_options() -> None:
    vertical = EntitySpec(
        name="lift", motion=MotionSpec(type="path", points=[[0, 0, 0], [0, 0, 2]], speed=1.0)
    )
    upright = EntitySpec(
        name="keep",
        pose=Pose(euler_deg=[0, 0, 30]),
        motion=MotionSpec(type="path", points=[[0, 0, 0], [1, 1, 0]], orient_along_path=False),
    )
    poses = evaluate_motions([vertical, upright], np.array([0.5, 1.0]))
    lift = poses["lift"][0, :3, :3]
    np.testing.assert_allclose(lift[:, 0], [0, 0, 1], atol=EXACT)  # +X along the (vertical) tangent
    np.testing.assert_allclose(lift.T @ lift, np.eye(3), atol=EXACT)
    assert np.isclose(np.linalg.det(lift), 1.0)
    expected = Rotation.from_euler("z", 30, degrees=True).as_matrix()
    np.testing.assert_allclose(poses["keep"][:, :3, :3], np.broadcast_to(expected, (2, 3, 3)), atol=EXACT)
    np.testing.assert_allclose(poses["keep"][1, :3, 3], [np.sqrt(0.5), np.sqrt(0.5), 0], atol=EXACT)


def test_unknown_interpolation_names_the_key() -> None:
    entity = EntitySpec(
        name="k",
        motion=MotionSpec(
            type="keyframes", position_interpolation="bezier", keyframes=[Keyframe(t=0.0), Keyframe(t=1.0)]
        ),
    )
    with pytest.raises(SceneError) as info:
        evaluate_motions([entity], TIMES)
    assert info.value.key_path == "entities[0].motion.position_interpolation"
