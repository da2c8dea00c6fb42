"""Surface-anchored noise: white and unit-variance in every frame, fixed to surfaces over time."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.diffusion.noise import anchored_noise, frame_noise_inputs, white_noise
from renderers.guidance import render_guidance
from renderers.guidance.synthetic import (
    ground_box_sphere,
)

SIZE = (64, 48)
FACTOR = 4
FRAMES = 3


def clip(camera_step: float = 0.0, spin: float = 0.0):
    """Ground, a box and a sphere; the camera slides by ``camera_step`` m per frame."""
    trajectory = ground_box_sphere(FRAMES, SIZE, camera_step=camera_step, spin=spin)
    fine = trajectory.with_resolution(SIZE[0] * FACTOR, SIZE[1] * FACTOR)
    noises = [
        anchored_noise(frame_noise_inputs(guidance, fine.cameras["main"]), FACTOR, seed=7)
        for guidance in render_guidance(fine)
    ]
    return trajectory, noises


@pytest.fixture(scope="module")
def sliding():
    return clip(camera_step=0.06, spin=0.05)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_every_frame_is_white_unit_gaussian(sliding):
    _, noises = sliding
    for noise in noises:
        assert noise.shape == (3, SIZE[1], SIZE[0]) and noise.dtype == np.float32
        assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1.0) < 0.05
        for channel in noise:
            assert abs(correlation(channel[:, 1:], channel[:, :-1])) < 0.1
            assert abs(correlation(channel[1:], channel[:-1])) < 0.1
        assert abs(correlation(noise[0], noise[1])) < 0.1
        kurtosis = np.mean(noise**4) / np.mean(noise**2) ** 2
        assert 2.7 < kurtosis < 3.3  # Gaussian, not uniform (1.8) or spiky


def test_static_scene_gets_identical_noise_every_frame():
    _, noises = clip(camera_step=0.0, spin=0.0)
    np.testing.assert_array_equal(noises[0], noises[2])


def test_noise_follows_surfaces_under_motion(sliding):
    """Pulled back along the ground-truth flow, frame t+1's noise matches frame t's far better than
    at the same pixels; fresh white noise does not match at all."""
    trajectory, noises = sliding
    guidance = list(render_guidance(trajectory))
    flow, valid = guidance[0].flow_forward, guidance[0].flow_forward_valid
    ys, xs = np.nonzero(valid)
    tx = np.clip(np.round(xs + flow[ys, xs, 0]).astype(int), 0, SIZE[0] - 1)
    ty = np.clip(np.round(ys + flow[ys, xs, 1]).astype(int), 0, SIZE[1] - 1)
    anchored = correlation(noises[0][:, ys, xs], noises[1][:, ty, tx])
    same_pixels = correlation(noises[0][:, ys, xs], noises[1][:, ys, xs])
    white = correlation(
        white_noise(noises[0].shape, 1)[:, ys, xs], white_noise(noises[0].shape, 2)[:, ty, tx]
    )
    assert anchored > 0.6 and anchored > same_pixels + 0.2, (anchored, same_pixels)
    assert abs(white) < 0.05


def test_seed_changes_everything(sliding):
    trajectory, noises = sliding
    fine = trajectory.with_resolution(SIZE[0] * FACTOR, SIZE[1] * FACTOR)
    guidance = next(iter(render_guidance(fine, frames=[0])))
    other = anchored_noise(frame_noise_inputs(guidance, fine.cameras["main"]), FACTOR, seed=8)
    assert abs(correlation(noises[0], other)) < 0.05
