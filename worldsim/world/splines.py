"""Cubic splines of many curves at once: scipy's ``CubicSpline`` solved and evaluated in batches.

``BatchedCubicSpline(knots (N, K), values (N, K, D), boundary)`` interpolates N curves of K
strictly increasing knots each (every curve its own knots) with the same equations as
``scipy.interpolate.CubicSpline`` (``not-a-knot``, ``natural`` or ``periodic``, including its
special cases for 2 and 3 knots) and evaluates them with the same piecewise-polynomial sums as
scipy's ``PPoly``. The tridiagonal systems are solved by elimination vectorised over the N
curves (scipy uses LAPACK's banded solver one curve at a time), so results agree with scipy to
round-off (about 1e-15 relative), not bit for bit. The systems are diagonally dominant apart
from the not-a-knot end rows, which the first elimination step turns dominant too, so no pivoting
is needed.
"""

from __future__ import annotations

import numpy as np

BOUNDARIES = ("not-a-knot", "natural", "periodic")


class BatchedCubicSpline:
    """N cubic splines; ``spline(points (N, M), derivative)`` is (N, M, D) float64.

    knots: (N, K) float64, strictly increasing per curve, K >= 2; values: (N, K, D) float64
    (for ``periodic`` the first and last values of each curve must be equal). Points outside a
    curve's knots extrapolate its first / last piece (the callers here clamp first).
    """

    def __init__(self, knots: np.ndarray, values: np.ndarray, boundary: str = "not-a-knot") -> None:
        if boundary not in BOUNDARIES:
            raise ValueError(f"unknown boundary {boundary!r} ({' | '.join(BOUNDARIES)})")
        knots = np.asarray(knots, dtype=float)
        values = np.asarray(values, dtype=float)
        if knots.ndim != 2 or knots.shape[1] < 2 or values.shape[:2] != knots.shape or values.ndim != 3:
            raise ValueError("expected knots (N, K >= 2) and values (N, K, D)")
        self.knots = knots
        slopes = _derivatives_at_knots(knots, values, boundary)
        self.coefficients = _hermite_coefficients(knots, values, slopes)
        # (4, D, N (K-1)): each coefficient of each dimension, piece by piece, for 1-D gathers.
        self._by_piece = np.ascontiguousarray(self.coefficients.transpose(2, 3, 0, 1)).reshape(
            4, values.shape[2], -1
        )

    def __call__(self, points: np.ndarray, derivative: int = 0) -> np.ndarray:
        return self.values_and_derivatives(points, (derivative,))[0]

    def values_and_derivatives(
        self, points: np.ndarray, derivatives: tuple[int, ...] = (0, 1)
    ) -> list[np.ndarray]:
        """(N, M, D) values (derivative 0) and / or first derivatives at ``points`` (N, M), one
        piece lookup for all."""
        points = np.asarray(points, dtype=float)
        count, knot_count = self.knots.shape
        piece = _piece_index(self.knots, points)
        rows = np.arange(count)[:, None]
        offset = (points - np.take(self.knots, rows * knot_count + piece)).ravel()  # (N M,)
        flat = (rows * (knot_count - 1) + piece).ravel()
        for derivative in derivatives:
            if derivative not in (0, 1):
                raise ValueError("derivative must be 0 or 1")
        dimensions = self._by_piece.shape[1]
        results = [np.empty((flat.size, dimensions)) for _ in derivatives]
        for dimension, by_dimension in enumerate(self._by_piece.transpose(1, 0, 2)):  # (4, N (K-1))
            c0, c1, c2, c3 = (np.take(by_dimension[k], flat) for k in range(4))  # gathered once
            for derivative, result in zip(derivatives, results, strict=True):
                # The order of the sums is PPoly's (scipy/interpolate/_ppoly.pyx evaluate_poly1).
                if derivative == 0:
                    value = c3 + c2 * offset
                    power = offset * offset
                    value = value + c1 * power
                    value += c0 * (power * offset)
                else:
                    value = c2 + c1 * offset * 2.0
                    value += c0 * (offset * offset) * 3.0
                result[:, dimension] = value
        return [result.reshape(*points.shape, dimensions) for result in results]


def _piece_index(knots: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, M) index i of the piece ``knots[i] <= x < knots[i + 1]`` (last piece includes its end)."""
    pieces = knots.shape[1] - 1
    index = np.empty(points.shape, dtype=np.intp)
    for row in range(len(knots)):
        index[row] = np.searchsorted(knots[row], points[row], side="right") - 1
    return np.clip(index, 0, pieces - 1)


def _hermite_coefficients(knots: np.ndarray, values: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """(N, K-1, 4, D) power-basis coefficients, highest first (scipy's ``CubicHermiteSpline``)."""
    steps = np.diff(knots, axis=1)[..., None]
    secants = np.diff(values, axis=1) / steps
    t = (slopes[:, :-1] + slopes[:, 1:] - 2 * secants) / steps
    return np.stack(
        (t / steps, (secants - slopes[:, :-1]) / steps - t, slopes[:, :-1], values[:, :-1]), axis=2
    )


def _derivatives_at_knots(knots: np.ndarray, values: np.ndarray, boundary: str) -> np.ndarray:
    """(N, K, D) first derivatives at the knots, from scipy ``CubicSpline``'s equations."""
    count = knots.shape[1]
    x = knots[..., None]  # (N, K, 1), broadcasts against (N, K, D)
    dx = np.diff(knots, axis=1)[..., None]
    slope = np.diff(values, axis=1) / dx
    if count == 2:
        if boundary == "natural":
            return _solve_natural_two(dx, values)
        return np.concatenate([slope, slope], axis=1)
    if count == 3 and boundary == "not-a-knot":
        return _parabola_derivatives(dx, slope)
    if count == 3 and boundary == "periodic":
        t = (slope / dx).sum(1) / (1.0 / dx).sum(1)
        return np.broadcast_to(t[:, None], values.shape).copy()

    shape = values.shape
    lower = np.zeros(shape)  # lower[i] multiplies s[i - 1] in row i
    diagonal = np.zeros(shape)
    upper = np.zeros(shape)  # upper[i] multiplies s[i + 1] in row i
    rhs = np.empty(shape)
    diagonal[:, 1:-1] = 2 * (dx[:, :-1] + dx[:, 1:])
    upper[:, 1:-1] = dx[:, :-1]
    lower[:, 1:-1] = dx[:, 1:]
    rhs[:, 1:-1] = 3 * (dx[:, 1:] * slope[:, :-1] + dx[:, :-1] * slope[:, 1:])

    if boundary == "periodic":
        return _periodic_derivatives(dx, slope, lower, diagonal, upper, rhs)

    if boundary == "not-a-knot":
        diagonal[:, 0] = dx[:, 1]
        upper[:, 0] = x[:, 2] - x[:, 0]
        d = x[:, 2] - x[:, 0]
        rhs[:, 0] = ((dx[:, 0] + 2 * d) * dx[:, 1] * slope[:, 0] + dx[:, 0] ** 2 * slope[:, 1]) / d
        diagonal[:, -1] = dx[:, -2]
        lower[:, -1] = x[:, -1] - x[:, -3]
        d = x[:, -1] - x[:, -3]
        rhs[:, -1] = (dx[:, -1] ** 2 * slope[:, -2] + (2 * d + dx[:, -1]) * dx[:, -2] * slope[:, -1]) / d
    else:  # natural: second derivative 0 at both ends
        diagonal[:, 0] = 2 * dx[:, 0]
        upper[:, 0] = dx[:, 0]
        rhs[:, 0] = 3 * (values[:, 1] - values[:, 0])
        diagonal[:, -1] = 2 * dx[:, -1]
        lower[:, -1] = dx[:, -1]
        rhs[:, -1] = 3 * (values[:, -1] - values[:, -2])
    return _solve_tridiagonal(lower, diagonal, upper, rhs)


def _solve_natural_two(dx: np.ndarray, values: np.ndarray) -> np.ndarray:
    lower = np.zeros(values.shape)
    diagonal = np.broadcast_to(2 * dx, values.shape).copy()
    upper = np.zeros(values.shape)
    upper[:, 0] = dx[:, 0]
    lower[:, 1] = dx[:, 0]
    rhs = np.broadcast_to(3 * (values[:, 1:] - values[:, :1]), values.shape).copy()
    return _solve_tridiagonal(lower, diagonal, upper, rhs)


def _parabola_derivatives(dx: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Three knots, not-a-knot at both ends: the parabola through the points (scipy's case)."""
    count = len(dx)
    matrix = np.zeros((count, 3, 3))
    matrix[:, 0, 0] = matrix[:, 0, 1] = 1
    matrix[:, 1, 0] = dx[:, 1, 0]
    matrix[:, 1, 1] = 2 * (dx[:, 0, 0] + dx[:, 1, 0])
    matrix[:, 1, 2] = dx[:, 0, 0]
    matrix[:, 2, 1] = matrix[:, 2, 2] = 1
    rhs = np.stack(
        [2 * slope[:, 0], 3 * (dx[:, 0] * slope[:, 1] + dx[:, 1] * slope[:, 0]), 2 * slope[:, 1]], axis=1
    )
    return np.linalg.solve(matrix, rhs)


def _periodic_derivatives(
    dx: np.ndarray,
    slope: np.ndarray,
    lower: np.ndarray,
    diagonal: np.ndarray,
    upper: np.ndarray,
    rhs: np.ndarray,
) -> np.ndarray:
    """Periodic spline: the cyclic (K-1)-system condensed to K-2 unknowns as scipy does."""
    lower, diagonal, upper, rhs = lower[:, :-1], diagonal[:, :-1].copy(), upper[:, :-1].copy(), rhs[:, :-1]
    diagonal[:, 0] = 2 * (dx[:, -1] + dx[:, 0])
    upper[:, 0] = dx[:, -1]
    rhs[:, 0] = 3 * (dx[:, 0] * slope[:, -1] + dx[:, -1] * slope[:, 0])
    rhs[:, -1] = 3 * (dx[:, -1] * slope[:, -2] + dx[:, -2] * slope[:, -1])
    corner_last_first = dx[:, -2]  # A[-1, 0] of the (K-1)-system
    corner_last_before = dx[:, -1]  # A[-1, -2]
    corner_last_last = 2 * (dx[:, -1] + dx[:, -2])  # A[-1, -1]
    corner_before_last = dx[:, -3]  # A[-2, -1]
    corner_first_last = dx[:, 0]  # A[0, -1]

    condensed = (lower[:, :-1].copy(), diagonal[:, :-1], upper[:, :-1].copy())
    condensed[0][:, 0] = 0.0
    condensed[2][:, -1] = 0.0
    first = _solve_tridiagonal(*condensed, rhs[:, :-1])
    correction_rhs = np.zeros_like(rhs[:, :-1])
    correction_rhs[:, 0] = -corner_first_last
    correction_rhs[:, -1] = -corner_before_last
    second = _solve_tridiagonal(*condensed, correction_rhs)
    last = (rhs[:, -1] - corner_last_first * first[:, 0] - corner_last_before * first[:, -1]) / (
        corner_last_last + corner_last_first * second[:, 0] + corner_last_before * second[:, -1]
    )
    count = dx.shape[1] + 1
    result = np.empty((len(dx), count, slope.shape[2]))
    result[:, :-2] = first + last[:, None] * second
    result[:, -2] = last
    result[:, -1] = result[:, 0]
    return result


def _solve_tridiagonal(
    lower: np.ndarray, diagonal: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Solve N tridiagonal systems at once (Thomas algorithm); every array is (N, K, D)."""
    count = diagonal.shape[1]
    diagonal = diagonal.copy()
    rhs = rhs.copy()
    for row in range(1, count):
        factor = lower[:, row] / diagonal[:, row - 1]
        diagonal[:, row] = diagonal[:, row] - factor * upper[:, row - 1]
        rhs[:, row] = rhs[:, row] - factor * rhs[:, row - 1]
    solution = np.empty_like(rhs)
    solution[:, -1] = rhs[:, -1] / diagonal[:, -1]
    for row in range(count - 2, -1, -1):
        solution[:, row] = (rhs[:, row] - upper[:, row] * solution[:, row + 1]) / diagonal[:, row]
    return solution
