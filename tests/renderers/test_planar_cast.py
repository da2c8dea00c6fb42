"""The plane kernel for flat meshes against open3d's Embree cast of the same rays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from renderers.guidance import GuidanceRenderer, open3d_backend
from renderers.guidance.embree import Open3DScene
from renderers.guidance.planar import NO_PRIMITIVE, PLANAR_TRIANGLE_LIMIT, PlanarMesh, planar_mesh
from worldsim.scene.yaml_io import load_scene
from worldsim.world.world import World

QUAD_VERTICES = np.array([[-10, -10, 0], [10, -10, 0], [10, 10, 0], [-10, 10, 0]], dtype=float)
QUAD_FACES = np.array([[0, 1, 2], [0, 2, 3]])


def _compare(vertices: np.ndarray, faces: np.ndarray, rays: np.ndarray) -> None:
    """The kernel's hits equal Embree's: same rays hit, same faces, t and (u, v) to rounding."""
    mesh = planar_mesh(vertices, faces)
    assert isinstance(mesh, PlanarMesh)
    t, primitive, uv = mesh.cast(rays)
    e_t, e_primitive, e_uv = Open3DScene([(vertices, faces)]).cast(rays)
    hit = np.isfinite(e_t)
    assert 0.2 < hit.mean() < 0.9
    np.testing.assert_array_equal(np.isfinite(t), hit)
    assert np.all(primitive[~hit] == NO_PRIMITIVE) and np.all(uv[~hit] == 0)
    # Off the shared diagonal both must name the same face (on it either face is right).
    inside = hit & (e_uv.sum(axis=1) < 0.999) & (e_uv.min(axis=1) > 1e-3)
    assert inside.mean() > 0.15
    np.testing.assert_array_equal(primitive[inside], e_primitive[inside])
    # Embree works in float32, the kernel in float64: agreement to float32 rounding, except for
    # grazing rays, where Embree's float32 error grows (the kernel's stays small: below).
    normal = mesh.plane[1]
    cosine = np.abs(rays[:, 3:] @ normal) / np.linalg.norm(rays[:, 3:], axis=1)
    steep = hit & (cosine > 0.05)
    assert steep.sum() > 0.9 * hit.sum()
    np.testing.assert_allclose(t[steep], e_t[steep], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(t[hit], e_t[hit], rtol=2e-3)
    np.testing.assert_allclose(uv[inside], e_uv[inside], atol=2e-4)
    # The hit points the barycentrics give lie on the ray at t (to the float32 rounding of t, u, v).
    corners = np.asarray(vertices, np.float32).astype(np.float64)[faces[primitive[hit]]]
    u, v = uv[hit, :1].astype(np.float64), uv[hit, 1:].astype(np.float64)
    points = (1 - u - v) * corners[:, 0] + u * corners[:, 1] + v * corners[:, 2]
    along = rays[hit, :3] + t[hit, None].astype(np.float64) * rays[hit, 3:]
    assert np.max(np.linalg.norm(points - along, axis=1)) < 2e-6


def test_quad_floor_matches_embree() -> None:
    rng = np.random.default_rng(1)
    origins = rng.normal(size=(20000, 3)) * 0.1 + [0, 0, 3.0]
    directions = rng.uniform(-6, 6, (20000, 3))
    directions[:, 2] = -1.0
    _compare(QUAD_VERTICES, QUAD_FACES, np.concatenate([origins, directions], 1).astype(np.float32))


def test_turned_subdivided_flat_mesh_matches_embree() -> None:
    grid = trimesh.Trimesh(*trimesh.remesh.subdivide(QUAD_VERTICES * 0.3, QUAD_FACES))
    grid = trimesh.Trimesh(*trimesh.remesh.subdivide(grid.vertices, grid.faces))
    rotation = Rotation.random(random_state=3).as_matrix()
    vertices = grid.vertices @ rotation.T + [0.3, -0.2, 0.1]
    rng = np.random.default_rng(2)
    origins = rng.normal(size=(20000, 3)) * 2
    directions = -origins + rng.normal(size=(20000, 3)) * 2.5
    _compare(vertices, grid.faces, np.concatenate([origins, directions], 1).astype(np.float32))


def test_rays_along_the_shared_edge_never_slip_through() -> None:
    mesh = planar_mesh(QUAD_VERTICES, QUAD_FACES)
    rays = np.zeros((2001, 6), dtype=np.float32)
    rays[:, 0] = rays[:, 1] = np.linspace(-9.9, 9.9, 2001)
    rays[:, 2], rays[:, 5] = 1.0, -1.0
    t, primitive, _ = mesh.cast(rays)
    np.testing.assert_allclose(t, 1.0)
    assert set(primitive.tolist()) <= {0, 1}


def test_only_small_flat_meshes_take_the_kernel() -> None:
    assert planar_mesh(QUAD_VERTICES, QUAD_FACES) is not None
    box = trimesh.creation.box((1, 1, 1))
    assert planar_mesh(box.vertices, box.faces) is None  # not flat
    bent = QUAD_VERTICES.copy()
    bent[2, 2] = 0.01
    assert planar_mesh(bent, QUAD_FACES) is None
    many = trimesh.Trimesh(*trimesh.remesh.subdivide(QUAD_VERTICES, QUAD_FACES))
    for _ in range(3):
        many = trimesh.Trimesh(*trimesh.remesh.subdivide(many.vertices, many.faces))
    assert len(many.faces) > PLANAR_TRIANGLE_LIMIT and planar_mesh(many.vertices, many.faces) is None
    # A degenerate (zero-area) face is left out; the others keep their face indices.
    vertices = np.vstack([QUAD_VERTICES, [[0, 0, 0]]])
    faces = np.vstack([QUAD_FACES, [[0, 4, 2]]])  # corner 4 lies on the 0-2 diagonal
    mesh = planar_mesh(vertices, faces)
    assert mesh is not None and mesh.faces.tolist() == [0, 1]


@pytest.fixture(scope="module")
def demo_trajectory():
    scene = load_scene(Path(__file__).parents[2] / "scenes" / "demo.yaml")
    scene.num_frames, scene.duration, scene.resolution = 4, None, [128, 128]
    return World(scene).rollout()


def test_demo_guidance_matches_the_all_embree_cast(demo_trajectory, monkeypatch) -> None:
    """The demo's floor goes through the kernel; every map agrees with an all-Embree cast."""
    fast = GuidanceRenderer(demo_trajectory, threads=False)
    assert any(isinstance(caster, PlanarMesh) for caster in fast.backend.casters)
    monkeypatch.setattr(open3d_backend, "planar_mesh", lambda vertices, faces: None)
    slow = GuidanceRenderer(demo_trajectory, threads=False)
    assert not any(isinstance(caster, PlanarMesh) for caster in slow.backend.casters)
    for frame in range(len(demo_trajectory)):
        a, b = fast.render(frame), slow.render(frame)
        differ = np.mean(a.instance != b.instance)
        assert differ < 1e-4  # ties where an entity touches the floor may fall either way
        same = (a.instance == b.instance) & np.isfinite(b.depth)
        np.testing.assert_allclose(a.depth[same], b.depth[same], rtol=1e-5)
        np.testing.assert_allclose(a.normal[same], b.normal[same], atol=1e-5)
        np.testing.assert_allclose(a.surface_coords[same], b.surface_coords[same], atol=1e-4)
        # A point on a checker square's edge may take either square's colour.
        albedo_differs = np.abs(a.albedo[same] - b.albedo[same]).max(axis=-1) > 2 / 255
        assert albedo_differs.mean() < 3e-4
        valid = a.flow_forward_valid & b.flow_forward_valid if a.flow_forward is not None else None
        if valid is not None:
            assert np.mean(a.flow_forward_valid != b.flow_forward_valid) < 1e-3
            np.testing.assert_allclose(a.flow_forward[valid], b.flow_forward[valid], atol=1e-3)


def test_pixel_windows_match_embree_on_a_turned_scaled_instance() -> None:
    """``FlatMeshes.window_hits`` (camera rays, per-job frames carried into the camera) against
    Embree casting the same pixels' object-frame rays."""
    from renderers.guidance.planar import FlatMeshes
    from worldsim.camera.intrinsics import Intrinsics
    from worldsim.camera.projection import pixel_rays

    intrinsics = Intrinsics(fx=60.0, fy=60.0, cx=40.0, cy=30.0, width=80, height=60)
    rays_camera = pixel_rays(intrinsics)  # (H, W, 3) unit
    cam_to_world = np.eye(4)
    cam_to_world[:3, :3] = Rotation.from_euler("xyz", [200, 10, 30], degrees=True).as_matrix()
    cam_to_world[:3, 3] = [0.5, -0.4, 4.0]
    object_to_world = np.eye(4)
    object_to_world[:3, :3] = Rotation.from_euler("zyx", [40, 15, -10], degrees=True).as_matrix() @ np.diag(
        [0.2, 0.35, 1.7]
    )
    object_to_world[:3, 3] = [0.2, 0.1, -0.3]
    world_to_object = np.linalg.inv(object_to_world)
    start = world_to_object[:3, :3] @ cam_to_world[:3, 3] + world_to_object[:3, 3]
    rects = np.array([[0, 60, 0, 80], [10, 35, 20, 70]], dtype=np.int64)
    flat = FlatMeshes.of([planar_mesh(QUAD_VERTICES, QUAD_FACES)])
    t, primitive, uv = flat.window_hits(
        np.ascontiguousarray(np.moveaxis(rays_camera, -1, 0)),
        cam_to_world[:3, :3],
        rects,
        np.stack([world_to_object[:3, :3]] * 2),
        np.stack([start] * 2),
        np.zeros(2, dtype=np.int64),
    )
    directions = [
        (rays_camera[y0:y1, x0:x1] @ cam_to_world[:3, :3].T @ world_to_object[:3, :3].T).reshape(-1, 3)
        for y0, y1, x0, x1 in rects
    ]
    rays = np.concatenate([np.concatenate([np.broadcast_to(start, d.shape), d], 1) for d in directions])
    e_t, e_primitive, e_uv = Open3DScene([(QUAD_VERTICES, QUAD_FACES)]).cast(rays.astype(np.float32))
    hit = np.isfinite(e_t)
    assert 0.3 < hit.mean() < 0.95  # the quad's edge crosses the view
    edge = np.abs(np.isfinite(t).astype(int) - hit)  # rays within rounding of the quad's border
    assert edge.sum() <= 2
    both = hit & np.isfinite(t)
    np.testing.assert_allclose(t[both], e_t[both], rtol=2e-5)
    inside = both & (e_uv.sum(axis=1) < 0.999) & (e_uv.min(axis=1) > 1e-3)
    np.testing.assert_array_equal(primitive[inside], e_primitive[inside])
    np.testing.assert_allclose(uv[inside], e_uv[inside], atol=2e-4)
