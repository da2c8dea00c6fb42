"""Bump relief: the path tracer's per-hit bumped normal is the guidance-side function
``worldsim.scene.bump.bumped_normals`` at the same object-frame points; it changes the shading."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from renderers.base import create
from renderers.guidance.synthetic import looking_at, make_trajectory, rotation_z, translation
from renderers.reference.hit_material import bump_normal_texture
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.bump import bump_height, bumped_normals
from worldsim.scene.materials import material_seed
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec

BUMPY = MaterialSpec(base_color=[0.6, 0.6, 0.6], roughness=0.9, bump_height=0.004, bump_scale=0.05)
ANGLE = 0.5


def bumpy_plane(material: MaterialSpec = BUMPY):
    """A plane turned about Z and lifted, seen obliquely; a low sun."""
    pose = translation(0.2, -0.1, 0.3) @ rotation_z(ANGLE)
    camera = looking_at(np.array([-1.2, -0.8, 1.5]), np.array([0.2, -0.1, 0.3]))[None]
    trajectory = make_trajectory(
        [MeshSpec(type="plane", size=[3.0, 3.0])],
        pose[None, None],
        camera,
        Intrinsics.from_fov(50.0, 48, 40),
        materials=[material],
        seed=4,
    )
    trajectory.lights = [LightSpec(type="sun", direction=[0.6, 0.2, -0.5], angle_deg=0.0, intensity=3.0)]
    return trajectory, pose


def test_the_height_field_is_seeded_smooth_and_scaled():
    points = np.random.default_rng(0).uniform(-1, 1, size=(2000, 3))
    height = bump_height(BUMPY, points, seed=9)
    assert 0.2 * BUMPY.bump_height < height.std() < BUMPY.bump_height
    np.testing.assert_array_equal(height, bump_height(BUMPY, points, seed=9))
    assert not np.array_equal(height, bump_height(BUMPY, points, seed=10))
    up = np.tile([0.0, 0.0, 1.0], (len(points), 1))
    flat = MaterialSpec(bump_height=0.0)
    np.testing.assert_array_equal(bumped_normals(flat, points, up, 9), up.astype(np.float32))
    tilted = bumped_normals(BUMPY, points, up, 9)
    np.testing.assert_allclose(np.linalg.norm(tilted, axis=1), 1.0, atol=1e-6)
    # the tilt is the height field's slope: compare with an independent, coarser difference
    step = 1e-3 * BUMPY.bump_scale
    dx = (
        bump_height(BUMPY, points + np.array([step, 0, 0]), 9)
        - bump_height(BUMPY, points - np.array([step, 0, 0]), 9)
    ) / (2 * step)
    dy = (
        bump_height(BUMPY, points + np.array([0, step, 0]), 9)
        - bump_height(BUMPY, points - np.array([0, step, 0]), 9)
    ) / (2 * step)
    expected = np.stack([-dx, -dy, np.ones_like(dx)], axis=1)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.degrees(np.arccos(np.clip((tilted * expected).sum(axis=1), -1, 1))).max() < 0.2
    assert 2.0 < np.degrees(np.arccos(tilted[:, 2])).mean() < 30.0  # a visible relief


def test_mitsuba_evaluates_the_same_bumped_normal_at_every_hit():
    import mitsuba as mi

    trajectory, pose = bumpy_plane()
    renderer = create("reference", {})
    clip = renderer.clip(trajectory, "main")
    track = trajectory.cameras["main"]
    v, u = np.mgrid[0 : track.height, 0 : track.width] + 0.5
    rays_cam = np.stack(
        [(u - track.cx[0]) / track.fx[0], (v - track.cy[0]) / track.fy[0], np.ones_like(u)], -1
    )
    directions = rays_cam.reshape(-1, 3) @ track.cam_to_world[0][:3, :3].T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origin = track.cam_to_world[0][:3, 3]
    ray = mi.Ray3f(
        mi.Point3f(*(mi.Float(np.full(len(directions), origin[i], dtype=np.float32)) for i in range(3))),
        mi.Vector3f(*(mi.Float(directions[:, i].astype(np.float32)) for i in range(3))),
    )
    si = clip.scene.ray_intersect(ray)
    texture = bump_normal_texture(mi, BUMPY, trajectory.seed, 1)
    encoded = texture.eval(si)
    local = mi.Vector3f(2.0 * encoded.x - 1.0, 2.0 * encoded.y - 1.0, 2.0 * encoded.z - 1.0)
    theirs = np.stack([np.asarray(c) for c in si.sh_frame.to_world(local)], axis=1)
    hit = np.isfinite(np.asarray(si.t))
    assert hit.mean() > 0.7
    # ours: the object-frame hit points and the plane's object normal, rotated to the world
    world = origin + directions * np.asarray(si.t)[:, None]
    points = (world[hit] - pose[:3, 3]) @ pose[:3, :3]
    up = np.tile([0.0, 0.0, 1.0], (len(points), 1))
    seed = material_seed(trajectory.seed, 1, BUMPY)
    ours = bumped_normals(BUMPY, points, up, seed) @ pose[:3, :3].T
    theirs = theirs[hit] / np.linalg.norm(theirs[hit], axis=1, keepdims=True)
    angle = np.degrees(np.arccos(np.clip((ours * theirs).sum(axis=1), -1.0, 1.0)))
    tilt = np.degrees(np.arccos(np.clip(ours[:, 2], -1.0, 1.0)))
    assert tilt.mean() > 2.0
    assert np.percentile(angle, 99) < 0.5 and np.median(angle) < 0.1, (np.median(angle), angle.max())


def test_bump_changes_the_shading_but_not_the_average_brightness():
    """A relief coarser than a pixel, lit by a low sun: visible shading, about the same mean."""
    coarse = MaterialSpec(base_color=[0.6, 0.6, 0.6], roughness=0.9, bump_height=0.03, bump_scale=0.3)
    bumped = create("reference", {"denoise": False}).render_linear(bumpy_plane(coarse)[0], "main", 0, spp=16)
    smooth_material = MaterialSpec(base_color=[0.6, 0.6, 0.6], roughness=0.9)
    smooth = create("reference", {"denoise": False}).render_linear(
        bumpy_plane(smooth_material)[0], "main", 0, spp=16
    )
    assert np.abs(bumped - smooth).mean() > 0.03 * smooth.mean()
    assert abs(bumped.mean() / smooth.mean() - 1.0) < 0.1
