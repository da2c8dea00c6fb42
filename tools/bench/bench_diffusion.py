"""Benchmark the diffusion renderer v2 against the path tracer on the CPU.

End-to-end frames per second at the output resolution (default 256 x 256) of the default renderer
(G-buffer mode: guidance with lighting maps at the native and output sizes, the network, the
guided upsampler and the composition) and of structure mode (the flow sampler on top), against
``--renderer reference --spp 16`` with the reference's default options on the same scene and
frames, measured in the same run, with the ratio; then the peak resident memory of the default
renderer for 60 versus 600 frames (window by window generation must not grow with clip length).

    .venv/bin/python tools/bench/bench_diffusion.py [--scene scenes/demo.yaml] [--size 256] [--frames 16]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
# Passive OpenMP threads, set before torch loads (as worldsim/__init__ does): busy-waiting threads
# make torch many times slower whenever anything else runs on the cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SPEED_TARGET = 3.0
MEMORY_TARGET = 1.1


def clip(scene_path: str, frames: int, size: int):
    """The scene's trajectory with ``frames`` frames at ``size`` x ``size``."""
    from worldsim.render import load_and_validate, rollout

    scene = load_and_validate(scene_path)
    scene.num_frames, scene.duration = frames, None
    return rollout(scene).with_resolution(size, size)


def frames_per_second(trajectory, renderer_name: str, options: dict) -> float:
    """Frames/s of one renderer over the whole clip, guidance (when it needs it) included."""
    from renderers.base import create
    from renderers.guidance.source import ClipGuidance

    renderer = create(renderer_name, options)
    camera = trajectory.primary_camera
    start = time.perf_counter()
    guidance = None
    if getattr(renderer, "needs_guidance", False):
        guidance = ClipGuidance(trajectory, camera, lighting=getattr(renderer, "guidance_maps", ()))
    count = sum(1 for _ in renderer.render_frames(trajectory, camera, range(len(trajectory)), guidance))
    return count / (time.perf_counter() - start)


def peak_memory_mib(scene: str, frames: int, size: int) -> float:
    """Peak resident memory of a fresh process rendering ``frames`` frames with the default renderer."""
    command = [sys.executable, __file__, "--scene", scene, "--child-frames", str(frames), "--size", str(size)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default=str(REPO / "scenes" / "demo.yaml"))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=16, help="frames per timing run")
    parser.add_argument("--child-frames", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_frames is not None:
        frames_per_second(clip(args.scene, args.child_frames, args.size // 4), "diffusion", {})
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return
    print(
        f"scene {Path(args.scene).name}, {args.size} x {args.size}, {args.frames} frames;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    trajectory = clip(args.scene, args.frames, args.size)
    frames_per_second(clip(args.scene, 4, 64), "diffusion", {})  # warm-up: imports, JIT, allocator
    frames_per_second(clip(args.scene, 2, 64), "reference", {"samples_per_pixel": 16})
    reference = frames_per_second(trajectory, "reference", {"samples_per_pixel": 16})
    gbuffer = frames_per_second(trajectory, "diffusion", {})
    structure = frames_per_second(trajectory, "diffusion", {"mode": "structure"})
    print(f"  reference 16 spp       {reference:7.2f} frames/s")
    print(
        f"  diffusion (gbuffer)    {gbuffer:7.2f} frames/s  {gbuffer / reference:5.2f}x the reference"
        f" (target >= {SPEED_TARGET:.0f}x)"
    )
    print(f"  diffusion (structure)  {structure:7.2f} frames/s  {structure / reference:5.2f}x the reference")
    short = peak_memory_mib(args.scene, 60, args.size)
    long = peak_memory_mib(args.scene, 600, args.size)
    print(
        f"peak resident memory at {args.size // 4} px, default renderer: 60 frames {short:.0f} MiB,"
        f" 600 frames {long:.0f} MiB ({long / short:.3f}x, target <= {MEMORY_TARGET}x)"
    )


if __name__ == "__main__":
    main()
