"""Benchmark an edit: render the fixed scene ``tools/bench/edit/shelf_pan.yaml`` (96 frames), apply
the fixed edit ``tools/bench/edit/one_entity.yaml`` (one entity's material) and render the edited
scene into the same folder. Prints the full and the incremental time, their ratio (target <= 0.30
for a guidance-only render), the frames re-rendered and whether they are byte-identical to a fresh
render of the edited scene; once with the default previews (``video.mp4``/``guidance.mp4``, whose
H.264 encoding of every frame is a cost no edit can skip) and once without the videos.

    .venv/bin/python tools/bench/bench_edit.py [--renderer NAME] [--repeats 3]

Without ``--renderer`` the renders are guidance-only (the speed line of issue 22); with one (e.g.
``flat``, ``reference`` with ``--option spp=4``) its rgb frames are rendered too.
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
SCENE = REPO / "tools" / "bench" / "edit" / "shelf_pan.yaml"
EDIT = REPO / "tools" / "bench" / "edit" / "one_entity.yaml"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renderer", help="appearance renderer (default: guidance only)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each render (median kept)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    from worldsim.cli.render_cmd import parse_options
    from worldsim.clip.config import load_render_config
    from worldsim.render import load_and_validate
    from worldsim.scene.edits import apply_edits, load_edits

    scene = load_and_validate(SCENE)
    edited = apply_edits(scene, load_edits(EDIT))
    kwargs = {
        "guidance_only": args.renderer is None,
        "renderer": args.renderer or "default",
        "options": parse_options(args.option) or None,
        "progress": False,
    }
    rows = []
    for videos in (True, False):
        config = load_render_config(overrides={"videos": videos})
        rows.append((videos, *measure(scene, edited, kwargs, config, args.repeats, args.renderer)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    what = args.renderer or "guidance only"
    print(f"scene {SCENE.name} ({scene.frame_count} frames), edit {EDIT.name}, {what}")
    identical_everywhere = True
    for videos, full, edit, frames, identical, product in rows:
        label = "with videos (default)" if videos else "without videos.mp4/guidance.mp4"
        print(f"  {label}:")
        print(f"    full render        {full:7.2f} s (median of {args.repeats})")
        print(f"    edited re-render   {edit:7.2f} s  {len(frames)} {product} frames re-rendered: {frames}")
        print(f"    ratio              {edit / full:7.2f}  (target <= 0.30)")
        print(f"    every frame equals a fresh render of the edited scene: {identical}")
        identical_everywhere &= identical
    print(f"  load average {load:.2f}")
    return 0 if identical_everywhere else 1


def measure(scene, edited, kwargs, config, repeats: int, renderer: str | None):
    """(full s, edit s, frames re-rendered, identical to a fresh render, product) medians."""
    from worldsim.render import render

    full_times, edit_times = [], []
    with tempfile.TemporaryDirectory() as folder:
        render(scene, out=Path(folder) / "warm", config=config, **kwargs)  # imports, JIT, caches
        for repeat in range(repeats):
            out = Path(folder) / f"clip{repeat}"
            start = time.perf_counter()
            render(scene, out=out, config=config, **kwargs)
            full_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            clip = render(edited, out=out, config=config, **kwargs)
            edit_times.append(time.perf_counter() - start)
        fresh = render(edited, out=Path(folder) / "fresh", config=config, **kwargs)
        product = "guidance" if renderer is None else "rgb"
        folder_name = "instance" if renderer is None else "rgb"
        identical = all(
            (clip.path / folder_name / path.name).read_bytes() == path.read_bytes()
            for path in sorted((fresh.path / folder_name).glob("*.png"))
        )
        frames = clip.metadata["rerendered"][product]["frames"]
    return statistics.median(full_times), statistics.median(edit_times), frames, identical, product


if __name__ == "__main__":
    raise SystemExit(main())
