"""Identity drift: per-entity appearance statistics against the entity's first appearance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from skimage.color import rgb2lab
from skimage.feature import local_binary_pattern

from worldsim.metrics._common import to_float_image

HISTOGRAM_BINS = 8
"""Bins per RGB channel of the colour histogram (8^3 cells)."""
LBP_POINTS = 8
LBP_RADIUS = 1.0
MIN_PIXELS = 4
"""Fewer visible pixels than this and the entity counts as not visible in that frame."""


@dataclass
class EntityAppearance:
    """Appearance statistics of one entity in one frame.

    mean_lab: (3,) CIELAB mean; histogram: (bins^3,) normalised RGB histogram; texture: (P+2,)
    normalised histogram of uniform LBP codes of the luminance, over the entity's pixels.
    """

    mean_lab: np.ndarray
    histogram: np.ndarray
    texture: np.ndarray


@dataclass
class DriftCurves:
    """Per-frame drift of one entity against its first appearance; NaN where it is not visible.

    delta_e: (T,) CIE76 distance of mean Lab; histogram: (T,) Hellinger distance in [0, 1];
    texture: (T,) Hellinger distance of LBP histograms in [0, 1]; visible: (T,) bool.
    """

    delta_e: np.ndarray
    histogram: np.ndarray
    texture: np.ndarray
    visible: np.ndarray


def hellinger(p: np.ndarray, q: np.ndarray) -> float:
    """Hellinger distance in [0, 1] between two normalised histograms."""
    return float(np.sqrt(max(0.0, 1.0 - np.sum(np.sqrt(p * q)))))


def _frame_descriptors(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = to_float_image(rgb)[..., :3].clip(0.0, 1.0)
    lab = rgb2lab(image)
    luminance = np.round(lab[..., 0] * 2.55).astype(np.uint8)
    codes = local_binary_pattern(luminance, LBP_POINTS, LBP_RADIUS, method="uniform").astype(np.int64)
    cells = np.minimum((image * HISTOGRAM_BINS).astype(np.int64), HISTOGRAM_BINS - 1)
    cell = (cells[..., 0] * HISTOGRAM_BINS + cells[..., 1]) * HISTOGRAM_BINS + cells[..., 2]
    return lab, cell, codes


def _normalised(counts: np.ndarray) -> np.ndarray:
    return counts / max(counts.sum(), 1)


def entity_appearance(rgb: np.ndarray, instance: np.ndarray, entity: int) -> EntityAppearance | None:
    """Statistics of ``entity``'s pixels in (H, W, 3) ``rgb``; None if fewer than MIN_PIXELS."""
    return frame_appearances(rgb, instance, [entity]).get(entity)


def frame_appearances(
    rgb: np.ndarray, instance: np.ndarray, entities: Iterable[int] | None = None
) -> dict[int, EntityAppearance]:
    """Statistics of every (or each listed) entity visible in one frame."""
    lab, cell, codes = _frame_descriptors(rgb)
    if entities is None:
        entities = [int(e) for e in np.unique(instance) if e != 0]
    result: dict[int, EntityAppearance] = {}
    for entity in entities:
        mask = instance == entity
        if mask.sum() < MIN_PIXELS:
            continue
        histogram = _normalised(np.bincount(cell[mask], minlength=HISTOGRAM_BINS**3).astype(np.float64))
        texture = _normalised(np.bincount(codes[mask], minlength=LBP_POINTS + 2).astype(np.float64))
        result[int(entity)] = EntityAppearance(lab[mask].mean(axis=0), histogram, texture)
    return result


def appearance_distance(first: EntityAppearance, current: EntityAppearance) -> tuple[float, float, float]:
    """(delta E of mean Lab, Hellinger of colour histograms, Hellinger of LBP histograms)."""
    delta_e = float(np.linalg.norm(current.mean_lab - first.mean_lab))
    return delta_e, hellinger(first.histogram, current.histogram), hellinger(first.texture, current.texture)


def identity_drift(frames: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict[int, DriftCurves]:
    """Drift curves of every entity over a clip of (rgb (H, W, 3), instance (H, W)) pairs.

    Each entity is compared with its first appearance; frames before it appears or while it is out
    of view are NaN, and the comparison resumes when it returns.
    """
    first: dict[int, EntityAppearance] = {}
    rows: dict[int, dict[int, tuple[float, float, float]]] = {}
    count = 0
    for index, (rgb, instance) in enumerate(frames):
        count = index + 1
        for entity, appearance in frame_appearances(rgb, instance).items():
            reference = first.setdefault(entity, appearance)
            rows.setdefault(entity, {})[index] = appearance_distance(reference, appearance)
    curves: dict[int, DriftCurves] = {}
    for entity, per_frame in rows.items():
        values = np.full((count, 3), np.nan)
        for index, distances in per_frame.items():
            values[index] = distances
        visible = ~np.isnan(values[:, 0])
        curves[entity] = DriftCurves(values[:, 0], values[:, 1], values[:, 2], visible)
    return curves


def mean_drift(frames: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict[int, float]:
    """Entity -> its mean delta E against its first appearance over the frames showing it
    (``identity_drift`` of the (rgb, instance) pairs)."""
    curves = identity_drift(frames)
    return {
        entity: float(np.nanmean(curve.delta_e)) for entity, curve in curves.items() if curve.visible.any()
    }
