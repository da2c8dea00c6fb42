"""``Clip``: a rendered clip folder, with readers for its frames and maps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.clip import encodings
from worldsim.clip.layout import ClipLayout
from worldsim.clip.metadata import ClipFolderError, read_metadata
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

    def depth(self, frame: int) -> np.ndarray:
        """(H, W) float32 metres, +inf background; exact when ``depth_exact`` was rendered."""
        exact = self.layout.frame_file("depth", frame, ".npy")
        if exact.is_file():
            return encodings.read_npy(exact).astype(np.float32)
        return encodings.decode_depth(encodings.read_png(self._file("depth", frame, ".png")))

    def instance(self, frame: int) -> np.ndarray:
        """(H, W) uint16 entity ids, 0 = background."""
        return encodings.decode_ids(encodings.read_png(self._file("instance", frame, ".png")))

    def semantic(self, frame: int) -> np.ndarray:
        """(H, W) uint16 class ids, 0 = background."""
        return encodings.decode_ids(encodings.read_png(self._file("semantic", frame, ".png")))

    def normal(self, frame: int) -> np.ndarray:
        """(H, W, 3) float32 camera-frame unit normals (8-bit precision), 0 on background."""
        return encodings.decode_normal(encodings.read_png(self._file("normal", frame, ".png")))

    def flow(self, frame: int, *, backward: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(flow (H, W, 2) float32 pixels to frame t+1 (t-1 if ``backward``), valid (H, W) bool)."""
        folder = "flow_backward" if backward else "flow"
        flow = encodings.read_npy(self._file(folder, frame, ".npy")).astype(np.float32)
        valid = encodings.decode_mask(encodings.read_png(self._file(f"{folder}_valid", frame, ".png")))
        return flow, valid

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
