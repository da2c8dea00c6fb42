"""Benchmark ``worldsim dataset`` on Ray: 8 small randomised clips rendered in-process (the
baseline), then as a dataset on a local Ray with 1 and with 2 workers (warm workers: each run is
preceded by a warm-up dataset on the same workers; one thread per worker everywhere). Prints the
times, the 2-worker throughput ratio (target >= 1.8x on 2 free cores), Ray's overhead per clip
against the in-process render of the same clips (target <= 5 %, clips >= 1 s) and the peak memory
of each worker process.

    .venv/bin/python tools/bench/bench_dataset.py [--clips 8] [--frames 64] [--resolution 64]
"""

from __future__ import annotations

import argparse
import os
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


def _ray_run(config_args: dict, workers: int, folder: Path, clips: int) -> tuple[float, float, list[float]]:
    """(wall seconds of the timed dataset, mean in-worker seconds per clip, peak RSS MB per worker)."""
    from worldsim.datasets.config import DatasetConfig
    from worldsim.datasets.dataset import render_dataset
    from worldsim.datasets.manifest import Manifest
    from worldsim.datasets.ray_pool import RaySession, run_tasks

    with RaySession(workers):
        warm = DatasetConfig(**config_args, seeds=f"1000:{1000 + workers}", workers=workers)
        render_dataset(warm, folder / f"warm{workers}", progress=False)
        timed = DatasetConfig(**config_args, seeds=f"0:{clips}", workers=workers)
        start = time.perf_counter()
        summary = render_dataset(timed, folder / f"ray{workers}", progress=False)
        wall = time.perf_counter() - start
        assert summary.done == clips, summary.text()
        entries = Manifest(folder / f"ray{workers}" / "manifest.jsonl").entries.values()
        inside = sum(entry.seconds for entry in entries) / clips
        memory = {pid: rss for pid, rss in (o.result for o in run_tasks(_peak_rss_mb, range(workers)))}
        import ray

        ray.shutdown()
    return wall, inside, sorted(memory.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=64, help="frames per clip (>= 1 s of work each)")
    parser.add_argument("--resolution", type=int, default=64, help="square clip size")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    from worldsim.datasets.clip_task import ClipJob, render_clip_job
    from worldsim.datasets.generators import SceneFileGenerator
    from worldsim.datasets.ray_pool import limit_threads

    limit_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scene_file = folder / "bench.yaml"
        scene_file.write_text(SCENE.format(frames=args.frames, size=args.resolution))
        config_args = {"scenes": [str(scene_file)], "guidance_only": True}

        generator = SceneFileGenerator(scene_file)

        def in_process(tag: str) -> list[float]:
            seconds = []
            for seed in range(args.clips):
                out = folder / f"inprocess-{tag}" / str(seed)
                job = ClipJob(f"bench-{seed}", "bench", seed, generator, out, guidance_only=True)
                start = time.perf_counter()
                result = render_clip_job(job)
                seconds.append(time.perf_counter() - start)
                assert result.error is None, result.error
            return seconds

        warm = ClipJob("warm", "bench", 999, generator, folder / "warm", guidance_only=True)
        render_clip_job(warm)
        before = in_process("before")
        one_wall, one_inside, one_memory = _ray_run(config_args, 1, folder, args.clips)
        two_wall, two_inside, two_memory = _ray_run(config_args, 2, folder, args.clips)
        after = in_process("after")

    load = os.getloadavg()
    clips = args.clips
    baseline = min(sum(before), sum(after))  # in-process, before and after the Ray runs: the faster
    per_clip = baseline / clips
    overhead = (one_wall / clips - per_clip) / per_clip
    lines = [
        f"{clips} clips, {args.frames} frames at {args.resolution}^2, guidance only (5 maps), 1 thread each",
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores (shared with "
        "other work: the ratios, measured in this run, are what to read)",
        f"  in-process      {baseline:7.2f} s   {per_clip:6.2f} s/clip "
        f"(runs before / after Ray: {sum(before):.2f} s / {sum(after):.2f} s)",
        f"  Ray, 1 worker   {one_wall:7.2f} s  {one_wall / clips:6.2f} s/clip ({one_inside:.2f} s in task)",
        f"  Ray, 2 workers  {two_wall:7.2f} s  {two_wall / clips:6.2f} s/clip ({two_inside:.2f} s in task)",
        f"  throughput 2 vs 1 workers: {one_wall / two_wall:.2f}x (target >= 1.8x)",
        f"  Ray overhead per clip (1 worker vs in-process): {100 * overhead:+.1f} % (target <= 5 %)",
        "  peak memory per worker process: "
        + ", ".join(f"{rss:.0f} MB" for rss in one_memory)
        + " (1 worker); "
        + ", ".join(f"{rss:.0f} MB" for rss in two_memory)
        + " (2 workers)",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
