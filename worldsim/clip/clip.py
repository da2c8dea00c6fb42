"""``Clip``: a rendered clip folder, with readers for its frames and maps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.clip import encodings
from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE
from worldsim.clip.layout import ClipLayout
from worldsim.clip.metadata import ClipFolderError, read_metadata
from worldsim.guidance_frame import EntityVisibility
from worldsim.state import Trajectory


@dataclass
class Clip:
    """A clip folder on disk (see docs/ARCHITECTURE.md for the layout). Frames are read on demand."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    @property
    def layout(self) -> ClipLayout:
        return ClipLayout(self.path)

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """The parsed metadata.json."""
        return read_metadata(self.layout.metadata_json)

    @property
    def num_frames(self) -> int:
        return int(self.metadata["num_frames"])

    @property
    def fps(self) -> float:
        return float(self.metadata["fps"])

    @property
    def camera(self) -> str:
        """The camera whose frames the clip holds."""
        return str(self.metadata["settings"]["camera"])

    def _file(self, folder: str, frame: int, suffix: str) -> Path:
        if not 0 <= frame < self.num_frames:
            raise IndexError(f"frame {frame} out of range for {self.num_frames} frames")
        path = self.layout.frame_file(folder, frame, suffix)
        if not path.is_file():
            raise ClipFolderError(f"{path}: missing (was this map rendered?)")
        return path

    def rgb(self, frame: int) -> np.ndarray:
        """(H, W, 3) uint8 sRGB."""
        return encodings.read_png(self._file("rgb", frame, ".png"))

    def map(self, name: str, frame: int) -> dict[str, np.ndarray]:
        """The ``GuidanceFrame`` fields the map ``name`` (a ``GUIDANCE_MAP_TABLE`` row) stores for
        ``frame``, decoded from its files; raises ClipFolderError if a file is missing."""
        row = GUIDANCE_MAP_TABLE.get(name)
        if row is None:
            raise KeyError(f"unknown guidance map {name!r}; known: {', '.join(GUIDANCE_MAP_TABLE)}")
        if row.clip_file is not None:
            entries = self.layout.read_clip_file(name)["frames"]
            if str(frame) not in entries:
                raise ClipFolderError(
                    f"{self.layout.clip_file(name)}: has no frame {frame} (was {name} rendered?)"
                )
            return row.decode(entries[str(frame)])
        files = (self._file(folder, frame, suffix) for folder, suffix in row.files)
        return row.decode(tuple(read_frame_file(path) for path in files))

    def depth(self, frame: int) -> np.ndarray:
        """(H, W) float32 metres, +inf background; exact when ``depth_exact`` was rendered."""
        exact = self.layout.frame_file("depth", frame, ".npy")
        return self.map("depth_exact" if exact.is_file() else "depth", frame)["depth"]

    def instance(self, frame: int) -> np.ndarray:
        """(H, W) uint16 entity ids, 0 = background."""
        return self.map("instance", frame)["instance"]

    def semantic(self, frame: int) -> np.ndarray:
        """(H, W) uint16 class ids, 0 = background."""
        return self.map("semantic", frame)["semantic"]

    def normal(self, frame: int) -> np.ndarray:
        """(H, W, 3) float32 camera-frame unit normals (8-bit precision), 0 on background."""
        return self.map("normal", frame)["normal"]

    def flow(self, frame: int, *, backward: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(flow (H, W, 2) float32 pixels to frame t+1 (t-1 if ``backward``), valid (H, W) bool)."""
        field = "flow_backward" if backward else "flow_forward"
        maps = self.map("flow_backward" if backward else "flow", frame)
        return maps[field], maps[f"{field}_valid"]

    def visibility(self, frame: int) -> list[EntityVisibility]:
        """Per-entity visibility of ``frame`` (visible fraction, 2D box, occluders): visibility.json."""
        return self.map("visibility", frame)["visibility"]

    def trajectory(self) -> Trajectory:
        """The full rollout (entity and camera poses of every frame) from trajectory.json."""
        return Trajectory.load(self.layout.trajectory_json)

    def entity_table(self) -> list[dict[str, Any]]:
        """Rows of {id, name, semantic_class, semantic_id, physics_mode}."""
        return list(self.metadata["entities"])

    def __len__(self) -> int:
        return self.num_frames

    def __repr__(self) -> str:
        return f"Clip({str(self.path)!r})"


def read_frame_file(path: Path) -> np.ndarray:
    """The array of one map file: a ``.png`` (uint16 stays uint16) or a ``.npy``."""
    return encodings.read_npy(path) if path.suffix == ".npy" else encodings.read_png(path)
