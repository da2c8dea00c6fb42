"""Benchmark ``worldsim dataset`` on Ray: 8 small randomised clips rendered in-process (the
baseline) and as a dataset on a local Ray of 2 CPUs, one clip at a time (each task declares 2 CPUs:
"1 worker") and two at a time (1 CPU each: "2 workers"). One thread per worker everywhere; the
workers are warm: right before each timed Ray run, one warm-up task per worker it uses runs with
the same CPUs per task (Ray stops a worker that sits idle while the other mode runs, and a new
worker's imports and compiled-kernel loads cost 2-3 CPU s, which a long dataset pays once per
worker). Two warm plain processes without Ray render the same clips as the machine's own ceiling.
The four are interleaved over ``--rounds`` rounds and the medians compared,
so load that comes and goes hits all of them.

Prints the times, the 2-worker throughput ratio (target >= 1.8x on 2 free cores), Ray's overhead
per clip against the in-process render of the same clips (target <= 5 %, clips >= 1 s), the CPU
seconds per clip in and out of Ray, and the peak memory of each worker process.

    .venv/bin/python tools/bench/bench_dataset.py [--clips 8] [--frames 64] [--resolution 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"  # the in-process baseline runs one thread, like each worker

SCENE = """
name: bench
num_frames: {frames}
resolution: [{size}, {size}]
render: {{guidance: [depth, instance, semantic, normal, flow]}}
entities:
  - name: floor
    semantic_class: ground
    mesh: {{type: plane, size: [8, 8]}}
    material: {{texture: {{type: checker, scale: 0.5}}}}
  - repeat:
      count: {{randint: [3, 6]}}
      entity:
        name: thing
        semantic_class: {{choice: [ball, crate, ring]}}
        mesh: {{choice: [{{type: sphere, radius: 0.3}}, {{type: box, size: [0.4, 0.4, 0.4]}},
                        {{type: torus, radius: 0.3, minor_radius: 0.08}}]}}
        pose: {{position: [{{uniform: [-1.5, 1.5]}}, {{uniform: [-1.5, 1.5]}}, 0.4]}}
        motion: {{type: velocity, linear_velocity: [{{normal: [0, 0.4]}}, {{normal: [0, 0.4]}}, 0],
                  angular_velocity_deg: [0, 0, {{uniform: [-90, 90]}}]}}
cameras:
  - {{name: main, fov_deg: {{uniform: [40, 60]}}, position: [5, -5, 3.5], look_at: [0, 0, 0.3]}}
"""


WARM_HOLD_S = 4.0
"""Seconds a warm-up task holds its worker: longer than a new worker takes to start."""


def _peak_rss_mb(_: object) -> tuple[int, float]:
    import resource

    time.sleep(0.5)  # long enough that each worker takes one of these tasks
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _render_clip(task: tuple[str, int, str]) -> float:
    """Render clip ``seed`` of the scene file into ``out`` in this process; its CPU seconds."""
    from worldsim.datasets.clip_task import ClipJob, render_clip_job
    from worldsim.datasets.generators import SceneFileGenerator

    scene_file, seed, out = task
    cpu = time.process_time()
    job = ClipJob(
        f"bench-{seed}", "bench", seed, SceneFileGenerator(Path(scene_file)), Path(out), guidance_only=True
    )
    result = render_clip_job(job)
    assert result.error is None, result.error
    return time.process_time() - cpu


def _machine_ticks() -> list[int]:
    """The machine's CPU ticks so far: user, nice, system, idle, iowait, irq, softirq, steal
    (``/proc/stat``; zeros where there is none)."""
    try:
        return [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except (OSError, ValueError):
        return [0] * 8


def _busy_and_stolen(before: list[int], after: list[int]) -> tuple[float, float]:
    """Fractions of the machine's CPU time that were busy and stolen by the hypervisor between two
    ``_machine_ticks``."""
    ticks = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(ticks) or 1
    return (sum(ticks[:3]) + sum(ticks[5:7])) / total, ticks[7] / total


def _warm_worker(task: tuple[str, int, str]) -> int:
    """Render a short clip, then keep this worker busy for a while; its pid."""
    _render_clip(task)
    time.sleep(WARM_HOLD_S)
    return os.getpid()


def _one_thread() -> None:
    sys.path.insert(0, str(REPO))
    from worldsim.datasets.ray_pool import limit_threads

    limit_threads(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=64, help="frames per clip (>= 1 s of work each)")
    parser.add_argument("--resolution", type=int, default=64, help="square clip size")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians are compared)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    from worldsim.datasets.config import DatasetConfig, ResourceConfig
    from worldsim.datasets.dataset import render_dataset
    from worldsim.datasets.manifest import Manifest
    from worldsim.datasets.ray_pool import RaySession, TaskResources, limit_threads, run_tasks

    limit_threads(1)
    clips = args.clips
    walls: dict[str, list[float]] = {"in-process": [], "1 worker": [], "2 workers": [], "2 processes": []}
    cpus: dict[str, list[float]] = {name: [] for name in walls}
    inside: dict[str, list[float]] = {name: [] for name in walls}
    """Seconds per clip inside the task (the render itself), per round."""
    busy: dict[str, list[tuple[float, float]]] = {name: [] for name in walls}
    """(busy, stolen) fractions of the machine over each timed run."""
    with tempfile.TemporaryDirectory() as tmp, RaySession(2):
        folder = Path(tmp)
        scene_file = folder / "bench.yaml"
        scene_file.write_text(SCENE.format(frames=args.frames, size=args.resolution))
        warm_file = folder / "warm.yaml"
        warm_file.write_text(SCENE.format(frames=2, size=args.resolution))

        def clip_tasks(out: Path) -> list[tuple[str, int, str]]:
            """``_render_clip``'s tasks for the timed clips."""
            return [(str(scene_file), seed, str(out / str(seed))) for seed in range(clips)]

        def warm_tasks(label: str) -> list[tuple[str, int, str]]:
            """Two short warm-up clips (other seeds)."""
            return [(str(warm_file), 1000 + i, str(folder / f"warm-{label}-{i}")) for i in range(2)]

        def in_process(out: Path) -> tuple[float, float, float]:
            start, cpu_start, ticks = time.perf_counter(), time.process_time(), _machine_ticks()
            for task in clip_tasks(out):
                _render_clip(task)
            wall = time.perf_counter() - start
            busy["in-process"].append(_busy_and_stolen(ticks, _machine_ticks()))
            return wall, (time.process_time() - cpu_start) / clips, wall / clips

        def on_ray(mode: str, out: Path, cpus_per_task: float) -> tuple[float, float, float]:
            config = DatasetConfig(
                scenes=[str(scene_file)],
                seeds=f"0:{clips}",
                guidance_only=True,
                workers=2,
                resources=ResourceConfig(num_cpus=cpus_per_task),
            )
            start, ticks = time.perf_counter(), _machine_ticks()
            summary = render_dataset(config, out, progress=False)
            wall = time.perf_counter() - start
            busy[mode].append(_busy_and_stolen(ticks, _machine_ticks()))
            assert summary.failed == 0, summary.text()
            entries = list(Manifest(out / "manifest.jsonl").entries.values())
            count = len(entries)
            return wall, sum(e.cpu_seconds for e in entries) / count, sum(e.seconds for e in entries) / count

        def warm_then_time(mode: str, name: str, cpus_per_task: float) -> tuple[float, float, float]:
            """Warm as many workers as the run uses, then time it: each warm-up task renders a
            short clip and then holds its worker long enough that the next task cannot wait for
            it (Ray would rather reuse a busy-soon worker than finish starting a new one)."""
            resources = TaskResources(num_cpus=cpus_per_task)
            outcomes = run_tasks(_warm_worker, warm_tasks(name), resources=resources)
            pids = {outcome.result for outcome in outcomes}
            assert len(pids) == (2 if cpus_per_task <= 1 else 1), pids
            return on_ray(mode, folder / name, cpus_per_task)

        def two_processes(pool: ProcessPoolExecutor, out: Path) -> tuple[float, float, float]:
            """The machine's own ceiling: the same clips on two warm plain processes, no Ray."""
            start, ticks = time.perf_counter(), _machine_ticks()
            seconds = list(pool.map(_render_clip, clip_tasks(out)))
            wall = time.perf_counter() - start
            busy["2 processes"].append(_busy_and_stolen(ticks, _machine_ticks()))
            return wall, sum(seconds) / clips, float("nan")

        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(2, mp_context=spawn, initializer=_one_thread)
        assert len(set(pool.map(_warm_worker, warm_tasks("pool")))) == 2
        in_process(folder / "warm-in-process")
        for index in range(args.rounds):
            measured = {
                "in-process": in_process(folder / f"in-process-{index}"),
                "1 worker": warm_then_time("1 worker", f"one-{index}", 2.0),
                "2 workers": warm_then_time("2 workers", f"two-{index}", 1.0),
                "2 processes": two_processes(pool, folder / f"pool-{index}"),
            }
            for name, (wall, cpu_seconds, task_seconds) in measured.items():
                walls[name].append(wall)
                cpus[name].append(cpu_seconds)
                inside[name].append(task_seconds)
        pool.shutdown()
        memory = sorted(rss for _, rss in (outcome.result for outcome in run_tasks(_peak_rss_mb, range(2))))

    load = os.getloadavg()
    median = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    task = {name: statistics.median(values) for name, values in inside.items()}
    machine = {
        name: (statistics.median(b for b, _ in values), statistics.median(s for _, s in values))
        for name, values in busy.items()
    }
    overhead = median["1 worker"] / median["in-process"] - 1
    lines = [
        f"{clips} clips, {args.frames} frames at {args.resolution}^2, guidance only (5 maps), 1 thread each, "
        f"medians of {args.rounds} interleaved rounds",
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores (shared with "
        "other work: the ratios, measured in this run, are what to read)",
    ]
    for name in walls:
        rounds = ", ".join(f"{value:.2f}" for value in walls[name])
        in_render = "" if math.isnan(task[name]) else f"{task[name]:5.2f} s/clip in the render  "
        lines.append(
            f"  {name:11s} {median[name]:7.2f} s  {median[name] / clips:5.2f} s/clip  "
            f"{in_render}{cpu[name]:5.2f} CPU s/clip  machine {machine[name][0]:4.0%} busy, "
            f"{machine[name][1]:3.0%} stolen  (rounds: {rounds} s)"
        )
    lines.append(
        "  (machine: share of both cores' time busy and stolen by the hypervisor in the timed runs, medians)"
    )
    lines += [
        f"  throughput 2 vs 1 workers: {median['1 worker'] / median['2 workers']:.2f}x (target >= 1.8x)",
        f"  the machine's own ceiling, 2 plain processes (no Ray) vs in-process: "
        f"{median['in-process'] / median['2 processes']:.2f}x; Ray's 2 workers reach "
        f"{median['2 processes'] / median['2 workers']:.0%} of it",
        f"  Ray overhead per clip (1 worker vs in-process): {100 * overhead:+.1f} % (target <= 5 %)",
        f"  of which Ray's dispatch (1 worker: wall per clip minus the render's own time): "
        f"{100 * (median['1 worker'] / clips - task['1 worker']) / task['in-process']:+.1f} % of a clip",
        f"  CPU per clip in a worker vs in-process: {100 * (cpu['1 worker'] / cpu['in-process'] - 1):+.1f} %",
        "  peak memory per worker process: " + ", ".join(f"{rss:.0f} MB" for rss in memory),
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
