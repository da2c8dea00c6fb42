"""The lights a lighting kind stands for, where words choose a scene's lighting.

One table (``PRESETS``): a kind (``worldsim.text.words.LIGHTING_KINDS``) -> a captured environment
(a shipped HDRI, its intensity) and/or a procedural sky, and a sun (colour, irradiance, elevation).
The sun's azimuth and the map's rotation are drawn from the scene seed, so a seed always gives the
same lights. Time-of-day kinds carry the sun that makes them read as that time: a low warm sun at
sunset and sunrise, a high white one at midday, a faint cool moon at night. A daylight sun's
irradiance follows its elevation through the clear-sky air-mass model
(``clear_sky_sun_irradiance``), so a low sun is dimmer than a high one, as outdoors.
``sun_direction`` and ``sun_elevation_deg`` convert between a sun's place in the sky and the
``LightSpec.direction`` its light travels along.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldsim.randomness import derive_seed
from worldsim.scene.model import LightSpec

PURPOSE = "lighting_preset"
ZENITH_SUN_IRRADIANCE = 4.6
"""W/m^2 (the scene's light units): a clear-sky sun at the zenith; 4.5 at midday's 68 degrees."""


def clear_sky_sun_irradiance(elevation_deg: float) -> float:
    """Normal irradiance of a clear-sky sun at ``elevation_deg``, relative to the zenith's
    ``ZENITH_SUN_IRRADIANCE``: Meinel and Meinel (1976) ``0.7 ** (AM ** 0.678)`` with the air mass
    AM of Kasten and Young (1989). About 0.52 of the zenith's at 12 degrees (a sunset)."""
    if not 0.0 < elevation_deg <= 90.0:
        raise ValueError(f"sun elevation must be in (0, 90] degrees, got {elevation_deg}")
    air_mass = 1.0 / (np.sin(np.radians(elevation_deg)) + 0.50572 * (elevation_deg + 6.07995) ** -1.6364)
    return float(ZENITH_SUN_IRRADIANCE * 0.7 ** (air_mass**0.678) / 0.7)


def sun_direction(elevation: float, azimuth: float) -> list[float]:
    """``LightSpec.direction`` (from the sun to the scene) of a sun ``elevation`` radians above the
    horizon, ``azimuth`` radians about +Z from +X."""
    return [
        float(-np.cos(elevation) * np.cos(azimuth)),
        float(-np.cos(elevation) * np.sin(azimuth)),
        float(-np.sin(elevation)),
    ]


def sun_elevation_deg(direction: list[float]) -> float:
    """Degrees above the horizon of the sun whose light travels along ``direction``."""
    direction = np.asarray(direction, dtype=np.float64)
    return float(np.degrees(np.arcsin(-direction[2] / max(np.linalg.norm(direction), 1e-9))))


@dataclass(frozen=True)
class LightingPreset:
    """hdri: a shipped map name or "" (then ``sky``), graded by ``hdri_color``; sun: (colour,
    irradiance W/m^2, elevation deg)."""

    hdri: str = ""
    hdri_intensity: float = 1.0
    hdri_color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    sky_color: tuple[float, float, float] = (0.55, 0.7, 1.0)
    sky_intensity: float = 0.8
    sun: tuple[tuple[float, float, float], float, float] | None = None


PRESETS: dict[str, LightingPreset] = {
    # the shipped sunset map is blue on average (8800 K: its sky outweighs its sun): a golden-hour
    # grade (5300 K on average) and the warm low sun carry the time of day; the dusk skies are
    # dimmer than the midday one (about a third)
    "sunset": LightingPreset(
        hdri="sunset",
        hdri_intensity=0.3,
        hdri_color=(1.0, 0.75, 0.5),
        sun=((1.0, 0.5, 0.25), clear_sky_sun_irradiance(12.0), 12.0),
    ),
    "sunrise": LightingPreset(
        hdri="sunrise", hdri_intensity=0.25, sun=((1.0, 0.65, 0.4), clear_sky_sun_irradiance(14.0), 14.0)
    ),
    "night": LightingPreset(hdri="night", hdri_intensity=0.3, sun=((0.55, 0.65, 1.0), 0.5, 40.0)),
    "midday": LightingPreset(sun=((1.0, 0.97, 0.92), clear_sky_sun_irradiance(68.0), 68.0)),
    "low_sun": LightingPreset(sun=((1.0, 0.85, 0.7), clear_sky_sun_irradiance(22.0), 22.0)),
    "sky": LightingPreset(sun=((1.0, 0.95, 0.9), clear_sky_sun_irradiance(45.0), 45.0)),
    "forest": LightingPreset(hdri="forest"),
    "interior": LightingPreset(hdri="interior"),
    "studio": LightingPreset(hdri="studio"),
    "city": LightingPreset(hdri="city"),
    "courtyard": LightingPreset(hdri="courtyard"),
}


def preset_lights(kind: str, seed: int) -> list[LightSpec]:
    """The lights of lighting kind ``kind`` for scene seed ``seed`` (environment first)."""
    if kind not in PRESETS:
        raise ValueError(f"unknown lighting kind {kind!r}; known: {', '.join(PRESETS)}")
    preset = PRESETS[kind]
    rng = np.random.default_rng(derive_seed(seed, PURPOSE))
    azimuth = float(rng.uniform(0.0, 2.0 * np.pi))
    direction = sun_direction(np.radians(preset.sun[2] if preset.sun is not None else 45.0), azimuth)
    if preset.hdri:
        environment = LightSpec(
            type="environment",
            name=f"{kind}_environment",
            hdri=preset.hdri,
            rotation_deg=float(rng.uniform(0.0, 360.0)),
            color=list(preset.hdri_color),
            intensity=preset.hdri_intensity,
        )
    else:
        environment = LightSpec(
            type="environment",
            name=f"{kind}_sky",
            sky="procedural",
            direction=direction,
            color=list(preset.sky_color),
            intensity=preset.sky_intensity,
        )
    lights = [environment]
    if preset.sun is not None:
        colour, irradiance, _ = preset.sun
        lights.append(
            LightSpec(
                type="sun", name=f"{kind}_sun", direction=direction, color=list(colour), intensity=irradiance
            )
        )
    return lights
