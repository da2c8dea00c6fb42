"""Oriented 3D boxes of entities: the object-frame bounds of the entity's mesh, placed by its pose.

One implementation for every export that draws or writes 3D boxes (``boxes``, ``rerun``).
Corner ``i`` (0..7) takes the high bound on x when bit 0 of ``i`` is set, on y for bit 1, on z
for bit 2 (corner 0 = all low, corner 7 = all high), in the object frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from worldsim.state import Trajectory

CORNER_BITS = np.array([[(index >> axis) & 1 for axis in range(3)] for index in range(8)], dtype=bool)
"""(8, 3) bool: whether corner i takes the high bound on each axis."""


@dataclass(frozen=True)
class OrientedBox:
    """A box in some frame (world or camera).

    center: (3,) float64 metres; size: (3,) float64 full extents along the box axes, metres;
    rotation: (3, 3) float64, columns = the box axes (the entity's object axes) in the frame;
    corners: (8, 3) float64 metres, in ``CORNER_BITS`` order.
    """

    center: np.ndarray
    size: np.ndarray
    rotation: np.ndarray
    corners: np.ndarray

    def transformed(self, transform: np.ndarray) -> OrientedBox:
        """The same box seen from another frame: ``transform`` (4, 4) maps this frame into it."""
        transform = np.asarray(transform, dtype=np.float64)
        rotation, translation = transform[:3, :3], transform[:3, 3]
        return OrientedBox(
            center=rotation @ self.center + translation,
            size=self.size.copy(),
            rotation=rotation @ self.rotation,
            corners=self.corners @ rotation.T + translation,
        )

    def as_json(self) -> dict[str, list]:
        return {
            "center": self.center.tolist(),
            "size": self.size.tolist(),
            "rotation": self.rotation.tolist(),
            "corners": self.corners.tolist(),
        }


def oriented_box(bounds: np.ndarray, object_to_world: np.ndarray) -> OrientedBox:
    """The world-frame box of mesh ``bounds`` ((2, 3) object-frame low / high corners, metres) at the
    rigid pose ``object_to_world`` (4, 4)."""
    bounds = np.asarray(bounds, dtype=np.float64)
    pose = np.asarray(object_to_world, dtype=np.float64)
    low, high = bounds
    local_corners = np.where(CORNER_BITS, high, low)
    rotation, translation = pose[:3, :3], pose[:3, 3]
    return OrientedBox(
        center=rotation @ ((low + high) / 2.0) + translation,
        size=high - low,
        rotation=rotation.copy(),
        corners=local_corners @ rotation.T + translation,
    )


def entity_bounds(trajectory: Trajectory) -> list[np.ndarray]:
    """(2, 3) object-frame mesh bounds of every entity column of ``trajectory`` (meshes are loaded
    through ``worldsim.scene.meshes.load_mesh``, cached; AssetError for a mesh file gone missing)."""
    from worldsim.scene.meshes import load_mesh

    return [np.asarray(load_mesh(entity.mesh).bounds, dtype=np.float64) for entity in trajectory.entities]
