"""GGX microfacet terms (roughness r -> alpha = r^2, as Mitsuba's principled BSDF) and the
split-sum specular scale, shared by the ``specular`` map and the ``direct`` renderer."""

from __future__ import annotations

import numpy as np

MIN_ALPHA = 1e-3
"""Smallest GGX alpha (a perfect mirror would make the lights' highlight lobes infinitely thin)."""
DIELECTRIC_F0 = 0.04
"""Normal-incidence reflectance of a non-metal (Mitsuba's principled ``specular`` = 0.5: 0.08 x 0.5)."""


def ggx_distribution(cos_half: np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    """GGX (Trowbridge-Reitz) normal distribution D(h) of cos(n, h), per steradian of h."""
    alpha = np.maximum(np.asarray(alpha), MIN_ALPHA)
    alpha2 = alpha * alpha
    cos_half = np.clip(cos_half, 0.0, 1.0)
    denominator = (alpha2 - 1.0) * cos_half * cos_half + 1.0
    return alpha2 / (np.float32(np.pi) * denominator * denominator)


def smith_g1(cosine: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Smith's GGX masking G1 of a direction at cos(n, w) = ``cosine`` (> 0)."""
    alpha = np.maximum(alpha, MIN_ALPHA)
    cosine = np.clip(cosine, 1e-6, 1.0)
    cos2 = cosine * cosine
    return 2.0 / (1.0 + np.sqrt(1.0 + alpha * alpha * (1.0 - cos2) / cos2))


def highlight_radiance_factor(
    normal: np.ndarray, view: np.ndarray, to_light: np.ndarray, roughness: np.ndarray
) -> np.ndarray:
    """(N,) GGX specular with Fresnel 1 per unit of irradiance normal to the light:
    D(h) G1(l) G1(v) / (4 n.v) (the n.l of irradiance cancels the BRDF's), 0 where n.l or n.v <= 0.

    normal, to_light: (N, 3) unit world vectors; view: (N, 3) unit vectors from the surface to
    the camera; roughness: (N,).
    """
    roughness = np.asarray(roughness)
    alpha = np.maximum(roughness * roughness, roughness.dtype.type(MIN_ALPHA))
    # Component by component (no (N, 3) einsum / norm passes): cos(n, h) = n.(v + l) / |v + l|.
    cos_l = _dot(normal, to_light)
    cos_v = _dot(normal, view)
    half_length2 = 2.0 + 2.0 * _dot(view, to_light)
    cos_h = (cos_v + cos_l) / np.sqrt(np.maximum(half_length2, 1e-12))
    value = ggx_distribution(cos_h, alpha) * smith_g1(cos_l, alpha) * smith_g1(cos_v, alpha)
    value /= 4.0 * np.maximum(cos_v, 1e-4)
    return np.where((cos_l > 0) & (cos_v > 0), value, 0.0)


def _dot(vectors: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(N,) row-wise dot products of (N, 3) arrays."""
    return vectors[:, 0] * others[:, 0] + vectors[:, 1] * others[:, 1] + vectors[:, 2] * others[:, 2]


def split_sum_scale_bias(roughness: np.ndarray, cos_view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) of the split-sum environment BRDF: reflected fraction = F0 A + B.

    The analytic fit of Karis ("Physically Based Shading on Mobile", 2014, after Lazarov),
    written from its published coefficients; roughness and cos_view (n.v) are (N,) arrays.
    """
    roughness = np.clip(np.asarray(roughness, dtype=np.float64), 0.0, 1.0)
    cos_view = np.clip(np.asarray(cos_view, dtype=np.float64), 0.0, 1.0)
    r0 = -1.0 * roughness + 1.0
    r1 = -0.0275 * roughness + 0.0425
    r2 = -0.572 * roughness + 1.04
    r3 = 0.022 * roughness - 0.04
    a004 = np.minimum(r0 * r0, np.exp2(-9.28 * cos_view)) * r0 + r1
    return a004 * -1.04 + r2, a004 * 1.04 + r3
