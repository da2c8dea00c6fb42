"""Embree's C API from compiled loops (``renderers.guidance.embree``) against open3d's Embree."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import trimesh

from renderers.guidance import embree
from renderers.guidance.embree import EmbreeScene, Open3DScene


def _sphere() -> tuple[np.ndarray, np.ndarray]:
    mesh = trimesh.creation.icosphere(subdivisions=4)
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


def _box(centre, size) -> tuple[np.ndarray, np.ndarray]:
    mesh = trimesh.creation.box(extents=size)
    return np.asarray(mesh.vertices) + np.asarray(centre), np.asarray(mesh.faces)


def _rays_towards(count: int, seed: int, radius: float = 1.3) -> np.ndarray:
    """Rays from random points at distance 3-5 towards random points within ``radius`` of 0."""
    rng = np.random.default_rng(seed)
    origins = rng.normal(size=(count, 3))
    origins *= rng.uniform(3.0, 5.0, (count, 1)) / np.linalg.norm(origins, axis=1, keepdims=True)
    targets = rng.uniform(-radius, radius, (count, 3))
    directions = targets - origins
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return np.concatenate([origins, directions], axis=1).astype(np.float32)


def test_the_library_loads_as_a_core_dependency():
    assert embree.library_path() is not None
    assert embree.available()
    assert isinstance(embree.scene([_sphere()]), EmbreeScene)


@pytest.mark.parametrize("meshes", ["sphere", "sphere and boxes"])
def test_nearest_hits_match_open3d(meshes):
    parts = [_sphere()]
    if meshes != "sphere":
        parts += [_box([0.9, 0.0, 0.2], [0.6, 0.5, 0.7]), _box([-0.5, 0.8, -0.6], [0.4, 0.9, 0.3])]
    rays = _rays_towards(30_011, seed=1)  # not a multiple of the 16-ray packet
    t, primitive, uv = EmbreeScene(embree._library(), parts).cast(rays)
    o_t, o_primitive, o_uv = Open3DScene(parts).cast(rays)
    hit = np.isfinite(o_t)
    assert 0.3 < hit.mean() < 0.95
    np.testing.assert_array_equal(np.isfinite(t), hit)
    assert (primitive == o_primitive).mean() == 1.0
    np.testing.assert_array_equal(primitive[~hit], embree.INVALID_ID)
    np.testing.assert_allclose(t[hit], o_t[hit], rtol=1e-6)
    np.testing.assert_allclose(uv, o_uv, atol=1e-6)
    if meshes == "sphere":  # (u, v) are barycentric: the point they give lies on the ray
        corners = parts[0][0][parts[0][1][primitive[hit]]]
        u, v = uv[hit, 0:1], uv[hit, 1:2]
        on_face = (1 - u - v) * corners[:, 0] + u * corners[:, 1] + v * corners[:, 2]
        along = rays[hit, :3] + t[hit, None] * rays[hit, 3:]
        assert np.abs(on_face - along).max() < 2e-5


def test_occlusion_matches_open3d_and_respects_the_segment_ends():
    parts = [_sphere(), _box([1.6, 0.0, 0.0], [0.5, 0.5, 0.5])]
    rng = np.random.default_rng(2)
    segments = np.concatenate([rng.uniform(-3, 3, (40_003, 3)), rng.uniform(-4, 4, (40_003, 3))], axis=1)
    segments = segments.astype(np.float32)
    scene = EmbreeScene(embree._library(), parts)
    blocked = scene.occluded(segments)
    np.testing.assert_array_equal(blocked, Open3DScene(parts).occluded(segments))
    assert 0.03 < blocked.mean() < 0.8
    # A segment towards the unit sphere from x = -3: it reaches the surface at t = 2 / length.
    toward = np.array([[-3.0, 0.0, 0.0, 1.9, 0.0, 0.0], [-3.0, 0.0, 0.0, 2.1, 0.0, 0.0]], np.float32)
    assert scene.occluded(toward).tolist() == [False, True]
    assert scene.occluded(toward, tnear=0.0, tfar=2.0).tolist() == [True, True]
    assert scene.occluded(np.zeros((0, 6), np.float32)).shape == (0,)


@pytest.mark.parametrize("count", [1, 15, 16, 17, 33])
def test_short_batches_give_the_results_of_a_long_one(count):
    scene = embree.scene([_sphere()])
    rays = _rays_towards(64, seed=3)
    t, primitive, uv = scene.cast(rays)
    short_t, short_primitive, short_uv = scene.cast(rays[:count])
    np.testing.assert_array_equal(short_t, t[:count])
    np.testing.assert_array_equal(short_primitive, primitive[:count])
    np.testing.assert_array_equal(short_uv, uv[:count])


def test_a_cast_lets_other_threads_run():
    """open3d holds the GIL through a whole cast (a Python thread beside it ran at 7 % of its
    speed alone, measured); the compiled loops release it (55 %)."""
    scene = embree.scene([_sphere()])
    rays = np.tile(_rays_towards(4096, seed=4), (300, 1))  # 1.2 M rays: about 0.1 s
    scene.cast(rays)  # compiled before the timed cast
    progress = [0]
    done = threading.Event()

    def count() -> None:
        while not done.is_set():
            progress[0] += 1

    def rate(work) -> float:
        before, start = progress[0], time.perf_counter()
        work()
        return (progress[0] - before) / (time.perf_counter() - start)

    counter = threading.Thread(target=count)
    counter.start()
    try:
        alone = rate(lambda: time.sleep(0.05))
        beside_cast = rate(lambda: scene.cast(rays))
    finally:
        done.set()
        counter.join()
    share = beside_cast / alone
    assert share > 0.25, f"beside a cast the thread ran at {share:.2f} of its speed alone"


def test_the_switch_falls_back_to_open3d(monkeypatch):
    monkeypatch.setenv(embree.ENVIRONMENT_SWITCH, "open3d")
    assert not embree.available()
    fallback = embree.scene([_sphere()])
    assert isinstance(fallback, Open3DScene)
    rays = _rays_towards(100, seed=5)
    monkeypatch.delenv(embree.ENVIRONMENT_SWITCH)
    np.testing.assert_array_equal(
        np.isfinite(fallback.cast(rays)[0]), np.isfinite(embree.scene([_sphere()]).cast(rays)[0])
    )


def test_the_guidance_backend_and_the_occlusion_rays_use_it(monkeypatch):
    from renderers.guidance.geometry import clip_meshes
    from renderers.guidance.open3d_backend import Open3DBackend
    from renderers.guidance.synthetic import orbiting_spheres
    from renderers.lighting.occlusion import OcclusionTester

    trajectory = orbiting_spheres(32, 3, 1, 2)
    backend = Open3DBackend(trajectory)
    assert any(isinstance(caster, EmbreeScene) for caster in backend.casters)
    tester = OcclusionTester(trajectory, clip_meshes(trajectory))
    rays = np.array([[0.0, 0.0, 10.0, 0.0, 0.0, -20.0]], np.float32)
    assert tester.occluded_rays(1, rays)[0]
    built = []
    monkeypatch.setattr(tester, "_test", lambda scene, rays: built.append(scene) or np.ones(len(rays), bool))
    tester.occluded_rays(1, rays)
    assert built and all(isinstance(scene, EmbreeScene) for scene in built)


def test_batched_casts_equal_one_cast_per_scene():
    scenes = [embree.scene([_sphere()]), embree.scene([_box([0.0, 0.0, 0.0], [1.5, 1.0, 2.0])])]
    rays = [_rays_towards(1000, seed=6), _rays_towards(37, seed=7), _rays_towards(0, seed=8)]
    bounds = np.cumsum([0] + [len(r) for r in rays])
    batched = embree.cast_batches([scenes[0], scenes[1], scenes[0]], bounds, np.concatenate(rays))
    alone = [scene.cast(r) for scene, r in zip([scenes[0], scenes[1], scenes[0]], rays, strict=True)]
    for got, expected in zip(batched, zip(*alone, strict=True), strict=True):
        np.testing.assert_array_equal(got, np.concatenate(expected))


def test_faces_outside_the_vertices_are_refused():
    vertices = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    for faces in (np.array([[0, 1, 3]]), np.array([[0, -1, 2]])):
        with pytest.raises(ValueError, match="outside the 3 vertices"):
            embree.scene([(vertices, faces)])


def test_zero_segments_are_never_blocked_and_skip_the_query():
    """A zero segment covers nothing: False from both scenes, also where its origin lies inside a
    box (where any real segment out of it is blocked)."""
    box = _box([0.0, 0.0, 0.0], [2.0, 2.0, 2.0])
    rays = np.zeros((40, 6), dtype=np.float32)
    rays[:, :3] = np.random.default_rng(8).uniform(-0.5, 0.5, (40, 3))
    rays[::2, 3] = 5.0  # every other ray leaves the box along x
    for scene in (embree.scene([box]), Open3DScene([box])):
        blocked = scene.occluded(rays)
        np.testing.assert_array_equal(blocked[::2], True)
        np.testing.assert_array_equal(blocked[1::2], False)


def test_occlusion_scenes_without_the_robust_flag_give_the_same_answers():
    parts = [_sphere(), _box([0.5, 0.0, 0.3], [1.5, 1.0, 0.4])]
    rays = _rays_towards(4096, seed=9)
    rays[:, 3:] *= 6.0  # segments reaching past the geometry
    robust = embree.scene(parts).occluded(rays)
    fast = embree.scene(parts, robust=False).occluded(rays)
    assert 0.2 < robust.mean() < 0.9
    assert np.mean(fast != robust) <= 1e-3
    np.testing.assert_array_equal(Open3DScene(parts).occluded(rays), robust)
