"""``render_dataset``: every scene at every seed, one Ray task per clip, resumable.

Output layout::

    DIR/dataset.yaml        the resolved config (scene paths absolute, flags applied)
    DIR/manifest.jsonl      one line per finished clip: id, scene, seed, frames, seconds, status,
                            error, cpu_seconds
    DIR/clips/<stem>-<seed>/  an ordinary clip folder each (``worldsim.render``)

Everything that can be checked is checked before any clip starts (config, seeds, exports, clip
ids, each source's first scene, the cluster address). Re-running the same command resumes:
clips the manifest lists as done are skipped, the others are rendered, and a partial clip folder
is finished frame-exactly by ``worldsim.render``. One driver at a time holds a dataset folder.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from worldsim.clip.atomic import write_text
from worldsim.clip.lock import clip_lock
from worldsim.datasets.clip_task import ClipJob, ClipResult, build_scene, render_clip_job
from worldsim.datasets.config import (
    DatasetConfig,
    check_config,
    check_same_clip_settings,
    config_to_yaml,
)
from worldsim.datasets.exports import check_exports, export_dataset_formats, maps_for_exports
from worldsim.datasets.generators import SceneFileGenerator, SceneGenerator, build_generator
from worldsim.datasets.manifest import DONE, FAILED, Manifest, ManifestEntry
from worldsim.datasets.ray_pool import RaySession, TaskResources, check_address, run_tasks
from worldsim.datasets.seeds import parse_seeds
from worldsim.errors import DatasetError

LOGGER = logging.getLogger("worldsim.datasets")
CLIPS_FOLDER = "clips"
MANIFEST_NAME = "manifest.jsonl"
CONFIG_NAME = "dataset.yaml"


@dataclass(frozen=True)
class ClipSource:
    """A scene file or generator, and the stem of its clip ids."""

    stem: str
    generator: SceneGenerator
    origin: str
    """The file, or ``generators[i]``, it came from (for messages)."""


@dataclass
class DatasetSummary:
    """What a run did."""

    out: Path
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[ManifestEntry] = field(default_factory=list)

    @property
    def clips_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        """One line: done, failed, skipped, time and throughput."""
        return (
            f"dataset {self.out}: {self.done} done, {self.failed} failed, {self.skipped} already done "
            f"(of {self.total}) in {self.seconds:.1f} s, {self.clips_per_second:.2f} clips/s"
        )


def plan_sources(
    config: DatasetConfig, generators: Mapping[str, SceneGenerator] | None = None, *, file: str | None = None
) -> list[ClipSource]:
    """The sources of ``config`` (scene files, then registered generators) and of ``generators``
    (stem -> any ``seed -> Scene`` callable); DatasetError when two share a stem."""
    sources = [ClipSource(Path(path).stem, SceneFileGenerator(path), str(path)) for path in config.scenes]
    for index, entry in enumerate(config.generators):
        key_path = f"generators[{index}]"
        built = build_generator(entry.name, dict(entry.options), file=file, key_path=key_path)
        sources.append(ClipSource(entry.id or entry.name, built, key_path))
    for stem, generator in (generators or {}).items():
        if not callable(generator):
            raise DatasetError(f"generator {stem!r} is not callable (expected seed -> Scene)")
        sources.append(ClipSource(stem, generator, f"generator {stem!r}"))
    seen: dict[str, ClipSource] = {}
    for source in sources:
        if not source.stem or "/" in source.stem or source.stem.startswith("."):
            raise DatasetError(f"{source.stem!r} cannot name clip folders", file=file, key_path=source.origin)
        if source.stem in seen:
            raise DatasetError(
                f"two inputs have the stem {source.stem!r} ({seen[source.stem].origin} and {source.origin}), "
                f"so their clips would both be {source.stem}-<seed>; rename one (or give a generator an id)",
                file=file,
            )
        seen[source.stem] = source
    return sources


def plan_jobs(config: DatasetConfig, sources: list[ClipSource], seeds: list[int], out: Path) -> list[ClipJob]:
    """One job per (source, seed), in that order."""
    extra_maps = tuple(maps_for_exports(config.exports))
    return [
        ClipJob(
            clip_id=f"{source.stem}-{seed}",
            stem=source.stem,
            seed=seed,
            generator=source.generator,
            out=out / CLIPS_FOLDER / f"{source.stem}-{seed}",
            renderer=config.renderer,
            guidance_only=config.guidance_only,
            options=dict(config.options),
            camera=config.camera,
            resolution=None if config.resolution is None else list(config.resolution),
            num_frames=config.num_frames,
            extra_maps=extra_maps,
            exports=tuple(config.exports),
        )
        for source in sources
        for seed in seeds
    ]


def check_first_scenes(jobs: list[ClipJob], sources: list[ClipSource], seeds: list[int]) -> None:
    """Build and validate each source's scene at the first seed (raises its SceneError naming
    file, key and reason): a malformed distribution fails here, before any clip starts."""
    from worldsim.render import load_and_validate

    first = {job.stem: job for job in jobs if job.seed == seeds[0]}
    for source in sources:
        load_and_validate(build_scene(first[source.stem]))


def render_dataset(
    config: DatasetConfig,
    out: str | Path,
    *,
    generators: Mapping[str, SceneGenerator] | None = None,
    progress: bool = True,
    config_file: str | None = None,
    on_clip: Callable[[ManifestEntry], None] | None = None,
) -> DatasetSummary:
    """Render the dataset of ``config`` into ``out`` (resuming what an earlier run left).

    generators: more sources, stem -> any ``seed -> Scene`` callable (Python only).
    on_clip: called with each clip's manifest entry as it is recorded.
    Raises DatasetError / SceneError for bad input, before any clip starts.
    """
    out = Path(out).expanduser().resolve()
    check_config(config, config_file, other_sources=len(generators or {}))
    seeds = parse_seeds(config.seeds, file=config_file)
    config.exports = check_exports(config.exports, file=config_file)
    sources = plan_sources(config, generators, file=config_file)
    jobs = plan_jobs(config, sources, seeds, out)
    check_first_scenes(jobs, sources, seeds)
    if config.address:
        check_address(config.address)
    workers = config.workers or os.cpu_count() or 1
    start = time.perf_counter()
    with clip_lock(out):
        check_same_clip_settings(config, out / CONFIG_NAME)
        write_text(out / CONFIG_NAME, config_to_yaml(config))
        manifest = Manifest(out / MANIFEST_NAME)
        manifest.compact()
        todo = [job for job in jobs if not _finished(job, manifest)]
        summary = DatasetSummary(out, total=len(jobs), skipped=len(jobs) - len(todo))
        if todo:
            with RaySession(workers, config.address):
                _run(todo, config, manifest, summary, progress, on_clip)
        manifest.compact()
        if summary.done or summary.skipped:
            export_dataset_formats(out, config.exports)
    summary.seconds = time.perf_counter() - start
    return summary


def _finished(job: ClipJob, manifest: Manifest) -> bool:
    return manifest.is_done(job.clip_id) and (job.out / "metadata.json").is_file()


def _run(
    todo: list[ClipJob],
    config: DatasetConfig,
    manifest: Manifest,
    summary: DatasetSummary,
    progress: bool,
    on_clip: Callable[[ManifestEntry], None] | None,
) -> None:
    from tqdm import tqdm

    resources = TaskResources(
        num_cpus=config.resources.num_cpus,
        memory_bytes=config.resources.memory_mb * 1024 * 1024,
        num_gpus=config.resources.num_gpus,
    )
    with tqdm(
        total=summary.total,
        initial=summary.skipped,
        desc="clips",
        unit="clip",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        outcomes = run_tasks(
            render_clip_job,
            todo,
            resources=resources,
            max_retries=config.max_retries,
            threads=config.threads_per_worker,
        )
        for outcome in outcomes:
            job: ClipJob = outcome.item
            result: ClipResult | None = outcome.result
            error = outcome.error if result is None else result.error
            entry = ManifestEntry(
                id=job.clip_id,
                scene=job.stem,
                seed=job.seed,
                frames=0 if result is None else result.frames,
                seconds=0.0 if result is None else round(result.seconds, 3),
                status=FAILED if error else DONE,
                error=error,
                cpu_seconds=0.0 if result is None else round(result.cpu_seconds, 3),
            )
            manifest.append(entry)
            if error:
                summary.failed += 1
                summary.failures.append(entry)
                LOGGER.warning("clip %s failed: %s", job.clip_id, error)
            else:
                summary.done += 1
            bar.set_postfix(done=summary.done, failed=summary.failed, refresh=False)
            bar.update(1)
            if on_clip is not None:
                on_clip(entry)
