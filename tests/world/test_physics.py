"""MuJoCo physics through World.rollout: resting, bouncing, pushing, rolling, spawning."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from worldsim.scene.model import EntitySpec, MeshSpec, MotionSpec, PhysicsSpec, Pose
from worldsim.scene.scene import Scene
from worldsim.world.physics import restitution_damping_ratio
from worldsim.world.world import World

REST_TOLERANCE = 0.005
"""Metres: a resting body's height against its analytic resting height."""


def _scene(fps: float = 50.0, num_frames: int = 100) -> Scene:
    scene = Scene(name="physics", fps=fps, num_frames=num_frames)
    scene.add(EntitySpec(name="ground", semantic_class="ground", mesh=MeshSpec(type="plane", size=[20, 20])))
    return scene


def _heights(scene: Scene, name: str) -> np.ndarray:
    trajectory = World(scene).rollout()
    return trajectory.object_to_world[:, trajectory.entity_column(scene.entity(name).id), 2, 3]


def test_dropped_box_rests_at_half_height() -> None:
    scene = _scene(num_frames=100)
    scene.add(
        EntitySpec(
            name="box",
            mesh=MeshSpec(type="box", size=[0.4, 0.3, 0.5]),
            pose=Pose(position=[0.2, -0.1, 1.5], euler_deg=[0, 0, 30]),
            physics=PhysicsSpec(mode="dynamic", mass=2.0),
        )
    )
    heights = _heights(scene, "box")
    assert heights[0] == 1.5
    np.testing.assert_allclose(heights[-10:], 0.25, atol=REST_TOLERANCE)


def test_dropped_convex_hull_rests_on_its_base() -> None:
    scene = _scene(num_frames=100)
    scene.add(
        EntitySpec(
            name="cone",
            mesh=MeshSpec(type="cone", radius=0.3, height=0.4),
            pose=Pose(position=[0, 0, 1.0]),
            physics=PhysicsSpec(mode="dynamic"),
        )
    )
    heights = _heights(scene, "cone")
    from worldsim.scene.meshes import load_mesh

    base = -load_mesh(MeshSpec(type="cone", radius=0.3, height=0.4)).bounds[0][2]
    np.testing.assert_allclose(heights[-10:], base, atol=REST_TOLERANCE)


def _bounce_height(restitution: float) -> float:
    scene = _scene(fps=100.0, num_frames=150)
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.1),
            pose=Pose(position=[0, 0, 1.0]),
            physics=PhysicsSpec(mode="dynamic", restitution=restitution),
        )
    )
    heights = _heights(scene, "ball")
    first_contact = int(np.argmax(heights < 0.105))
    assert first_contact > 0
    return float(heights[first_contact:].max())


def test_higher_restitution_bounces_higher() -> None:
    dead, medium, lively = (_bounce_height(e) for e in (0.0, 0.5, 0.8))
    assert dead < 0.1 + REST_TOLERANCE  # no bounce at all
    assert medium > dead + 0.15
    assert lively > medium + 0.2
    # Close to the ideal 0.1 + 0.9 e^2 for a 1 m drop of a 0.1 m ball.
    np.testing.assert_allclose([medium, lively], [0.1 + 0.9 * 0.25, 0.1 + 0.9 * 0.64], atol=0.05)


def test_damping_ratio_mapping() -> None:
    assert restitution_damping_ratio(0.0) == 1.0
    ratio = restitution_damping_ratio(0.5)
    np.testing.assert_allclose(np.exp(-ratio * np.pi / np.sqrt(1 - ratio**2)), 0.5, rtol=1e-12)


def test_kinematic_pusher_moves_a_dynamic_box() -> None:
    scene = _scene(num_frames=150)
    scene.add(
        EntitySpec(
            name="box",
            mesh=MeshSpec(type="box", size=[0.3, 0.3, 0.3]),
            pose=Pose(position=[0, 0, 0.15]),
            physics=PhysicsSpec(mode="dynamic", friction=0.5),
        )
    )
    scene.add(
        EntitySpec(
            name="pusher",
            mesh=MeshSpec(type="box", size=[0.2, 1.0, 0.4]),
            pose=Pose(position=[-1.0, 0, 0.2]),
            motion=MotionSpec(type="velocity", linear_velocity=[0.6, 0, 0]),
            physics=PhysicsSpec(mode="kinematic"),
        )
    )
    trajectory = World(scene).rollout()
    box = trajectory.object_to_world[:, trajectory.entity_column(scene.entity("box").id)]
    pusher = trajectory.object_to_world[:, trajectory.entity_column(scene.entity("pusher").id)]
    np.testing.assert_allclose(pusher[-1, :3, 3], [-1.0 + 0.6 * 149 / 50, 0, 0.2], atol=1e-12)
    displacement = box[-1, :3, 3] - box[0, :3, 3]
    assert displacement[0] > 0.5  # pushed by about 0.6 * 3 - 0.75 m of contact travel
    assert abs(displacement[1]) < 0.05
    # The box stays in front of the pusher face (no tunnelling).
    assert np.all(box[:, 0, 3] - pusher[:, 0, 3] > 0.25 - 0.02)


def test_sphere_rolls_down_a_tilted_static_box() -> None:
    scene = _scene(num_frames=60)
    tilt = 15.0
    scene.add(
        EntitySpec(
            name="ramp",
            mesh=MeshSpec(type="box", size=[4, 1, 0.1]),
            pose=Pose(position=[0, 0, 1.0], euler_deg=[0, tilt, 0]),
        )
    )
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.1),
            pose=Pose(
                position=[
                    -1.0 * np.cos(np.radians(tilt)),
                    0,
                    # Touching: the slab's top is 0.05 / cos above its centre line and the ball's
                    # centre 0.1 from it along the normal (0.1 / cos vertically); stiff contacts
                    # throw a ball that starts sunk in (0.1 vertically sank it 3.5 mm).
                    1.0 + np.sin(np.radians(tilt)) + (0.05 + 0.1) / np.cos(np.radians(tilt)),
                ]
            ),
            physics=PhysicsSpec(mode="dynamic", friction=1.0),
        )
    )
    trajectory = World(scene).rollout()
    ball = trajectory.object_to_world[:, trajectory.entity_column(scene.entity("ball").id)]
    # Pitch +15 deg about Y lowers the +X end: the ball rolls toward +X and down.
    travelled = ball[30, 0, 3] - ball[0, 0, 3]
    # Rolling without slipping: a = (5/7) g sin(tilt); after 0.6 s, s = a t^2 / 2 along the slope.
    expected = 0.5 * (5 / 7) * 9.81 * np.sin(np.radians(tilt)) * 0.6**2 * np.cos(np.radians(tilt))
    np.testing.assert_allclose(travelled, expected, rtol=0.15)
    assert ball[30, 2, 3] < ball[0, 2, 3]
    # It rolls without slipping: turned by (distance along the slope) / radius about +Y.
    turned = Rotation.from_matrix(ball[15, :3, :3] @ ball[0, :3, :3].T).as_rotvec()
    slope_distance = np.linalg.norm(ball[15, :3, 3] - ball[0, :3, 3])
    np.testing.assert_allclose(turned[1], slope_distance / 0.1, rtol=0.1)


def test_physics_is_independent_of_fps() -> None:
    def poses(fps: float, frames: int) -> np.ndarray:
        scene = _scene(fps=fps, num_frames=frames)
        scene.world.physics_timestep = 0.002  # the step sizes below assume 2 ms substeps
        scene.add(
            EntitySpec(
                name="box",
                mesh=MeshSpec(type="box", size=[0.2, 0.2, 0.2]),
                pose=Pose(position=[0, 0, 1.0], euler_deg=[10, 20, 0]),
                physics=PhysicsSpec(mode="dynamic", angular_velocity_deg=[0, 0, 90]),
            )
        )
        return World(scene).rollout().object_to_world[:, 1]

    coarse, fine = poses(25.0, 40), poses(50.0, 80)
    np.testing.assert_array_equal(coarse, fine[::2])
    # A frame between two substeps (fps 30: 1/30 s is 16.67 steps of 2 ms) is interpolated
    # between them: compare with a rollout that samples every substep (fps 500).
    odd, every_step = poses(30.0, 4), poses(500.0, 20)
    np.testing.assert_allclose(
        odd[1, :3, 3],
        every_step[16, :3, 3] + (every_step[17, :3, 3] - every_step[16, :3, 3]) * (2 / 3),
        atol=1e-12,
    )
    np.testing.assert_allclose(odd[3], fine[5], atol=1e-12)  # 0.1 s is on a step for both


def test_spawned_body_waits_then_falls() -> None:
    scene = _scene(num_frames=100)
    scene.add(
        EntitySpec(
            name="late",
            mesh=MeshSpec(type="sphere", radius=0.1),
            pose=Pose(position=[0, 0, 1.0]),
            physics=PhysicsSpec(mode="dynamic"),
            spawn_time=1.0,
        )
    )
    heights = _heights(scene, "late")
    np.testing.assert_array_equal(heights[:51], 1.0)  # frozen until (and at) the spawn frame
    np.testing.assert_allclose(heights[55], 1.0 - 0.5 * 9.81 * 0.1**2, atol=0.01)
    np.testing.assert_allclose(heights[-5:], 0.1, atol=REST_TOLERANCE)


def test_unspawned_body_does_not_collide() -> None:
    scene = _scene(num_frames=75)
    scene.add(
        EntitySpec(
            name="ghost",
            mesh=MeshSpec(type="box", size=[1, 1, 0.2]),
            pose=Pose(position=[0, 0, 0.5]),
            spawn_time=10.0,
        )
    )
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.1),
            pose=Pose(position=[0, 0, 1.0]),
            physics=PhysicsSpec(mode="dynamic"),
        )
    )
    heights = _heights(scene, "ball")
    np.testing.assert_allclose(heights[-5:], 0.1, atol=REST_TOLERANCE)  # fell through the ghost


@pytest.mark.parametrize("collision", ["primitive", "convex_hull"])
def test_collision_modes_rest_a_cylinder(collision: str) -> None:
    scene = _scene(num_frames=100)
    scene.add(
        EntitySpec(
            name="can",
            mesh=MeshSpec(type="cylinder", radius=0.2, height=0.6),
            pose=Pose(position=[0, 0, 0.8]),
            physics=PhysicsSpec(mode="dynamic", collision=collision),
        )
    )
    np.testing.assert_allclose(_heights(scene, "can")[-10:], 0.3, atol=REST_TOLERANCE)


def test_initial_velocities_in_zero_gravity() -> None:
    scene = Scene(name="space", fps=10, num_frames=11)
    scene.world.gravity = [0.0, 0.0, 0.0]
    scene.add(
        EntitySpec(
            name="probe",
            mesh=MeshSpec(type="box", size=[0.1, 0.2, 0.3]),
            pose=Pose(position=[1, 2, 3], euler_deg=[90, 0, 0]),
            physics=PhysicsSpec(
                mode="dynamic", linear_velocity=[0.5, 0, -0.2], angular_velocity_deg=[0, 0, 90]
            ),
        )
    )
    poses = World(scene).rollout().object_to_world[:, 0]
    np.testing.assert_allclose(poses[-1, :3, 3], [1.5, 2.0, 2.8], atol=1e-9)
    # The angular velocity is about world Z: after 1 s the body turned 90 degrees about world Z.
    expected = Rotation.from_euler("z", 90, degrees=True) * Rotation.from_euler("x", 90, degrees=True)
    np.testing.assert_allclose(poses[-1, :3, :3], expected.as_matrix(), atol=1e-3)


def test_moving_kinematic_platform_carries_a_box_by_friction() -> None:
    scene = _scene(num_frames=50)
    scene.add(
        EntitySpec(
            name="platform",
            mesh=MeshSpec(type="box", size=[3, 1, 0.1]),
            pose=Pose(position=[0, 0, 0.3]),
            motion=MotionSpec(type="velocity", linear_velocity=[0.5, 0, 0]),
            physics=PhysicsSpec(mode="kinematic", friction=1.0),
        )
    )
    scene.add(
        EntitySpec(
            name="box",
            mesh=MeshSpec(type="box", size=[0.2, 0.2, 0.2]),
            pose=Pose(position=[0, 0, 0.45]),
            physics=PhysicsSpec(mode="dynamic", friction=1.0),
        )
    )
    trajectory = World(scene).rollout()
    platform, box = trajectory.object_to_world[:, 1, :3, 3], trajectory.object_to_world[:, 2, :3, 3]
    # Rides along (a few cm of slip while it speeds up), resting on the platform's top face.
    np.testing.assert_allclose(box[-1, 0], platform[-1, 0], atol=0.03)
    np.testing.assert_allclose(box[-1, 2], 0.35 + 0.1, atol=REST_TOLERANCE)


def test_turntable_turns_what_stands_on_it() -> None:
    scene = _scene(num_frames=100)  # 2 s at 45 deg/s: a quarter turn
    scene.add(
        EntitySpec(
            name="turntable",
            mesh=MeshSpec(type="cylinder", radius=1.0, height=0.1),
            pose=Pose(position=[0, 0, 0.05]),
            motion=MotionSpec(type="velocity", angular_velocity_deg=[0, 0, 45]),
            physics=PhysicsSpec(mode="kinematic", friction=1.0),
        )
    )
    scene.add(
        EntitySpec(
            name="box",
            mesh=MeshSpec(type="box", size=[0.2, 0.2, 0.2]),
            pose=Pose(position=[0.5, 0, 0.2]),
            physics=PhysicsSpec(mode="dynamic", friction=1.0),
        )
    )
    box = World(scene).rollout().object_to_world[:, 2, :3, 3]
    angle = np.degrees(np.arctan2(box[-1, 1], box[-1, 0]))
    np.testing.assert_allclose(angle, 45 * 99 / 50, atol=3.0)
    np.testing.assert_allclose(np.linalg.norm(box[:, :2], axis=1), 0.5, atol=0.02)


@pytest.mark.parametrize(("collision", "lands_on_step"), [("auto", True), ("convex_hull", False)])
def test_ball_lands_on_a_step_of_non_convex_static_stairs(
    repo_root, collision: str, lands_on_step: bool
) -> None:
    scene = _scene(num_frames=75)
    scene.source_file = str(repo_root / "scenes" / "physics.yaml")
    # stairs.stl: steps of 0.30 m run and 0.18 m rise climbing along +X from x = -0.75.
    scene.add(
        EntitySpec(
            name="stairs",
            mesh=MeshSpec(type="file", file="assets/stairs.stl"),
            physics=PhysicsSpec(collision=collision),
        )
    )
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.1),
            pose=Pose(position=[-0.3, 0, 1.5]),
            physics=PhysicsSpec(mode="dynamic"),
        )
    )
    ball = World(scene).rollout().object_to_world[-1, 2, :3, 3]
    on_second_step = abs(ball[2] - (2 * 0.18 + 0.1)) < REST_TOLERANCE and -0.45 < ball[0] < -0.15
    assert on_second_step == lands_on_step, ball  # the hull is a ramp: the ball rolls off it


def test_a_diverging_simulation_raises_instead_of_restarting(tmp_path, monkeypatch) -> None:
    """MuJoCo resets a simulation whose state turns non-finite and carries on (the poses would
    jump back to the start): the rollout raises, names the body, and writes no MUJOCO_LOG.TXT."""
    from worldsim.errors import SceneError

    monkeypatch.chdir(tmp_path)
    scene = _scene(num_frames=20)
    scene.add(
        EntitySpec(
            name="box",
            mesh=MeshSpec(type="box", size=[0.4, 0.3, 0.5]),
            pose=Pose(position=[0, 0, 1.0]),
            physics=PhysicsSpec(mode="dynamic", mass=2.0),
        )
    )
    scene.world.gravity = [0.0, 0.0, -1e38]  # past any validated range: only the API allows it
    with pytest.raises(SceneError, match=r"diverged.*'box'") as error:
        World(scene).rollout()
    assert error.value.key_path == "world.physics_timestep"
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()
