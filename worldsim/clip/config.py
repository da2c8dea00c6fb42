"""Render settings, one source each: the ``RenderConfig`` dataclass holds the project defaults
(``configs/render.yaml`` may override them), a scene's ``render`` section leaves unset what it does
not choose (``None``), and ``resolve_render_settings`` merges call > scene > config in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worldsim.config_io import config_path, load_structured

if TYPE_CHECKING:
    from worldsim.scene.model import RenderSettings

DEFAULT_CONFIG_PATH = config_path("render.yaml")
UNSET_RENDERER = "default"
"""A renderer name that means "not chosen here" (the CLI's and older scene files' spelling)."""
SCENE_LEVEL_OPTIONS = ("samples_per_pixel",)
"""Renderer options a scene sets in its ``render`` section (not in ``renderer_options``); they
reach only the renderers that take them (``renderers.base.scene_options``)."""
LOGGER = logging.getLogger("worldsim.render")


@dataclass
class RenderConfig:
    """Render defaults; a scene's ``render`` section and explicit arguments override them."""

    renderer: str = "diffusion"
    """Appearance renderer when neither the call nor the scene names one."""
    guidance_backend: str = "open3d"
    """Guidance backend when the scene does not set ``render.guidance_backend``."""
    guidance_batch_size: int = 8
    """Frames per guidance backend call."""
    guidance_supersample: int = 1
    """Supersampling factor for depth and normals (ids are never anti-aliased)."""
    videos: bool = True
    """Write ``video.mp4`` and ``guidance.mp4``."""
    contact_sheet_frames: int = 12
    """Evenly spaced frames on ``contact_sheet.png``."""
    contact_sheet_columns: int | None = None
    """Grid columns; ``None`` = ceil(sqrt(frames))."""
    content_credentials: bool = True
    """Sign ``video.mp4`` and ``contact_sheet.png`` with C2PA content credentials (needs the
    ``provenance`` extra; frames and videos carry the provenance record either way)."""
    signing_key: str | None = None
    """PEM private key for the content credentials (with ``signing_certificate``); unset = a local
    test identity, which the manifest names as such."""
    signing_certificate: str | None = None
    """PEM certificate chain (leaf first) of ``signing_key``."""
    signing_timestamp_url: str | None = None
    """RFC 3161 timestamp authority for the signatures; unset = none (nothing goes over the network)."""


def load_render_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> RenderConfig:
    """``RenderConfig`` <- ``path`` (default ``configs/render.yaml`` if present) <- ``overrides``.

    Raises WorldsimError naming the file and key for unknown keys or wrong types.
    """
    return load_structured(RenderConfig, DEFAULT_CONFIG_PATH, path, overrides)


@dataclass(frozen=True)
class ResolvedRenderSettings:
    """What a render uses: every value chosen, each from the first of call, scene, config."""

    renderer: str
    guidance_backend: str
    renderer_options: dict[str, Any]
    """The options the renderer is created with (its own defaults fill the rest)."""


def resolve_render_settings(
    scene: RenderSettings,
    config: RenderConfig,
    *,
    renderer: str | None = None,
    options: dict[str, Any] | None = None,
    scene_options: Callable[[str], Collection[str]] = lambda name: (),
) -> ResolvedRenderSettings:
    """Merge call > scene > config.

    renderer: the call's renderer (``None`` or ``"default"``: not chosen).
    options: the call's renderer options, over the scene's ``render.renderer_options``, over its
      scene-level options (``render.samples_per_pixel``).
    scene_options: renderer name -> the ``SCENE_LEVEL_OPTIONS`` it takes; the others are dropped
      (a scene's sample count is the reference renderer's, not the diffusion renderer's).
    """
    name = _first_set(renderer, scene.renderer, config.renderer)
    backend = scene.guidance_backend if scene.guidance_backend is not None else config.guidance_backend
    takes = set(scene_options(name))
    merged: dict[str, Any] = {
        key: getattr(scene, key) for key in SCENE_LEVEL_OPTIONS if getattr(scene, key) is not None
    }
    merged.update(scene.renderer_options)
    merged.update(options or {})
    for key in SCENE_LEVEL_OPTIONS:
        if key in merged and key not in takes:
            LOGGER.debug("renderer %r has no option %r; it is not passed on", name, key)
            del merged[key]
    return ResolvedRenderSettings(renderer=name, guidance_backend=backend, renderer_options=merged)


def _first_set(*names: str | None) -> str:
    for name in names:
        if name is not None and name != UNSET_RENDERER:
            return name
    raise ValueError("no renderer chosen: RenderConfig.renderer must name one")
