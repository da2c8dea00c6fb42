"""Guidance maps against analytic scenes: plane and sphere depths, occlusion layouts, visibility."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.guidance import render_guidance
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.errors import RenderError
from worldsim.scene.model import MaterialSpec, MeshSpec, TextureSpec

DEPTH_EXACT = 1e-5
"""Relative depth tolerance where the geometry is exactly representable (planes)."""
NORMAL_EXACT = 1e-5
FLOAT32_SLACK = 1e-5
"""Absolute slack (metres) for float32 ray parameters near 5 m."""

# Camera at the origin looking along world +X; OpenCV z forward = world +X.
HEAD_ON = looking_at(np.zeros(3), np.array([1.0, 0.0, 0.0]))


def plane_facing_camera(distance: float) -> np.ndarray:
    """Pose putting the XY-plane primitive (normal +Z) at x = distance, facing the camera."""
    pose = translation(distance, 0.0, 0.0)
    pose[:3, :3] = [[0, 0, -1], [0, 1, 0], [1, 0, 0]]  # object +Z -> world -X (towards the camera)
    return pose


def single_frame(meshes, poses, intrinsics, **kwargs):
    trajectory = make_trajectory(meshes, np.asarray(poses)[None], HEAD_ON[None], intrinsics, **kwargs)
    return next(render_guidance(trajectory)), trajectory


def test_plane_head_on_has_exact_depth_and_normal():
    intrinsics = Intrinsics.from_fov(60.0, 32, 24)
    frame, _ = single_frame(
        [MeshSpec(type="plane", size=[20.0, 20.0])], [plane_facing_camera(3.0)], intrinsics
    )
    np.testing.assert_allclose(frame.depth, 3.0, rtol=DEPTH_EXACT)
    rays = np.linalg.norm(
        np.dstack(
            [
                (np.arange(32) + 0.5 - 16) / intrinsics.fx * np.ones((24, 1)),
                ((np.arange(24) + 0.5 - 12) / intrinsics.fy)[:, None] * np.ones((1, 32)),
                np.ones((24, 32)),
            ]
        ),
        axis=-1,
    )
    np.testing.assert_allclose(frame.ray_distance, 3.0 * rays, rtol=DEPTH_EXACT)
    np.testing.assert_allclose(
        frame.normal, np.broadcast_to([0, 0, -1], frame.normal.shape), atol=NORMAL_EXACT
    )
    assert (frame.instance == 1).all() and (frame.semantic == 10).all()
    assert frame.flow_forward is None and frame.flow_backward is None


def test_sphere_centre_depth_is_distance_minus_radius():
    intrinsics = Intrinsics.from_fov(40.0, 33, 33)
    distance, radius = 5.0, 1.0
    frame, trajectory = single_frame(
        [MeshSpec(type="sphere", radius=radius, subdivisions=4)], [translation(distance, 0, 0)], intrinsics
    )
    from worldsim.scene.meshes import load_mesh

    mesh = load_mesh(trajectory.entities[0].mesh)
    # An icosphere's faces lie inside the sphere by at most the sagitta of its longest edge.
    edge = mesh.edges_unique_length.max()
    sagitta = radius - np.sqrt(radius**2 - (edge / 2) ** 2)
    centre = frame.depth[16, 16]
    assert distance - radius - FLOAT32_SLACK <= centre <= distance - radius + sagitta + FLOAT32_SLACK
    # The silhouette matches the analytic cone half-angle asin(r / d) within a pixel.
    hit_cols = np.flatnonzero(frame.instance[16] == 1)
    half_width = np.tan(np.arcsin(radius / distance)) * intrinsics.fx
    assert abs((hit_cols.max() - hit_cols.min() + 1) / 2 - half_width) <= 1.0
    assert np.isinf(frame.depth[0, 0]) and frame.instance[0, 0] == 0
    # Normals face the camera (negative z) and are unit length where hit.
    hit = frame.instance > 0
    np.testing.assert_allclose(np.linalg.norm(frame.normal[hit], axis=-1), 1.0, atol=1e-5)
    assert (frame.normal[hit][:, 2] < 0).all()
    assert frame.shading_normal is not None
    np.testing.assert_allclose(np.linalg.norm(frame.shading_normal[hit], axis=-1), 1.0, atol=1e-5)


def test_occlusion_layout_and_visibility_half_hidden():
    intrinsics = Intrinsics.from_fov(60.0, 64, 48)
    # Far plane covering the view; a box in front hiding exactly the left half of a second box.
    meshes = [
        MeshSpec(type="plane", size=[50.0, 50.0]),
        MeshSpec(type="box", size=[0.2, 2.0, 2.0]),
        MeshSpec(type="box", size=[0.2, 2.0, 4.0]),
    ]
    # Camera looks along +X; image right = world -Y. Occluder covers world y in [0, 2] (image left).
    poses = [plane_facing_camera(20.0), translation(10.0, 0.0, 0.0), translation(6.0, 1.0, 0.0)]
    frame, _ = single_frame(meshes, poses, intrinsics)
    visibility = {v.entity_id: v for v in frame.visibility}
    assert visibility[2].visible_fraction == pytest.approx(0.5, abs=0.03)
    assert visibility[2].occluders == [3]
    assert visibility[3].visible_fraction == 1.0 and visibility[3].occluders == []
    assert visibility[1].occluders == [2, 3]
    # The segmentation at known points: centre-right shows box 2, centre-left the occluder.
    row = 24
    right = 32 + int(0.5 * intrinsics.fx / 10.0)
    left = 32 - int(0.5 * intrinsics.fx / 10.0)
    assert frame.instance[row, right] == 2 and frame.instance[row, left] == 3
    np.testing.assert_allclose(frame.depth[row, right], 10.0 - 0.1, rtol=DEPTH_EXACT)
    np.testing.assert_allclose(frame.depth[row, left], 6.0 - 0.1, rtol=DEPTH_EXACT)
    assert frame.instance[2, 2] == 1
    x0, y0, x1, y1 = visibility[3].bbox
    assert x0 < 32 <= x1 and y0 < row < y1


def test_material_buffers_follow_texture_on_object_points():
    from worldsim.scene.materials import evaluate_material, material_seed

    intrinsics = Intrinsics.from_fov(60.0, 24, 16)
    material = MaterialSpec(
        base_color=[0.9, 0.1, 0.1], texture=TextureSpec(type="checker", scale=0.5), roughness=0.3
    )
    frame, _ = single_frame(
        [MeshSpec(type="plane", size=[20.0, 20.0])],
        [plane_facing_camera(3.0)],
        intrinsics,
        materials=[material],
    )
    expected = evaluate_material(
        material, frame.surface_coords.reshape(-1, 3).astype(np.float64), seed=material_seed(0, 1, material)
    )
    np.testing.assert_allclose(frame.albedo.reshape(-1, 3), expected.albedo, atol=1e-3)
    np.testing.assert_allclose(frame.roughness, 0.3)
    assert len(np.unique(frame.albedo.reshape(-1, 3), axis=0)) > 1


def test_supersampled_depth_keeps_centre_ids():
    intrinsics = Intrinsics.from_fov(40.0, 33, 33)
    trajectory = make_trajectory(
        [MeshSpec(type="sphere", radius=1.0, subdivisions=3)],
        translation(5, 0, 0)[None, None],
        HEAD_ON[None],
        intrinsics,
    )
    plain = next(render_guidance(trajectory))
    fine = next(render_guidance(trajectory, supersample=3))
    np.testing.assert_array_equal(plain.instance, fine.instance)
    hit = plain.instance > 0
    np.testing.assert_array_equal(np.isfinite(fine.depth), hit)
    np.testing.assert_allclose(fine.depth[16, 16], plain.depth[16, 16], rtol=1e-3)


def test_bad_camera_and_backend_raise_render_error():
    intrinsics = Intrinsics.from_fov(60.0, 8, 8)
    trajectory = make_trajectory(
        [MeshSpec(type="box")], translation(3, 0, 0)[None, None], HEAD_ON[None], intrinsics
    )
    with pytest.raises(RenderError, match="unknown camera 'nope'"):
        next(render_guidance(trajectory, "nope"))
    with pytest.raises(RenderError, match="unknown guidance backend"):
        next(render_guidance(trajectory, backend="nope"))


def test_uniform_material_buffers_match_evaluate_material():
    from worldsim.scene.materials import evaluate_material, is_uniform, material_seed

    intrinsics = Intrinsics.from_fov(40.0, 33, 33)
    material = MaterialSpec(base_color=[0.2, 0.4, 0.6], roughness=0.7, metallic=0.25)
    frame, _ = single_frame(
        [MeshSpec(type="sphere", radius=1.0, subdivisions=2)],
        [translation(5, 0, 0)],
        intrinsics,
        materials=[material],
    )
    assert is_uniform(material)
    hit = frame.instance > 0
    expected = evaluate_material(
        material, frame.surface_coords[hit].astype(np.float64), seed=material_seed(0, 1, material)
    )
    np.testing.assert_array_equal(frame.albedo[hit], expected.albedo)
    np.testing.assert_array_equal(frame.roughness[hit], expected.roughness)
    np.testing.assert_array_equal(frame.metallic[hit], expected.metallic)
    assert not frame.albedo[~hit].any() and not frame.roughness[~hit].any()
