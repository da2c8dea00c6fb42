"""Entity reference images: each entity's look in the window it first appeared in, for later windows.

After every window, each entity not yet remembered is cropped from the frame of that window where
it covers most pixels: its bounding box, with every pixel that is not the entity set to white (the
way Wan VACE's reference images show a subject on a white background). Entities too small to show
anything (``min_pixels``) or so large they are scenery rather than a subject (a bounding box over
``max_coverage`` of the frame: floors, walls) are skipped. At most ``limit`` crops are kept, the
first ones found, so memory is bounded whatever the clip length or entity count.

A model's image preprocessing floors a reference's sides to its VAE's spatial factor (8 for Wan),
so a thin entity's crop (a disc seen edge-on: 3 px high) would become 0 px and crash it;
``pad_to_multiple`` centres each crop on white of whole multiples of that factor before it is handed
over, so nothing is cut off either.
"""

from __future__ import annotations

import numpy as np

MIN_PIXELS = 16
MAX_COVERAGE = 0.5


class EntityReferences:
    """Entity id -> (h, w, 3) float32 crop in [0, 1] on white, in order of first appearance."""

    def __init__(self, limit: int, min_pixels: int = MIN_PIXELS, max_coverage: float = MAX_COVERAGE) -> None:
        self.limit = int(limit)
        self.min_pixels = int(min_pixels)
        self.max_coverage = float(max_coverage)
        self.crops: dict[int, np.ndarray] = {}
        self.first_frame: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.crops)

    def remember(self, frames: list[int], rgb: np.ndarray, instance: np.ndarray) -> list[int]:
        """Crop entities first seen in a window: ``rgb`` (T, H, W, 3) in [0, 1], ``instance``
        (T, H, W) ids. Returns the newly remembered ids (largest first)."""
        if len(self.crops) >= self.limit:
            return []
        instance = np.asarray(instance)
        _, height, width = instance.shape
        candidates = []
        for entity in np.unique(instance):
            entity = int(entity)
            if entity == 0 or entity in self.crops:
                continue
            counts = (instance == entity).reshape(len(frames), -1).sum(axis=1)
            best = int(np.argmax(counts))
            if counts[best] < self.min_pixels:
                continue
            mask = instance[best] == entity
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            if (bottom - top) * (right - left) > self.max_coverage * height * width:
                continue
            crop = np.where(mask[..., None], rgb[best], 1.0)[top:bottom, left:right]
            candidates.append((int(counts[best]), entity, frames[best], crop.astype(np.float32)))
        new = []
        for _, entity, frame, crop in sorted(candidates, key=lambda item: (-item[0], item[1])):
            if len(self.crops) >= self.limit:
                break
            self.crops[entity] = crop
            self.first_frame[entity] = frame
            new.append(entity)
        return new

    def images(self) -> list[np.ndarray]:
        """The remembered crops, in the order they were found."""
        return list(self.crops.values())


def pad_to_multiple(crop: np.ndarray, multiple: int) -> np.ndarray:
    """``crop`` (h, w, 3) float32 [0, 1] centred on white of whole multiples of ``multiple`` per side."""
    height, width = crop.shape[:2]
    padded_height = max(1, -(-height // multiple)) * multiple
    padded_width = max(1, -(-width // multiple)) * multiple
    canvas = np.ones((padded_height, padded_width, crop.shape[2]), dtype=crop.dtype)
    top, left = (padded_height - height) // 2, (padded_width - width) // 2
    canvas[top : top + height, left : left + width] = crop
    return canvas
