"""Each frame's guidance preview (the ``guidance.mp4`` / contact-sheet grid), kept between runs.

Drawing a frame's grid reads all its maps back and colours them (tens of ms a frame, more than
computing the guidance of a small frame), so re-rendering an edited scene would spend most of its
time redrawing frames that did not change. The grid is a function of the frame's guidance alone
(every colour map normalises per frame), so it is cached under the frame's content address
(``worldsim.clip.frame_inputs``) and the maps drawn: ``.cache/guidance_preview/NNNNN-KEY.png``.
A frame whose inputs changed has another key; its old image is removed when the new one is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from worldsim.clip.atomic import write_png
from worldsim.clip.encodings import read_png
from worldsim.clip.frame_inputs import digest_json
from worldsim.clip.layout import CACHE_FOLDER, frame_stem

PREVIEW_VERSION = 1
"""Bumped when the grid's drawing changes, so older cached images are not reused."""


class PreviewCache:
    """Guidance grids of one clip folder keyed by (frame inputs digest, maps drawn)."""

    def __init__(self, root: Path, digests: Sequence[str], maps: Sequence[str]) -> None:
        self.folder = root / CACHE_FOLDER
        self.digests = list(digests)
        self.maps = list(maps)

    def path(self, frame: int) -> Path:
        key = digest_json({"inputs": self.digests[frame], "maps": self.maps, "version": PREVIEW_VERSION})
        return self.folder / f"{frame_stem(frame)}-{key[:16]}.png"

    def image(self, frame: int, draw: Callable[[int], np.ndarray]) -> np.ndarray:
        """The (H, W, 3) uint8 grid of ``frame``: read back when cached, else ``draw(frame)``, kept."""
        if frame >= len(self.digests):
            return draw(frame)
        path = self.path(frame)
        if path.is_file():
            try:
                return read_png(path)
            except (OSError, ValueError):  # a damaged cache file: draw it again
                path.unlink(missing_ok=True)
        image = draw(frame)
        self.folder.mkdir(parents=True, exist_ok=True)
        for older in self.folder.glob(f"{frame_stem(frame)}-*.png"):
            older.unlink(missing_ok=True)
        write_png(path, image)
        return image
