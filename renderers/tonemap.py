"""Colour out: linear RGB <-> sRGB encoding (IEC 61966-2-1) and the camera's tone map.

One tone map turns radiance into sRGB for every renderer (docs/ARCHITECTURE.md, "Colour"): ``tonemap_uint8``
with the camera's ``exposure_ev`` and ``tonemap`` (``filmic`` by default, ``standard`` = clip).
``linear_to_srgb_uint8`` is the bare clip-and-encode of values that are already display-linear
(the diffusion renderer's output, guidance previews).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

ArrayT = TypeVar("ArrayT")


def srgb_encode_curve(linear: ArrayT) -> ArrayT:
    """The IEC 61966-2-1 encoding of linear values already in [0, 1]; works on NumPy arrays and
    torch tensors alike (only operators and ``.clip`` are used)."""
    low = linear <= 0.0031308
    curve = 1.055 * linear.clip(min=0.0031308) ** (1 / 2.4) - 0.055
    return low * (12.92 * linear) + ~low * curve


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear RGB (clipped to [0, 1]; NaN -> 0, +inf -> 1) -> sRGB-encoded float32 in [0, 1]."""
    linear = np.clip(np.nan_to_num(np.asarray(linear, dtype=np.float32), nan=0.0, posinf=1.0), 0.0, 1.0)
    return srgb_encode_curve(linear).astype(np.float32)


def srgb_decode(srgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded values (clipped to [0, 1]) -> linear RGB float32 in [0, 1]."""
    srgb = np.clip(np.asarray(srgb, dtype=np.float32), 0.0, 1.0)
    curve = np.power((np.maximum(srgb, 0.04045) + 0.055) / 1.055, 2.4)
    return np.where(srgb <= 0.04045, srgb / 12.92, curve).astype(np.float32)


def linear_to_srgb_uint8(linear: np.ndarray, exposure_stops: float = 0.0) -> np.ndarray:
    """(H, W, 3) linear RGB, scaled by ``2 ** exposure_stops`` -> uint8 sRGB.

    Non-finite values (a NaN from a degenerate path) become 0 rather than poisoning the frame.
    """
    linear = np.nan_to_num(np.asarray(linear, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.round(srgb_encode(linear * np.float32(2.0**exposure_stops)) * 255.0).astype(np.uint8)


# --- The camera's tone map: scene radiance -> display sRGB ------------------------------------------
TONEMAPS = ("standard", "filmic")
"""``standard``: exposure, clip to [0, 1], sRGB curve. ``filmic``: exposure, the ACES fit, sRGB curve."""
DEFAULT_TONEMAP = "filmic"

ACES_INPUT_MATRIX = np.array(
    [[0.59719, 0.35458, 0.04823], [0.07600, 0.90834, 0.01566], [0.02840, 0.13383, 0.83777]], dtype=np.float32
)
"""Linear sRGB (Rec. 709) -> the ACES fit's working space (ACEScg after the RRT's saturation step)."""
ACES_OUTPUT_MATRIX = np.array(
    [[1.60475, -0.53108, -0.07367], [-0.10208, 1.10813, -0.00605], [-0.00327, -0.07276, 1.07602]],
    dtype=np.float32,
)
"""The fit's output space -> display-linear sRGB (Rec. 709)."""
FILMIC_MID_GREY_GAIN = 1.4619
"""Scene radiance is multiplied by this before the fit so that mid grey 0.18 stays 0.18 on the
display (the bare fit maps it to 0.106): exposure 0 EV means the same mid-tone brightness under
``standard`` and ``filmic``."""


def filmic_curve(linear: np.ndarray) -> np.ndarray:
    """(..., 3) linear scene RGB (>= 0) -> (..., 3) display-linear RGB in [0, 1], float32.

    Stephen Hill's fit of the ACES reference rendering transform plus the sRGB 100-nit output
    transform (BakingLab, ``ACES.hlsl``, 2016): ``c = M_in x``, then per channel
    ``f(c) = (c (c + 0.0245786) - 0.000090537) / (c (0.983729 c + 0.4329510) + 0.238081)``,
    then ``M_out f`` clipped to [0, 1]; ``x`` is the radiance times ``FILMIC_MID_GREY_GAIN``. A toe
    darkens deep shadows (0.01 -> 0.002), mid grey 0.18 stays 0.18, highlights roll off smoothly
    (1 -> 0.73, 4 -> 0.94, 16 -> 0.998) and bright saturated colours desaturate towards white
    instead of clipping per channel.
    """
    linear = np.clip(np.nan_to_num(np.asarray(linear, dtype=np.float32), nan=0.0, posinf=1e4), 0.0, 1e4)
    working = (linear * np.float32(FILMIC_MID_GREY_GAIN)) @ ACES_INPUT_MATRIX.T
    return np.clip(aces_fit(working) @ ACES_OUTPUT_MATRIX.T, 0.0, 1.0).astype(np.float32)


def aces_fit(working: ArrayT) -> ArrayT:
    """Hill's per-channel rational fit of the ACES RRT + ODT in its working space (``filmic_curve``);
    works on NumPy arrays and torch tensors alike (operators only)."""
    return (working * (working + 0.0245786) - 0.000090537) / (
        working * (0.983729 * working + 0.4329510) + 0.238081
    )


def tonemap(linear: np.ndarray, *, exposure_ev: float = 0.0, curve: str = DEFAULT_TONEMAP) -> np.ndarray:
    """(..., 3) linear scene radiance -> (..., 3) sRGB-encoded float32 in [0, 1].

    Radiance is scaled by ``2 ** exposure_ev`` first; ``curve`` is one of ``TONEMAPS``. NaN -> 0.
    """
    if curve not in TONEMAPS:
        raise ValueError(f"tonemap must be one of {', '.join(TONEMAPS)}, got {curve!r}")
    linear = np.nan_to_num(np.asarray(linear, dtype=np.float32), nan=0.0, posinf=1e4, neginf=0.0)
    linear = linear * np.float32(2.0**exposure_ev)
    display = filmic_curve(linear) if curve == "filmic" else linear
    return srgb_encode(display)


def tonemap_uint8(
    linear: np.ndarray, *, exposure_ev: float = 0.0, curve: str = DEFAULT_TONEMAP
) -> np.ndarray:
    """(H, W, 3) linear scene radiance -> (H, W, 3) uint8 sRGB through ``tonemap``: what every
    renderer that produces radiance writes (the camera's ``exposure_ev`` and ``tonemap``)."""
    return np.round(tonemap(linear, exposure_ev=exposure_ev, curve=curve) * 255.0).astype(np.uint8)
