"""The composition's albedo prefilter (``renderers.diffusion.albedo_filter``): each textured pixel
the mean of its sub-pixel samples on its hit's tangent plane, checked against casts at finer sizes
(an independent route to the same points on planes, and to the true pixel average on curves)."""

from __future__ import annotations

import numpy as np
import pytest

import worldsim as ws
from renderers.diffusion.albedo_filter import supersampled_albedo
from renderers.guidance.source import ClipGuidance
from worldsim.render import rollout

WIDTH, HEIGHT = 40, 30
BOX_COLOUR = (0.8, 0.2, 0.1)


@pytest.fixture(scope="module")
def guidance() -> ClipGuidance:
    """A fine checker floor (8 cm squares, seen at a grazing angle), a uniform red box and a
    ball of fine noise."""
    scene = ws.Scene(name="checker", seed=5, num_frames=1, resolution=[WIDTH, HEIGHT])
    checker = ws.Texture(type="checker", color_a=[0.9, 0.9, 0.9], color_b=[0.1, 0.1, 0.1], scale=0.08)
    scene.add(
        ws.Entity(
            name="floor",
            semantic_class="ground",
            mesh=ws.Mesh(type="plane", size=[30, 30]),
            material=ws.Material(base_color=[1.0, 1.0, 1.0], texture=checker),
        )
    )
    scene.add(
        ws.Entity(
            name="box",
            semantic_class="box",
            mesh=ws.Mesh(type="box", size=[0.8, 0.8, 0.8]),
            material=ws.Material(base_color=list(BOX_COLOUR)),
            pose=ws.Pose(position=[0.0, 0.0, 0.4]),
        )
    )
    noise = ws.Texture(type="noise", color_a=[0.9, 0.2, 0.1], color_b=[0.1, 0.2, 0.9], scale=0.05, octaves=4)
    scene.add(
        ws.Entity(
            name="ball",
            semantic_class="ball",
            mesh=ws.Mesh(type="sphere", radius=0.5),
            material=ws.Material(base_color=[1.0, 1.0, 1.0], texture=noise),
            pose=ws.Pose(position=[1.1, 0.0, 0.5]),
        )
    )
    scene.cameras = [ws.Camera(name="main", fov_deg=50, position=[0, -5, 1.2], look_at=[0, 0, 0.3])]
    return ClipGuidance(rollout(scene))


def cast_mean(guidance, full, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """(the mean albedo of each pixel's own-entity hits in a cast at ``factor`` times the size,
    whether every one of those sub-pixel rays hit the pixel's entity), written as loops."""
    fine = guidance.at(WIDTH * factor, HEIGHT * factor)(0)
    out = np.array(full.albedo, dtype=np.float64)
    whole = np.zeros(full.instance.shape, dtype=bool)
    for y in range(HEIGHT):
        for x in range(WIDTH):
            block_ids = fine.instance[y * factor : (y + 1) * factor, x * factor : (x + 1) * factor]
            block = fine.albedo[y * factor : (y + 1) * factor, x * factor : (x + 1) * factor]
            own = block_ids == full.instance[y, x]
            whole[y, x] = own.all()
            if own.any():
                out[y, x] = block[own].mean(axis=0)
    return out, whole


@pytest.mark.parametrize("factor", [2, 3])
def test_on_a_plane_the_samples_are_the_finer_casts_hits(guidance, factor):
    full = guidance(0)
    filtered = supersampled_albedo(full, guidance, factor)
    expected, whole = cast_mean(guidance, full, factor)
    floor = (full.instance == 1) & whole
    assert floor.sum() > 500
    np.testing.assert_allclose(filtered.albedo[floor], expected[floor], atol=1e-5)
    # only the albedo changes, and the uniform box keeps its colour exactly, silhouette included
    np.testing.assert_array_equal(filtered.instance, full.instance)
    box = full.instance == 2
    assert box.sum() > 20
    np.testing.assert_array_equal(filtered.albedo[box], full.albedo[box])
    np.testing.assert_allclose(filtered.albedo[box], np.broadcast_to(BOX_COLOUR, (box.sum(), 3)), atol=1e-6)


def test_on_a_turned_scaled_box_the_samples_are_the_finer_casts_hits():
    """The camera-to-object mapping of the sub-pixel steps: a textured box turned about two axes,
    its mesh scaled per axis, against a cast at three times the size."""
    scene = ws.Scene(name="turned", seed=3, num_frames=1, resolution=[WIDTH, HEIGHT])
    stripes = ws.Texture(
        type="stripes", color_a=[0.9, 0.8, 0.2], color_b=[0.1, 0.3, 0.7], scale=0.06, axis=[1.0, 0.4, 0.3]
    )
    scene.add(
        ws.Entity(
            name="box",
            semantic_class="box",
            mesh=ws.Mesh(type="box", size=[1.0, 1.0, 1.0], scale=[1.6, 0.9, 1.2]),
            material=ws.Material(base_color=[1.0, 1.0, 1.0], texture=stripes),
            pose=ws.Pose(position=[0.2, 0.3, 0.6], euler_deg=[12.0, -8.0, 35.0]),
        )
    )
    scene.cameras = [ws.Camera(name="main", fov_deg=40, position=[0.5, -4.0, 2.0], look_at=[0.2, 0.3, 0.6])]
    guidance = ClipGuidance(rollout(scene))
    full = guidance(0)
    expected, whole = cast_mean(guidance, full, 3)
    # pixels whose nine sub-pixel rays all meet the face the centre ray meets (not a box edge)
    fine_normal = guidance.at(WIDTH * 3, HEIGHT * 3)(0).normal.reshape(HEIGHT, 3, WIDTH, 3, 3)
    one_face = (np.abs(fine_normal - full.normal[:, None, :, None, :]).max(axis=(1, 3, 4)) < 1e-4) & whole
    box = (full.instance == 1) & one_face
    assert box.sum() > 120
    np.testing.assert_allclose(supersampled_albedo(full, guidance, 3).albedo[box], expected[box], atol=1e-5)


def test_on_a_curved_surface_it_estimates_the_pixel_average_as_well_as_a_finer_cast(guidance):
    full = guidance(0)
    truth, _ = cast_mean(guidance, full, 12)  # 144 rays per pixel: the pixel's average
    ball = full.instance == 3
    assert ball.sum() > 25

    def error(albedo: np.ndarray) -> float:
        return float(np.abs(albedo[ball] - truth[ball]).mean())

    cast, _ = cast_mean(guidance, full, 2)
    ours = error(supersampled_albedo(full, guidance, 2).albedo)
    assert ours < 1.15 * error(cast)  # 1.06x measured
    assert ours < 0.6 * error(full.albedo)  # point samples: 2.2x ours measured


def test_the_prefilter_softens_a_checker_finer_than_a_pixel(guidance):
    full = guidance(0)
    floor = full.instance == 1
    point = full.albedo[floor][:, 0]
    filtered = supersampled_albedo(full, guidance, 2).albedo[floor][:, 0]
    # point samples are the two checker colours only; 2 x 2 means also take the values between
    assert np.all(np.isclose(point, 0.9, atol=1e-4) | np.isclose(point, 0.1, atol=1e-4))
    between = (filtered > 0.15) & (filtered < 0.85)
    assert between.mean() > 0.6  # 0.90 measured
    assert filtered.std() < 0.7 * point.std()  # 0.46 measured
    # the mean reflectance of the floor stays (a box filter keeps the average)
    assert abs(filtered.mean() - point.mean()) < 0.02


def test_factor_one_is_the_frame_itself(guidance):
    full = guidance(0)
    assert supersampled_albedo(full, guidance, 1) is full
