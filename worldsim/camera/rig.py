"""The per-frame state a camera path is built in: positions, orientations, field of view, subject."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RigState:
    """A camera over T frames while its path is being evaluated.

    position: (T, 3) metres. rotation: (T, 3, 3) cam_to_world rotation (OpenCV axes).
    fov_deg: (T,) vertical field of view. subject: (T, 3) the point the camera aims at, if any.
    """

    position: np.ndarray
    rotation: np.ndarray
    fov_deg: np.ndarray
    subject: np.ndarray | None

    def copy(self) -> RigState:
        subject = None if self.subject is None else self.subject.copy()
        return RigState(self.position.copy(), self.rotation.copy(), self.fov_deg.copy(), subject)


def axis_rotation(axis: np.ndarray, angle_rad: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations by ``angle_rad`` (T,) about the unit ``axis`` (3,) or (T, 3) (Rodrigues)."""
    angle = np.asarray(angle_rad, dtype=np.float64)
    axis = np.broadcast_to(np.asarray(axis, dtype=np.float64), (*angle.shape, 3))
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    rows = [np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)]
    cross = np.stack(rows, -2)
    sin, cos = np.sin(angle)[..., None, None], np.cos(angle)[..., None, None]
    return np.eye(3) + sin * cross + (1.0 - cos) * (cross @ cross)
