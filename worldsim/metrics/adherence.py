"""Guidance adherence: image edges against instance/depth discontinuities; region homogeneity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt
from skimage.color import rgb2gray, rgb2lab
from skimage.feature import canny

from worldsim.metrics._common import to_float_image

EDGE_TOLERANCE_PX = 2.0
"""An edge pixel within this distance (pixels) of the other map's edge counts as matched."""
DEPTH_JUMP_RELATIVE = 0.05
"""A relative depth change above this between neighbours is a depth discontinuity."""
CANNY_SIGMA = 1.0


@dataclass
class BoundaryScore:
    """Boundary precision, recall and F-score in [0, 1] (NaN when undefined)."""

    precision: float
    recall: float
    f_score: float


def guidance_edges(
    instance: np.ndarray, depth: np.ndarray | None = None, relative_jump: float = DEPTH_JUMP_RELATIVE
) -> np.ndarray:
    """(H, W) bool: pixels whose right or lower neighbour has another id or a depth jump.

    instance: (H, W) ids; depth: (H, W) metres, +inf on background (inf vs finite is a jump).
    """
    edges = np.zeros(instance.shape, dtype=bool)
    edges[:, :-1] |= instance[:, 1:] != instance[:, :-1]
    edges[:-1, :] |= instance[1:, :] != instance[:-1, :]
    if depth is not None:
        finite = np.where(np.isfinite(depth), depth, 1e6)
        for axis in (0, 1):
            near = np.minimum(
                np.take(finite, range(1, finite.shape[axis]), axis),
                np.take(finite, range(finite.shape[axis] - 1), axis),
            )
            jump = np.abs(np.diff(finite, axis=axis)) > relative_jump * near
            if axis == 0:
                edges[:-1, :] |= jump
            else:
                edges[:, :-1] |= jump
    return edges


def image_edges(rgb: np.ndarray, sigma: float = CANNY_SIGMA) -> np.ndarray:
    """(H, W) bool Canny edges of the luminance of (H, W, 3) ``rgb``."""
    return canny(rgb2gray(to_float_image(rgb)[..., :3]), sigma=sigma)


def boundary_f_score(
    predicted: np.ndarray, target: np.ndarray, tolerance: float = EDGE_TOLERANCE_PX
) -> BoundaryScore:
    """Boundary F-score of edge map ``predicted`` against ``target`` (both (H, W) bool).

    Precision: fraction of predicted edge pixels within ``tolerance`` px of a target edge; recall:
    the converse. Both maps empty scores 1; one empty scores 0.
    """
    predicted, target = np.asarray(predicted, bool), np.asarray(target, bool)
    if not predicted.any() and not target.any():
        return BoundaryScore(1.0, 1.0, 1.0)
    if not predicted.any() or not target.any():
        return BoundaryScore(float(not predicted.any()), float(not target.any()), 0.0)
    distance_to_target = distance_transform_edt(~target)
    distance_to_predicted = distance_transform_edt(~predicted)
    precision = float((distance_to_target[predicted] <= tolerance).mean())
    recall = float((distance_to_predicted[target] <= tolerance).mean())
    total = precision + recall
    return BoundaryScore(precision, recall, 2 * precision * recall / total if total else 0.0)


def region_homogeneity(rgb: np.ndarray, instance: np.ndarray) -> dict[int, float]:
    """Per entity: RMS CIELAB distance of its pixels to their mean (0 = perfectly uniform region)."""
    lab = rgb2lab(to_float_image(rgb)[..., :3].clip(0, 1))
    result: dict[int, float] = {}
    for entity in np.unique(instance):
        if entity == 0:
            continue
        pixels = lab[instance == entity]
        result[int(entity)] = float(np.sqrt(((pixels - pixels.mean(axis=0)) ** 2).sum(axis=1).mean()))
    return result
