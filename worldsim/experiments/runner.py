"""Run a sweep: one clip folder and one metrics file per run; runs already scored are skipped."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

from worldsim.clip.atomic import atomic_path, write_text
from worldsim.experiments.config import ExperimentConfig, RendererSetting
from worldsim.metrics.clip_metrics import ClipMetrics, Row, evaluate_clip_folder

LOGGER = logging.getLogger(__name__)


REFERENCE = "reference"
"""The renderer whose runs are the fidelity ground truth of the others."""


@dataclass
class Run:
    """One point of the sweep."""

    scene_file: Path
    setting: RendererSetting
    seed: int
    clip_length: int | None

    @property
    def label(self) -> str:
        return self.setting.label or self.setting.renderer

    @property
    def run_id(self) -> str:
        length = "native" if self.clip_length is None else f"{self.clip_length}f"
        return f"{self.scene_file.stem}__{self.label}__seed{self.seed}__{length}"


def plan_runs(config: ExperimentConfig, base_dir: Path) -> list[Run]:
    """Every combination of scene x renderer setting x seed x clip length, in that order."""
    lengths: list[int | None] = list(config.clip_lengths) or [None]
    return [
        Run((base_dir / scene).resolve(), setting, seed, length)
        for scene, setting, seed, length in product(config.scenes, config.renderers, config.seeds, lengths)
    ]


def _prepare_scene(run: Run, config: ExperimentConfig) -> Any:
    from worldsim.scene.yaml_io import load_scene

    scene = load_scene(run.scene_file)
    scene.seed = run.seed
    if run.clip_length is not None:
        scene.num_frames, scene.duration = run.clip_length, None
    if config.resolution is not None:
        scene.resolution = list(config.resolution)
    return scene


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with atomic_path(path) as temporary, temporary.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def tidy_rows(identity: dict[str, Any], metrics: ClipMetrics) -> tuple[Row, list[Row], list[Row]]:
    """(clip row, frame rows, entity rows), each prefixed with the run's ``identity`` columns."""
    return (
        {**identity, **metrics.clip},
        [{**identity, **row} for row in metrics.frames],
        [{**identity, **row} for row in metrics.entities],
    )


def execute_run(
    run: Run, config: ExperimentConfig, out: Path, reference: Run | None = None
) -> dict[str, Any]:
    """Render and score one run into ``out/runs/<run_id>``; reuse its metrics if already there.

    ``reference``: the path-traced run of the same scene, seed and length, whose frames give
    the PSNR / SSIM columns (fidelity to the reference renderer).
    """
    from worldsim.clip import Clip
    from worldsim.render import clip_guidance, render

    run_dir = out / "runs" / run.run_id
    done = run_dir / "metrics.json"
    if done.is_file():
        return json.loads(done.read_text())
    run_dir.mkdir(parents=True, exist_ok=True)
    scene = _prepare_scene(run, config)
    render(
        scene,
        renderer=run.setting.renderer,
        out=run_dir / "clip",
        camera=config.camera,
        progress=False,
        options=dict(run.setting.options),
    )
    reference_dir = None
    if reference is not None and reference is not run:
        candidate = out / "runs" / reference.run_id / "clip"
        reference_dir = candidate if (candidate / "rgb").is_dir() else None
    guidance = clip_guidance(Clip(run_dir / "clip"))
    metrics = evaluate_clip_folder(run_dir / "clip", guidance, gap=config.gap, reference_dir=reference_dir)
    identity = {
        "run": run.run_id,
        "scene": run.scene_file.stem,
        "setting": run.label,
        "renderer": run.setting.renderer,
        "seed": run.seed,
        "clip_length": metrics.clip["frames"],
    }
    summary, frame_rows, entity_rows = tidy_rows(identity, metrics)
    _write_csv(run_dir / "frames.csv", frame_rows)
    _write_csv(run_dir / "entities.csv", entity_rows)
    write_text(done, json.dumps(summary, indent=1))  # written last: its presence marks the run done
    return summary


def execution_order(config: ExperimentConfig, base_dir: Path) -> tuple[list[Run], dict[tuple, Run]]:
    """The runs in the order they execute, and the reference run of each (scene, seed, length).

    Within each scene the reference renderer's runs go first, so the other runs of the same
    scene, seed and length are scored against them (PSNR / SSIM).
    """
    runs = plan_runs(config, base_dir)
    scene_order = {run.scene_file: index for index, run in reversed(list(enumerate(runs)))}
    runs.sort(key=lambda run: (scene_order[run.scene_file], run.setting.renderer != REFERENCE))
    references = {
        (run.scene_file, run.seed, run.clip_length): run
        for run in reversed(runs)
        if run.setting.renderer == REFERENCE
    }
    return runs, references


def run_experiment(
    config: ExperimentConfig,
    base_dir: Path,
    out: Path,
    *,
    workers: int | None = None,
    address: str | None = None,
) -> Iterator[tuple[Run, dict[str, Any]]]:
    """Execute every run of the sweep, yielding (run, clip summary row).

    workers / address: run them as Ray tasks (``worldsim.datasets.ray_pool``) on a local Ray with
    ``workers`` CPUs or the cluster at ``address``, the reference runs first, yielded as they
    finish; otherwise one after another in ``execution_order``.
    """
    out.mkdir(parents=True, exist_ok=True)
    runs, references = execution_order(config, base_dir)
    if workers is None and address is None:
        for run in runs:
            LOGGER.info("experiment %s: run %s", config.name, run.run_id)
            yield run, execute_run(run, config, out, references.get(_reference_key(run)))
        return
    yield from _run_on_ray(config, out, runs, references, workers or 1, address)


def _reference_key(run: Run) -> tuple:
    return (run.scene_file, run.seed, run.clip_length)


def _execute_item(item: tuple[Run, ExperimentConfig, Path, Run | None]) -> dict[str, Any]:
    return execute_run(*item)


def _run_on_ray(
    config: ExperimentConfig,
    out: Path,
    runs: list[Run],
    references: dict[tuple, Run],
    workers: int,
    address: str | None,
) -> Iterator[tuple[Run, dict[str, Any]]]:
    from worldsim.datasets.ray_pool import RaySession, run_tasks
    from worldsim.errors import RenderError

    waves = [
        [run for run in runs if run.setting.renderer == REFERENCE],
        [run for run in runs if run.setting.renderer != REFERENCE],
    ]
    with RaySession(workers, address):
        for wave in waves:
            items = [(run, config, out, references.get(_reference_key(run))) for run in wave]
            for outcome in run_tasks(_execute_item, items):
                run = outcome.item[0]
                if outcome.error is not None:
                    raise RenderError(f"experiment {config.name}: run {run.run_id} failed: {outcome.error}")
                yield run, outcome.result


def collect_rows(out: Path, runs: list[Run], table: str) -> list[dict[str, str]]:
    """Rows of ``frames.csv`` or ``entities.csv`` of the given runs, concatenated."""
    rows: list[dict[str, str]] = []
    for run in runs:
        path = out / "runs" / run.run_id / f"{table}.csv"
        if path.is_file():
            with path.open(newline="") as handle:
                rows.extend(csv.DictReader(handle))
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (dicts, union of keys as columns) atomically to ``path``."""
    _write_csv(path, rows)
