"""Spherical-harmonic irradiance against closed forms, and the environment maps' orientation."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.lighting.environment import (
    PROCEDURAL_SKY_ROTATION_DEG,
    EnvironmentMap,
    bilinear_latlong,
    downsample_latlong,
    environment_map,
)
from renderers.lighting.sh import latlong_solid_angles, project_radiance, sh_irradiance
from renderers.reference.sky import texel_directions
from worldsim.camera.conventions import equirect_direction
from worldsim.scene.model import LightSpec


def _latlong(rows: int, function) -> np.ndarray:
    columns = 2 * rows
    uu, vv = np.meshgrid((np.arange(columns) + 0.5) / columns, (np.arange(rows) + 0.5) / rows)
    directions = equirect_direction(uu, vv)
    return function(directions).astype(np.float32)


def _random_normals(count: int, seed: int = 0) -> np.ndarray:
    normals = np.random.default_rng(seed).normal(size=(count, 3))
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def test_solid_angles_cover_the_sphere():
    assert latlong_solid_angles(64, 128).sum() * 128 == pytest.approx(4 * np.pi, rel=1e-12)


def test_constant_radiance_gives_pi_times_radiance():
    radiance = np.array([0.5, 1.0, 2.0])
    environment = EnvironmentMap(_latlong(64, lambda d: np.broadcast_to(radiance, d.shape)))
    normals = _random_normals(200)
    expected = np.pi * radiance
    np.testing.assert_allclose(
        sh_irradiance(environment.sh_coefficients, normals), np.tile(expected, (200, 1)), rtol=2e-3
    )
    uniform = environment_map(
        LightSpec(type="environment", sky="uniform", color=[0.5, 1.0, 2.0], intensity=1.0)
    )
    np.testing.assert_allclose(
        sh_irradiance(uniform.sh_coefficients, normals), np.tile(expected, (200, 1)), rtol=1e-6
    )


def test_linear_in_cos_theta_radiance_matches_the_closed_form():
    # L(w) = 1 + cos(theta) is band-limited to l <= 1, so its irradiance is exact in SH:
    # E(n) = integral (1 + w_z) max(n . w, 0) dw = pi + (2 pi / 3) n_z.
    rows = 128
    radiance = _latlong(rows, lambda d: np.repeat(1.0 + d[..., 2:3], 3, axis=-1))
    uu, vv = np.meshgrid((np.arange(2 * rows) + 0.5) / (2 * rows), (np.arange(rows) + 0.5) / rows)
    directions = equirect_direction(uu, vv).reshape(-1, 3)
    solid = np.repeat(latlong_solid_angles(rows, 2 * rows), 2 * rows)
    coefficients = project_radiance(radiance.reshape(-1, 3), directions, solid)
    normals = _random_normals(300, seed=1)
    expected = np.pi + 2.0 * np.pi / 3.0 * normals[:, 2]
    np.testing.assert_allclose(sh_irradiance(coefficients, normals)[:, 0], expected, rtol=1e-3)


def test_sh_irradiance_of_a_captured_map_is_close_to_brute_force_integration():
    radiance = downsample_latlong(
        environment_map(LightSpec(type="environment", hdri="courtyard")).radiance, 64
    )
    environment = EnvironmentMap(radiance)
    rows, columns = radiance.shape[:2]
    uu, vv = np.meshgrid((np.arange(columns) + 0.5) / columns, (np.arange(rows) + 0.5) / rows)
    directions = equirect_direction(uu, vv).reshape(-1, 3)
    solid = np.repeat(latlong_solid_angles(rows, columns), columns)
    normals = _random_normals(64, seed=2)
    cosine = np.maximum(normals @ directions.T, 0.0) * solid
    brute = cosine @ radiance.reshape(-1, 3).astype(np.float64)
    fitted = sh_irradiance(environment.sh_coefficients, normals)
    # Order-2 SH keeps irradiance to a few percent (Ramamoorthi and Hanrahan: ~3 % on average for
    # their maps; the courtyard's sun makes it 3.5 %).
    assert np.mean(np.abs(fitted - brute)) / np.mean(brute) < 0.05


def test_procedural_sky_bitmap_is_our_map_turned_minus_90_degrees():
    rows, columns = 16, 32
    uu, vv = np.meshgrid((np.arange(columns) + 0.5) / columns, (np.arange(rows) + 0.5) / rows)
    ours = equirect_direction(uu, vv, PROCEDURAL_SKY_ROTATION_DEG)
    np.testing.assert_allclose(ours, texel_directions(rows, columns), atol=1e-12)


def test_lookup_finds_a_bright_spot_where_the_convention_puts_it():
    image = np.zeros((32, 64, 3), dtype=np.float32)
    image[8, 40] = 100.0
    u, v = (40 + 0.5) / 64, (8 + 0.5) / 32
    for rotation in (0.0, 75.0):
        environment = EnvironmentMap(image, rotation)
        spot = equirect_direction(u, v, rotation)[None]
        assert environment.lookup(spot)[0, 0] == pytest.approx(100.0, rel=1e-5)
        assert environment.lookup(-spot)[0, 0] == 0.0
    np.testing.assert_allclose(bilinear_latlong(image, np.array([u]), np.array([v])), [[100.0, 100.0, 100.0]])


def test_prefiltered_levels_keep_energy_and_blur_with_roughness():
    environment = environment_map(LightSpec(type="environment", hdri="studio"))
    directions = _random_normals(4000, seed=3)
    sharp = environment.prefiltered(directions, np.zeros(4000))
    rough = environment.prefiltered(directions, np.ones(4000))
    # Blurring keeps the map's mean radiance (L_00 / (4 pi Y_00)) and removes contrast.
    mean_radiance = environment.sh_coefficients[0] / (4.0 * np.pi * 0.282094791773878)
    np.testing.assert_allclose(rough.mean(axis=0), mean_radiance, rtol=0.05)
    assert np.all(rough.std(axis=0) < 0.5 * sharp.std(axis=0))
