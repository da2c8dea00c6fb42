"""Linear RGB <-> sRGB encoding (IEC 61966-2-1), shared by every renderer and the diffusion model."""

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
