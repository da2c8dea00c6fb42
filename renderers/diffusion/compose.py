"""Neural deferred composition: the renderer v2's image from exact buffers and a learnt residual.

``radiance = pixel_filter(direct + albedo x residual)``, all exposure-scaled (``2 ** exposure_ev``):
``direct`` is the ``direct`` baseline from the full-resolution guidance (sharp textures, shadows
and highlights exactly where the guidance says), ``albedo`` the full-resolution base colour and
``residual`` the network's shading correction (indirect light, soft and contact shadows, glossy
reflections: what the exact buffers do not give), predicted at the native resolution and brought
to the output with the guided upsampler. The background has albedo 0: it is the environment the
direct term already shows.

``pixel_filter`` is the path tracer's reconstruction filter (Mitsuba's ``gaussian``, standard
deviation 0.5 px, radius 2 px) integrated over each neighbouring pixel: the guidance samples
pixel centres, the camera integrates over a footprint, and the composition does what the camera
does. ``display`` is the camera's tone map (``renderers.tonemap``) in torch, for training.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional

from renderers.tonemap import (
    ACES_INPUT_MATRIX,
    ACES_OUTPUT_MATRIX,
    FILMIC_MID_GREY_GAIN,
    aces_fit,
    srgb_encode_curve,
)

FILTER_STDDEV = 0.5
FILTER_RADIUS = 2.0
"""Mitsuba's default ``gaussian`` reconstruction filter (pixels), which the reference renderer uses."""


def _filter_taps() -> np.ndarray:
    """(5,) weights of pixels -2..2: the truncated Gaussian integrated over each pixel, normalised."""

    def gaussian(x: np.ndarray) -> np.ndarray:
        values = np.exp(-0.5 * (x / FILTER_STDDEV) ** 2) - math.exp(
            -0.5 * (FILTER_RADIUS / FILTER_STDDEV) ** 2
        )
        return np.where(np.abs(x) < FILTER_RADIUS, np.maximum(values, 0.0), 0.0)

    offsets = np.arange(-2, 3)
    fine = np.linspace(-0.5, 0.5, 201)
    taps = np.array([np.trapezoid(gaussian(offset + fine), fine) for offset in offsets])
    return (taps / taps.sum()).astype(np.float32)


PIXEL_FILTER_TAPS = _filter_taps()


def pixel_filter(image: np.ndarray) -> np.ndarray:
    """(H, W, C) float32 -> the same, filtered separably with ``PIXEL_FILTER_TAPS`` (edges clamped)."""
    image = np.asarray(image, dtype=np.float32)
    radius = len(PIXEL_FILTER_TAPS) // 2
    padded = np.pad(image, ((radius, radius), (0, 0), (0, 0)), mode="edge")
    rows = sum(tap * padded[i : i + image.shape[0]] for i, tap in enumerate(PIXEL_FILTER_TAPS))
    padded = np.pad(rows, ((0, 0), (radius, radius), (0, 0)), mode="edge")
    return sum(tap * padded[:, i : i + image.shape[1]] for i, tap in enumerate(PIXEL_FILTER_TAPS)).astype(
        np.float32
    )


def pixel_filter_torch(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> the same, filtered like ``pixel_filter``."""
    channels = images.shape[1]
    taps = torch.from_numpy(PIXEL_FILTER_TAPS).to(images)
    radius = len(PIXEL_FILTER_TAPS) // 2
    horizontal = taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    vertical = taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    images = functional.pad(images, (radius, radius, 0, 0), mode="replicate")
    images = functional.conv2d(images, horizontal, groups=channels)
    images = functional.pad(images, (0, 0, radius, radius), mode="replicate")
    return functional.conv2d(images, vertical, groups=channels)


def compose(direct: np.ndarray, albedo: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """(H, W, 3) radiance ``pixel_filter(direct + albedo x residual)`` (same units as ``direct``)."""
    return pixel_filter(
        np.asarray(direct, dtype=np.float32) + np.asarray(albedo, dtype=np.float32) * residual
    )


def display_torch(radiance: torch.Tensor, filmic: torch.Tensor) -> torch.Tensor:
    """(B, 3, ...) exposure-scaled radiance -> sRGB-encoded display values in [0, 1] through the
    ``filmic`` (per item (B,) bool) or ``standard`` tone map: ``renderers.tonemap.tonemap`` in torch."""
    radiance = radiance.clamp(0.0, 1e4)
    moved = radiance.movedim(1, -1)
    working = (moved * FILMIC_MID_GREY_GAIN) @ torch.from_numpy(ACES_INPUT_MATRIX).to(radiance).T
    film = (aces_fit(working) @ torch.from_numpy(ACES_OUTPUT_MATRIX).to(radiance).T).movedim(-1, 1)
    shape = (-1,) + (1,) * (radiance.ndim - 1)
    display = torch.where(filmic.view(shape), film, radiance).clamp(0.0, 1.0)
    return srgb_encode_curve(display)
