"""Benchmark the reference (Mitsuba 3) renderer on the demo scene.

Prints seconds per frame at 128² and 256² for 16 and 64 samples per pixel; the ratio against a
naive use that rebuilds the Mitsuba scene every frame (measured in the same run); and resident
memory over clip length (the scene is built once, so memory must stay flat as frames accumulate).
Then the quality at the default sample count: PSNR of the written (tone-mapped sRGB) frames at
16 spp against 512 spp of the same frames (the demo is lit by a captured HDRI; target >= 30 dB).

    .venv/bin/python tools/bench/bench_reference.py [--scene scenes/demo.yaml] [--frames 24]
    .venv/bin/python tools/bench/bench_reference.py --quality-only
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from renderers.reference.options import load_reference_options
from renderers.reference.renderer import ReferenceRenderer, frame_seed, integrator
from renderers.reference.scene_builder import build_clip_scene
from renderers.tonemap import tonemap
from worldsim.render import load_and_validate, rollout

REPO = Path(__file__).resolve().parents[2]


def resident_mib() -> float:
    """Current resident set size of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def seconds_per_frame(
    renderer: ReferenceRenderer, trajectory, camera: str, frames: list[int], spp: int
) -> float:
    renderer.render_linear(trajectory, camera, frames[0], spp=spp)  # build + kernel compile
    start = time.perf_counter()
    for frame in frames[1:]:
        renderer.render_linear(trajectory, camera, frame, spp=spp)
    return (time.perf_counter() - start) / (len(frames) - 1)


def naive_seconds_per_frame(
    renderer: ReferenceRenderer, trajectory, camera: str, frames: list[int], spp: int
) -> float:
    """Rebuild the whole Mitsuba scene (meshes, textures, lights) for every frame."""
    mi = renderer.mi
    start = time.perf_counter()
    for frame in frames:
        clip = build_clip_scene(mi, trajectory, camera, integrator(renderer.options.max_depth))
        clip.set_frame(frame)
        np.asarray(mi.render(clip.scene, spp=spp, seed=frame_seed(trajectory.seed, frame)))
    return (time.perf_counter() - start) / len(frames)


def psnr_db(image: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of two images with values in [0, 1] (peak 1)."""
    mse = float(np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2))
    return float("inf") if mse == 0.0 else 10.0 * np.log10(1.0 / mse)


def quality(trajectory, camera: str, frames: list[int], spp: int, reference_spp: int) -> None:
    """Print seconds per frame at ``spp`` and ``reference_spp`` and the PSNR between the two, per frame
    and overall, on the displayed (tone-mapped sRGB) frames; final mode, no denoiser."""
    renderer = ReferenceRenderer(load_reference_options({"denoise": False}))
    lens = trajectory.cameras[camera].lens
    lights = ", ".join(light.hdri or light.sky or light.type for light in trajectory.lights)
    print(f"quality: {spp} spp against {reference_spp} spp, {trajectory.resolution[0]}², lights: {lights}")
    renderer.render_linear(trajectory, camera, frames[0], spp=1)  # build + kernel compile
    errors = []
    for frame in frames:
        start = time.perf_counter()
        low = renderer.render_linear(trajectory, camera, frame, spp=spp)
        low_seconds = time.perf_counter() - start
        start = time.perf_counter()
        high = renderer.render_linear(trajectory, camera, frame, spp=reference_spp)
        high_seconds = time.perf_counter() - start
        low, high = (tonemap(x, exposure_ev=lens.exposure_ev, curve=lens.tonemap) for x in (low, high))
        low, high = np.round(low * 255.0) / 255.0, np.round(high * 255.0) / 255.0  # the written uint8
        errors.append(np.mean((low - high) ** 2))
        print(
            f"  frame {frame:>3}: {spp} spp {low_seconds:6.2f} s, {reference_spp} spp {high_seconds:7.2f} s "
            f"({high_seconds / low_seconds:.1f}x), PSNR {psnr_db(low, high):.2f} dB"
        )
    overall = 10.0 * np.log10(1.0 / float(np.mean(errors)))
    print(f"  overall PSNR {overall:.2f} dB (target >= 30 dB): {'ok' if overall >= 30.0 else 'BELOW TARGET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default=str(REPO / "scenes" / "demo.yaml"))
    parser.add_argument("--frames", type=int, default=12, help="frames timed per configuration")
    parser.add_argument("--memory-frames", type=int, default=120, help="clip length of the memory run")
    parser.add_argument("--quality-frames", type=int, nargs="+", default=[0, 24, 47])
    parser.add_argument("--reference-spp", type=int, default=512)
    parser.add_argument("--quality-only", action="store_true", help="only the 16 vs 512 spp PSNR")
    args = parser.parse_args()

    scene = load_and_validate(args.scene)
    if args.quality_only:
        trajectory = rollout(scene)
        camera = trajectory.primary_camera
        quality(
            trajectory,
            camera,
            [f for f in args.quality_frames if f < trajectory.num_frames],
            16,
            args.reference_spp,
        )
        return
    scene.num_frames, scene.duration = max(args.frames + 1, args.memory_frames), None
    trajectory = rollout(scene)
    camera = trajectory.primary_camera() if callable(trajectory.primary_camera) else trajectory.primary_camera
    renderer = ReferenceRenderer(load_reference_options({}))
    frames = list(range(args.frames + 1))
    print(f"scene {Path(args.scene).name}: {len(trajectory.entities)} entities, variant {renderer.variant}")
    print(f"{'size':>6} {'spp':>4} {'s/frame':>9} {'naive s/frame':>14} {'ratio':>6}")
    for size in (128, 256):
        scaled = trajectory.with_resolution(size, size)
        for spp in (16, 64):
            ours = seconds_per_frame(renderer, scaled, camera, frames, spp)
            naive_frames = frames[: max(2, len(frames) // 4)]
            naive = naive_seconds_per_frame(renderer, scaled, camera, naive_frames, spp)
            print(f"{size:>5}² {spp:>4} {ours:>9.3f} {naive:>14.3f} {naive / ours:>5.1f}x")
    triangles = renderer.clip(scaled, camera).triangles
    print(f"scene triangles after texture refinement: {triangles:,}")

    scaled = trajectory.with_resolution(128, 128)
    renderer = ReferenceRenderer(load_reference_options({}))
    marks = {}
    for frame in range(args.memory_frames):
        renderer.render_linear(scaled, camera, frame, spp=4)
        if frame + 1 in (10, args.memory_frames // 2, args.memory_frames):
            marks[frame + 1] = resident_mib()
    first = marks[10]
    print("resident memory over clip length (128², 4 spp):")
    for count, mib in marks.items():
        print(f"  after {count:>4} frames: {mib:8.1f} MiB ({mib / first:.3f}x of 10 frames)")
    quality(
        trajectory.with_resolution(*scene.resolution),
        camera,
        [f for f in args.quality_frames if f < trajectory.num_frames],
        16,
        args.reference_spp,
    )


if __name__ == "__main__":
    main()
