"""Cheap sanity checks of an evaluated camera against the world: a camera centre inside an
entity's bounding box (in the entity's own frame, so rotated boxes are exact)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from worldsim.camera.track import CameraTrack


class CameraWarning(UserWarning):
    """A camera setup that renders, but probably not as intended."""


def camera_inside_boxes(
    track: CameraTrack, object_to_world: np.ndarray, bounds: np.ndarray, names: Sequence[str]
) -> list[str]:
    """Messages for entities whose object-frame box contains the camera centre at some frame.

    object_to_world: (T, E, 4, 4) entity poses; bounds: (E, 2, 3) object-frame box (min, max).
    Flat boxes (a plane) never contain the camera.
    """
    centres = track.cam_to_world[:, :3, 3]  # (T, 3)
    rotation = object_to_world[:, :, :3, :3]
    offset = centres[:, None, :] - object_to_world[:, :, :3, 3]
    local = np.einsum("teji,tej->tei", rotation, offset)  # R^T (c - t): the camera in object frames
    inside = np.all((local > bounds[None, :, 0]) & (local < bounds[None, :, 1]), axis=-1)  # (T, E)
    messages = []
    for column in np.flatnonzero(inside.any(axis=0)):
        frames = np.flatnonzero(inside[:, column])
        messages.append(
            f"camera {track.name!r} is inside entity {names[column]!r} at {len(frames)} frame(s), "
            f"first frame {frames[0]}"
        )
    return messages


def warn_camera_inside_boxes(
    track: CameraTrack, object_to_world: np.ndarray, bounds: np.ndarray, names: Sequence[str]
) -> list[str]:
    """``camera_inside_boxes``, each message also issued as a ``CameraWarning``."""
    messages = camera_inside_boxes(track, object_to_world, bounds, names)
    for message in messages:
        warnings.warn(message, CameraWarning, stacklevel=2)
    return messages
