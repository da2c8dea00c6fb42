"""Benchmark resuming a diffusion render: the whole clip, then the same folder with some rgb frames
deleted, rendered again. Prints both times, their ratio, how many windows each sampled and whether
the resumed frames are byte-identical to the first run's.

    .venv/bin/python tools/bench/bench_resume.py [--scene scenes/demo.yaml] [--frames 32] [--missing 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default=str(REPO / "scenes" / "demo.yaml"))
    parser.add_argument("--frames", type=int, default=32, help="clip length")
    parser.add_argument("--missing", type=int, default=4, help="rgb frames deleted before the resume")
    parser.add_argument("--resolution", type=int, default=128, help="square output size")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    from renderers.diffusion.renderer import DiffusionRenderer
    from worldsim.render import load_and_validate, render

    scene = load_and_validate(args.scene)
    scene.num_frames, scene.duration = args.frames, None
    scene.resolution = [args.resolution, args.resolution]
    scene.render.guidance = ["depth", "instance"]
    sampled = []
    original = DiffusionRenderer._sample

    def counting(self, cond, noise, known=None):
        sampled.append(cond.shape[1])
        return original(self, cond, noise, known)

    DiffusionRenderer._sample = counting
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "clip"
        start = time.perf_counter()
        render(scene, renderer="diffusion", out=out, progress=False)
        full_seconds, full_windows = time.perf_counter() - start, len(sampled)
        missing = range(args.frames - args.missing, args.frames)
        before = {frame: (out / "rgb" / f"{frame:05d}.png").read_bytes() for frame in missing}
        for frame in missing:
            (out / "rgb" / f"{frame:05d}.png").unlink()
        sampled.clear()
        start = time.perf_counter()
        render(scene, renderer="diffusion", out=out, progress=False)
        resume_seconds, resume_windows = time.perf_counter() - start, len(sampled)
        identical = all((out / "rgb" / f"{frame:05d}.png").read_bytes() == before[frame] for frame in missing)
    print(f"{args.frames} frames at {args.resolution}^2, last {args.missing} missing on resume")
    print(f"  full render   {full_seconds:7.1f} s  {full_windows:3d} sampler calls")
    print(f"  resume        {resume_seconds:7.1f} s  {resume_windows:3d} sampler calls")
    print(f"  resume / full {resume_seconds / full_seconds:7.2f}    byte-identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
