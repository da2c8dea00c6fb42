"""A clip's per-entity visibility rows (``visibility.json``), read once and checked against the
instance maps.

Every export that writes 2D boxes reads them here, so a clip whose guidance backend gave no
per-entity visibility (an entity on screen without a row) is refused instead of exported without
its boxes. ``visibility.json`` is parsed once per clip (``Clip.visibility`` parses it per call).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from worldsim.clip.clip import Clip
from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE
from worldsim.errors import ExportError
from worldsim.guidance_frame import EntityVisibility


class ClipVisibility:
    """The visibility rows of every frame of ``clip``."""

    def __init__(self, clip: Clip) -> None:
        self.clip = clip

    @cached_property
    def _entries(self) -> dict[str, Any]:
        return self.clip.layout.read_clip_file("visibility")["frames"]

    def rows(self, frame: int) -> dict[int, EntityVisibility]:
        """Entity id -> its visibility at ``frame``. When the clip has the frame's instance map,
        every entity it shows must have a row (ExportError naming visibility.json otherwise)."""
        path = self.clip.layout.clip_file("visibility")
        if str(frame) not in self._entries:
            raise ExportError(f"no entry for frame {frame} (was visibility rendered?)", file=str(path))
        decoded = GUIDANCE_MAP_TABLE["visibility"].decode(self._entries[str(frame)])["visibility"]
        rows = {row.entity_id: row for row in decoded}
        if self.clip.layout.is_complete(["instance"], frame):
            shown = [int(value) for value in np.unique(self.clip.instance(frame)) if value != 0]
            unlisted = [entity_id for entity_id in shown if entity_id not in rows]
            if unlisted:
                raise ExportError(
                    f"frame {frame}: entity {unlisted[0]} is in the instance map but has no visibility row "
                    "(a guidance backend without per-entity silhouettes?)",
                    file=str(path),
                )
        return rows
