"""The appearance-renderer protocol and the registry the orchestration layer looks names up in."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from worldsim.camera.track import CameraTrack
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.state import Trajectory

if TYPE_CHECKING:
    from renderers.guidance.backend import RayHits


class FrameGuidance(Protocol):
    """Guidance frames of the rendered camera at one image size.

    trajectory: the clip seen at this size; track: its camera (intrinsics at this size).
    """

    trajectory: Trajectory
    track: CameraTrack

    def __call__(self, frame: int) -> GuidanceFrame:
        """The ``GuidanceFrame`` of ``frame`` (any order; in order each frame costs one cast)."""
        ...

    def hits(self, frame: int) -> RayHits:
        """The ray hits of ``frame`` alone (the same one cast), for a map or two of them."""
        ...


class GuidanceSource(FrameGuidance, Protocol):
    """What the orchestrator hands a renderer: the clip's guidance, composed once per clip.

    Calling it gives the output-resolution frames (the very frames written to the clip folder,
    or read back from it); ``at(width, height)`` gives another size (a model's native size, a
    noise grid), cast by the same backend. Renderers never build a backend themselves.
    """

    def at(self, width: int, height: int, lighting: Sequence[str] = ()) -> FrameGuidance:
        """The guidance at ``width x height`` pixels carrying at least the ``lighting`` maps,
        built on first use and kept for the clip."""
        ...


class AppearanceRenderer(Protocol):
    """Turns world states into RGB frames.

    ``render_frames`` yields ``(frame_index, rgb)`` for the requested frames in order, rgb being
    (H, W, 3) uint8 sRGB. ``frames`` may skip frames already on disk (resume); a renderer that
    needs temporal context (windows) computes what it needs itself. A renderer with
    ``needs_guidance`` gets a ``GuidanceSource`` and takes every guidance frame from it.
    """

    name: str
    needs_guidance: bool

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]: ...


_REGISTRY: dict[str, str] = {
    # name -> "module:factory"; each factory takes the renderer options dict. The default renderer
    # is ``worldsim.clip.config.RenderConfig.renderer``.
    "reference": "renderers.reference.renderer:create_reference_renderer",
    "jitter": "renderers.baselines.jitter:create_jitter_renderer",
    "reseed": "renderers.baselines.reseed:create_reseed_renderer",
    "flat": "renderers.baselines.flat:create_flat_renderer",
    "direct": "renderers.direct.renderer:create_direct_renderer",
    "diffusion": "renderers.diffusion.renderer:create_diffusion_renderer",
    "wan_vace": "renderers.adapters.wan_vace:create_wan_vace_renderer",
    "cogvideox_fun": "renderers.adapters.cogvideox_fun:create_cogvideox_fun_renderer",
}
_SCENE_OPTIONS: dict[str, frozenset[str]] = {"reference": frozenset({"samples_per_pixel"})}
"""The scene-level options (``worldsim.clip.config.SCENE_LEVEL_OPTIONS``) each renderer takes."""


_VOCABULARIES: dict[str, str] = {"diffusion": "renderers.diffusion.text_encoder:unknown_words"}
"""Renderers that read words -> ``"module:function"``: texts -> the words their model does not know."""


def reads_words(name: str) -> bool:
    """Whether renderer ``name`` reads a scene's words (``prompt``, entity ``description``)."""
    return name in _VOCABULARIES


def unknown_words(name: str, texts: list[str]) -> list[str]:
    """The words of ``texts`` renderer ``name``'s text model does not know ([] for renderers
    that read no words). Loads the model's vocabulary (``RenderError`` when it cannot)."""
    if name not in _VOCABULARIES:
        return []
    module_name, function_name = _VOCABULARIES[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)(texts)


def register(name: str, factory_path: str, scene_options: Iterable[str] = ()) -> None:
    """Register ``"package.module:factory"`` under ``name`` (imported on first use), taking the
    scene-level options ``scene_options`` (e.g. ``samples_per_pixel``)."""
    _REGISTRY[name] = factory_path
    _SCENE_OPTIONS[name] = frozenset(scene_options)


def scene_options(name: str) -> frozenset[str]:
    """The scene-level options renderer ``name`` takes (none for most)."""
    return _SCENE_OPTIONS.get(name, frozenset())


def available() -> list[str]:
    """Registered renderer names."""
    return sorted(_REGISTRY)


def create(name: str, options: dict[str, Any] | None = None) -> AppearanceRenderer:
    """Instantiate the renderer registered as ``name``."""
    if name not in _REGISTRY:
        raise RenderError(f"unknown renderer {name!r}; available: {', '.join(available())}")
    module_name, factory_name = _REGISTRY[name].split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    return factory(dict(options or {}))
