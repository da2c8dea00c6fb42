"""Defaults of the render entry point: ``configs/render.yaml`` merged over a structured dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldsim.config_io import load_structured

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "configs" / "render.yaml"


@dataclass
class RenderConfig:
    """Render defaults; a scene's ``render`` section and explicit arguments override them."""

    renderer: str = "default"
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
