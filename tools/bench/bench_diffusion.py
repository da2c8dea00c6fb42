"""Benchmark the guided video diffusion renderer on the CPU.

Prints frames per second at the native resolution for 8 and 20 sampler steps (model only and
end to end with guidance and anchored noise), with a fresh-white-noise baseline, a no-margin
baseline (windows sampled without the extra edge frames) and the cost of window context (the
surface cache) measured in the same run, and the peak resident memory for 60 versus 600 frames,
context off and on (window by window generation must not grow with clip length; the surface
cache grows with the surface area seen).

    .venv/bin/python tools/bench/bench_diffusion.py [--scene scenes/demo.yaml] [--weights FILE]
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
# Passive OpenMP threads, set before torch loads (as worldsim/__init__ does): busy-waiting threads
# make torch many times slower whenever anything else runs on the cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def frames_per_second(scene_path: str, weights: str | None, frames: int, **options: object) -> float:
    from renderers.base import create
    from renderers.guidance.source import ClipGuidance
    from worldsim.render import load_and_validate, rollout

    scene = load_and_validate(scene_path)
    scene.num_frames, scene.duration = frames, None
    trajectory = rollout(scene)
    renderer = create("diffusion", {"weights": weights, **options})
    camera = trajectory.primary_camera
    start = time.perf_counter()
    guidance = ClipGuidance(trajectory, camera)
    count = sum(1 for _ in renderer.generate_native(trajectory, camera, guidance))
    return count / (time.perf_counter() - start)


def model_frames_per_second(weights: str | None, steps: int, window: int = 8) -> float:
    """The sampler alone on one window at 64 x 64 (no guidance, no noise construction)."""
    import torch

    from renderers.diffusion.flow_matching import sample
    from renderers.diffusion.options import load_diffusion_options
    from renderers.diffusion.weights import load_weights

    model, config, _ = load_weights(load_diffusion_options({"weights": weights}).weights_path)
    cond = torch.zeros(1, config.condition_channels, window, 64, 64)
    noise = torch.randn(1, 3, window, 64, 64)
    with torch.no_grad():
        sample(model, cond, noise, steps=1)
        start = time.perf_counter()
        repeats = 3
        for _ in range(repeats):
            sample(model, cond, noise, steps=steps)
    return repeats * window / (time.perf_counter() - start)


def peak_memory_mib(scene: str, weights: str | None, frames: int, context: bool = False) -> float:
    """Peak resident memory of a fresh process generating ``frames`` native frames."""
    command = [sys.executable, __file__, "--scene", scene, "--child-frames", str(frames)]
    if weights:
        command += ["--weights", weights]
    if context:
        command += ["--child-context"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default=str(REPO / "scenes" / "demo.yaml"))
    parser.add_argument("--weights", default=None, help="safetensors file (default: the shipped model)")
    parser.add_argument("--frames", type=int, default=32, help="frames per timing run")
    parser.add_argument("--child-frames", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-context", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_frames is not None:
        frames_per_second(args.scene, args.weights, args.child_frames, steps=4, context=args.child_context)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return
    from renderers.diffusion.options import load_diffusion_options

    defaults = load_diffusion_options()
    print(
        f"scene {Path(args.scene).name}, native {defaults.native_size} px, window {defaults.window},"
        f" overlap {defaults.overlap}, margin {defaults.margin}"
    )
    print(
        f"{'steps':>5} {'model fps':>10} {'end-to-end fps':>15} {'white-noise fps':>16} {'ratio':>6}"
        f" {'margin-0 fps':>13} {'ratio':>6} {'context fps':>12} {'ratio':>6}"
    )
    # warm-up: the first clip in a process pays one-time costs (imports, scene setup, allocator)
    frames_per_second(args.scene, args.weights, 8, steps=1)
    for steps in (8, 20):
        model = model_frames_per_second(args.weights, steps)
        anchored = frames_per_second(args.scene, args.weights, args.frames, steps=steps)
        white = frames_per_second(args.scene, args.weights, args.frames, steps=steps, anchored_noise=False)
        no_margin = frames_per_second(args.scene, args.weights, args.frames, steps=steps, margin=0)
        context = frames_per_second(args.scene, args.weights, args.frames, steps=steps, context=True)
        print(
            f"{steps:>5} {model:>10.1f} {anchored:>15.2f} {white:>16.2f} {anchored / white:>5.2f}x"
            f" {no_margin:>13.2f} {anchored / no_margin:>5.2f}x {context:>12.2f} {anchored / context:>5.2f}x"
        )
    for label, context in (("context off", False), ("context on", True)):
        short = peak_memory_mib(args.scene, args.weights, 60, context)
        long = peak_memory_mib(args.scene, args.weights, 600, context)
        print(
            f"peak resident memory, {label}: 60 frames {short:.0f} MiB, 600 frames {long:.0f} MiB"
            f" ({long / short:.3f}x)"
        )
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
