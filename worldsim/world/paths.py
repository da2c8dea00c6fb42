"""Path curves of many entities at once, parametrised by arc length ``s`` in metres.

A path is a polyline (``linear``) or a cubic spline (``cubic``; ``periodic`` when ``closed``, not-
a-knot otherwise, ``natural`` for an open path of two points) through ``points``, with chord-length
knots. Cubic paths map arc length to the spline parameter through a dense table of
``ARC_LENGTH_SAMPLES_PER_SEGMENT`` samples per segment. Closed paths wrap ``s`` modulo their
length, open ones clamp it to ``[0, length]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worldsim.errors import SceneError
from worldsim.scene.model import MotionSpec
from worldsim.world.splines import BatchedCubicSpline

ARC_LENGTH_SAMPLES_PER_SEGMENT = 256
"""Samples per spline segment of the arc-length table of cubic paths."""
PATH_INTERPOLATIONS = ("linear", "cubic")


def path_points(motion: MotionSpec, key_path: str) -> np.ndarray:
    """(P, 3) float64 points of the path (the first appended again when ``closed``); validated."""
    points = np.asarray(motion.points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 2 or not np.all(np.isfinite(points)):
        raise SceneError(
            "a path needs at least two points of 3 finite numbers", key_path=f"{key_path}.points"
        )
    if motion.closed and np.linalg.norm(points[-1] - points[0]) > 1e-12:
        points = np.vstack([points, points[:1]])
    if motion.interpolation not in PATH_INTERPOLATIONS:
        raise SceneError(
            f"unknown path interpolation {motion.interpolation!r} (linear | cubic)",
            key_path=f"{key_path}.interpolation",
        )
    return points


def chord_knots(points: np.ndarray, key_path: str) -> np.ndarray:
    """(P,) cumulative chord lengths from 0; SceneError where two consecutive points coincide."""
    chords = np.linalg.norm(np.diff(points, axis=0), axis=1)
    if np.any(chords < 1e-12):
        raise SceneError("consecutive path points must differ", key_path=f"{key_path}.points")
    return np.concatenate([[0.0], np.cumsum(chords)])


class PathCurves:
    """N paths of one kind (all linear, or all cubic with the same point count and closedness).

    ``length`` (N,) metres; ``position(s)`` and unit ``tangent(s)`` take (N, M) arc lengths and
    return (N, M, 3).
    """

    def __init__(
        self, motions: Sequence[MotionSpec], points: Sequence[np.ndarray], knots: Sequence[np.ndarray]
    ):
        self.closed = np.array([bool(motion.closed) for motion in motions])
        self.cubic = motions[0].interpolation == "cubic"
        self._points = list(points)
        self._knots = list(knots)
        if not self.cubic:
            self.length = np.array([float(k[-1]) for k in knots])
            return
        stacked_knots, stacked_points = np.stack(knots), np.stack(points)
        count = stacked_knots.shape[1]
        if bool(self.closed[0]):
            boundary = "periodic"
        else:
            boundary = "natural" if count < 3 else "not-a-knot"
        self._spline = BatchedCubicSpline(stacked_knots, stacked_points, boundary)
        samples = ARC_LENGTH_SAMPLES_PER_SEGMENT * (count - 1) + 1
        self._parameter = np.linspace(0.0, stacked_knots[:, -1], samples, axis=1)
        steps = np.linalg.norm(np.diff(self._spline(self._parameter), axis=1), axis=2)
        self._arc = np.concatenate([np.zeros((len(steps), 1)), np.cumsum(steps, axis=1)], axis=1)
        self.length = self._arc[:, -1].copy()

    def wrap(self, arc_length: np.ndarray) -> np.ndarray:
        """(N, M) arc lengths wrapped (closed) or clamped (open) onto each path."""
        arc_length = np.asarray(arc_length, dtype=float)
        length = self.length[:, None]
        return np.where(self.closed[:, None], np.mod(arc_length, length), np.clip(arc_length, 0.0, length))

    def _spline_parameter(self, wrapped: np.ndarray) -> np.ndarray:
        parameter = np.empty_like(wrapped)
        for row in range(len(wrapped)):
            parameter[row] = np.interp(wrapped[row], self._arc[row], self._parameter[row])
        return parameter

    def position(self, arc_length: np.ndarray) -> np.ndarray:
        return self.positions_and_tangents(arc_length, tangents=False)[0]

    def tangent(self, arc_length: np.ndarray) -> np.ndarray:
        return self.positions_and_tangents(arc_length, tangents=True)[1]

    def positions_and_tangents(
        self, arc_length: np.ndarray, tangents: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, M, 3) positions and unit tangents (None unless ``tangents``) at arc lengths (N, M)."""
        wrapped = self.wrap(arc_length)
        if self.cubic:
            parameter = self._spline_parameter(wrapped)
            if not tangents:
                return self._spline(parameter), None
            position, direction = self._spline.values_and_derivatives(parameter)
        else:
            position = np.empty((*wrapped.shape, 3))
            direction = np.empty((*wrapped.shape, 3)) if tangents else None
            for row, (knots, points) in enumerate(zip(self._knots, self._points)):
                for axis in range(3):
                    position[row, :, axis] = np.interp(wrapped[row], knots, points[:, axis])
                if tangents:
                    segment = np.searchsorted(knots, wrapped[row], side="right") - 1
                    segment = np.clip(segment, 0, len(knots) - 2)
                    direction[row] = points[segment + 1] - points[segment]
        if direction is None:
            return position, None
        return position, direction / np.linalg.norm(direction, axis=-1, keepdims=True)
