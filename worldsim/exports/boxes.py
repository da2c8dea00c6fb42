"""Per-entity 2D and 3D boxes of every frame of a clip (``boxes.json``).

For each frame: the camera (``K`` (3, 3) pixels, ``cam_to_world`` (4, 4) OpenCV axes) and one
row per entity present at that frame: id, name, class, ``in_view`` (its bounding volume meets the
frustum), ``visible_fraction`` and ``box_2d`` ``[x0, y0, x1, y1]`` half-open pixels of its visible
part (from ``visibility.json``, the one 2D box implementation; null when no pixel shows it), and
``box_3d`` in the ``world`` frame (Z up) and the ``camera`` frame (OpenCV): the oriented box of the
entity's mesh bounds at its pose (``worldsim.exports.oriented_boxes``: center, full size, rotation
whose columns are the object axes, 8 corners in ``CORNER_BITS`` order). Metres throughout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

BOXES_FORMAT = "worldsim.boxes/1"
"""``format`` of ``boxes.json``: bump it when a field changes meaning."""


def clip_boxes(clip_path: Path) -> dict[str, Any]:
    """The ``boxes.json`` dictionary of the clip folder ``clip_path`` (see the module docstring)."""
    from worldsim.camera.conventions import invert_pose
    from worldsim.clip.clip import Clip
    from worldsim.exports.frame_visibility import ClipVisibility
    from worldsim.exports.oriented_boxes import entity_bounds, oriented_box

    clip = Clip(clip_path)
    trajectory = clip.trajectory()
    track = trajectory.cameras[clip.camera]
    in_view = trajectory.in_view.get(clip.camera)
    bounds = entity_bounds(trajectory)
    visibility = ClipVisibility(clip)
    frames = []
    for frame in range(clip.num_frames):
        rows = visibility.rows(frame)
        cam_to_world = np.asarray(track.cam_to_world[frame], dtype=np.float64)
        world_to_cam = invert_pose(cam_to_world)
        entities = []
        for column in np.flatnonzero(trajectory.present[frame]):
            info = trajectory.entities[column]
            world_box = oriented_box(bounds[column], trajectory.object_to_world[frame, column])
            row = rows.get(info.id)
            entities.append(
                {
                    "entity_id": int(info.id),
                    "name": info.name,
                    "semantic_class": info.semantic_class,
                    "semantic_id": int(info.semantic_id),
                    "in_view": None if in_view is None else bool(in_view[frame, column]),
                    "visible_fraction": 0.0 if row is None else float(row.visible_fraction),
                    "box_2d": None if row is None or row.bbox is None else [int(v) for v in row.bbox],
                    "box_3d": {
                        "world": world_box.as_json(),
                        "camera": world_box.transformed(world_to_cam).as_json(),
                    },
                }
            )
        frames.append(
            {
                "frame": frame,
                "camera": {
                    "K": track.intrinsics(frame).matrix.tolist(),
                    "cam_to_world": cam_to_world.tolist(),
                },
                "entities": entities,
            }
        )
    return {
        "format": BOXES_FORMAT,
        "camera": clip.camera,
        "width": int(track.width),
        "height": int(track.height),
        "units": "metres; box_2d half-open pixels [x0, y0, x1, y1] of the visible part",
        "frames": frames,
    }


def export_boxes(clip_path: Path, out: Path, options: None = None) -> Path:
    """Write ``clip_boxes(clip_path)`` as JSON to ``out`` (atomically); returns ``out``."""
    from worldsim.clip.atomic import write_json

    return write_json(out, clip_boxes(Path(clip_path)), indent=None)
