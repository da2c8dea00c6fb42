"""One clip of a dataset, as its Ray task runs it: generate the scene for the seed, render it
into its clip folder with ``worldsim.render`` (which resumes a partial folder frame-exactly and
holds the folder's lock), then write its exports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldsim.datasets.generators import SceneGenerator
from worldsim.errors import WorldsimError


@dataclass(frozen=True)
class ClipJob:
    """Everything a worker needs to render clip ``clip_id`` (picklable: sent to Ray)."""

    clip_id: str
    stem: str
    seed: int
    generator: SceneGenerator
    out: Path
    renderer: str = "default"
    guidance_only: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    camera: str | None = None
    resolution: list[int] | None = None
    num_frames: int | None = None
    extra_maps: tuple[str, ...] = ()
    """Guidance maps added to the scene's ``render.guidance`` (what the exports read)."""
    exports: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClipResult:
    """A finished attempt: frames of the clip, seconds it took, and the error of a clip that
    cannot be made (a scene or settings problem: not retried)."""

    clip_id: str
    frames: int
    seconds: float
    error: str | None = None
    cpu_seconds: float = 0.0
    """CPU time (user + system) of the worker process over the attempt."""


def build_scene(job: ClipJob) -> Any:
    """The scene of ``job``: its generator at its seed, with the dataset's overrides."""
    scene = job.generator(job.seed)
    scene.seed = job.seed
    if job.resolution is not None:
        scene.resolution = list(job.resolution)
    if job.num_frames is not None:
        scene.num_frames, scene.duration = job.num_frames, None
    for name in job.extra_maps:
        if name not in scene.render.guidance:
            scene.render.guidance = [*scene.render.guidance, name]
    return scene


def render_clip_job(job: ClipJob) -> ClipResult:
    """Render (or finish) the clip of ``job``; worldsim errors come back in the result, anything
    else is raised (and the task retried)."""
    from worldsim.datasets.exports import export_clip_formats
    from worldsim.render import render
    from worldsim.text.captions import write_captions

    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        scene = build_scene(job)
        clip = render(
            scene,
            renderer=job.renderer,
            out=job.out,
            guidance_only=job.guidance_only,
            camera=job.camera,
            progress=False,
            options=dict(job.options) or None,
        )
        export_clip_formats(job.out, job.exports)
        write_captions(Path(job.out) / "captions.json", scene, job.seed)
    except WorldsimError as error:
        text = str(error).splitlines()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        return ClipResult(job.clip_id, 0, seconds, error=" | ".join(text[:3]), cpu_seconds=cpu)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return ClipResult(job.clip_id, clip.num_frames, seconds, cpu_seconds=cpu)
