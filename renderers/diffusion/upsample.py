"""Guided upsampling from the model's native resolution to the output resolution.

A joint bilateral upsampler (Kopf et al. 2007): each output pixel averages the 4 x 4 nearest
native pixels with a spatial Gaussian times range terms taken from the full-resolution guidance:
the same entity id (hard), similar normals and similar depth. Edges therefore follow the exact
full-resolution silhouettes, not the blurry native ones.

Measured on a path-traced sphere over a checker floor (64 -> 256 px, against a native 256 px
render): 20.5 dB on the 3-pixel band around silhouettes versus 19.4 dB for bilinear, with no
background bleeding into the rim. Transferring full-resolution albedo detail through the shading
ratio ``rgb / albedo`` was tried and dropped: the native image's pixel filter and the guidance's
point-sampled albedo disagree at texture edges, which printed bright seams (8.8 dB on that band).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

SPATIAL_SIGMA = 0.6
"""In native pixels."""
NORMAL_POWER = 8
DEPTH_SIGMA = 0.05
"""Relative depth difference at which a neighbour's weight falls to exp(-1/2)."""
TAPS = (-1, 0, 1, 2)


@dataclass(frozen=True)
class UpsampleGuide:
    """Guidance of one frame at one resolution: instance (H, W), normal (H, W, 3), depth (H, W)
    (+inf on background)."""

    instance: np.ndarray
    normal: np.ndarray
    depth: np.ndarray


def guided_upsample(rgb: np.ndarray, native: UpsampleGuide, full: UpsampleGuide) -> np.ndarray:
    """(h, w, C) values at native resolution -> (H, W, C) float32 at the full resolution
    (compiled: ``_upsample_kernel``; ``guided_upsample_numpy`` is the reference it is tested
    against)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    if rgb.shape[:2] != native.instance.shape:
        raise ValueError(f"rgb {rgb.shape[:2]} does not match the native guidance {native.instance.shape}")
    low_h, low_w = native.instance.shape
    high_h, high_w = full.instance.shape
    x = (np.arange(high_w) + 0.5) * (low_w / high_w) - 0.5
    y = (np.arange(high_h) + 0.5) * (low_h / high_h) - 0.5

    def depth(values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.where(np.isfinite(values), values, 0.0), dtype=np.float64)

    return _upsample_kernel(
        rgb,
        np.ascontiguousarray(native.instance, dtype=np.int64),
        np.ascontiguousarray(native.normal, dtype=np.float64),
        depth(native.depth),
        np.ascontiguousarray(full.instance, dtype=np.int64),
        np.ascontiguousarray(full.normal, dtype=np.float64),
        depth(full.depth),
        x,
        y,
    )


@numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def _upsample_kernel(rgb, low_instance, low_normal, low_depth, instance, normal, depth, x, y):
    """The loop of ``guided_upsample_numpy``, one output pixel at a time (same weights, same
    fallback); rows in parallel, the spatial weights of each row's and column's taps once."""
    low_h, low_w, channels = rgb.shape
    high_h, high_w = instance.shape
    taps = len(TAPS)
    wy_table = np.empty((high_h, taps))
    wx_table = np.empty((high_w, taps))
    for row in range(high_h):
        for t in range(taps):
            offset = math.floor(y[row]) + TAPS[t] - y[row]
            wy_table[row, t] = math.exp(-0.5 * (offset / SPATIAL_SIGMA) ** 2)
    for col in range(high_w):
        for t in range(taps):
            offset = math.floor(x[col]) + TAPS[t] - x[col]
            wx_table[col, t] = math.exp(-0.5 * (offset / SPATIAL_SIGMA) ** 2)
    out = np.empty((high_h, high_w, channels), dtype=np.float32)
    for row in numba.prange(high_h):
        total = np.empty(channels)
        plain = np.empty(channels)
        y0 = math.floor(y[row])
        for col in range(high_w):
            x0 = math.floor(x[col])
            total[:] = 0.0
            plain[:] = 0.0
            weights = 0.0
            plain_weights = 0.0
            hit = instance[row, col] > 0
            for ty in range(taps):
                r = min(max(y0 + TAPS[ty], 0), low_h - 1)
                wy = wy_table[row, ty]
                for tx in range(taps):
                    c = min(max(x0 + TAPS[tx], 0), low_w - 1)
                    spatial = wy * wx_table[col, tx]
                    weight = spatial if low_instance[r, c] == instance[row, col] else 0.0
                    if hit and weight > 0.0:
                        cosine = 0.0
                        for k in range(3):
                            cosine += low_normal[r, c, k] * normal[row, col, k]
                        cosine = min(max(cosine, 0.0), 1.0)
                        relative = (low_depth[r, c] - depth[row, col]) / max(depth[row, col], 1e-6)
                        weight *= cosine**NORMAL_POWER * math.exp(-0.5 * (relative / DEPTH_SIGMA) ** 2)
                    for k in range(channels):
                        value = rgb[r, c, k]
                        total[k] += weight * value
                        plain[k] += spatial * value
                    weights += weight
                    plain_weights += spatial
            for k in range(channels):
                if weights < 1e-4 * plain_weights:
                    out[row, col, k] = plain[k] / plain_weights
                else:
                    out[row, col, k] = total[k] / max(weights, 1e-300)
    return out


def guided_upsample_numpy(rgb: np.ndarray, native: UpsampleGuide, full: UpsampleGuide) -> np.ndarray:
    """(h, w, 3) linear RGB at native resolution -> (H, W, 3) float32 at the full resolution."""
    rgb = np.asarray(rgb, dtype=np.float32)
    low_h, low_w = native.instance.shape
    high_h, high_w = full.instance.shape
    if rgb.shape[:2] != (low_h, low_w):
        raise ValueError(f"rgb {rgb.shape[:2]} does not match the native guidance {(low_h, low_w)}")
    signal = rgb
    # Native-pixel coordinates of the output pixel centres.
    x = (np.arange(high_w) + 0.5) * (low_w / high_w) - 0.5
    y = (np.arange(high_h) + 0.5) * (low_h / high_h) - 0.5
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    low_depth = np.where(np.isfinite(native.depth), native.depth, 0.0)
    high_depth = np.where(np.isfinite(full.depth), full.depth, 0.0)
    total = np.zeros((high_h, high_w, 3), dtype=np.float64)
    weights = np.zeros((high_h, high_w), dtype=np.float64)
    bilinear_total = np.zeros_like(total)
    bilinear_weights = np.zeros_like(weights)
    for dy in TAPS:
        rows = np.clip(y0 + dy, 0, low_h - 1)
        wy = np.exp(-0.5 * ((y0 + dy - y) / SPATIAL_SIGMA) ** 2)
        for dx in TAPS:
            cols = np.clip(x0 + dx, 0, low_w - 1)
            wx = np.exp(-0.5 * ((x0 + dx - x) / SPATIAL_SIGMA) ** 2)
            spatial = wy[:, None] * wx[None, :]
            pick = np.ix_(rows, cols)
            same = native.instance[pick] == full.instance
            cosine = np.clip(np.einsum("hwc,hwc->hw", native.normal[pick], full.normal), 0.0, 1.0)
            cosine = np.where(full.instance > 0, cosine**NORMAL_POWER, 1.0)
            relative = (low_depth[pick] - high_depth) / np.maximum(high_depth, 1e-6)
            closeness = np.where(full.instance > 0, np.exp(-0.5 * (relative / DEPTH_SIGMA) ** 2), 1.0)
            weight = spatial * same * cosine * closeness
            value = signal[pick]
            total += weight[..., None] * value
            weights += weight
            bilinear_total += spatial[..., None] * value
            bilinear_weights += spatial
    # Where the native image never saw this surface (a sliver thinner than a native pixel),
    # fall back to the plain spatial filter.
    fallback = weights < 1e-4 * bilinear_weights
    result = np.where(
        fallback[..., None],
        bilinear_total / bilinear_weights[..., None],
        total / np.maximum(weights, 1e-300)[..., None],
    )
    return result.astype(np.float32)
