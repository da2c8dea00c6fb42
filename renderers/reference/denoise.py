"""A feature-guided denoiser for low-spp previews (a joint bilateral filter on the colour).

The features are Mitsuba's own albedo, shading-normal, position and depth buffers of the same
samples, so they are anti-aliased exactly like the noisy colour. Each pixel averages neighbours
with weights that fall off with pixel distance, albedo difference (textures are not blurred),
normal difference and the neighbour's distance from the pixel's tangent plane (relative to
depth). Dividing by the albedo instead would blow up silhouette pixels whose albedo is averaged
with the background. It is a preview aid, not an
unbiased estimator: final renders use more samples instead.
"""

from __future__ import annotations

import numpy as np

RADIUS = 3
SPATIAL_SIGMA = 2.0
NORMAL_POWER = 32
"""A power of two (computed by repeated squaring)."""
PLANE_SIGMA = 0.01
"""Distance from the tangent plane, relative to depth, at which a neighbour's weight is exp(-1/2)."""
ALBEDO_SIGMA = 0.04
"""Albedo difference (per channel, linear) at which a neighbour's weight falls to exp(-1/2)."""


def denoise(
    linear: np.ndarray,
    albedo: np.ndarray,
    normal: np.ndarray,
    position: np.ndarray,
    depth: np.ndarray,
    radius: int = RADIUS,
) -> np.ndarray:
    """(H, W, 3) noisy linear RGB -> (H, W, 3) float32, steered by (H, W, 3) albedo, normals and
    world positions and (H, W) depth (0 on background) of the same frame."""
    linear = np.asarray(linear, dtype=np.float32)
    hit = np.asarray(depth) > 0
    # features: unit normal plus a background flag (so background pixels match each other),
    # albedo scaled by 1/(sqrt(2) sigma), position and 1/depth for the tangent-plane distance
    lengths = np.linalg.norm(normal, axis=-1, keepdims=True)
    normal = np.where(hit[..., None], normal / np.maximum(lengths, 1e-6), 0.0)
    normal = np.concatenate([normal, (~hit)[..., None]], axis=-1).astype(np.float32)
    albedo = (np.asarray(albedo, dtype=np.float32) / (np.sqrt(2.0) * ALBEDO_SIGMA)).astype(np.float32)
    position = np.asarray(position, dtype=np.float32)
    plane_scale = np.where(hit, 1.0 / (np.sqrt(2.0) * PLANE_SIGMA * np.maximum(depth, 1e-6)), 0.0)
    plane_scale = plane_scale.astype(np.float32)

    def padded(array: np.ndarray) -> np.ndarray:
        width = ((radius, radius), (radius, radius)) + ((0, 0),) * (array.ndim - 2)
        return np.pad(array, width, mode="edge")

    padded_linear, padded_normal = padded(linear), padded(normal)
    padded_albedo, padded_position = padded(albedo), padded(position)
    height, width = hit.shape
    total = np.zeros_like(linear)
    weights = np.zeros(hit.shape, dtype=np.float32)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            window = (slice(radius + dy, radius + dy + height), slice(radius + dx, radius + dx + width))
            cosine = np.clip(np.einsum("hwc,hwc->hw", padded_normal[window], normal), 0.0, 1.0)
            for _ in range(int(np.log2(NORMAL_POWER))):
                cosine *= cosine
            offset = (
                np.einsum("hwc,hwc->hw", padded_position[window] - position, normal[..., :3]) * plane_scale
            )
            step = padded_albedo[window] - albedo
            exponent = np.einsum("hwc,hwc->hw", step, step) + offset * offset
            exponent += np.float32((dx * dx + dy * dy) / (2.0 * SPATIAL_SIGMA**2))
            weight = np.exp(-exponent) * cosine
            total += weight[..., None] * padded_linear[window]
            weights += weight
    return (total / np.maximum(weights, 1e-12)[..., None]).astype(np.float32)
