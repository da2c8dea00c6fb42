"""Entity appearance memory: each entity's look when it was first generated, kept for the clip.

After every window the mean colour (sRGB-encoded, [0, 1]) of each entity that covered at least
``min_pixels`` pixels and is not yet remembered is stored; later windows paint it on the entity's
pixels as a condition (``conditioning.with_memory``), so an entity that leaves the view and comes
back is drawn as before. The renderer draws the window where an entity is first remembered a
second time with its colour painted, so its first frames are made under the same condition as
all later ones (without that, the first window alone differs: measured as identity drift).
Entries are tiny (3 floats per entity), so memory does not grow with
clip length beyond the number of entities.
"""

from __future__ import annotations

import numpy as np

MIN_PIXELS = 12
"""An entity seen on fewer pixels of a window is not remembered yet (its colour is unreliable)."""


class AppearanceMemory:
    """Entity id -> remembered sRGB-encoded colour (3,)."""

    def __init__(self, min_pixels: int = MIN_PIXELS) -> None:
        self.min_pixels = int(min_pixels)
        self.colours: dict[int, np.ndarray] = {}
        self.first_frame: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.colours)

    def remember(self, frames: list[int], srgb: np.ndarray, instance: np.ndarray) -> list[int]:
        """Store entities of a window first seen here: ``srgb`` (T, H, W, 3) in [0, 1],
        ``instance`` (T, H, W). Returns the newly remembered ids."""
        srgb = np.asarray(srgb, dtype=np.float32)
        instance = np.asarray(instance)
        new = []
        for entity in np.unique(instance):
            entity = int(entity)
            if entity == 0 or entity in self.colours:
                continue
            pixels = instance == entity
            if pixels.sum() < self.min_pixels:
                continue
            self.colours[entity] = srgb[pixels].mean(axis=0)
            self.first_frame[entity] = int(
                frames[int(np.argmax(pixels.reshape(len(frames), -1).any(axis=1)))]
            )
            new.append(entity)
        return new
