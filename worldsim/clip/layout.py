"""Paths of the clip folder (docs/ARCHITECTURE.md, "The clip folder") and which frames are complete.

A frame is complete when every file it should have exists; temp files are never mistaken for
finished ones because writes are atomic (``atomic.py``). Resume renders only incomplete frames.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldsim.clip.atomic import TEMP_PREFIX
from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE
from worldsim.clip.metadata import ClipFolderError

GUIDANCE_MAPS = tuple(GUIDANCE_MAP_TABLE)
"""Guidance map names a scene's ``render.guidance`` may list (the rows of ``guidance_maps``).

``depth_exact`` adds ``depth/NNNNN.npy`` float32 metres beside the PNG; ``flow_backward`` writes
``flow_backward/`` (+ ``flow_backward_valid/``) beside the forward ``flow/``. ``shadow``,
``irradiance`` and ``specular`` are the lighting maps (float16 ``.npy``, ``renderers.guidance.lighting``).
"""
LIGHTING_MAPS = ("shadow", "irradiance", "specular")
"""The guidance maps computed only when listed (they cost shadow rays)."""

MAP_FILES: dict[str, tuple[tuple[str, str], ...]] = {
    **{name: row.files for name, row in GUIDANCE_MAP_TABLE.items()},
    "rgb": (("rgb", ".png"),),
}
"""Map name -> (folder, suffix) of each file it writes per frame."""

CACHE_FOLDER = ".cache/guidance_preview"
"""Cached guidance previews (``worldsim.clip.preview_cache``); removed with the clip's files."""
FRAME_FOLDERS = tuple(sorted({folder for files in MAP_FILES.values() for folder, _ in files}))
CLIP_FILES = {name: row.clip_file for name, row in GUIDANCE_MAP_TABLE.items() if row.clip_file}
"""Map name -> its one file per clip (e.g. ``visibility.json``), for maps without per-frame files."""
EXPORTS_FOLDER = "exports"
"""Where ``worldsim export`` writes a clip's exports by default (``worldsim.exports.registry``)."""
TOP_LEVEL_FILES = (
    "scene.yaml",
    "metadata.json",
    "trajectory.json",
    "frame_inputs.json",
    "appearance_memory.json",
    "surface_cache.npz",
    "appearance_start.json",
    "surface_cache_start.npz",
    "video.mp4",
    "guidance.mp4",
    "contact_sheet.png",
    *CLIP_FILES.values(),
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
    def frame_inputs_json(self) -> Path:
        """What each frame was made from (``worldsim.clip.invalidation``)."""
        return self.root / "frame_inputs.json"

    @property
    def appearance_memory_json(self) -> Path:
        """The renderer's appearance memory at the end of the render (``--appearance-from``)."""
        return self.root / "appearance_memory.json"

    @property
    def surface_cache_npz(self) -> Path:
        """The renderer's surface cache at the end of the render (``--appearance-from``)."""
        return self.root / "surface_cache.npz"

    @property
    def appearance_start_json(self) -> Path:
        """The appearance memory this clip started from (kept so a resume starts from it again)."""
        return self.root / "appearance_start.json"

    @property
    def surface_cache_start_npz(self) -> Path:
        """The surface cache this clip started from."""
        return self.root / "surface_cache_start.npz"

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

    def clip_file(self, name: str) -> Path:
        """The one file per clip of the map ``name`` (a ``CLIP_FILES`` key)."""
        return self.root / CLIP_FILES[name]

    def read_clip_file(self, name: str) -> dict[str, Any]:
        """The clip file of map ``name`` as ``{"frames": {"<frame>": entry}}`` (empty if absent);
        ClipFolderError naming the file when it is unreadable."""
        path = self.clip_file(name)
        if not path.is_file():
            return {"frames": {}}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ClipFolderError(f"{path}: unreadable ({error})") from None
        if not isinstance(data, dict) or not isinstance(data.get("frames"), dict):
            raise ClipFolderError(f"{path}: expected a JSON object with a 'frames' object")
        return data

    def is_complete(self, maps: Iterable[str], frame: int) -> bool:
        """Whether every file of ``frame`` for ``maps`` exists (and each clip file holds it)."""
        return not self.incomplete_frames(list(maps), [frame])

    def incomplete_frames(self, maps: Sequence[str], frames: Iterable[int]) -> list[int]:
        """The frames of ``frames`` that miss at least one file of ``maps`` (or a clip file's entry)."""
        stored = [set(self.read_clip_file(name)["frames"]) for name in maps if name in CLIP_FILES]
        per_frame = [name for name in maps if name not in CLIP_FILES]
        return [
            frame
            for frame in frames
            if not all(path.is_file() for path in self.frame_files(per_frame, frame))
            or not all(str(frame) in held for held in stored)
        ]

    def remove_stale_temp_files(self) -> int:
        """Delete temp files a crashed run left behind; returns how many."""
        removed = 0
        for folder in (self.root, self.root / CACHE_FOLDER, *(self.root / name for name in FRAME_FOLDERS)):
            if folder.is_dir():
                for path in folder.glob(f"{TEMP_PREFIX}*"):
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def clear(self) -> None:
        """Remove every file of the layout (``--overwrite``); other files in ``root`` stay."""
        import shutil

        for name in (*FRAME_FOLDERS, CACHE_FOLDER, EXPORTS_FOLDER):  # the old clip's exports would be stale
            shutil.rmtree(self.root / name, ignore_errors=True)
        for name in TOP_LEVEL_FILES:
            (self.root / name).unlink(missing_ok=True)
        self.remove_stale_temp_files()
