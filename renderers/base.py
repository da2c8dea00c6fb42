"""The appearance-renderer protocol and the registry the orchestration layer looks names up in."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from renderers.guidance.frame import GuidanceFrame
from worldsim.errors import RenderError
from worldsim.state import Trajectory

GuidanceSource = Callable[[int], GuidanceFrame]
"""``guidance(frame) -> GuidanceFrame`` of the camera being rendered (computed on demand)."""


class AppearanceRenderer(Protocol):
    """Turns world states into RGB frames.

    ``render_frames`` yields ``(frame_index, rgb)`` for the requested frames in order, rgb being
    (H, W, 3) uint8 sRGB. ``frames`` may skip frames already on disk (resume); a renderer that
    needs temporal context (windows) computes what it needs itself.
    """

    name: str
    needs_guidance: bool

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]: ...


_REGISTRY: dict[str, str] = {
    # name -> "module:factory"; each factory takes the renderer options dict.
    "reference": "renderers.reference.renderer:create_reference_renderer",
    "jitter": "renderers.baselines.jitter:create_jitter_renderer",
    "reseed": "renderers.baselines.reseed:create_reseed_renderer",
    "flat": "renderers.baselines.flat:create_flat_renderer",
    "direct": "renderers.direct.renderer:create_direct_renderer",
    "diffusion": "renderers.diffusion.renderer:create_diffusion_renderer",
    "wan_vace": "renderers.adapters.wan_vace:create_wan_vace_renderer",
    "cogvideox_fun": "renderers.adapters.cogvideox_fun:create_cogvideox_fun_renderer",
}
DEFAULT_RENDERER = "diffusion"


def register(name: str, factory_path: str) -> None:
    """Register ``"package.module:factory"`` under ``name`` (imported on first use)."""
    _REGISTRY[name] = factory_path


def available() -> list[str]:
    """Registered renderer names."""
    return sorted(_REGISTRY)


def create(name: str, options: dict[str, Any] | None = None) -> AppearanceRenderer:
    """Instantiate the renderer registered as ``name`` (``default`` = ``DEFAULT_RENDERER``)."""
    if name == "default":
        name = DEFAULT_RENDERER
    if name not in _REGISTRY:
        raise RenderError(f"unknown renderer {name!r}; available: {', '.join(available())}")
    module_name, factory_name = _REGISTRY[name].split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    return factory(dict(options or {}))
