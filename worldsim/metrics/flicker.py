"""Flicker: temporal high-frequency energy on surfaces that do not move between frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worldsim.metrics._common import to_float_image

STATIC_FLOW_TOLERANCE_PX = 0.05
"""A pixel whose forward flow is shorter than this (pixels) is static."""


@dataclass
class FlickerResult:
    """Mean squared temporal second difference (I[t+1] - 2 I[t] + I[t-1])^2 on static pixels.

    Colour in [0, 1], mean over channels. For i.i.d. per-frame noise of variance s^2 it is 6 s^2.
    overall: NaN when no pixel is static; per_entity: id -> value; static_fraction in [0, 1].
    """

    overall: float
    per_entity: dict[int, float] = field(default_factory=dict)
    static_fraction: float = 0.0


def static_mask(
    flow_forward: np.ndarray,
    flow_valid: np.ndarray,
    instance: np.ndarray,
    next_instance: np.ndarray,
    tolerance: float = STATIC_FLOW_TOLERANCE_PX,
) -> np.ndarray:
    """(H, W) bool: pixels on an entity whose surface point stays at the pixel from t to t+1.

    flow_forward: (H, W, 2) pixels; flow_valid: (H, W) bool; instance / next_instance: (H, W) ids.
    """
    still = np.linalg.norm(np.asarray(flow_forward, dtype=np.float64), axis=-1) <= tolerance
    return still & np.asarray(flow_valid, bool) & (instance == next_instance) & (instance != 0)


def flicker_energy(
    previous: np.ndarray,
    current: np.ndarray,
    following: np.ndarray,
    static_before: np.ndarray,
    static_after: np.ndarray,
    instance: np.ndarray | None = None,
) -> FlickerResult:
    """Flicker at frame t from frames t-1, t, t+1 ((H, W, 3)) on pixels static over both steps.

    static_before: static mask of t-1 -> t; static_after: of t -> t+1 (see ``static_mask``).
    """
    second = to_float_image(following) - 2 * to_float_image(current) + to_float_image(previous)
    energy = (second**2).mean(axis=-1) if second.ndim == 3 else second**2
    static = np.asarray(static_before, bool) & np.asarray(static_after, bool)
    overall = float(energy[static].mean()) if static.any() else float("nan")
    per_entity: dict[int, float] = {}
    if instance is not None:
        for entity in np.unique(instance[static]):
            per_entity[int(entity)] = float(energy[static & (instance == entity)].mean())
    return FlickerResult(overall, per_entity, float(static.mean()))
