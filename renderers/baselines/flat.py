"""``flat``: albedo times a fixed Lambert light from the guidance; consistent by construction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from renderers.base import GuidanceSource
from renderers.tonemap import tonemap_uint8
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.state import Trajectory

LOGGER = logging.getLogger(__name__)
LIGHT_DIRECTION_CAMERA = np.array([-0.3, -0.6, -0.7]) / np.linalg.norm([-0.3, -0.6, -0.7])
"""Unit vector towards the light in the camera frame (OpenCV: up-left, towards the camera)."""
AMBIENT = 0.3
BACKGROUND_LINEAR = np.array([0.05, 0.05, 0.06])

AlbedoTransform = Callable[[int, GuidanceFrame, np.ndarray], np.ndarray]
"""``(frame, guidance, albedo (H, W, 3) linear) -> albedo``: how a baseline perturbs appearance."""


def shade(guidance: GuidanceFrame, albedo: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) linear RGB: ``albedo`` (default the guidance albedo) under ambient + Lambert light."""
    albedo = guidance.albedo if albedo is None else albedo
    normal = guidance.shading_normal if guidance.shading_normal is not None else guidance.normal
    lambert = np.clip(normal @ LIGHT_DIRECTION_CAMERA, 0.0, 1.0)[..., None]
    lit = albedo * (AMBIENT + (1.0 - AMBIENT) * lambert)
    return np.where((guidance.instance > 0)[..., None], lit, BACKGROUND_LINEAR)


class FlatRenderer:
    """Renders each frame from its guidance alone; subclasses perturb the albedo per frame."""

    name = "flat"
    needs_guidance = True

    def __init__(self, transform: AlbedoTransform | None = None) -> None:
        self.transform = transform

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame, (H, W, 3) uint8 sRGB) for each requested frame."""
        if guidance is None:
            raise RenderError(f"renderer {self.name!r} needs guidance maps; none were given")
        lens = trajectory.cameras[camera].lens
        for frame in frames:
            maps = guidance(frame)
            albedo = maps.albedo if self.transform is None else self.transform(frame, maps, maps.albedo)
            yield frame, tonemap_uint8(shade(maps, albedo), exposure_ev=lens.exposure_ev, curve=lens.tonemap)


def check_options(name: str, options: dict[str, Any], allowed: dict[str, type]) -> dict[str, Any]:
    """Options of ``allowed`` (name -> type) from ``options``; a wrong type raises RenderError naming
    the key, unknown keys are ignored with a warning."""
    for key, value in options.items():
        if key not in allowed:
            # scene files carry options for their own renderer (e.g. max_depth); a
            # calibration baseline swapped in for it ignores them rather than refusing the scene
            LOGGER.warning(
                "renderer %r ignores option %r (it takes: %s)", name, key, ", ".join(allowed) or "none"
            )
            continue
        kind = allowed[key]
        is_number = kind is float and isinstance(value, int | float)
        if isinstance(value, bool) or not (isinstance(value, kind) or is_number):
            raise RenderError(f"renderer {name!r}: option {key!r} must be {kind.__name__}, got {value!r}")
    return {key: value for key, value in options.items() if key in allowed}


def create_flat_renderer(options: dict[str, Any]) -> FlatRenderer:
    """Factory registered as ``flat`` (no options)."""
    check_options("flat", options, {})
    return FlatRenderer()
