"""Pinhole intrinsics in pixels, OpenCV convention, pixel centres at +0.5."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
"""Diagonal of a 35 mm full-frame sensor, the reference of 35 mm-equivalent focal lengths."""


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

    @classmethod
    def from_focal_35mm(cls, focal_mm: float, width: int, height: int) -> Intrinsics:
        """Square pixels from a 35 mm-equivalent focal length (matched on the image diagonal,
        36 x 24 mm full frame, diagonal 43.27 mm)."""
        focal = focal_mm * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM
        return cls(focal, focal, width / 2.0, height / 2.0, int(width), int(height))

    @classmethod
    def from_sensor(
        cls,
        focal_mm: float,
        sensor_width_mm: float,
        width: int,
        height: int,
        sensor_height_mm: float | None = None,
    ) -> Intrinsics:
        """From a lens focal length and the sensor size in mm (height defaults to square pixels)."""
        if sensor_height_mm is None:
            sensor_height_mm = sensor_width_mm * height / width
        fx = focal_mm * width / sensor_width_mm
        fy = focal_mm * height / sensor_height_mm
        return cls(fx, fy, width / 2.0, height / 2.0, int(width), int(height))

    def resize(self, width: int, height: int) -> Intrinsics:
        """The same camera rendering ``width x height`` pixels (pixel-centre convention kept)."""
        scale_x, scale_y = width / self.width, height / self.height
        fx, fy = self.fx * scale_x, self.fy * scale_y
        return Intrinsics(fx, fy, self.cx * scale_x, self.cy * scale_y, int(width), int(height))

    def crop(self, x0: int, y0: int, width: int, height: int) -> Intrinsics:
        """The window ``[x0, x0 + width) x [y0, y0 + height)`` of this image as a camera of its own."""
        return Intrinsics(self.fx, self.fy, self.cx - x0, self.cy - y0, int(width), int(height))

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
