"""Lighting presets: a low sun is dimmer than a high one, and the times of day are ordered as outdoors."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.lighting.environment import environment_map
from renderers.lighting.sh import CLAMPED_COSINE_WEIGHTS, sh_basis
from worldsim.metrics.text_adherence import LUMINANCE, colour_temperature
from worldsim.scene.lighting_presets import (
    PRESETS,
    ZENITH_SUN_IRRADIANCE,
    clear_sky_sun_irradiance,
    preset_lights,
    sun_direction,
    sun_elevation_deg,
)


def test_clear_sky_sun_follows_the_air_mass_model() -> None:
    assert clear_sky_sun_irradiance(90.0) == pytest.approx(ZENITH_SUN_IRRADIANCE, rel=1e-3)
    # air mass 1.5 (the solar-cell standard, sun at 41.8 degrees): Meinel's 0.845 of 0.947 kW/m^2
    assert clear_sky_sun_irradiance(41.81) / ZENITH_SUN_IRRADIANCE == pytest.approx(0.845 / 0.947, rel=0.01)
    elevations = np.linspace(2.0, 90.0, 45)
    values = [clear_sky_sun_irradiance(float(e)) for e in elevations]
    assert np.all(np.diff(values) > 0)
    with pytest.raises(ValueError, match="elevation"):
        clear_sky_sun_irradiance(-5.0)


def test_sun_direction_points_down_from_the_sun_and_round_trips() -> None:
    for elevation_deg, azimuth_deg in [(12.0, 0.0), (45.0, 90.0), (68.0, 200.0), (89.0, 300.0)]:
        direction = np.asarray(sun_direction(np.radians(elevation_deg), np.radians(azimuth_deg)))
        assert np.linalg.norm(direction) == pytest.approx(1.0) and direction[2] < 0.0
        # seen from the scene, the sun stands at the azimuth: -direction's heading
        assert np.degrees(np.arctan2(-direction[1], -direction[0])) % 360.0 == pytest.approx(azimuth_deg)
        assert sun_elevation_deg(list(direction * 3.0)) == pytest.approx(elevation_deg)


def _irradiance(kind: str, seed: int) -> tuple[float, float, float, float]:
    """Luminance of the irradiance on the ground and (mean over 16 azimuths) on walls, the
    irradiance's colour temperature, and the sky's mean luminance."""
    azimuths = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)
    walls = np.stack([np.cos(azimuths), np.sin(azimuths), np.zeros(16)], axis=1)
    normals = np.concatenate([[[0.0, 0.0, 1.0]], walls])
    irradiance, sky = np.zeros((17, 3)), 0.0
    for light in preset_lights(kind, seed):
        if light.type == "environment":
            environment = environment_map(light)
            irradiance += sh_basis(normals) @ (CLAMPED_COSINE_WEIGHTS[:, None] * environment.sh_coefficients)
            sky += float(environment.radiance.reshape(-1, 3).mean(axis=0) @ LUMINANCE)
        else:
            cosine = np.maximum(normals @ -np.asarray(light.direction), 0.0)
            irradiance += cosine[:, None] * np.asarray(light.color) * light.intensity
    luminance = irradiance @ LUMINANCE
    return float(luminance[0]), float(luminance[1:].mean()), colour_temperature(irradiance.mean(axis=0)), sky


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_night_is_darker_than_sunset_which_is_darker_and_warmer_than_midday(seed: int) -> None:
    night, sunset, sunrise, midday = (
        _irradiance(kind, seed) for kind in ("night", "sunset", "sunrise", "midday")
    )
    for measure in range(2):  # ground, walls
        assert night[measure] < sunset[measure] < midday[measure]
        assert sunrise[measure] < midday[measure]
    assert night[3] < sunset[3] < midday[3]  # the sky the camera sees
    assert sunset[2] < min(night[2], midday[2]) - 500.0  # kelvin
    assert sunrise[2] < midday[2] - 500.0


def test_every_preset_builds_its_lights() -> None:
    for kind, preset in PRESETS.items():
        lights = preset_lights(kind, 7)
        assert lights[0].type == "environment"
        assert (preset.sun is not None) == any(light.type == "sun" for light in lights)
        assert preset_lights(kind, 7) == lights  # a seed always gives the same lights


def test_described_scene_writes_out_the_sunset_preset() -> None:
    from worldsim.scene.yaml_io import load_scene

    scene = load_scene("scenes/described.yaml")
    preset = preset_lights("sunset", scene.seed)
    assert [light.type for light in scene.lights] == [light.type for light in preset]
    for given, expected in zip(scene.lights, preset, strict=True):
        assert given.intensity == pytest.approx(expected.intensity, abs=0.01)
        assert np.allclose(given.color, expected.color) and given.hdri == expected.hdri
    assert np.allclose(scene.lights[1].direction, preset[1].direction, atol=1e-3)
    assert scene.lights[0].rotation_deg == pytest.approx(preset[0].rotation_deg, abs=0.1)
