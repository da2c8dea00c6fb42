"""Procedural texture patterns evaluated at object-frame points (no UVs).

Each pattern maps points ``(N, 3)`` (metres, object frame) to a mix weight ``(N,)`` float32 in
``[0, 1]``: 0 selects the texture's ``color_a``, 1 its ``color_b``. Every function is elementwise
and a pure function of its arguments: the noise is a hash of the integer lattice coordinates and
the seed (no stateful random generator), so evaluating any subset of points gives exactly the
values of the same points in a larger evaluation, on every run.
"""

from __future__ import annotations

import hashlib

import numpy as np

BOUNDARY_OFFSET = 1e-4
"""Checker cells and stripes are shifted by this fraction of a cell so that faces lying exactly
on a cell boundary (a unit box face at 0.5 m with 0.25 m cells) get one colour instead of speckle
from floating-point error in the hit points."""

NOISE_LACUNARITY = 2.0
"""Frequency ratio between successive noise octaves."""
NOISE_GAIN = 0.5
"""Amplitude ratio between successive noise octaves."""
NOISE_CONTRAST = 2.0
"""fBm values are multiplied by this before clipping to [-1, 1], so the pattern spans both colours;
the fBm distribution is symmetric, so the mean weight stays 0.5."""
MARBLE_TURBULENCE = 1.0
"""Marble veins are displaced along the axis by this many periods times the turbulence."""

_MASK32 = np.uint32(0xFFFFFFFF)
_INV_2_24 = np.float32(1.0 / (1 << 24))


def checker(points: np.ndarray, scale: float) -> np.ndarray:
    """3D checkerboard of cubic cells ``scale`` metres wide: 0 or 1 by parity of the cell index."""
    points = _as_points(points)
    cells = np.floor(points / float(scale) + BOUNDARY_OFFSET).astype(np.int64)
    return (cells.sum(axis=1) & 1).astype(np.float32)


def stripes(points: np.ndarray, axis: np.ndarray, scale: float) -> np.ndarray:
    """Stripes along unit ``axis`` with period ``scale`` metres: 0 for the first half period, then 1."""
    coordinate = _as_points(points) @ np.asarray(axis, dtype=np.float64) / float(scale) + BOUNDARY_OFFSET
    return (coordinate - np.floor(coordinate) >= 0.5).astype(np.float32)


def noise(points: np.ndarray, scale: float, octaves: int, seed: int) -> np.ndarray:
    """fBm value noise with base wavelength ``scale`` metres and ``octaves`` octaves, in [0, 1].

    Symmetric about 0.5 (mean 0.5 over a large region), seeded by ``seed``.
    """
    fbm = fractal_noise(points, scale, octaves, seed)
    return (0.5 + 0.5 * np.clip(fbm * np.float32(NOISE_CONTRAST), -1.0, 1.0)).astype(np.float32)


def marble(points: np.ndarray, axis: np.ndarray, scale: float, octaves: int, seed: int) -> np.ndarray:
    """Marble veins: ``0.5 + 0.5 sin(2 pi (x / scale + MARBLE_TURBULENCE * turbulence))`` in [0, 1].

    ``x`` is the coordinate along unit ``axis``; the turbulence is an fBm of ``|noise|``.
    """
    points = _as_points(points)
    coordinate = points @ np.asarray(axis, dtype=np.float64) / float(scale)
    turbulence = fractal_noise(points, scale, octaves, seed, absolute=True).astype(np.float64)
    phase = 2.0 * np.pi * (coordinate + MARBLE_TURBULENCE * turbulence)
    return (0.5 + 0.5 * np.sin(phase)).astype(np.float32)


def fractal_noise(
    points: np.ndarray, scale: float, octaves: int, seed: int, *, absolute: bool = False
) -> np.ndarray:
    """Normalised fBm of seeded 3D value noise: ``sum_k g^k n_k(p l^k / scale) / sum_k g^k``.

    Each octave ``k`` uses its own seed derived from ``seed``. With ``absolute`` the octaves are
    ``|n_k|`` (turbulence, in [0, 1]); otherwise the result is in [-1, 1]. Returns ``(N,)`` float32.
    """
    from worldsim.scene.noise_kernel import fractal_noise_kernel  # numba: imported when first needed

    points = _as_points(points)
    if octaves < 1:
        raise ValueError(f"octaves must be >= 1, got {octaves}")
    octaves = int(octaves)
    amplitudes = NOISE_GAIN ** np.arange(octaves, dtype=np.float64)
    frequencies = NOISE_LACUNARITY ** np.arange(octaves, dtype=np.float64)
    seeds = np.array([_octave_seed(seed, octave) for octave in range(octaves)], dtype=np.uint64)
    # One compiled pass over the points (``noise_kernel``): bit-identical to summing
    # ``value_noise`` of each octave in whole-array numpy, without its temporaries.
    return fractal_noise_kernel(
        np.ascontiguousarray(points),
        float(scale),
        seeds,
        frequencies,
        amplitudes.astype(np.float32),
        np.float32(1.0 / amplitudes.sum()),
        bool(absolute),
        np.empty(len(points), dtype=np.float32),
    )


def value_noise(points: np.ndarray, seed: int) -> np.ndarray:
    """3D value noise with unit lattice spacing, in [-1, 1]; ``(N,)`` float32.

    Lattice values are a 32-bit integer hash of ``(seed, ix, iy, iz)``, blended with the quintic
    fade ``6t^5 - 15t^4 + 10t^3`` (continuous first and second derivatives). The whole-array
    formulation ``fractal_noise``'s compiled loop (``noise_kernel``) is tested against, bit for bit.
    """
    points = np.asarray(points, dtype=np.float64)
    cell = np.floor(points)
    fraction = (points - cell).astype(np.float32)
    lattice = cell.astype(np.int64).astype(np.uint32)  # wraps modulo 2**32: a 2**32-cell period
    fade = (
        fraction
        * fraction
        * fraction
        * (fraction * (fraction * np.float32(6.0) - np.float32(15.0)) + np.float32(10.0))
    )
    x0 = np.ascontiguousarray(lattice[:, 0])
    y0 = np.ascontiguousarray(lattice[:, 1])
    z0 = np.ascontiguousarray(lattice[:, 2])
    one = np.uint32(1)
    seed32 = np.uint32(seed & 0xFFFFFFFF)
    # Hash the lattice axis by axis: h(x, y, z) = H(H(H(x ^ seed) + y) + z); the x and xy parts
    # are shared between corners, so 8 corners cost 14 hashes instead of 24.
    hx = [_hash32(x0 ^ seed32), _hash32((x0 + one) ^ seed32)]
    hxy = [_hash32(h + y) for h in hx for y in (y0, y0 + one)]  # order: (x0,y0) (x0,y1) (x1,y0) (x1,y1)
    corner = [_to_unit(_hash32(h + z)) for h in hxy for z in (z0, z0 + one)]
    fx = np.ascontiguousarray(fade[:, 0])
    fy = np.ascontiguousarray(fade[:, 1])
    fz = np.ascontiguousarray(fade[:, 2])
    # corner index = 4 * dx + 2 * dy + dz; blend along z, then y, then x.
    along_z = [_lerp(corner[2 * i], corner[2 * i + 1], fz) for i in range(4)]
    along_y = [_lerp(along_z[0], along_z[1], fy), _lerp(along_z[2], along_z[3], fy)]
    return _lerp(along_y[0], along_y[1], fx)


def _hash32(values: np.ndarray) -> np.ndarray:
    """A 32-bit integer mixer (lowbias32 by C. Wellons); uint32 in, uint32 out, wrapping."""
    values = values ^ (values >> np.uint32(16))
    values *= np.uint32(0x7FEB352D)
    values ^= values >> np.uint32(15)
    values *= np.uint32(0x846CA68B)
    values ^= values >> np.uint32(16)
    return values


def _to_unit(hashed: np.ndarray) -> np.ndarray:
    """uint32 hash -> float32 in [-1, 1) using its top 24 bits (exact in float32)."""
    return (hashed >> np.uint32(8)).astype(np.float32) * (2.0 * _INV_2_24) - np.float32(1.0)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a + (b - a) * t


def _octave_seed(seed: int, octave: int) -> int:
    """A 32-bit seed per octave, a pure function of (seed, octave)."""
    message = f"{int(seed)}:{octave}".encode("ascii")
    return int.from_bytes(hashlib.blake2b(message, digest_size=4, person=b"ws.noise").digest(), "little")


def _as_points(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must have shape (N, 3), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite")
    return points
