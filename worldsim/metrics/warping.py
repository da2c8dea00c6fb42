"""Warping error: a frame warped back with ground-truth flow (or surface correspondences) vs another.

Pixel-centre convention: pixel (u, v) has its centre at (u + 0.5, v + 0.5); a forward flow (dx, dy)
moves that centre to (u + 0.5 + dx, v + 0.5 + dy) in frame t+1, i.e. array position (v + dy, u + dx).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from worldsim.metrics._common import masked_mean, to_float_image

SURFACE_MATCH_TOLERANCE = 0.01
"""Default distance (object-frame metres) under which two surface points count as the same."""


@dataclass
class WarpingResult:
    """Mean absolute colour error in [0, 1] (per pixel: mean over channels).

    overall: over every valid pixel; per_entity: entity id -> error over its valid pixels (NaN when
    none); valid_fraction: fraction of pixels compared.
    """

    overall: float
    per_entity: dict[int, float] = field(default_factory=dict)
    valid_fraction: float = 0.0


def bilinear_sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample (H, W, C) ``image`` at array positions (x = column, y = row), bilinear.

    Returns (values (..., C), inside (...) bool); positions outside [0, W-1] x [0, H-1] are clamped
    and flagged outside.
    """
    height, width = image.shape[:2]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    x = np.clip(x, 0, width - 1)
    y = np.clip(y, 0, height - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), width - 2 if width > 1 else 0)
    y0 = np.minimum(np.floor(y).astype(np.int64), height - 2 if height > 1 else 0)
    x1 = np.minimum(x0 + 1, width - 1)
    y1 = np.minimum(y0 + 1, height - 1)
    wx = (x - x0)[..., None]
    wy = (y - y0)[..., None]
    top = image[y0, x0] * (1 - wx) + image[y0, x1] * wx
    bottom = image[y1, x0] * (1 - wx) + image[y1, x1] * wx
    return top * (1 - wy) + bottom * wy, inside


def warp_back(next_frame: np.ndarray, flow_forward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warp frame t+1 back onto frame t's pixel grid with frame t's forward flow (H, W, 2) pixels.

    Returns (warped (H, W, C) float in [0, 1], inside (H, W) bool: the sample fell inside frame t+1).
    """
    image = to_float_image(next_frame)
    if image.ndim == 2:
        image = image[..., None]
    height, width = image.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    flow = np.asarray(flow_forward, dtype=np.float64)
    return bilinear_sample(image, cols + flow[..., 0], rows + flow[..., 1])


def warping_error(
    frame: np.ndarray,
    next_frame: np.ndarray,
    flow_forward: np.ndarray,
    flow_valid: np.ndarray,
    instance: np.ndarray | None = None,
) -> WarpingResult:
    """Warping error between frame t and frame t+1 warped back with the forward flow of frame t.

    frame, next_frame: (H, W, 3) uint8 (or float in [0, 1]); flow_forward: (H, W, 2) pixels;
    flow_valid: (H, W) bool; instance: (H, W) ids of frame t for the per-entity split.
    """
    warped, inside = warp_back(next_frame, flow_forward)
    current = to_float_image(frame)
    if current.ndim == 2:
        current = current[..., None]
    error = np.abs(warped - current).mean(axis=-1)
    valid = np.asarray(flow_valid, dtype=bool) & inside & np.isfinite(error)
    per_entity: dict[int, float] = {}
    if instance is not None:
        for entity in np.unique(instance[valid]):
            if entity != 0:
                per_entity[int(entity)] = masked_mean(error, valid & (instance == entity))
    return WarpingResult(masked_mean(error, valid), per_entity, float(valid.mean()))


def surface_correspondences(
    instance_a: np.ndarray,
    coords_a: np.ndarray,
    instance_b: np.ndarray,
    coords_b: np.ndarray,
    tolerance: float = SURFACE_MATCH_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Match pixels of two frames that see the same surface point of the same entity.

    instance_*: (H, W) ids; coords_*: (H, W, 3) object-frame surface points. For each foreground
    pixel of frame a, the nearest same-entity pixel of frame b in surface coordinates is taken if it
    lies within ``tolerance``. Returns (flat indices into a, flat indices into b), equal length.
    """
    flat_a, flat_b = instance_a.ravel(), instance_b.ravel()
    points_a = coords_a.reshape(-1, 3).astype(np.float64)
    points_b = coords_b.reshape(-1, 3).astype(np.float64)
    matched_a: list[np.ndarray] = []
    matched_b: list[np.ndarray] = []
    for entity in np.intersect1d(np.unique(flat_a), np.unique(flat_b)):
        if entity == 0:
            continue
        index_a = np.flatnonzero(flat_a == entity)
        index_b = np.flatnonzero(flat_b == entity)
        distance, nearest = cKDTree(points_b[index_b]).query(points_a[index_a], k=1)
        keep = distance <= tolerance
        matched_a.append(index_a[keep])
        matched_b.append(index_b[nearest[keep]])
    if not matched_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(matched_a), np.concatenate(matched_b)


def gap_warping_error(
    frame_a: np.ndarray,
    frame_b: np.ndarray,
    instance_a: np.ndarray,
    coords_a: np.ndarray,
    instance_b: np.ndarray,
    coords_b: np.ndarray,
    tolerance: float = SURFACE_MATCH_TOLERANCE,
) -> WarpingResult:
    """Warping error between frames t and t+k through surface-coordinate correspondences.

    Works across any gap, occlusions and re-appearances included: only the surface points seen in
    both frames are compared. Per-pixel error = mean absolute difference over channels, in [0, 1].
    """
    index_a, index_b = surface_correspondences(instance_a, coords_a, instance_b, coords_b, tolerance)
    colours_a = to_float_image(frame_a).reshape(-1, frame_a.shape[-1])[index_a]
    colours_b = to_float_image(frame_b).reshape(-1, frame_b.shape[-1])[index_b]
    error = np.abs(colours_a - colours_b).mean(axis=-1)
    ids = instance_a.ravel()[index_a]
    per_entity = {int(e): float(error[ids == e].mean()) for e in np.unique(ids)}
    overall = float(error.mean()) if error.size else float("nan")
    return WarpingResult(overall, per_entity, index_a.size / instance_a.size)
