"""Visibility and events: bounding spheres against camera frusta, spawn / despawn times.

An entity is *in view* of a camera at a frame when it is present and its bounding sphere (the
``mesh_bounds`` sphere of its mesh, moved by its pose) meets the frustum: in front of the near
plane at ``NEAR_PLANE`` metres and inside the four side planes through the camera centre and
the image borders (from the intrinsics). The sphere test is conservative: near a frustum corner
a sphere can count as in view while no pixel covers it.

Events: ``spawn`` at the first present frame of an entity with a ``spawn_time``; ``despawn`` at
the first frame after it stops being present; ``enter_view`` at a frame where an entity is in
view and was not at the previous frame (at frame 0 for entities in view from the start);
``leave_view`` at the first frame where it is no longer in view.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worldsim.camera.track import CameraTrack
from worldsim.state import EVENT_KINDS, Event

NEAR_PLANE = 0.01
"""Metres in front of the camera where the view frustum starts."""
VIEW_CHUNK_ENTITY_FRAMES = 16384
"""Entity-frames tested against a frustum at once."""


def frustum_planes(track: CameraTrack) -> np.ndarray:
    """(T, 5, 4) inward planes ``(nx, ny, nz, d)`` in the OpenCV camera frame; inside: n.p + d >= 0.

    Planes: near, left (u = 0), right (u = width), top (v = 0), bottom (v = height); unit normals.
    """
    count = len(track)
    planes = np.zeros((count, 5, 4))
    zeros = np.zeros(count)
    planes[:, 0] = np.stack([zeros, zeros, np.ones(count), np.full(count, -NEAR_PLANE)], axis=-1)
    planes[:, 1, :3] = np.stack([track.fx, zeros, track.cx], axis=-1)
    planes[:, 2, :3] = np.stack([-track.fx, zeros, track.width - track.cx], axis=-1)
    planes[:, 3, :3] = np.stack([zeros, track.fy, track.cy], axis=-1)
    planes[:, 4, :3] = np.stack([zeros, -track.fy, track.height - track.cy], axis=-1)
    planes[:, 1:, :3] /= np.linalg.norm(planes[:, 1:, :3], axis=-1, keepdims=True)
    return planes


def spheres_in_view(
    object_to_world: np.ndarray, sphere_centers: np.ndarray, sphere_radii: np.ndarray, track: CameraTrack
) -> np.ndarray:
    """(T, E) bool: does each entity's bounding sphere meet the camera's frustum at each frame.

    object_to_world: (T, E, 4, 4); sphere_centers: (E, 3) object frame; sphere_radii: (E,) metres.
    Evaluated in chunks of ``VIEW_CHUNK_ENTITY_FRAMES`` entity-frames (each frame's arithmetic is
    the same; the temporaries stay in cache).
    """
    world_to_cam = np.linalg.inv(track.cam_to_world)
    planes = frustum_planes(track)
    count, entities = object_to_world.shape[:2]
    in_view = np.empty((count, entities), dtype=bool)
    step = max(1, VIEW_CHUNK_ENTITY_FRAMES // max(entities, 1))
    offset_centers = bool(np.any(sphere_centers))  # meshes not centred on their origin
    for start in range(0, count, step):
        frames = slice(start, min(start + step, count))
        poses = object_to_world[frames]
        centers_world = poses[..., :3, 3]
        if offset_centers:
            offsets = np.matmul(poses[..., :3, :3], sphere_centers[None, :, :, None])[..., 0]
            centers_world = centers_world + offsets
        centers_cam = np.matmul(centers_world, np.swapaxes(world_to_cam[frames, :3, :3], 1, 2))
        centers_cam += world_to_cam[frames, None, :3, 3]
        distances = (
            np.matmul(centers_cam, np.swapaxes(planes[frames, :, :3], 1, 2)) + planes[frames, None, :, 3]
        )
        in_view[frames] = np.all(distances >= -sphere_radii[None, :, None], axis=-1)
    return in_view


def presence(
    times: np.ndarray, spawn_times: Sequence[float | None], despawn_times: Sequence[float | None]
) -> np.ndarray:
    """(T, E) bool: ``spawn_time <= t < despawn_time`` (None: from the start / forever)."""
    spawn = np.array([-np.inf if value is None else float(value) for value in spawn_times])
    despawn = np.array([np.inf if value is None else float(value) for value in despawn_times])
    times = np.asarray(times, dtype=float)[:, None]
    return (times >= spawn[None, :]) & (times < despawn[None, :])


def _rising(mask: np.ndarray, initial: bool) -> tuple[np.ndarray, np.ndarray]:
    previous = np.vstack([np.full((1, mask.shape[1]), initial), mask[:-1]])
    return np.nonzero(mask & ~previous)


def detect_events(
    times: np.ndarray,
    entity_ids: Sequence[int],
    present: np.ndarray,
    has_spawn_time: Sequence[bool],
    has_despawn_time: Sequence[bool],
    in_view: dict[str, np.ndarray],
) -> list[Event]:
    """Events sorted by frame, kind (``EVENT_KINDS`` order), entity id and camera."""
    times = np.asarray(times, dtype=float)
    ids = np.asarray(entity_ids)
    events: list[Event] = []
    frames, columns = _rising(present, initial=False)
    spawn_flags = np.asarray(has_spawn_time, dtype=bool)
    events += [
        Event(int(f), float(times[f]), "spawn", int(ids[c]))
        for f, c in zip(frames, columns)
        if spawn_flags[c]
    ]
    frames, columns = _rising(~present, initial=False)
    despawn_flags = np.asarray(has_despawn_time, dtype=bool)
    events += [
        Event(int(f), float(times[f]), "despawn", int(ids[c]))
        for f, c in zip(frames, columns)
        if despawn_flags[c] and f > 0
    ]
    for camera, mask in in_view.items():
        frames, columns = _rising(mask, initial=False)
        events += [
            Event(int(f), float(times[f]), "enter_view", int(ids[c]), camera) for f, c in zip(frames, columns)
        ]
        frames, columns = _rising(~mask, initial=True)
        events += [
            Event(int(f), float(times[f]), "leave_view", int(ids[c]), camera) for f, c in zip(frames, columns)
        ]
    order = {kind: i for i, kind in enumerate(EVENT_KINDS)}
    events.sort(key=lambda event: (event.frame, order[event.kind], event.entity_id, event.camera or ""))
    return events
