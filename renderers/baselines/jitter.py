"""``jitter``: the flat shader with a random colour gain drawn anew every frame (inconsistent)."""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.baselines.flat import FlatRenderer, check_options
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame


class JitterRenderer(FlatRenderer):
    """Per frame, multiplies the albedo by one RGB gain in [1 - amplitude, 1 + amplitude]^3."""

    name = "jitter"

    def __init__(self, amplitude: float = 0.2, seed: int = 0) -> None:
        if not 0.0 <= amplitude < 1.0:
            raise RenderError(f"renderer 'jitter': option 'amplitude' must be in [0, 1), got {amplitude}")
        super().__init__(self._jitter)
        self.amplitude, self.seed = float(amplitude), int(seed)

    def gain(self, frame: int) -> np.ndarray:
        """(3,) colour gain of ``frame``: a pure function of (seed, frame), so resumes are identical."""
        rng = np.random.default_rng([self.seed, frame])
        return 1.0 + rng.uniform(-self.amplitude, self.amplitude, 3)

    def _jitter(self, frame: int, guidance: GuidanceFrame, albedo: np.ndarray) -> np.ndarray:
        return albedo * self.gain(frame)


def create_jitter_renderer(options: dict[str, Any]) -> JitterRenderer:
    """Factory registered as ``jitter``; options: amplitude (float, default 0.2), seed (int)."""
    return JitterRenderer(**check_options("jitter", options, {"amplitude": float, "seed": int}))
