"""``reseed``: per-entity colours re-drawn every window of N frames (identity breaks at window edges)."""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.baselines.flat import FlatRenderer, check_options
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame


class ReseedRenderer(FlatRenderer):
    """Within a window the frames are consistent; each window re-draws every entity's tint.

    albedo' = (1 - strength) * albedo + strength * tint(entity, window), tint uniform in [0.05, 0.95]^3.
    """

    name = "reseed"

    def __init__(self, window: int = 16, strength: float = 0.7, seed: int = 0) -> None:
        if window < 1:
            raise RenderError(f"renderer 'reseed': option 'window' must be >= 1, got {window}")
        if not 0.0 <= strength <= 1.0:
            raise RenderError(f"renderer 'reseed': option 'strength' must be in [0, 1], got {strength}")
        super().__init__(self._reseed)
        self.window, self.strength, self.seed = int(window), float(strength), int(seed)

    def tint(self, entity: int, frame: int) -> np.ndarray:
        """(3,) linear RGB tint of ``entity`` in the window holding ``frame``."""
        rng = np.random.default_rng([self.seed, entity, frame // self.window])
        return rng.uniform(0.05, 0.95, 3)

    def _reseed(self, frame: int, guidance: GuidanceFrame, albedo: np.ndarray) -> np.ndarray:
        result = albedo.copy()
        for entity in np.unique(guidance.instance):
            if entity != 0:
                mask = guidance.instance == entity
                result[mask] = (1 - self.strength) * albedo[mask] + self.strength * self.tint(
                    int(entity), frame
                )
        return result


def create_reseed_renderer(options: dict[str, Any]) -> ReseedRenderer:
    """Factory registered as ``reseed``; options: window (int, 16), strength (float, 0.7), seed (int)."""
    return ReseedRenderer(**check_options("reseed", options, {"window": int, "strength": float, "seed": int}))
