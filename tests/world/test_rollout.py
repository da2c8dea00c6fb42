"""World.rollout: entity table, determinism, presence, view events."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from worldsim.camera.spec import CameraSpec
from worldsim.errors import SceneError
from worldsim.scene.model import (
    EntitySpec,
    MaterialSpec,
    MeshSpec,
    MotionSpec,
    PhysicsSpec,
    Pose,
)
from worldsim.scene.scene import Scene
from worldsim.world.world import World

FOV_DEG = 40.0
RESOLUTION = (64, 48)


def _mixed_scene() -> Scene:
    """Ground, a falling box, a kinematic pusher, an orbiting and an attached entity."""
    scene = Scene(
        name="mixed",
        fps=24,
        num_frames=48,
        resolution=list(RESOLUTION),
        seed=3,
        materials={"red": MaterialSpec(base_color=[0.9, 0.1, 0.1])},
        semantic_classes={"ground": 5},
    )
    scene.add(EntitySpec(name="ground", semantic_class="ground", mesh=MeshSpec(type="plane", size=[10, 10])))
    scene.add(
        EntitySpec(
            name="crate",
            semantic_class="box",
            material="red",
            mesh=MeshSpec(type="box", size=[0.3, 0.3, 0.3]),
            pose=Pose(position=[0.4, 0, 0.6], euler_deg=[5, 10, 15]),
            physics=PhysicsSpec(mode="dynamic", restitution=0.3),
        )
    )
    scene.add(
        EntitySpec(
            name="pusher",
            semantic_class="box",
            mesh=MeshSpec(type="box", size=[0.2, 0.8, 0.3]),
            pose=Pose(position=[-0.6, 0, 0.15]),
            motion=MotionSpec(type="velocity", linear_velocity=[0.5, 0, 0]),
            physics=PhysicsSpec(mode="kinematic"),
        )
    )
    scene.add(
        EntitySpec(
            name="moon",
            semantic_class="ball",
            mesh=MeshSpec(type="sphere", radius=0.1),
            motion=MotionSpec(type="orbit", target="crate", radius=0.6, period=1.0),
        )
    )
    scene.add(
        EntitySpec(
            name="flag",
            semantic_class="ball",
            mesh=MeshSpec(type="sphere", radius=0.05),
            pose=Pose(position=[0, 0, 0.3]),
            motion=MotionSpec(type="attach", parent="crate"),
        )
    )
    return scene


def test_rollout_shapes_table_and_attachments() -> None:
    scene = _mixed_scene()
    trajectory = World(scene).rollout()
    assert len(trajectory) == 48 and trajectory.fps == 24.0
    assert (
        trajectory.object_to_world.shape == (48, 5, 4, 4) and trajectory.object_to_world.dtype == np.float64
    )
    assert trajectory.present.all()
    np.testing.assert_array_equal(trajectory.times, np.arange(48) / 24)
    table = {info.name: info for info in trajectory.entities}
    assert [info.id for info in trajectory.entities] == [1, 2, 3, 4, 5]
    assert table["ground"].semantic_id == 5 and table["crate"].semantic_id == 6
    assert table["moon"].semantic_id == table["flag"].semantic_id == 7
    assert table["crate"].material.base_color == [0.9, 0.1, 0.1]
    assert table["crate"].physics_mode == "dynamic"
    poses = {
        name: trajectory.object_to_world[:, trajectory.entity_column(info.id)] for name, info in table.items()
    }
    local_flag = np.eye(4)
    local_flag[2, 3] = 0.3
    np.testing.assert_allclose(poses["flag"], poses["crate"] @ local_flag, atol=1e-12)
    np.testing.assert_allclose(
        np.linalg.norm(poses["moon"][:, :3, 3] - poses["crate"][:, :3, 3], axis=1), 0.6, atol=1e-12
    )
    # The pusher reached the crate: it was pushed along +X.
    assert poses["crate"][-1, 0, 3] > 0.45
    camera = trajectory.cameras["main"]
    assert camera.cam_to_world.shape == (48, 4, 4) and (camera.width, camera.height) == RESOLUTION
    state = trajectory[10]
    assert state.object_to_world.shape == (5, 4, 4) and state.camera.name == "main"


def test_two_rollouts_are_bit_identical() -> None:
    first, second = World(_mixed_scene()).rollout(), World(_mixed_scene()).rollout(progress=True)
    assert np.array_equal(first.object_to_world, second.object_to_world)
    assert np.array_equal(first.cameras["main"].cam_to_world, second.cameras["main"].cam_to_world)
    assert np.array_equal(first.in_view["main"], second.in_view["main"])
    assert first.events == second.events


def test_mesh_files_become_absolute(tmp_path: Path) -> None:
    import trimesh

    trimesh.creation.box(extents=[0.2, 0.2, 0.2]).export(tmp_path / "cube.stl")
    scene = Scene(name="files", num_frames=2, resolution=list(RESOLUTION))
    scene.source_file = str(tmp_path / "scene.yaml")
    scene.add(EntitySpec(name="cube", mesh=MeshSpec(type="file", file="cube.stl")))
    trajectory = World(scene).rollout()
    assert trajectory.entities[0].mesh.file == str((tmp_path / "cube.stl").resolve())
    assert scene.entities[0].mesh.file == "cube.stl"  # the scene itself is untouched


def test_spawn_and_despawn_presence_and_events() -> None:
    scene = Scene(name="spawn", fps=10, num_frames=30, resolution=list(RESOLUTION))
    scene.add(EntitySpec(name="always"))
    scene.add(
        EntitySpec(
            name="visitor",
            spawn_time=0.95,
            despawn_time=2.0,
            motion=MotionSpec(type="velocity", linear_velocity=[0.1, 0, 0]),
        )
    )
    trajectory = World(scene).rollout()
    present = trajectory.present[:, 1]
    np.testing.assert_array_equal(np.flatnonzero(present), np.arange(10, 20))  # t = 1.0 .. 1.9
    poses = trajectory.object_to_world[:, 1, 0, 3]
    np.testing.assert_allclose(poses[:10], 0.1, atol=1e-12)  # held at the spawn pose (t = 1.0)
    np.testing.assert_allclose(poses[20:], 0.19, atol=1e-12)  # held at the last present pose
    lifecycle = [(e.kind, e.frame, e.entity_id) for e in trajectory.events if e.kind in ("spawn", "despawn")]
    assert lifecycle == [("spawn", 10, 2), ("despawn", 20, 2)]
    assert list(trajectory[5].entity_ids) == [1] and list(trajectory[12].entity_ids) == [1, 2]
    assert not trajectory.in_view["main"][:10, 1].any()


def _expected_enter_x(depth: float, radius: float) -> float:
    """World x of the sphere centre when it touches the left frustum plane (camera looks along +Y)."""
    width, height = RESOLUTION
    focal = 0.5 * height / math.tan(math.radians(FOV_DEG) / 2)
    cx = width / 2
    return (-radius * math.hypot(focal, cx) - cx * depth) / focal


def test_enter_and_leave_view_events_for_a_crossing_entity() -> None:
    scene = Scene(name="crossing", fps=20, num_frames=100, resolution=list(RESOLUTION), cameras=[])
    scene.add(CameraSpec(name="side", fov_deg=FOV_DEG, position=[0, -10, 1], look_at=[0, 0, 1]))
    speed, start = 4.0, -12.0
    scene.add(
        EntitySpec(
            name="runner",
            mesh=MeshSpec(type="sphere", radius=0.5),
            pose=Pose(position=[start, 0, 1]),
            motion=MotionSpec(type="velocity", linear_velocity=[speed, 0, 0]),
        )
    )
    trajectory = World(scene).rollout()
    radius = 0.5  # icosphere vertices lie on the sphere: the bounding sphere is the sphere
    enter_x = _expected_enter_x(10.0, radius)
    expected_enter = math.ceil((enter_x - start) / speed * 20)
    expected_leave = math.floor((-enter_x - start) / speed * 20) + 1  # symmetric right plane
    view = [(e.kind, e.frame, e.camera) for e in trajectory.events]
    assert view == [("enter_view", expected_enter, "side"), ("leave_view", expected_leave, "side")]
    in_view = trajectory.in_view["side"][:, 0]
    np.testing.assert_array_equal(np.flatnonzero(in_view), np.arange(expected_enter, expected_leave))
    # Cross-check with a projection: at the entering frame the sphere's nearest point is inside
    # the image and one frame earlier it is outside (left of u = 0).
    track = trajectory.cameras["side"]
    for frame, inside in ((expected_enter, True), (expected_enter - 1, False)):
        centre = trajectory.object_to_world[frame, 0, :3, 3]
        point = np.linalg.inv(track.cam_to_world[frame]) @ np.append(
            centre + np.array([radius, 0.0, 0.0]), 1.0
        )
        u = track.fx[frame] * point[0] / point[2] + track.cx[frame]
        assert (u >= -1.0) == inside  # within a pixel: the plane test is about the tangent point


def test_entity_behind_the_camera_is_not_in_view() -> None:
    scene = Scene(name="behind", num_frames=3, resolution=list(RESOLUTION), cameras=[])
    scene.add(CameraSpec(name="main", position=[0, 0, 1], look_at=[0, 5, 1]))
    scene.add(
        EntitySpec(name="front", mesh=MeshSpec(type="sphere", radius=0.2), pose=Pose(position=[0, 3, 1]))
    )
    scene.add(
        EntitySpec(name="back", mesh=MeshSpec(type="sphere", radius=0.2), pose=Pose(position=[0, -3, 1]))
    )
    trajectory = World(scene).rollout()
    np.testing.assert_array_equal(trajectory.in_view["main"], [[True, False]] * 3)
    assert [(e.kind, e.entity_id) for e in trajectory.events] == [("enter_view", 1)]


def test_kinematic_entity_orbiting_a_dynamic_body_follows_it() -> None:
    scene = Scene(name="follow", fps=25, num_frames=25, resolution=list(RESOLUTION))
    scene.add(EntitySpec(name="ground", mesh=MeshSpec(type="plane", size=[4, 4])))
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.1),
            pose=Pose(position=[0, 0, 1]),
            physics=PhysicsSpec(mode="dynamic"),
        )
    )
    scene.add(
        EntitySpec(
            name="halo",
            mesh=MeshSpec(type="box", size=[0.05, 0.05, 0.05]),
            pose=Pose(position=[0, 0, 0.2]),
            motion=MotionSpec(type="attach", parent="ball"),
            physics=PhysicsSpec(mode="kinematic"),
        )
    )
    trajectory = World(scene).rollout()
    ball, halo = trajectory.object_to_world[:, 1], trajectory.object_to_world[:, 2]
    assert ball[-1, 2, 3] < 0.2  # fell
    np.testing.assert_allclose(halo[:, :3, 3], ball[:, :3, 3] + ball[:, :3, 2] * 0.2, atol=1e-12)


def test_bad_input_raises_scene_errors_with_key_paths() -> None:
    scene = Scene(name="bad", num_frames=3, resolution=list(RESOLUTION))
    scene.source_file = "/tmp/bad_scene.yaml"
    scene.add(EntitySpec(name="crate", physics=PhysicsSpec(mode="dynamic", mass=-1.0)))
    with pytest.raises(SceneError) as info:
        World(scene).rollout()
    assert info.value.key_path == "entities[0].physics.mass" and info.value.file == "/tmp/bad_scene.yaml"

    orphan = Scene(name="orphan", num_frames=3, entities=[EntitySpec(name="no_id")])
    with pytest.raises(SceneError, match="no id"):
        World(orphan)

    spinning = Scene(name="spin", num_frames=3, resolution=list(RESOLUTION))
    spinning.add(
        EntitySpec(name="a", motion=MotionSpec(type="orbit", radius=1.0, axis=[0, 0, 0], center=[0, 0, 0]))
    )
    with pytest.raises(SceneError) as info:
        World(spinning).rollout()
    assert info.value.key_path == "entities[0].motion.axis"


def test_camera_tracks_a_falling_dynamic_entity() -> None:
    scene = Scene(name="track", fps=25, num_frames=25, resolution=list(RESOLUTION), cameras=[])
    scene.add(CameraSpec(name="follow", position=[3, -3, 2], look_at=None, target="ball"))
    scene.add(EntitySpec(name="ground", mesh=MeshSpec(type="plane", size=[4, 4])))
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.1),
            pose=Pose(position=[0, 0, 2]),
            physics=PhysicsSpec(mode="dynamic"),
        )
    )
    trajectory = World(scene).rollout()
    ball = trajectory.object_to_world[:, 1, :, 3]
    in_camera = np.einsum("tij,tj->ti", np.linalg.inv(trajectory.cameras["follow"].cam_to_world), ball)
    assert ball[-1, 2] < 0.2  # it fell ...
    np.testing.assert_allclose(in_camera[:, :2], 0.0, atol=1e-9)  # ... on the optical axis throughout
