"""Camera poses and intrinsics evaluated at every frame time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.lens import CameraLens


@dataclass
class CameraTrack:
    """One camera over a clip.

    cam_to_world: (T, 4, 4) float64, OpenCV camera axes (x right, y down, z forward).
    fx, fy, cx, cy: (T,) float64 pixels (zoom may change them per frame).
    width, height: image size in pixels.
    cuts: frames that start a new shot (a hard cut between frame ``c - 1`` and ``c``), ascending;
      nothing on screen is continuous across a cut, so no flow or correspondence crosses one.
    lens: exposure, tone map and aperture (``worldsim.camera.lens``); guidance ignores it (pinhole).
    """

    name: str
    cam_to_world: np.ndarray
    fx: np.ndarray
    fy: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    width: int
    height: int
    cuts: tuple[int, ...] = ()
    lens: CameraLens = field(default_factory=CameraLens)

    def __len__(self) -> int:
        return len(self.cam_to_world)

    def intrinsics(self, frame: int) -> Intrinsics:
        """The intrinsics at ``frame``."""
        return Intrinsics(
            float(self.fx[frame]),
            float(self.fy[frame]),
            float(self.cx[frame]),
            float(self.cy[frame]),
            self.width,
            self.height,
        )

    def resized(self, width: int, height: int) -> CameraTrack:
        """The same camera rendering ``width x height`` pixels (every frame's intrinsics scaled)."""
        if width < 1 or height < 1:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        scale_x, scale_y = width / self.width, height / self.height
        return replace(
            self,
            fx=self.fx * scale_x,
            fy=self.fy * scale_y,
            cx=self.cx * scale_x,
            cy=self.cy * scale_y,
            width=int(width),
            height=int(height),
        )

    def crosses_cut(self, first: int, second: int) -> bool:
        """Whether a cut lies between frames ``first`` and ``second`` (in either order)."""
        low, high = sorted((int(first), int(second)))
        return any(low < cut <= high for cut in self.cuts)

    def shots(self) -> list[tuple[int, int]]:
        """The shots as ``(start, stop)`` frame ranges (stop exclusive), split at the cuts."""
        bounds = [0, *(cut for cut in self.cuts if 0 < cut < len(self)), len(self)]
        return list(pairwise(bounds))

    def world_to_cam(self, frame: int) -> np.ndarray:
        """(4, 4) inverse of ``cam_to_world[frame]``."""
        return np.linalg.inv(self.cam_to_world[frame])


EntityPositionLookup = Callable[[str, np.ndarray], np.ndarray]
"""``lookup(entity_name, frame_indices) -> (T, 3)`` world positions of an entity's origin."""
