"""Flow verified by reprojection: frame t+1's surface, sampled along the flow, is frame t's."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.guidance import GuidanceRenderer
from renderers.guidance.synthetic import looking_at, make_trajectory, rotation_z, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.model import MeshSpec

SURFACE_TOLERANCE = 1e-3
"""Object-frame metres: a flowed point must land on the same surface point."""
MIN_VALID_FRACTION = 0.5
"""Of hit pixels; guards against a validity mask that rejects everything."""


def sample_surface(renderer: GuidanceRenderer, frame: int, uv: np.ndarray):
    """Cast rays through continuous pixel positions ``uv`` (N, 2) at ``frame``: (column, object point)."""
    track = renderer.track
    intrinsics = track.intrinsics(frame)
    rays = np.stack(
        [
            (uv[:, 0] - intrinsics.cx) / intrinsics.fx,
            (uv[:, 1] - intrinsics.cy) / intrinsics.fy,
            np.ones(len(uv)),
        ],
        axis=-1,
    )
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    hits = renderer.backend.cast(frame, track.cam_to_world[frame], intrinsics, rays_camera=rays[:, None, :])
    return hits.column[:, 0], hits.object_point[:, 0]


def check_reprojection(renderer: GuidanceRenderer, frame: int, direction: int) -> float:
    """Assert flow (forward if direction=+1) maps frame's surface points onto the neighbour's."""
    result = renderer.render(frame)
    flow = result.flow_forward if direction > 0 else result.flow_backward
    valid = result.flow_forward_valid if direction > 0 else result.flow_backward_valid
    hit = result.instance > 0
    assert not (valid & ~hit).any()
    rows, cols = np.nonzero(valid)
    uv = np.stack([cols + 0.5, rows + 0.5], axis=-1) + flow[rows, cols].astype(np.float64)
    column, points = sample_surface(renderer, frame + direction, uv)
    ids = np.array([info.id for info in renderer.trajectory.entities])
    expected_ids = result.instance[rows, cols]
    same = column >= 0
    same[same] = ids[column[same]] == expected_ids[same]
    # A sub-pixel sample can only miss the surface right at a silhouette edge.
    assert same.mean() >= 0.99
    error = np.linalg.norm(points[same] - result.surface_coords[rows, cols][same].astype(np.float64), axis=-1)
    assert error.max() <= SURFACE_TOLERANCE, f"max surface error {error.max():.2e} at {np.argmax(error)}"
    return valid.sum() / max(hit.sum(), 1)


def moving_scene(moving_camera: bool, moving_objects: bool):
    frames = 4
    intrinsics = Intrinsics.from_fov(50.0, 48, 36)
    meshes = [
        MeshSpec(type="plane", size=[30.0, 30.0]),
        MeshSpec(type="box", size=[1.0, 1.0, 1.0]),
        MeshSpec(type="sphere", radius=0.6, subdivisions=3),
        MeshSpec(type="torus", radius=0.6, minor_radius=0.2),
    ]
    poses = np.zeros((frames, len(meshes), 4, 4))
    cams = np.zeros((frames, 4, 4))
    for t in range(frames):
        s = t if moving_objects else 0
        poses[t, 0] = np.eye(4)
        poses[t, 1] = translation(0.2 * s, -1.0, 0.5) @ rotation_z(0.15 * s)
        poses[t, 2] = translation(0.5, 1.0 - 0.1 * s, 0.6 + 0.05 * s)
        poses[t, 3] = translation(-1.0, 0.3 * s, 1.2) @ rotation_z(-0.2 * s)
        c = t if moving_camera else 0
        cams[t] = looking_at(np.array([6.0 - 0.2 * c, -2.0 + 0.3 * c, 3.0]), np.array([0.0, 0.0, 0.5]))
    return make_trajectory(meshes, poses, cams, intrinsics)


@pytest.mark.parametrize(("moving_camera", "moving_objects"), [(True, False), (False, True), (True, True)])
def test_flow_reprojects_surface_coordinates(moving_camera, moving_objects):
    renderer = GuidanceRenderer(moving_scene(moving_camera, moving_objects))
    assert check_reprojection(renderer, 1, +1) >= MIN_VALID_FRACTION
    assert check_reprojection(renderer, 2, -1) >= MIN_VALID_FRACTION


def test_static_scene_has_zero_valid_flow():
    renderer = GuidanceRenderer(moving_scene(False, False))
    result = renderer.render(1)
    np.testing.assert_allclose(result.flow_forward[result.flow_forward_valid], 0.0, atol=1e-4)
    np.testing.assert_array_equal(result.flow_forward_valid, result.instance > 0)


def test_disocclusion_is_invalid():
    # A box slides in front of the plane: pixels it covers at t+1 are occluded there.
    intrinsics = Intrinsics.from_fov(50.0, 40, 30)
    poses = np.zeros((2, 2, 4, 4))
    poses[:, 0] = np.eye(4)
    poses[0, 1] = translation(0.0, -3.0, 1.0)
    poses[1, 1] = translation(0.0, 0.0, 1.0)
    cams = np.repeat(looking_at(np.array([5.0, 0.0, 3.0]), np.zeros(3))[None], 2, axis=0)
    trajectory = make_trajectory(
        [MeshSpec(type="plane", size=[30.0, 30.0]), MeshSpec(type="box", size=[1.0, 1.0, 1.0])],
        poses,
        cams,
        intrinsics,
    )
    result = GuidanceRenderer(trajectory).render(0)
    following = GuidanceRenderer(trajectory).render(1)
    covered = (result.instance == 1) & (following.instance == 2)
    assert covered.sum() > 10
    assert not result.flow_forward_valid[covered].any()


def test_physics_scene_flow():
    from worldsim.scene.model import EntitySpec, PhysicsSpec, Pose
    from worldsim.scene.scene import Scene
    from worldsim.world.world import World

    scene = Scene(name="physics", fps=25.0, num_frames=12, resolution=[48, 48])
    scene.add(EntitySpec(name="ground", semantic_class="ground", mesh=MeshSpec(type="plane", size=[20, 20])))
    for index, mesh in enumerate(
        [MeshSpec(type="box", size=[0.6, 0.4, 0.5]), MeshSpec(type="sphere", radius=0.3)]
    ):
        scene.add(
            EntitySpec(
                name=f"body{index}",
                mesh=mesh,
                pose=Pose(
                    position=[0.5 * index, -0.4 + 0.8 * index, 0.8 + 0.3 * index], euler_deg=[20, 35, 10]
                ),
                physics=PhysicsSpec(mode="dynamic", mass=1.0, linear_velocity=[-1.0, 0.5, 0.0]),
            )
        )
    trajectory = World(scene).rollout()
    renderer = GuidanceRenderer(trajectory)
    for frame in (4, 8):
        assert check_reprojection(renderer, frame, +1) >= MIN_VALID_FRACTION
        assert check_reprojection(renderer, frame, -1) >= MIN_VALID_FRACTION
    moving = [c for c, info in enumerate(trajectory.entities) if info.physics_mode == "dynamic"]
    assert len(moving) == 2
    assert not np.allclose(trajectory.object_to_world[4, moving], trajectory.object_to_world[8, moving])
