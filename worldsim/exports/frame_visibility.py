"""A clip frame's per-entity visibility rows (``visibility.json``), checked against its instance map.

Every export that writes 2D boxes reads them here, so a clip whose guidance backend gave no
per-entity visibility (an entity on screen without a row) is refused instead of exported without
its boxes.
"""

from __future__ import annotations

import numpy as np

from worldsim.clip.clip import Clip
from worldsim.errors import ExportError
from worldsim.guidance_frame import EntityVisibility


def visibility_rows(clip: Clip, frame: int) -> dict[int, EntityVisibility]:
    """Entity id -> its visibility at ``frame``. When the clip has the frame's instance map, every
    entity it shows must have a row (ExportError naming visibility.json otherwise)."""
    rows = {row.entity_id: row for row in clip.visibility(frame)}
    if clip.layout.is_complete(["instance"], frame):
        shown = [int(value) for value in np.unique(clip.instance(frame)) if value != 0]
        unlisted = [entity_id for entity_id in shown if entity_id not in rows]
        if unlisted:
            raise ExportError(
                f"frame {frame}: entity {unlisted[0]} is in the instance map but has no visibility row "
                "(a guidance backend without per-entity silhouettes?)",
                file=str(clip.layout.clip_file("visibility")),
            )
    return rows
