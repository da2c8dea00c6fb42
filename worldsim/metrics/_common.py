"""Small helpers shared by the metric modules: image scaling and per-entity iteration."""

from __future__ import annotations

import numpy as np


def to_float_image(image: np.ndarray) -> np.ndarray:
    """(H, W, C) uint8 or float image -> float64 in [0, 1] (uint8 is divided by 255)."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    return image.astype(np.float64)


def entity_ids(instance: np.ndarray) -> list[int]:
    """Sorted non-background ids present in an (H, W) instance map."""
    return [int(i) for i in np.unique(instance) if i != 0]


def masked_mean(values: np.ndarray, mask: np.ndarray) -> float:
    """Mean of ``values`` (H, W) over ``mask`` (H, W) bool; NaN when the mask is empty."""
    count = int(mask.sum())
    return float(values[mask].mean()) if count else float("nan")
