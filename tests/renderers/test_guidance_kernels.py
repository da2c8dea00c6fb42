"""The compiled guidance kernels against plain numpy reference implementations kept here.

The references are the straightforward whole-array formulations (the guidance code before it was
compiled). Tolerance: none. Every kernel performs the same IEEE operations in the same order, so
ids, masks and float maps must be equal (``assert_array_equal``: +0 and -0 compare equal).
"""

from __future__ import annotations

import os
import threading
import time

import numba
import numpy as np
import pytest

from renderers.guidance import kernels
from renderers.guidance.backend import RayHits
from renderers.guidance.flow import DEPTH_TOLERANCE, correspondence_flow
from renderers.guidance.hits import hits_from_nearest
from renderers.guidance.maps import (
    camera_normal_map,
    depth_map,
    material_maps,
    shading_normal_map,
    surface_coords_map,
)
from renderers.guidance.open3d_backend import Open3DBackend
from renderers.guidance.synthetic import looking_at, make_trajectory, rotation_z, translation
from renderers.guidance.visibility import entity_visibility
from worldsim.camera.conventions import invert_pose
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import pixel_rays
from worldsim.guidance_frame import EntityVisibility
from worldsim.scene.model import MaterialSpec, MeshSpec, TextureSpec

FRAMES = 4


def mixed_scene():
    """A ground plane, a scaled rotating sphere, a textured box and a stretched cylinder; the
    camera circles and looks down at a grazing angle (so flow needs the tangent-plane test)."""
    meshes = [
        MeshSpec(type="plane", size=[30.0, 30.0]),
        MeshSpec(type="sphere", radius=0.6, subdivisions=3),
        MeshSpec(type="box", size=[0.8, 0.5, 0.6]),
        MeshSpec(type="cylinder", radius=0.3, height=1.2),
    ]
    materials = [
        MaterialSpec(base_color=[0.5, 0.5, 0.5], texture=TextureSpec(type="checker", scale=0.5)),
        MaterialSpec(base_color=[0.8, 0.2, 0.1], roughness=0.3, metallic=0.5),
        MaterialSpec(base_color=[0.2, 0.6, 0.3], texture=TextureSpec(type="noise", scale=0.2)),
        MaterialSpec(),
    ]
    poses = np.zeros((FRAMES, len(meshes), 4, 4))
    cams = np.zeros((FRAMES, 4, 4))
    for t in range(FRAMES):
        poses[t, 0] = np.eye(4)
        sphere = translation(0.4 * t, 0.3, 0.7) @ rotation_z(0.3 * t)
        sphere[:3, :3] *= 1.5
        poses[t, 1] = sphere
        poses[t, 2] = translation(-1.0, -0.5 + 0.2 * t, 0.3) @ rotation_z(-0.2 * t)
        cylinder = translation(1.2, -1.0, 0.6)
        cylinder[:3, :3] = np.diag([1.0, 2.0, 1.0])
        poses[t, 3] = cylinder
        eye = np.array([6.0 * np.cos(0.1 * t), 6.0 * np.sin(0.1 * t), 1.2])
        cams[t] = looking_at(eye, np.array([0.0, 0.0, 0.4]))
    present = np.ones((FRAMES, len(meshes)), dtype=bool)
    present[2, 2] = False  # the box vanishes for a frame: its flow to that frame is invalid
    return make_trajectory(
        meshes, poses, cams, Intrinsics.from_fov(55.0, 72, 56), materials=materials, present=present
    )


def crowd_scene(count: int = 80):
    """Many small moving boxes in front of a plane (more entities than any per-entity loop likes)."""
    side = int(np.ceil(np.sqrt(count)))
    poses = np.zeros((FRAMES, count + 1, 4, 4))
    cams = np.zeros((FRAMES, 4, 4))
    for t in range(FRAMES):
        poses[t, 0] = translation(12.0, 0.0, 0.0)
        poses[t, 0, :3, :3] = [[0, 0, -1], [0, 1, 0], [1, 0, 0]]
        for index in range(count):
            row, col = divmod(index, side)
            y, z = 0.5 * (col - side / 2) + 0.05 * t, 0.5 * (row - side / 2)
            poses[t, index + 1] = translation(8.0, y, z) @ rotation_z(0.1 * index + 0.2 * t)
        cams[t] = looking_at(np.array([0.0, 0.1 * t, 0.0]), np.array([1.0, 0.0, 0.0]))
    meshes = [MeshSpec(type="plane", size=[50.0, 50.0])] + [
        MeshSpec(type="box", size=[0.3, 0.3, 0.3])
    ] * count
    return make_trajectory(meshes, poses, cams, Intrinsics.from_fov(60.0, 64, 48))


# --- reference implementations (numpy, whole-array) ------------------------------------------


def reference_visibility(hits: RayHits, trajectory) -> list[EntityVisibility]:
    """``entity_visibility`` by numpy passes over each entity's window."""
    ids = [info.id for info in trajectory.entities]
    result = []
    for silhouette in sorted(hits.silhouettes, key=lambda s: s.column):
        total = int(np.count_nonzero(silhouette.hit))
        if total == 0:
            continue
        y0, y1, x0, x1 = silhouette.rect
        window = hits.column[y0:y1, x0:x1]
        own = window == silhouette.column
        visible = int(np.count_nonzero(own))
        bbox = None
        if visible:
            rows = np.flatnonzero(own.any(axis=1))
            cols = np.flatnonzero(own.any(axis=0))
            bbox = (int(x0 + cols[0]), int(y0 + rows[0]), int(x0 + cols[-1] + 1), int(y0 + rows[-1] + 1))
        shown = window[silhouette.hit & ~own]
        others = np.flatnonzero(np.bincount(shown + 1, minlength=1)[1:]) if len(shown) else []
        occluders = sorted(ids[c] for c in others)
        result.append(
            EntityVisibility(ids[silhouette.column], visible, total, visible / total, bbox, occluders)
        )
    return result


def reference_cast(backend: Open3DBackend, frame: int, rays_camera: np.ndarray | None = None) -> dict:
    """Every ``RayHits`` array of one frame by whole-array numpy passes."""
    trajectory = backend.trajectory
    track = trajectory.cameras[trajectory.primary_camera]
    cam_to_world, intrinsics = track.cam_to_world[frame], track.intrinsics(frame)
    custom = rays_camera is not None
    rays_camera = pixel_rays(intrinsics) if rays_camera is None else np.asarray(rays_camera, np.float64)
    height, width = rays_camera.shape[:2]
    r, c = rays_camera, cam_to_world[:3, :3]
    world_axes = np.stack([r[..., 0] * c[k, 0] + r[..., 1] * c[k, 1] + r[..., 2] * c[k, 2] for k in range(3)])
    world_axes = world_axes.astype(np.float32)
    best_t = np.full((height, width), np.inf, dtype=np.float32)
    column = np.full((height, width), -1, dtype=np.int32)
    silhouettes, casts = [], []
    jobs = backend._jobs(frame, invert_pose(cam_to_world), intrinsics, custom, height, width)
    jobs.sort(key=lambda group: group[0] in backend._flat_index)  # flat meshes last, as the backend
    for entry_index, entity_jobs in jobs:
        if entry_index in backend._flat_index:  # flat meshes: the plane kernel straight from the camera rays
            matrices = np.stack([matrix for _, _, matrix in entity_jobs])
            t_all, primitive, uv = backend._flat.window_hits(
                np.ascontiguousarray(np.moveaxis(rays_camera, -1, 0)),
                c,
                np.array([rect for _, rect, _ in entity_jobs], dtype=np.int64),
                np.ascontiguousarray(matrices[:, :3, :3]),
                np.stack([m[:3, :3] @ cam_to_world[:3, 3] + m[:3, 3] for m in matrices]),
                np.full(len(entity_jobs), backend._flat_index[entry_index], dtype=np.int64),
            )
        else:
            blocks = []
            for _, (y0, y1, x0, x1), world_to_object in entity_jobs:
                rotation = world_to_object[:3, :3].astype(np.float32)
                wx, wy, wz = (axis[y0:y1, x0:x1, None] for axis in world_axes)
                direction = wx * rotation[:, 0] + wy * rotation[:, 1] + wz * rotation[:, 2]
                start = world_to_object[:3, :3] @ cam_to_world[:3, 3] + world_to_object[:3, 3]
                origin = np.broadcast_to(start.astype(np.float32), direction.shape)
                blocks.append(np.concatenate([origin, direction], axis=-1).reshape(-1, 6))
            t_all, primitive, uv = backend.casters[entry_index].cast(np.concatenate(blocks))
        offset = 0
        for col, (y0, y1, x0, x1), _ in entity_jobs:
            size = (y1 - y0) * (x1 - x0)
            t = t_all[offset : offset + size].reshape(y1 - y0, x1 - x0)
            silhouettes.append((col, (y0, y1, x0, x1), np.isfinite(t)))
            nearer = t < best_t[y0:y1, x0:x1]
            best_t[y0:y1, x0:x1][nearer] = t[nearer]
            column[y0:y1, x0:x1][nearer] = col
            casts.append(
                (col, (y0, y1, x0, x1), primitive[offset : offset + size], uv[offset : offset + size])
            )
            offset += size
    pixels, primitives, uvs, segments = [], [], [], []
    for col, (y0, y1, x0, x1), primitive, uv in sorted(casts, key=lambda c: c[0]):
        local = np.flatnonzero(column[y0:y1, x0:x1] == col)
        if len(local):
            rows, cols = np.divmod(local, x1 - x0)
            segments.append((col, sum(map(len, pixels)), sum(map(len, pixels)) + len(local)))
            pixels.append((rows + y0) * width + cols + x0)
            primitives.append(primitive[local].astype(np.int64))
            uvs.append(uv[local])
    hit_pixels = np.concatenate([np.zeros(0, np.int64), *pixels])
    hit_column = np.concatenate(
        [np.full(b - a, c, np.int32) for c, a, b in segments] or [np.zeros(0, np.int32)]
    )
    hit_primitive = np.concatenate([np.zeros(0, np.int64), *primitives])
    hit_barycentric = np.concatenate([np.zeros((0, 2), np.float32), *uvs])
    meshes = backend.meshes
    face = meshes.column_face_offset[hit_column] + hit_primitive
    edges = meshes.triangle_edges[face]
    u, v = hit_barycentric[:, :1], hit_barycentric[:, 1:]
    object_point = (u * edges[:, 1] + edges[:, 0]) + v * edges[:, 2]
    to_world = np.linalg.inv(trajectory.object_to_world[frame, :, :3, :3])
    matrices = (to_world @ cam_to_world[:3, :3]).astype(np.float32)
    normal = rows_times(meshes.face_normals[face], matrices[hit_column])
    return {
        "ray_distance": best_t,
        "column": column,
        "hit_pixels": hit_pixels,
        "hit_segments": segments,
        "hit_column": hit_column,
        "hit_primitive": hit_primitive,
        "hit_face": face,
        "hit_barycentric": hit_barycentric,
        "hit_object_point": object_point,
        "hit_normal_camera": unit(normal),
        "silhouettes": silhouettes,
    }


def rows_times(rows: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """(N, 3) float32 rows times their (N, 3, 3) matrices, summed j = 0, 1, 2 in float32."""
    out = rows[:, 0:1] * matrices[:, 0]
    out += rows[:, 1:2] * matrices[:, 1]
    out += rows[:, 2:3] * matrices[:, 2]
    return out


def unit(vectors: np.ndarray) -> np.ndarray:
    squared = vectors * vectors
    length = np.sqrt((squared[:, 0] + squared[:, 1]) + squared[:, 2])[:, None]
    return np.divide(vectors, length, out=vectors.copy(), where=length > 0)


def scatter(hits: RayHits, values: np.ndarray) -> np.ndarray:
    image = np.zeros((hits.column.size, *values.shape[1:]), dtype=values.dtype)
    image[hits.hit_pixels] = values
    return image.reshape(*hits.shape, *values.shape[1:])


def facing(hits: RayHits, normal: np.ndarray) -> np.ndarray:
    rays = hits.rays_camera.reshape(-1, 3)[hits.hit_pixels].astype(np.float32)
    product = normal * rays
    away = ((product[:, 0] + product[:, 1]) + product[:, 2]) > 0
    return np.where(away[:, None], -normal, normal)


def reference_shading(hits: RayHits, meshes, trajectory) -> np.ndarray:
    to_camera = np.linalg.inv(trajectory.object_to_world[hits.frame, :, :3, :3]) @ hits.cam_to_world[:3, :3]
    edges = meshes.corner_normal_edges[hits.hit_face]
    u, v = hits.hit_barycentric[:, :1], hits.hit_barycentric[:, 1:]
    local = (u * edges[:, 1] + edges[:, 0]) + v * edges[:, 2]
    normal = unit(rows_times(local, to_camera.astype(np.float32)[hits.hit_column]))
    return scatter(hits, facing(hits, normal))


def reference_flow(hits: RayHits, target: RayHits, target_depth: np.ndarray, trajectory):
    """Flow, validity and the number of pixels that needed the tangent-plane test."""
    object_to_cam = np.linalg.inv(target.cam_to_world) @ trajectory.object_to_world[target.frame]
    m = object_to_cam[hits.hit_column]
    p = hits.hit_object_point.astype(np.float64)
    x, y, depth = (
        p[:, 0] * m[:, k, 0] + p[:, 1] * m[:, k, 1] + p[:, 2] * m[:, k, 2] + m[:, k, 3] for k in range(3)
    )
    k = target.intrinsics
    with np.errstate(divide="ignore", invalid="ignore"):
        u = k.fx * x / depth + k.cx
        v = k.fy * y / depth + k.cy
        rows, cols = np.divmod(hits.hit_pixels, hits.shape[1])
        flow = np.stack([u - (cols + 0.5), v - (rows + 0.5)], axis=-1).astype(np.float32)
        ok = trajectory.present[target.frame][hits.hit_column] & (depth > 0)
        ok &= (u >= 0) & (u < k.width) & (v >= 0) & (v < k.height)
        dest = np.where(ok, v.astype(np.int64) * k.width + u.astype(np.int64), 0)
    valid = ok & (target.column.ravel()[dest] == hits.hit_column)
    tolerance = DEPTH_TOLERANCE * depth
    same = np.abs(target_depth.ravel()[dest].astype(np.float64) - depth) <= tolerance
    retry = np.flatnonzero(valid & ~same)
    flat = dest[retry]
    ray, distance = target.rays_camera.reshape(-1, 3)[flat], target.ray_distance.ravel()[flat]
    point = ray * distance.astype(np.float64)[:, None]
    normal = target.hit_normal_camera[target.pixel_hit[flat]].astype(np.float64)
    rx, ry = (u[retry] - k.cx) / k.fx, (v[retry] - k.cy) / k.fy
    denominator = normal[:, 0] * rx + normal[:, 1] * ry + normal[:, 2]
    numerator = normal[:, 0] * point[:, 0] + normal[:, 1] * point[:, 1] + normal[:, 2] * point[:, 2]
    usable = np.abs(denominator) > 1e-3 * np.sqrt(rx * rx + ry * ry + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plane = numerator / denominator
    seen = np.where(usable & (plane > 0), plane, point[:, 2])
    valid &= same
    valid[retry] = np.abs(seen - depth[retry]) <= tolerance[retry]
    return scatter(hits, flow), scatter(hits, valid), len(retry)


# --- tests ------------------------------------------------------------------------------------


def assert_hits_equal(hits: RayHits, expected: dict) -> None:
    for name, value in expected.items():
        if name == "silhouettes":
            got = [(s.column, s.rect, s.hit) for s in hits.silhouettes]
            assert [(c, r) for c, r, _ in got] == [(c, r) for c, r, _ in value]
            for (_, _, a), (_, _, b) in zip(got, value, strict=True):
                np.testing.assert_array_equal(a, b)
        elif name == "hit_segments":
            assert hits.hit_segments == value
        else:
            np.testing.assert_array_equal(getattr(hits, name), value, err_msg=name)
            assert getattr(hits, name).dtype == np.asarray(value).dtype, name
    pixel_hit = np.full(hits.column.size, len(hits.hit_pixels))
    pixel_hit[hits.hit_pixels] = np.arange(len(hits.hit_pixels))
    np.testing.assert_array_equal(hits.pixel_hit, pixel_hit)


@pytest.mark.parametrize("pieces", [False, True], ids=["sizes", "small-pieces"])
@pytest.mark.parametrize("make_scene", [mixed_scene, crowd_scene], ids=["mixed", "crowd"])
def test_cast_maps_and_flow_equal_the_numpy_references(make_scene, pieces, monkeypatch):
    if pieces:  # every split kernel in as many pieces as it allows, shared with the helper threads
        monkeypatch.setattr(kernels, "MIN_PIECE", dict.fromkeys(kernels.MIN_PIECE, 1))
    trajectory = make_scene()
    backend = Open3DBackend(trajectory)
    track = trajectory.cameras[trajectory.primary_camera]
    hits = [backend.cast(f, track.cam_to_world[f], track.intrinsics(f)) for f in range(FRAMES)]
    depths = [depth_map(h) for h in hits]
    retried = occluded = 0
    for frame, frame_hits in enumerate(hits):
        assert_hits_equal(frame_hits, reference_cast(backend, frame))
        np.testing.assert_array_equal(
            depths[frame], (frame_hits.ray_distance * frame_hits.rays_camera[..., 2]).astype(np.float32)
        )
        np.testing.assert_array_equal(
            camera_normal_map(frame_hits),
            scatter(frame_hits, facing(frame_hits, frame_hits.hit_normal_camera)),
        )
        np.testing.assert_array_equal(
            shading_normal_map(frame_hits, backend.meshes, trajectory),
            reference_shading(frame_hits, backend.meshes, trajectory),
        )
        np.testing.assert_array_equal(
            surface_coords_map(frame_hits), scatter(frame_hits, frame_hits.hit_object_point)
        )
        assert entity_visibility(frame_hits, trajectory) == reference_visibility(frame_hits, trajectory)
        occluded += sum(bool(v.occluders) for v in entity_visibility(frame_hits, trajectory))
        for target in (frame - 1, frame + 1):
            if 0 <= target < FRAMES:
                flow, valid = correspondence_flow(frame_hits, hits[target], depths[target], trajectory)
                expected_flow, expected_valid, retry = reference_flow(
                    frame_hits, hits[target], depths[target], trajectory
                )
                np.testing.assert_array_equal(flow, expected_flow)
                np.testing.assert_array_equal(valid, expected_valid)
                assert valid.dtype == bool and flow.dtype == np.float32
                retried += retry
    assert occluded > 0, "the scene must have occluded entities"
    if make_scene is mixed_scene:
        assert retried > 0, "the scene must exercise the tangent-plane depth test"
        assert len({c for h in hits for c, _, _ in h.hit_segments}) == 4


def test_split_runs_every_piece_once_and_reraises_errors(monkeypatch):
    monkeypatch.setattr(kernels, "MIN_PIECE", {"items": 10})
    runs = np.zeros(1000, dtype=np.int64)
    threads = set()

    def part(scale, first, stop):
        threads.add(threading.current_thread().name)
        runs[first:stop] += scale
        time.sleep(0.002)

    kernels.split(part, (1,), 1000, "items")  # MAX_PIECES pieces
    np.testing.assert_array_equal(runs, 1)
    assert threading.current_thread().name in threads
    kernels.split(part, (1,), 15, "items")  # too small to split: one call
    np.testing.assert_array_equal(runs[:15], 2)

    def failing(first, stop):
        if first > 0:
            raise ValueError(f"piece {first}:{stop}")

    with pytest.raises(ValueError, match="piece"):
        kernels.split(failing, (), 1000, "items")


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores for a helper thread")
def test_split_keeps_to_the_calling_threads_numba_budget(monkeypatch):
    """A dataset worker given one thread (``numba.set_num_threads(1)``) runs every piece itself;
    with a budget of two a helper joins in."""
    monkeypatch.setattr(kernels, "MIN_PIECE", {"items": 10})
    threads: set[str] = set()

    def part(first, stop):
        threads.add(threading.current_thread().name)
        time.sleep(0.01)

    budget = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        kernels.split(part, (), 1000, "items")
        assert threads == {threading.current_thread().name}
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        if numba.get_num_threads() == 2:
            kernels.split(part, (), 1000, "items")
            assert any(name.startswith("guidance-kernels-") for name in threads), threads
    finally:
        numba.set_num_threads(budget)


def test_material_lookups_equal_numpy_take():
    trajectory = mixed_scene()
    backend = Open3DBackend(trajectory)
    track = trajectory.cameras[trajectory.primary_camera]
    hits = backend.cast(1, track.cam_to_world[1], track.intrinsics(1))
    albedo, roughness, metallic = material_maps(hits, trajectory)
    sphere = hits.column == 1  # uniform material: a table look-up
    assert sphere.any()
    np.testing.assert_array_equal(
        albedo[sphere], np.broadcast_to([0.8, 0.2, 0.1], (sphere.sum(), 3)).astype(np.float32)
    )
    np.testing.assert_array_equal(roughness[sphere], np.float32(0.3))
    np.testing.assert_array_equal(metallic[sphere], np.float32(0.5))
    assert not albedo[hits.column < 0].any() and not roughness[hits.column < 0].any()


def test_custom_rays_and_nearest_hit_completion_equal_the_reference():
    trajectory = mixed_scene()
    backend = Open3DBackend(trajectory)
    track = trajectory.cameras[trajectory.primary_camera]
    intrinsics = track.intrinsics(2)
    jitter = np.random.default_rng(3).uniform(-0.4, 0.4, size=(intrinsics.height, intrinsics.width, 2))
    x = (np.arange(intrinsics.width) + 0.5 + jitter[..., 0] - intrinsics.cx) / intrinsics.fx
    y = ((np.arange(intrinsics.height) + 0.5)[:, None] + jitter[..., 1] - intrinsics.cy) / intrinsics.fy
    rays = np.dstack([x, y, np.ones_like(x)])
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    hits = backend.cast(2, track.cam_to_world[2], intrinsics, rays_camera=rays)
    assert_hits_equal(hits, reference_cast(backend, 2, rays_camera=rays))
    # The per-pixel completion (the pytorch3d backend's path) rebuilds the same hits.
    rebuilt = hits_from_nearest(
        trajectory,
        backend.meshes,
        2,
        intrinsics,
        hits.cam_to_world,
        hits.ray_distance,
        hits.rays_camera,
        hits.column,
        hits.primitive,
        hits.barycentric,
        [],
    )
    for name in ("hit_pixels", "hit_column", "hit_face", "hit_object_point", "hit_normal_camera"):
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(hits, name), err_msg=name)
    assert rebuilt.hit_segments == hits.hit_segments


def reference_screen_rect(center, radius, world_to_cam, intrinsics):
    """The single-sphere window, scalar by scalar."""
    cam = [sum(world_to_cam[k, j] * center[j] for j in range(3)) + world_to_cam[k, 3] for k in range(3)]
    if cam[2] + radius <= 0.0:
        return None
    near = cam[2] - radius
    if near <= 1e-6 * max(1.0, abs(cam[2])):
        return 0, intrinsics.height, 0, intrinsics.width
    zs, xs, ys = (
        (near, cam[2] + radius),
        (cam[0] - radius, cam[0] + radius),
        (cam[1] - radius, cam[1] + radius),
    )
    u = [intrinsics.fx * (x / z) + intrinsics.cx for x in xs for z in zs]
    v = [intrinsics.fy * (y / z) + intrinsics.cy for y in ys for z in zs]
    x0, x1 = max(0, int(np.ceil(min(u) - 0.5))), min(intrinsics.width, int(np.floor(max(u) - 0.5)) + 1)
    y0, y1 = max(0, int(np.ceil(min(v) - 0.5))), min(intrinsics.height, int(np.floor(max(v) - 0.5)) + 1)
    return None if x0 >= x1 or y0 >= y1 else (y0, y1, x0, x1)


def test_screen_rects_of_many_spheres_equal_one_at_a_time():
    from renderers.guidance.geometry import screen_rects

    rng = np.random.default_rng(7)
    intrinsics = Intrinsics.from_fov(50.0, 80, 60)
    world_to_cam = invert_pose(looking_at(np.array([4.0, -3.0, 2.0]), np.zeros(3)))
    centers = rng.uniform(-12, 12, size=(500, 3))  # in front, behind, beside, straddling the camera
    radii = rng.uniform(0.05, 4.0, size=500)
    rects, seen = screen_rects(centers, radii, world_to_cam, intrinsics)
    expected = [reference_screen_rect(c, r, world_to_cam, intrinsics) for c, r in zip(centers, radii)]
    assert [tuple(rect) if ok else None for rect, ok in zip(rects.tolist(), seen)] == expected
    whole = (0, 60, 0, 80)
    assert None in expected and whole in expected, "the draw has off-screen and whole-image spheres"
    assert sum(e not in (None, whole) for e in expected) > 50, "and many partial windows"
