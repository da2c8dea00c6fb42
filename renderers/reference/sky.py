"""The procedural sky: a lat-long radiance bitmap (zenith-to-horizon gradient, ground, sun disc).

Mitsuba's ``envmap`` looks a local direction ``d`` up at ``u = atan2(d.x, -d.z) / 2pi``,
``v = acos(d.y) / pi`` (local Y up). ``world_from_envmap`` turns that frame so local Y is our
world Z (up); ``texel_directions`` inverts the lookup, so the bitmap is evaluated in world directions.
"""

from __future__ import annotations

import numpy as np

ZENITH = np.array([0.22, 0.42, 0.85])
HORIZON = np.array([0.75, 0.83, 0.93])
GROUND = np.array([0.32, 0.3, 0.28])
SUN_RADIUS_DEG = 2.0
SUN_RADIANCE = 30.0
"""Radiance of the sun disc relative to the sky's unit scale (before the light's intensity)."""
HORIZON_BLEND = 0.05
"""Elevation (sin) over which the ground blends into the horizon colour."""


def world_from_envmap() -> np.ndarray:
    """(4, 4) rotation taking the envmap's local axes (Y up) to world axes (Z up)."""
    matrix = np.eye(4)
    matrix[:3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    return matrix


def texel_directions(rows: int, columns: int) -> np.ndarray:
    """(rows, columns, 3) unit world directions of the bitmap's texel centres."""
    u = (np.arange(columns) + 0.5) / columns
    v = (np.arange(rows) + 0.5) / rows
    phi, theta = np.meshgrid(2.0 * np.pi * u, np.pi * v)
    local = np.stack([np.sin(theta) * np.sin(phi), np.cos(theta), -np.sin(theta) * np.cos(phi)], axis=-1)
    return local @ world_from_envmap()[:3, :3].T


def procedural_sky(shape: tuple[int, int], sun_direction: np.ndarray) -> np.ndarray:
    """(rows, columns, 3) float64 sky radiance; ``sun_direction`` points from the sun to the scene."""
    directions = texel_directions(*shape)
    elevation = directions[..., 2:3]
    sky = HORIZON + (ZENITH - HORIZON) * np.sqrt(np.clip(elevation, 0.0, 1.0))
    ground_weight = np.clip(-elevation / HORIZON_BLEND, 0.0, 1.0)
    radiance = sky * (1.0 - ground_weight) + GROUND * ground_weight
    to_sun = -np.asarray(sun_direction, dtype=np.float64)
    to_sun /= np.linalg.norm(to_sun)
    cosine = directions @ to_sun
    disc = cosine >= np.cos(np.radians(SUN_RADIUS_DEG))
    disc[np.unravel_index(np.argmax(cosine), cosine.shape)] = True  # the disc is smaller than a texel
    glow_cos = np.cos(np.radians(8 * SUN_RADIUS_DEG))
    glow = np.clip((cosine - glow_cos) / (1.0 - glow_cos), 0.0, 1.0) ** 4
    radiance = radiance + (glow * 0.5)[..., None] * HORIZON
    radiance[disc] = SUN_RADIANCE
    return radiance
