"""The compiled loop of ``textures.fractal_noise``: every octave of seeded 3D value noise of every
point in one call, octave by octave (numba; compiled once, cached on disk).

Bit-identical to the whole-array numpy formulation (``textures.value_noise`` per octave, summed
in order): the same float64 lattice coordinates, the same float32 fade and blends rounded at the
same steps, the hash in 64-bit integers masked to 32 bits after every step. The numpy version
made a dozen (N,) temporaries per octave; this one makes none.
"""

from __future__ import annotations

import numba
import numpy as np

_MASK = np.uint64(0xFFFFFFFF)


@numba.njit(cache=True, nogil=True, inline="always")
def _hash32(value):  # pragma: no cover - compiled
    """``textures._hash32`` (lowbias32) on a uint64 holding 32 bits."""
    value = value ^ (value >> np.uint64(16))
    value = (value * np.uint64(0x7FEB352D)) & _MASK
    value = value ^ (value >> np.uint64(15))
    value = (value * np.uint64(0x846CA68B)) & _MASK
    return value ^ (value >> np.uint64(16))


@numba.njit(cache=True, nogil=True, inline="always")
def _to_unit(hashed):  # pragma: no cover - compiled
    """``textures._to_unit``: the top 24 bits as float32 in [-1, 1) (exact)."""
    return np.float32(hashed >> np.uint64(8)) * np.float32(2.0 / (1 << 24)) - np.float32(1.0)


@numba.njit(cache=True, nogil=True, inline="always")
def _lerp(a, b, t):  # pragma: no cover - compiled
    return np.float32(a + np.float32(np.float32(b - a) * t))


@numba.njit(cache=True, nogil=True, inline="always")
def _fade(f):  # pragma: no cover - compiled
    """The quintic fade ``6t^5 - 15t^4 + 10t^3`` in float32, in ``textures.value_noise``'s order."""
    cube = np.float32(np.float32(f * f) * f)
    inner = np.float32(
        np.float32(f * np.float32(np.float32(f * np.float32(6.0)) - np.float32(15.0))) + np.float32(10.0)
    )
    return np.float32(cube * inner)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def fractal_noise_kernel(
    points, scale, octave_seeds, frequencies, amplitudes, normaliser, absolute, out
):  # pragma: no cover - compiled
    """``out[i]`` (float32) = normaliser x sum over octaves k of amplitudes[k] x n_k(points[i] /
    scale x frequencies[k]) (``|n_k|`` with ``absolute``), n_k the value noise seeded
    ``octave_seeds[k]``.

    points (N, 3) float64 object-frame metres; octave_seeds (K,) uint64 (32-bit values);
    frequencies (K,) float64; amplitudes (K,) float32; normaliser float32 (1 / their sum)."""
    one = np.uint64(1)
    out[:] = np.float32(0.0)
    # Octave by octave, point by point: a straight-line loop body the compiler vectorises.
    for k in range(octave_seeds.shape[0]):
        frequency = frequencies[k]
        seed = octave_seeds[k]
        amplitude = amplitudes[k]
        for i in range(points.shape[0]):
            x = points[i, 0] / scale * frequency
            y = points[i, 1] / scale * frequency
            z = points[i, 2] / scale * frequency
            cx, cy, cz = np.floor(x), np.floor(y), np.floor(z)
            fx = _fade(np.float32(x - cx))
            fy = _fade(np.float32(y - cy))
            fz = _fade(np.float32(z - cz))
            # int64 then the low 32 bits: numpy's astype(int64).astype(uint32) wrap-around
            x0 = np.uint64(np.int64(cx)) & _MASK
            y0 = np.uint64(np.int64(cy)) & _MASK
            z0 = np.uint64(np.int64(cz)) & _MASK
            x1, y1, z1 = (x0 + one) & _MASK, (y0 + one) & _MASK, (z0 + one) & _MASK
            hx0 = _hash32(x0 ^ seed)
            hx1 = _hash32(x1 ^ seed)
            h00 = _hash32((hx0 + y0) & _MASK)
            h01 = _hash32((hx0 + y1) & _MASK)
            h10 = _hash32((hx1 + y0) & _MASK)
            h11 = _hash32((hx1 + y1) & _MASK)
            c000 = _to_unit(_hash32((h00 + z0) & _MASK))
            c001 = _to_unit(_hash32((h00 + z1) & _MASK))
            c010 = _to_unit(_hash32((h01 + z0) & _MASK))
            c011 = _to_unit(_hash32((h01 + z1) & _MASK))
            c100 = _to_unit(_hash32((h10 + z0) & _MASK))
            c101 = _to_unit(_hash32((h10 + z1) & _MASK))
            c110 = _to_unit(_hash32((h11 + z0) & _MASK))
            c111 = _to_unit(_hash32((h11 + z1) & _MASK))
            y_low = _lerp(_lerp(c000, c001, fz), _lerp(c010, c011, fz), fy)
            y_high = _lerp(_lerp(c100, c101, fz), _lerp(c110, c111, fz), fy)
            layer = _lerp(y_low, y_high, fx)
            if absolute:
                layer = abs(layer)
            out[i] = np.float32(out[i] + np.float32(layer * amplitude))
    for i in range(points.shape[0]):
        out[i] = np.float32(out[i] * normaliser)
    return out
