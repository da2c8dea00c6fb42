"""Linear RGB -> display sRGB, shared by every appearance renderer."""

from __future__ import annotations

import numpy as np


def linear_to_srgb_uint8(linear: np.ndarray, exposure_stops: float = 0.0) -> np.ndarray:
    """(H, W, 3) linear RGB, scaled by ``2 ** exposure_stops`` -> uint8 sRGB (IEC 61966-2-1 curve).

    Non-finite values (a NaN from a degenerate path) become 0 rather than poisoning the frame.
    """
    linear = np.nan_to_num(np.asarray(linear, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
    linear = np.clip(linear * (2.0**exposure_stops), 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return np.round(srgb * 255.0).astype(np.uint8)
