"""Experiment config schema (omegaconf structured dataclasses) and its loader."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from worldsim.errors import WorldsimError, format_issue
from worldsim.experiments.prompt_probes import PromptProbes


class ExperimentConfigError(WorldsimError):
    """An experiment config file is invalid; the message names file, key path and reason."""


@dataclass
class RendererSetting:
    """One appearance setting of the sweep."""

    label: str = ""
    """Name in the CSV, plots and report (default: the renderer name)."""
    renderer: str = "flat"
    """A registered renderer (``renderers.base``): flat, jitter, reseed, reference, ..."""
    options: dict[str, Any] = field(default_factory=dict)
    """Renderer options, over the scene's ``render.renderer_options``."""


@dataclass
class QuickOverride:
    """Settings replacing the full ones under ``--quick`` (tests, smoke runs)."""

    resolution: list[int] = field(default_factory=lambda: [48, 36])
    clip_lengths: list[int] = field(default_factory=lambda: [8])
    seeds: list[int] = field(default_factory=lambda: [0])
    gap: int = 3


@dataclass
class ExperimentConfig:
    """A sweep: every scene x renderer setting x seed x clip length is one run."""

    name: str = "experiment"
    description: str = ""
    scenes: list[str] = field(default_factory=list)
    """Scene files, relative to the config file (or absolute)."""
    renderers: list[RendererSetting] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    """Scene seeds (each run renders the scene with ``seed`` replaced)."""
    clip_lengths: list[int] = field(default_factory=list)
    """Frame counts; empty keeps each scene's own length."""
    resolution: list[int] | None = None
    """``[width, height]`` over the scenes' own, or null."""
    camera: str | None = None
    gap: int = 8
    """Frames between the two frames of the surface-correspondence metrics."""
    quick: QuickOverride = field(default_factory=QuickOverride)
    prompt_probes: PromptProbes | None = None
    """Also run the prompt probes (``worldsim.experiments.prompt_probes``) on the scenes and seeds."""


def load_experiment_config(path: str | Path, *, quick: bool = False) -> tuple[ExperimentConfig, Path]:
    """Load and check an experiment YAML file; returns (config, folder of the file)."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentConfigError(format_issue(str(path), "", "no such experiment config file"))
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ExperimentConfig), OmegaConf.load(path))
        config: ExperimentConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", "") or ""
        raise ExperimentConfigError(format_issue(str(path), str(key), str(error).splitlines()[0])) from None
    if quick:
        config.resolution = list(config.quick.resolution)
        config.clip_lengths = list(config.quick.clip_lengths)
        config.seeds = list(config.quick.seeds)
        config.gap = config.quick.gap
    problems = []
    if not config.scenes:
        problems.append(("scenes", "list at least one scene file"))
    if not config.renderers:
        problems.append(("renderers", "list at least one renderer setting"))
    for index, scene in enumerate(config.scenes):
        if not (path.parent / scene).is_file():
            problems.append((f"scenes[{index}]", f"scene file {scene!r} not found"))
    if any(length < 2 for length in config.clip_lengths):
        problems.append(("clip_lengths", "every clip length must be >= 2 frames"))
    if config.gap < 1:
        problems.append(("gap", "must be >= 1"))
    if config.resolution is not None and (len(config.resolution) != 2 or min(config.resolution) < 8):
        problems.append(("resolution", "must be [width, height], each >= 8"))
    probes = config.prompt_probes
    if probes is not None:
        from worldsim.text.words import LIGHTING_KINDS

        if probes.frames < 1 or len(probes.resolution) != 2 or min(probes.resolution) < 8:
            problems.append(
                ("prompt_probes", "frames must be >= 1 and resolution [width, height], each >= 8")
            )
        for index, scene in enumerate(probes.scenes):
            if not (path.parent / scene).is_file():
                problems.append((f"prompt_probes.scenes[{index}]", f"scene file {scene!r} not found"))
        unknown = [kind for kind in probes.lighting_kinds if kind not in LIGHTING_KINDS]
        if unknown:
            problems.append(
                (
                    "prompt_probes.lighting_kinds",
                    f"unknown kinds {unknown}; known: {', '.join(LIGHTING_KINDS)}",
                )
            )
        from worldsim.scene.lighting_presets import PRESETS

        if probes.finish_lighting not in PRESETS:
            problems.append(
                (
                    "prompt_probes.finish_lighting",
                    f"unknown preset {probes.finish_lighting!r}; known: {', '.join(PRESETS)}",
                )
            )
        from renderers.base import available

        for key in ("renderer", "reference_renderer"):
            name = getattr(probes, key)
            if name not in available() and not (key == "reference_renderer" and name == ""):
                problems.append(
                    (f"prompt_probes.{key}", f"unknown renderer {name!r}; available: {available()}")
                )
    labels = [setting.label or setting.renderer for setting in config.renderers]
    if len(set(labels)) != len(labels):
        problems.append(("renderers", f"labels must be unique, got {labels}"))
    if problems:
        raise ExperimentConfigError(
            "\n".join(format_issue(str(path), key, reason) for key, reason in problems)
        )
    return config, path.parent
