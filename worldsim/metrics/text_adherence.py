"""Text adherence: does a rendered clip show what its words said? Measured with exact masks.

- ``entity_reflectance_lab``: the median CIELAB colour of an entity's pixels in the image divided
  by the diffuse shading ``irradiance / pi`` (so a white entity in dim light still counts as white).
- ``highlight_area``: the share of an entity's pixels brighter than ``HIGHLIGHT_RATIO`` x its
  median luminance (a glossy finish concentrates light into highlights; a matte one does not).
- ``colour_temperature``: correlated colour temperature (McCamy 1992) of a mean linear RGB colour;
  ``mean_brightness``: the mean luminance of a linear image.
"""

from __future__ import annotations

import numpy as np

from worldsim.text.colours import RGB_TO_XYZ, linear_rgb_to_lab

HIGHLIGHT_RATIO = 1.5
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])
"""Rec. 709 luminance weights of linear RGB."""
MIN_PIXELS = 8


def entity_reflectance_lab(
    linear: np.ndarray, irradiance: np.ndarray, instance: np.ndarray, entity: int, exposure_ev: float = 0.0
) -> np.ndarray | None:
    """(3,) median CIELAB of ``linear / (2**exposure_ev * irradiance / pi)`` over ``entity``'s
    pixels (``linear``, ``irradiance``: (..., H, W, 3); ``instance``: (..., H, W)), or None when
    it has fewer than ``MIN_PIXELS`` lit pixels."""
    shading = np.asarray(irradiance, dtype=np.float64) / np.pi * 2.0**exposure_ev
    pixels = (np.asarray(instance) == entity) & (shading.min(axis=-1) > 1e-3)
    if pixels.sum() < MIN_PIXELS:
        return None
    reflectance = np.asarray(linear, dtype=np.float64)[pixels] / shading[pixels]
    return np.median(linear_rgb_to_lab(np.clip(reflectance, 0.0, 1.0)), axis=0)


def highlight_area(linear: np.ndarray, instance: np.ndarray, entity: int) -> float | None:
    """Share of ``entity``'s pixels brighter than ``HIGHLIGHT_RATIO`` x its median luminance."""
    pixels = np.asarray(instance) == entity
    if pixels.sum() < MIN_PIXELS:
        return None
    luminance = np.asarray(linear, dtype=np.float64)[pixels] @ LUMINANCE
    return float(np.mean(luminance > HIGHLIGHT_RATIO * max(float(np.median(luminance)), 1e-6)))


def mean_brightness(linear: np.ndarray) -> float:
    """Mean luminance of a linear RGB image (..., 3)."""
    return float(np.asarray(linear, dtype=np.float64).reshape(-1, 3).mean(axis=0) @ LUMINANCE)


def colour_temperature(rgb: np.ndarray) -> float:
    """CCT in kelvin of a linear sRGB colour (3,) (McCamy's cubic in the CIE 1931 chromaticity)."""
    xyz = RGB_TO_XYZ @ np.maximum(np.asarray(rgb, dtype=np.float64), 1e-9)
    x, y = xyz[0] / xyz.sum(), xyz[1] / xyz.sum()
    n = (x - 0.3320) / (0.1858 - y)
    return float(449.0 * n**3 + 3525.0 * n**2 + 6823.3 * n + 5520.33)
