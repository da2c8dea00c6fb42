"""Pinhole intrinsics in pixels, OpenCV convention, pixel centres at +0.5."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics: focal lengths and principal point in pixels, image size in pixels.

    Pixel ``(u, v)`` covers ``[u, u+1) x [v, v+1)``; its centre is ``(u + 0.5, v + 0.5)``, so a
    centred principal point is ``(width / 2, height / 2)``.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_fov(cls, fov_deg: float, width: int, height: int, *, axis: str = "vertical") -> Intrinsics:
        """Square pixels, centred principal point, field of view along ``axis`` (vertical|horizontal)."""
        extent = height if axis == "vertical" else width
        focal = 0.5 * extent / math.tan(math.radians(fov_deg) / 2.0)
        return cls(focal, focal, width / 2.0, height / 2.0, int(width), int(height))

    @property
    def matrix(self) -> np.ndarray:
        """The 3x3 calibration matrix ``K`` (float64)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def vertical_fov_deg(self) -> float:
        return math.degrees(2.0 * math.atan(0.5 * self.height / self.fy))

    @property
    def horizontal_fov_deg(self) -> float:
        return math.degrees(2.0 * math.atan(0.5 * self.width / self.fx))
