"""The renderer v2's composition: pixel filter, torch tone map, lighting code and training loss."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from renderers.diffusion.compose import PIXEL_FILTER_TAPS, display_torch, pixel_filter, pixel_filter_torch
from renderers.diffusion.lighting_code import (
    AMBIENT,
    DOMINANT_DIRECTION,
    DOMINANT_STRENGTH,
    LightingCode,
    dominant_direction,
)
from renderers.guidance.synthetic import ground_box_sphere
from renderers.lighting.environment import EnvironmentMap
from renderers.tonemap import tonemap
from worldsim.camera.conventions import direction_to_equirect
from worldsim.scene.model import LightSpec


def test_pixel_filter_is_the_normalised_gaussian_and_torch_agrees() -> None:
    taps = PIXEL_FILTER_TAPS
    assert taps.shape == (5,) and abs(taps.sum() - 1.0) < 1e-6
    np.testing.assert_allclose(taps, taps[::-1], atol=1e-7)
    # Mitsuba's gaussian (stddev 0.5 px) integrated over the centre pixel keeps most of the weight
    assert 0.6 < taps[2] < 0.8 and 0.1 < taps[1] < 0.2 and taps[0] < 0.01
    impulse = np.zeros((9, 9, 1), dtype=np.float32)
    impulse[4, 4] = 1.0
    np.testing.assert_allclose(pixel_filter(impulse)[2:7, 2:7, 0], np.outer(taps, taps), atol=1e-7)
    flat = np.full((6, 7, 3), 0.25, dtype=np.float32)
    np.testing.assert_allclose(pixel_filter(flat), flat, atol=1e-7)
    image = np.random.default_rng(0).random((10, 12, 3)).astype(np.float32)
    ours = pixel_filter_torch(torch.from_numpy(image).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, pixel_filter(image), atol=1e-6)


@pytest.mark.parametrize("curve", ["filmic", "standard"])
def test_display_torch_is_the_camera_tone_map(curve: str) -> None:
    radiance = np.random.default_rng(1).lognormal(-1.5, 1.5, size=(2, 5, 4, 3)).astype(np.float32)
    expected = tonemap(radiance, curve=curve)
    tensor = torch.from_numpy(radiance).permute(0, 3, 1, 2)
    made = display_torch(tensor, torch.tensor([curve == "filmic"] * 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(made, expected, atol=2e-5)


def test_lighting_code_of_a_sun_and_a_uniform_sky() -> None:
    trajectory = ground_box_sphere(2, (16, 16), camera_step=0.5)
    sun = LightSpec(type="sun", direction=[0.3, -0.2, -1.0], intensity=3.0, color=[1.0, 0.5, 0.5])
    sky = LightSpec(type="environment", sky="uniform", color=[0.2, 0.4, 0.6], intensity=1.0)
    trajectory = dataclasses.replace(trajectory, lights=[sun, sky])
    code = LightingCode(trajectory, "main")
    for frame in range(2):
        values = code(frame)
        world_from_camera = trajectory.cameras["main"].cam_to_world[frame][:3, :3]
        towards = -np.asarray(sun.direction) / np.linalg.norm(sun.direction)
        np.testing.assert_allclose(values[DOMINANT_DIRECTION], world_from_camera.T @ towards, atol=1e-6)
        np.testing.assert_allclose(values[DOMINANT_STRENGTH], np.log1p(3.0 * 2.0 / 3.0), rtol=1e-6)
        # a uniform sky of radiance L lights every orientation with E / pi = L
        ambient = values[AMBIENT].reshape(6, 3)
        np.testing.assert_allclose(ambient, np.log1p(np.tile([0.2, 0.4, 0.6], (6, 1))), rtol=1e-3)


def test_dominant_direction_finds_the_bright_spot() -> None:
    radiance = np.full((64, 128, 3), 0.1, dtype=np.float32)
    target = np.array([0.3, -0.8, 0.5]) / np.linalg.norm([0.3, -0.8, 0.5])
    u, v = direction_to_equirect(target, 40.0)
    radiance[int(v * 64), int(u * 128)] = 500.0
    direction, strength = dominant_direction(EnvironmentMap(radiance, rotation_deg=40.0))
    # the 16 x 32 grid the spot is found on: within one texel (11.25 degrees) of it
    assert np.degrees(np.arccos(np.clip(direction @ target, -1, 1))) < 12.0
    assert strength > 10 * 0.1 * 4 * np.pi / 512
