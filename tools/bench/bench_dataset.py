"""Benchmark ``worldsim dataset`` on Ray: 8 small randomised clips rendered in-process (the
baseline) and as a dataset on a local Ray of 2 CPUs, one clip at a time (each task declares 2 CPUs:
"1 worker") and two at a time (1 CPU each: "2 workers"). One thread per worker everywhere; the
workers are warm (a warm-up dataset runs first on the same session); the three are interleaved
over ``--rounds`` rounds and the medians compared, so load that comes and goes hits all three.

Prints the times, the 2-worker throughput ratio (target >= 1.8x on 2 free cores), Ray's overhead
per clip against the in-process render of the same clips (target <= 5 %, clips >= 1 s), the CPU
seconds per clip in and out of Ray, and the peak memory of each worker process.

    .venv/bin/python tools/bench/bench_dataset.py [--clips 8] [--frames 64] [--resolution 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
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


def _peak_rss_mb(_: object) -> tuple[int, float]:
    import resource

    time.sleep(0.5)  # long enough that each worker takes one of these tasks
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=64, help="frames per clip (>= 1 s of work each)")
    parser.add_argument("--resolution", type=int, default=64, help="square clip size")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians are compared)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    from worldsim.datasets.clip_task import ClipJob, render_clip_job
    from worldsim.datasets.config import DatasetConfig, ResourceConfig
    from worldsim.datasets.dataset import render_dataset
    from worldsim.datasets.generators import SceneFileGenerator
    from worldsim.datasets.manifest import Manifest
    from worldsim.datasets.ray_pool import RaySession, limit_threads, run_tasks

    limit_threads(1)
    clips = args.clips
    walls: dict[str, list[float]] = {"in-process": [], "1 worker": [], "2 workers": []}
    cpus: dict[str, list[float]] = {name: [] for name in walls}
    inside: dict[str, list[float]] = {name: [] for name in walls}
    """Seconds per clip inside the task (the render itself), per round."""
    with tempfile.TemporaryDirectory() as tmp, RaySession(2):
        folder = Path(tmp)
        scene_file = folder / "bench.yaml"
        scene_file.write_text(SCENE.format(frames=args.frames, size=args.resolution))
        generator = SceneFileGenerator(scene_file)

        def in_process(out: Path) -> tuple[float, float, float]:
            start, cpu_start = time.perf_counter(), time.process_time()
            for seed in range(clips):
                job = ClipJob(f"bench-{seed}", "bench", seed, generator, out / str(seed), guidance_only=True)
                result = render_clip_job(job)
                assert result.error is None, result.error
            wall = time.perf_counter() - start
            return wall, (time.process_time() - cpu_start) / clips, wall / clips

        def on_ray(out: Path, cpus_per_task: float, seeds: str) -> tuple[float, float, float]:
            config = DatasetConfig(
                scenes=[str(scene_file)],
                seeds=seeds,
                guidance_only=True,
                workers=2,
                resources=ResourceConfig(num_cpus=cpus_per_task),
            )
            start = time.perf_counter()
            summary = render_dataset(config, out, progress=False)
            wall = time.perf_counter() - start
            assert summary.failed == 0, summary.text()
            entries = list(Manifest(out / "manifest.jsonl").entries.values())
            count = len(entries)
            return wall, sum(e.cpu_seconds for e in entries) / count, sum(e.seconds for e in entries) / count

        in_process(folder / "warm-in-process")
        on_ray(folder / "warm-ray", 1.0, "1000:1002")  # two warm workers
        for index in range(args.rounds):
            measured = {
                "in-process": in_process(folder / f"in-process-{index}"),
                "1 worker": on_ray(folder / f"one-{index}", 2.0, f"0:{clips}"),
                "2 workers": on_ray(folder / f"two-{index}", 1.0, f"0:{clips}"),
            }
            for name, (wall, cpu_seconds, task_seconds) in measured.items():
                walls[name].append(wall)
                cpus[name].append(cpu_seconds)
                inside[name].append(task_seconds)
        memory = sorted(rss for _, rss in (outcome.result for outcome in run_tasks(_peak_rss_mb, range(2))))

    load = os.getloadavg()
    median = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    task = {name: statistics.median(values) for name, values in inside.items()}
    overhead = median["1 worker"] / median["in-process"] - 1
    lines = [
        f"{clips} clips, {args.frames} frames at {args.resolution}^2, guidance only (5 maps), 1 thread each, "
        f"medians of {args.rounds} interleaved rounds",
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores (shared with "
        "other work: the ratios, measured in this run, are what to read)",
    ]
    for name in walls:
        rounds = ", ".join(f"{value:.2f}" for value in walls[name])
        lines.append(
            f"  {name:10s} {median[name]:7.2f} s  {median[name] / clips:5.2f} s/clip  "
            f"{task[name]:5.2f} s/clip in the render  {cpu[name]:5.2f} CPU s/clip  (rounds: {rounds} s)"
        )
    lines += [
        f"  throughput 2 vs 1 workers: {median['1 worker'] / median['2 workers']:.2f}x (target >= 1.8x)",
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
