"""The reference renderer's options: ``configs/reference.yaml`` merged over a structured dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldsim.config_io import config_path, load_structured
from worldsim.errors import RenderError

DEFAULT_OPTIONS_PATH = config_path("reference.yaml")
FILTERS = ("gaussian", "box", "tent")


@dataclass
class ReferenceOptions:
    """How the reference renderer path-traces a clip."""

    samples_per_pixel: int = 16
    """Paths per pixel in final mode."""
    max_depth: int = 6
    """Longest path (Mitsuba's ``max_depth``: 2 = direct light only); -1 = unbounded."""
    preview: bool = False
    """Fast iteration: ``preview_samples_per_pixel`` and the guided denoiser."""
    preview_samples_per_pixel: int = 4
    denoise: bool | None = None
    """Guided denoiser (uses the guidance albedo, normals, depth and ids); None = on in preview."""
    variant: str = "auto"
    """``auto`` (LLVM when available), ``llvm_ad_rgb`` or ``scalar_rgb``."""
    exposure: float = 0.0
    """Stops added to the camera's ``exposure_ev`` before its tone map (``renderers.tonemap``)."""
    reconstruction_filter: str = "gaussian"
    near_clip: float = 1e-3
    max_triangles_per_entity: int = 250_000
    """Texture-refinement budget per entity (final mode)."""
    per_hit_materials: bool = True
    """Evaluate textured materials at every ray hit (exact, as the guidance albedo); False colours
    the vertices of a refined mesh instead (limited by the triangle budgets below)."""
    preview_max_triangles_per_entity: int = 20_000
    """The same in preview mode: softer textures, a much faster per-frame accelerator rebuild."""

    @property
    def triangle_budget(self) -> int:
        """Texture-refinement budget per entity actually used."""
        return self.preview_max_triangles_per_entity if self.preview else self.max_triangles_per_entity

    @property
    def spp(self) -> int:
        """Samples per pixel actually used."""
        return self.preview_samples_per_pixel if self.preview else self.samples_per_pixel

    @property
    def use_denoiser(self) -> bool:
        """Whether frames go through the guided denoiser."""
        return self.preview if self.denoise is None else self.denoise


def load_reference_options(
    options: dict[str, Any] | None = None, path: str | Path | None = None
) -> ReferenceOptions:
    """``ReferenceOptions`` <- ``path`` (default ``configs/reference.yaml``) <- ``options``.

    Raises RenderError naming the key for unknown keys, wrong types and out-of-range values.
    """
    result = load_structured(
        ReferenceOptions,
        DEFAULT_OPTIONS_PATH,
        path,
        options,
        error=RenderError,
        prefix="renderer 'reference': ",
    )
    _check(result)
    return result


def _check(options: ReferenceOptions) -> None:
    def fail(key: str, reason: str) -> None:
        raise RenderError(f"renderer 'reference': option {key!r} {reason}")

    for key in (
        "samples_per_pixel",
        "preview_samples_per_pixel",
        "max_triangles_per_entity",
        "preview_max_triangles_per_entity",
    ):
        if getattr(options, key) < 1:
            fail(key, f"must be at least 1, got {getattr(options, key)}")
    if options.max_depth == 0 or options.max_depth < -1:
        fail("max_depth", f"must be -1 or at least 1, got {options.max_depth}")
    if options.reconstruction_filter not in FILTERS:
        fail(
            "reconstruction_filter",
            f"must be one of {', '.join(FILTERS)}, got {options.reconstruction_filter!r}",
        )
    if not options.near_clip > 0:
        fail("near_clip", f"must be positive, got {options.near_clip}")
    if not -20.0 <= options.exposure <= 20.0:
        fail("exposure", f"must be within [-20, 20] stops, got {options.exposure}")
