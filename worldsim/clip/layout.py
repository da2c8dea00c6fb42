"""Paths of the clip folder (DESIGN.md "Clip folder layout") and which frames are complete.

A frame is complete when every file it should have exists; temp files are never mistaken for
finished ones because writes are atomic (``atomic.py``). Resume renders only incomplete frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from worldsim.clip.atomic import TEMP_PREFIX

GUIDANCE_MAPS = (
    "depth",
    "depth_exact",
    "instance",
    "semantic",
    "normal",
    "flow",
    "flow_backward",
    "shadow",
    "irradiance",
    "specular",
)
"""Guidance map names a scene's ``render.guidance`` may list.

``depth_exact`` adds ``depth/NNNNN.npy`` float32 metres beside the PNG; ``flow_backward`` writes
``flow_backward/`` (+ ``flow_backward_valid/``) beside the forward ``flow/``. ``shadow``,
``irradiance`` and ``specular`` are the lighting maps (float16 ``.npy``, ``renderers.guidance.lighting``).
"""
LIGHTING_MAPS = ("shadow", "irradiance", "specular")
"""The guidance maps computed only when listed (they cost shadow rays)."""

MAP_FILES: dict[str, tuple[tuple[str, str], ...]] = {
    "depth": (("depth", ".png"),),
    "depth_exact": (("depth", ".npy"),),
    "instance": (("instance", ".png"),),
    "semantic": (("semantic", ".png"),),
    "normal": (("normal", ".png"),),
    "flow": (("flow", ".npy"), ("flow_valid", ".png")),
    "flow_backward": (("flow_backward", ".npy"), ("flow_backward_valid", ".png")),
    "shadow": (("shadow", ".npy"),),
    "irradiance": (("irradiance", ".npy"),),
    "specular": (("specular", ".npy"),),
    "rgb": (("rgb", ".png"),),
}
"""Map name -> (folder, suffix) of each file it writes per frame."""

FRAME_FOLDERS = tuple(sorted({folder for files in MAP_FILES.values() for folder, _ in files}))
TOP_LEVEL_FILES = (
    "scene.yaml",
    "metadata.json",
    "trajectory.json",
    "video.mp4",
    "guidance.mp4",
    "contact_sheet.png",
)


def frame_stem(frame: int) -> str:
    """``00042`` for frame 42."""
    return f"{frame:05d}"


@dataclass(frozen=True)
class ClipLayout:
    """The paths of one clip folder rooted at ``root``."""

    root: Path

    @property
    def scene_yaml(self) -> Path:
        return self.root / "scene.yaml"

    @property
    def metadata_json(self) -> Path:
        return self.root / "metadata.json"

    @property
    def trajectory_json(self) -> Path:
        return self.root / "trajectory.json"

    @property
    def video_mp4(self) -> Path:
        return self.root / "video.mp4"

    @property
    def guidance_mp4(self) -> Path:
        return self.root / "guidance.mp4"

    @property
    def contact_sheet_png(self) -> Path:
        return self.root / "contact_sheet.png"

    def frame_file(self, folder: str, frame: int, suffix: str) -> Path:
        """``root/folder/NNNNN.suffix``."""
        return self.root / folder / f"{frame_stem(frame)}{suffix}"

    def map_files(self, name: str, frame: int) -> list[Path]:
        """Files the map ``name`` (a ``MAP_FILES`` key) writes for ``frame``."""
        return [self.frame_file(folder, frame, suffix) for folder, suffix in MAP_FILES[name]]

    def frame_files(self, maps: Iterable[str], frame: int) -> list[Path]:
        """Every file of ``frame`` for the maps ``maps``."""
        return [path for name in maps for path in self.map_files(name, frame)]

    def is_complete(self, maps: Iterable[str], frame: int) -> bool:
        """Whether every file of ``frame`` for ``maps`` exists."""
        return all(path.is_file() for path in self.frame_files(maps, frame))

    def incomplete_frames(self, maps: Sequence[str], frames: Iterable[int]) -> list[int]:
        """The frames of ``frames`` that miss at least one file of ``maps``."""
        return [frame for frame in frames if not self.is_complete(maps, frame)]

    def remove_stale_temp_files(self) -> int:
        """Delete temp files a crashed run left behind; returns how many."""
        removed = 0
        for folder in (self.root, *(self.root / name for name in FRAME_FOLDERS)):
            if folder.is_dir():
                for path in folder.glob(f"{TEMP_PREFIX}*"):
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def clear(self) -> None:
        """Remove every file of the layout (``--overwrite``); other files in ``root`` stay."""
        import shutil

        for name in FRAME_FOLDERS:
            shutil.rmtree(self.root / name, ignore_errors=True)
        for name in TOP_LEVEL_FILES:
            (self.root / name).unlink(missing_ok=True)
        self.remove_stale_temp_files()
