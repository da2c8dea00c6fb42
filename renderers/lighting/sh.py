"""Order-2 real spherical harmonics (9 coefficients) of radiance, and the irradiance they imply.

Ramamoorthi and Hanrahan 2001, "An efficient representation for irradiance environment maps":
irradiance E(n) = sum_lm A_l L_lm Y_lm(n) with A_0 = pi, A_1 = 2 pi / 3, A_2 = pi / 4 (the clamped
cosine's SH convolution weights). Directions are world unit vectors (x, y, z), Z up; coefficients
are (9, 3) linear RGB, ordered (l, m) = (0,0), (1,-1), (1,0), (1,1), (2,-2), (2,-1), (2,0), (2,1), (2,2).
"""

from __future__ import annotations

import numpy as np

SH_COEFFICIENTS = 9
CLAMPED_COSINE_WEIGHTS = np.array([np.pi] + [2.0 * np.pi / 3.0] * 3 + [np.pi / 4.0] * 5)
"""A_l per coefficient: the convolution of radiance with max(cos, 0) in SH (irradiance)."""


def sh_basis(directions: np.ndarray) -> np.ndarray:
    """(N, 9) real SH basis values of unit ``directions`` (N, 3), in their float dtype."""
    directions = np.asarray(directions)
    if directions.dtype != np.float32:
        directions = directions.astype(np.float64)
    x, y, z = directions[:, 0], directions[:, 1], directions[:, 2]
    return np.stack(
        [
            np.full_like(x, 0.282094791773878),
            0.488602511902920 * y,
            0.488602511902920 * z,
            0.488602511902920 * x,
            1.092548430592079 * x * y,
            1.092548430592079 * y * z,
            0.315391565252520 * (3.0 * z * z - 1.0),
            1.092548430592079 * x * z,
            0.546274215296040 * (x * x - y * y),
        ],
        axis=1,
    )


def latlong_solid_angles(rows: int, columns: int) -> np.ndarray:
    """(rows,) steradians of one texel in each row of a lat-long map (row 0 at the zenith).

    Exact band areas (2 pi / columns) (cos theta_top - cos theta_bottom): they sum to 4 pi.
    """
    polar = np.linspace(0.0, np.pi, rows + 1)
    return (2.0 * np.pi / columns) * (np.cos(polar[:-1]) - np.cos(polar[1:]))


def project_radiance(radiance: np.ndarray, directions: np.ndarray, solid_angles: np.ndarray) -> np.ndarray:
    """(9, 3) SH coefficients of radiance samples (N, 3) at unit ``directions`` (N, 3), each
    standing for ``solid_angles`` (N,) steradians (a quadrature of the sphere)."""
    weighted = np.asarray(radiance, dtype=np.float64) * np.asarray(solid_angles, dtype=np.float64)[:, None]
    return sh_basis(directions).T @ weighted


def sh_irradiance(coefficients: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(N, 3) irradiance (W/m^2 for radiance in W/m^2/sr) at unit ``normals`` (N, 3) from radiance
    coefficients (9, 3), in the normals' float dtype; clamped at 0 (the order-2 fit can ring
    slightly negative)."""
    basis = sh_basis(normals)
    convolved = (np.asarray(coefficients, dtype=np.float64) * CLAMPED_COSINE_WEIGHTS[:, None]).astype(
        basis.dtype
    )
    # Term by term rather than ``basis @ convolved``: a BLAS call costs more than it saves here.
    out = np.zeros((len(basis), 3), dtype=basis.dtype)
    for term in range(SH_COEFFICIENTS):
        for channel in range(3):
            out[:, channel] += basis[:, term] * convolved[term, channel]
    return np.maximum(out, 0.0)
