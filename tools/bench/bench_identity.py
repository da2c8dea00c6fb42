"""Measure persistent identity (issue 22): two cameras of the same scene rendered separately by the
diffusion renderer, the second with and without ``--appearance-from`` the first. Prints, for the
entities both clips show, the cross-render delta E (median CIELAB colour over clip A vs clip B) and
each clip's within-clip identity drift (mean per-entity delta E against its first appearance), and
the same two figures of two reference (path-traced) clips: the part of the difference the two
viewpoints' shading makes, and the drift physics itself shows within a clip.

    .venv/bin/python tools/bench/bench_identity.py [--frames 24] [--width 96 --height 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCENE = REPO / "tools" / "bench" / "edit" / "shelf_pan.yaml"
MAIN_CAMERA = (
    "{name: main, fov_deg: 20, position: [-16, -4, 1.6], look_at: [-16, 0, 0.4], "
    "moves: [{type: truck, distance: 36, easing: linear}]}"
)
"""The scene's own camera (written out: the list is replaced as a whole)."""
SIDE_CAMERA = "{name: side, fov_deg: 55, position: [9, -6, 2.5], look_at: [9, 0, 0.4]}"
"""A second, fixed camera on the last objects of the shelf (the truck camera ends there too)."""


def clip_frames(clip):
    """(rgb, instance) per rendered frame of a clip folder."""
    for frame in range(clip.num_frames):
        yield clip.rgb(frame), clip.map("instance", frame)["instance"]


def within_clip_drift(clip) -> dict[int, float]:
    """Entity id -> mean delta E against its first appearance over the frames showing it."""
    from worldsim.metrics.identity import mean_drift

    return mean_drift(clip_frames(clip))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    import numpy as np

    from worldsim.cli.render_cmd import parse_options
    from worldsim.metrics.cross_clip import cross_clip_delta_e
    from worldsim.render import load_and_validate, render
    from worldsim.scene.edits import apply_edits, parse_set

    scene = apply_edits(
        load_and_validate(SCENE),
        [
            parse_set(f"resolution=[{args.width}, {args.height}]"),
            parse_set(f"num_frames={args.frames}"),
            parse_set("render.guidance=[depth, instance]"),
            parse_set(f"cameras=[{MAIN_CAMERA}, {SIDE_CAMERA}]"),
        ],
    )
    options = parse_options(args.option) or None
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        a = render(
            scene, renderer="diffusion", out=root / "a", camera="main", options=options, progress=False
        )
        b_alone = render(
            scene, renderer="diffusion", out=root / "b", camera="side", options=options, progress=False
        )
        b_from_a = render(
            scene,
            renderer="diffusion",
            out=root / "b_from_a",
            camera="side",
            options=options,
            appearance_from=root / "a",
            progress=False,
        )
        rows = {
            "without --appearance-from": cross_clip_delta_e(clip_frames(a), clip_frames(b_alone)),
            "with --appearance-from A": cross_clip_delta_e(clip_frames(a), clip_frames(b_from_a)),
        }
        # the floor: what the path tracer shows of the same entities from the two viewpoints
        traced = {"renderer": "reference", "options": {"samples_per_pixel": 16}, "progress": False}
        ref_a = render(scene, out=root / "ref_a", camera="main", **traced)
        ref_b = render(scene, out=root / "ref_b", camera="side", **traced)
        rows["reference renderer (view-dependent shading floor)"] = cross_clip_delta_e(
            clip_frames(ref_a), clip_frames(ref_b)
        )
        drift = {"A (main)": within_clip_drift(a), "B (side)": within_clip_drift(b_alone)}
        drift["B (side, from A)"] = within_clip_drift(b_from_a)
        # the path tracer's own drift: the bar the cross-render figure is held to, seen from physics
        drift["A (main), reference renderer"] = within_clip_drift(ref_a)
        drift["B (side), reference renderer"] = within_clip_drift(ref_b)
    load = os.getloadavg()[0]
    print(f"{SCENE.name}: {args.frames} frames at {args.width}x{args.height}, cameras main (A) and side (B)")
    for label, values in rows.items():
        shared = {entity: round(value, 2) for entity, value in values.items()}
        print(f"  cross-render delta E A vs B {label}: mean {np.mean(list(values.values())):.2f}  {shared}")
    for label, values in drift.items():
        print(f"  within-clip drift {label}: mean {np.mean(list(values.values())):.2f}")
    print(f"  load average {load:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
