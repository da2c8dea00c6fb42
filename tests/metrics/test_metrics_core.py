"""Known-answer tests of the consistency metrics on synthetic arrays."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from worldsim.metrics.adherence import boundary_f_score, guidance_edges, image_edges, region_homogeneity
from worldsim.metrics.fidelity import fidelity
from worldsim.metrics.flicker import flicker_energy, static_mask
from worldsim.metrics.identity import identity_drift, mean_drift
from worldsim.metrics.surface import surface_colour_difference
from worldsim.metrics.warping import gap_warping_error, surface_correspondences, warp_back, warping_error

ATOL = 1e-9
H, W = 24, 32


def ramp_image(slope: float = 0.01, shift: float = 0.0) -> np.ndarray:
    """Float image whose value grows by ``slope`` per pixel in x, content moved right by ``shift``."""
    cols = np.arange(W, dtype=np.float64) - shift
    value = 0.2 + slope * cols
    return np.repeat(np.broadcast_to(value, (H, W))[..., None], 3, axis=-1).copy()


def blocks_instance() -> np.ndarray:
    instance = np.zeros((H, W), np.uint16)
    instance[2:10, 2:12] = 1
    instance[12:22, 4:14] = 2
    instance[4:20, 18:30] = 3
    return instance


def test_warp_back_with_exact_flow_recovers_frame():
    frame = ramp_image()
    moved = ramp_image(shift=2.0)  # content moved 2 px right
    flow = np.zeros((H, W, 2))
    flow[..., 0] = 2.0
    warped, inside = warp_back(moved, flow)
    np.testing.assert_allclose(warped[inside], frame[inside], atol=ATOL)
    assert not inside[:, -2:].any() and inside[:, :-2].all()


def test_warping_error_zero_for_consistent_and_predicted_for_known_shift():
    slope, shift = 0.01, 1.5
    frame = ramp_image(slope)
    flow = np.zeros((H, W, 2))
    valid = np.ones((H, W), bool)
    instance = blocks_instance()
    assert warping_error(frame, frame, flow, valid, instance).overall == pytest.approx(0.0, abs=ATOL)
    # frame t+1 is moved by `shift` but the flow claims it is static: error = slope * shift
    result = warping_error(frame, ramp_image(slope, shift), flow, valid, instance)
    assert result.overall == pytest.approx(slope * shift, abs=ATOL)
    assert set(result.per_entity) == {1, 2, 3}
    for value in result.per_entity.values():
        assert value == pytest.approx(slope * shift, abs=ATOL)


def test_warping_error_ignores_invalid_pixels():
    frame = ramp_image()
    corrupted = frame.copy()
    corrupted[:, :10] = 1.0
    valid = np.ones((H, W), bool)
    valid[:, :10] = False
    assert warping_error(frame, corrupted, np.zeros((H, W, 2)), valid).overall == pytest.approx(0, abs=ATOL)


def surface_grid(instance: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Object-frame coords: each pixel of an entity sees point (col, row, 0) * 1 cm of that entity."""
    rows, cols = np.mgrid[0:H, 0:W]
    coords = np.stack([(cols - offset[1]) * 0.01, (rows - offset[0]) * 0.01, np.zeros((H, W))], -1)
    return np.where(instance[..., None] > 0, coords, 0.0).astype(np.float32)


def test_surface_correspondences_follow_moved_entity():
    instance_a = np.zeros((H, W), np.uint16)
    instance_a[5:10, 5:10] = 4
    instance_b = np.roll(instance_a, (3, 7), axis=(0, 1))
    coords_a = surface_grid(instance_a)
    coords_b = surface_grid(instance_b, offset=(3, 7))
    index_a, index_b = surface_correspondences(instance_a, coords_a, instance_b, coords_b, tolerance=1e-4)
    assert index_a.size == 25
    rows_a, cols_a = np.unravel_index(index_a, (H, W))
    rows_b, cols_b = np.unravel_index(index_b, (H, W))
    np.testing.assert_array_equal(rows_b - rows_a, 3)
    np.testing.assert_array_equal(cols_b - cols_a, 7)


def test_gap_warping_error_survives_occlusion_and_detects_change():
    rng = np.random.default_rng(0)
    instance_a = np.zeros((H, W), np.uint16)
    instance_a[4:14, 4:14] = 5
    texture = rng.random((H, W, 3))
    frame_a = np.where(instance_a[..., None] > 0, texture, 0.0)
    # k frames later the entity moved by (2, 9) and its left half is hidden by entity 6
    instance_b = np.roll(instance_a, (2, 9), axis=(0, 1))
    frame_b = np.roll(frame_a, (2, 9), axis=(0, 1))
    occluder = np.zeros((H, W), bool)
    occluder[:, :18] = True
    instance_b[occluder & (instance_b == 5)] = 6
    coords_a = surface_grid(instance_a)
    coords_b = np.where((instance_b == 5)[..., None], surface_grid(instance_b, (2, 9)), 9.0)
    result = gap_warping_error(frame_a, frame_b, instance_a, coords_a, instance_b, coords_b, 1e-4)
    assert result.overall == pytest.approx(0.0, abs=ATOL)
    assert result.valid_fraction * H * W == (instance_b == 5).sum()
    changed = gap_warping_error(frame_a, frame_b + 0.1, instance_a, coords_a, instance_b, coords_b, 1e-4)
    assert changed.per_entity[5] == pytest.approx(0.1, abs=1e-9)


def coloured_clip(frames: int, jump_entity: int | None = None, jump_frame: int = 0) -> list:
    instance = blocks_instance()
    palette = {0: (30, 30, 30), 1: (200, 40, 40), 2: (40, 200, 40), 3: (40, 40, 200)}
    clip = []
    for t in range(frames):
        rgb = np.zeros((H, W, 3), np.uint8)
        for entity, colour in palette.items():
            colour = np.array(colour)
            if entity == jump_entity and t >= jump_frame:
                colour = colour + np.array([50, 50, 0])
            rgb[instance == entity] = colour
        visible = instance.copy()
        if 20 <= t < 30:
            visible[visible == 2] = 0  # entity 2 leaves the view and returns
        clip.append((rgb, visible))
    return clip


def test_identity_drift_zero_for_consistent_clip_and_nan_when_away():
    curves = identity_drift(coloured_clip(40))
    assert set(curves) == {1, 2, 3}
    for entity, curve in curves.items():
        assert np.nanmax(curve.delta_e) == pytest.approx(0.0, abs=1e-9)
        assert np.nanmax(curve.histogram) == pytest.approx(0.0, abs=1e-6)
        assert np.nanmax(curve.texture) == pytest.approx(0.0, abs=1e-6)
        if entity == 2:
            assert np.isnan(curve.delta_e[20:30]).all() and curve.visible[30:].all()


def test_identity_drift_finds_colour_jump_on_entity_3_at_frame_50():
    curves = identity_drift(coloured_clip(60, jump_entity=3, jump_frame=50))
    jumped = curves[3].delta_e
    assert np.argmax(jumped > 1.0) == 50
    assert (jumped[50:] > 10.0).all() and np.all(jumped[:50] < 1e-9)
    assert curves[3].histogram[50] > 0.5
    for entity in (1, 2):
        assert np.nanmax(curves[entity].delta_e) < 1e-9


def test_mean_drift_averages_each_entity_over_the_frames_showing_it():
    means = mean_drift(coloured_clip(60, jump_entity=3, jump_frame=50))
    curves = identity_drift(coloured_clip(60, jump_entity=3, jump_frame=50))
    assert set(means) == {1, 2, 3}
    assert means[3] == pytest.approx(np.mean(curves[3].delta_e)) and means[3] > 10.0 * 10 / 60
    assert means[1] < 1e-9 and np.isfinite(means[2]) and means[2] < 1e-9  # frames away (NaN) left out


def test_surface_colour_difference_chromaticity_ignores_brightness():
    instance = blocks_instance()
    coords = surface_grid(instance)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[instance > 0] = (100, 100, 100)
    brighter = rgb.copy()
    brighter[instance > 0] = (150, 150, 150)
    full = surface_colour_difference(rgb, brighter, instance, coords, instance, coords)
    chroma = surface_colour_difference(
        rgb, brighter, instance, coords, instance, coords, chromaticity_only=True
    )
    assert full.overall > 15.0
    assert chroma.overall == pytest.approx(0.0, abs=1e-3)
    assert full.matched == (instance > 0).sum()


def test_fidelity_identical_is_inf_and_one_and_matches_skimage():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    result = fidelity(image, image, blocks_instance())
    assert result.psnr == float("inf") and result.ssim == pytest.approx(1.0)
    assert all(v == float("inf") for v in result.per_entity_psnr.values())
    noisy = np.clip(image.astype(int) + rng.integers(-10, 11, image.shape), 0, 255).astype(np.uint8)
    result = fidelity(noisy, image, blocks_instance())
    mse = ((noisy / 255.0 - image / 255.0) ** 2).mean()
    assert result.psnr == pytest.approx(10 * np.log10(1 / mse), rel=1e-9)
    expected = structural_similarity(
        image / 255.0, noisy / 255.0, data_range=1.0, channel_axis=-1, win_size=7
    )
    assert result.ssim == pytest.approx(expected, rel=1e-9)


def test_boundary_f_score_exact_shifted_and_canny():
    instance = blocks_instance()
    edges = guidance_edges(instance)
    assert boundary_f_score(edges, edges).f_score == 1.0
    line = np.zeros((H, W), bool)
    line[:, 10] = True
    extra = line.copy()
    extra[:, 20] = True  # half the predicted edges are spurious: P = 0.5, R = 1, F = 2/3
    score = boundary_f_score(extra, line, tolerance=1.0)
    assert (score.precision, score.recall) == (0.5, 1.0) and score.f_score == pytest.approx(2 / 3)
    assert boundary_f_score(np.roll(edges, 1, axis=1), edges, tolerance=1.0).f_score == 1.0
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[instance > 0] = 255
    rgb[instance == 2] = 120
    score = boundary_f_score(image_edges(rgb), edges, tolerance=2.0)
    assert score.f_score > 0.9
    homogeneity = region_homogeneity(rgb, instance)
    assert set(homogeneity) == {1, 2, 3} and max(homogeneity.values()) < 1e-9
    rgb[instance == 1] = np.where(np.arange(W)[None, :, None] % 2, 0, 255)[0:1].repeat(H, 0)[instance == 1]
    assert region_homogeneity(rgb, instance)[1] > 40.0


def test_guidance_edges_depth_discontinuity_inside_one_entity():
    instance = np.ones((H, W), np.uint16)
    depth = np.full((H, W), 2.0)
    depth[:, 16:] = 3.0
    edges = guidance_edges(instance, depth)
    assert edges[:, 15].all() and edges.sum() == H


def test_flicker_energy_matches_six_sigma_squared_for_iid_noise():
    rng = np.random.default_rng(2)
    sigma = 0.05
    size = 256
    frames = [np.clip(0.5 + rng.normal(0, sigma, (size, size, 3)), 0, 1) for _ in range(3)]
    instance = np.ones((size, size), np.uint16)
    static = static_mask(np.zeros((size, size, 2)), np.ones((size, size), bool), instance, instance)
    result = flicker_energy(*frames, static, static, instance)
    assert result.overall == pytest.approx(6 * sigma**2, rel=0.03)
    steady = flicker_energy(frames[0], frames[0], frames[0], static, static)
    assert steady.overall == 0.0
    moving = np.zeros((size, size, 2))
    moving[..., 0] = 1.0
    assert not static_mask(moving, np.ones((size, size), bool), instance, instance).any()
