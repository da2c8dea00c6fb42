"""``worldsim evaluate CLIP [--against CLIP] [--gap N] [--json]``: score a clip folder's frames."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from worldsim.cli.output import echo

METRIC_NAMES = {
    "warping_error": "warping error (flow, t vs t+1)",
    "gap_warping_error": "warping error (surfaces, t vs t-gap)",
    "surface_delta_e": "surface colour change, delta E",
    "surface_delta_ab": "surface chroma change, delta ab",
    "flicker": "flicker",
    "boundary_f": "boundary F score",
    "homogeneity": "region homogeneity",
    "drift_delta_e": "identity drift, delta E (mean)",
    "drift_delta_e_final": "identity drift, delta E (final)",
    "drift_delta_e_max": "identity drift, delta E (max)",
    "drift_histogram": "identity drift, histogram",
    "psnr": "PSNR against the reference, dB",
    "ssim": "SSIM against the reference",
}
"""Summary key -> what the table calls it, in table order (the keys of ``ClipMetrics.clip``)."""


def add_evaluate_subparser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``evaluate``."""
    parser = subparsers.add_parser(
        "evaluate",
        parents=[common],
        help="score a clip folder (temporal consistency, adherence, identity; fidelity with --against)",
        description="Score the frames a clip folder holds (a clip rendered with --frames scores the "
        "frames present). With --against, PSNR and SSIM against another clip of the same scene.",
    )
    parser.add_argument("clip", metavar="CLIP", help="clip folder written by 'worldsim render'")
    parser.add_argument("--against", metavar="CLIP", help="reference clip folder (e.g. a reference render)")
    parser.add_argument(
        "--gap", type=int, default=None, metavar="N", help="frames between surface comparisons"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON (NaN as null)")
    parser.set_defaults(func=run_evaluate)


def _folder(text: str, option: str) -> Path:
    from worldsim.cli.common import UsageError

    path = Path(text)
    if not path.is_dir():
        raise UsageError(f"{option}: {path} is not a folder")
    return path


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def format_table(summary: dict[str, Any]) -> list[str]:
    """The summary as aligned ``name  value`` lines ('-' where a metric is undefined)."""
    width = max(len(name) for name in METRIC_NAMES.values())
    lines = []
    for key, name in METRIC_NAMES.items():
        if key not in summary:
            continue
        value = summary[key]
        text = "-" if value is None or not math.isfinite(value) else f"{value:.4f}"
        lines.append(f"{name:<{width}}  {text}")
    return lines


def run_evaluate(args: argparse.Namespace) -> int:
    """Score the clip and print a table (or JSON) of the clip summary."""
    from worldsim.cli.common import UsageError
    from worldsim.metrics.clip_metrics import DEFAULT_GAP, evaluate_clip_folder, rendered_frames

    clip = _folder(args.clip, "CLIP")
    against = None if args.against is None else _folder(args.against, "--against")
    gap = DEFAULT_GAP if args.gap is None else args.gap
    if gap < 1:
        raise UsageError(f"--gap must be at least 1, got {gap}")
    from worldsim.clip import Clip

    total = Clip(clip).num_frames
    frames = rendered_frames(clip)
    from worldsim.render import clip_guidance

    metrics = evaluate_clip_folder(clip, clip_guidance(Clip(clip)), gap=gap, reference_dir=against)
    summary = {key: _finite_or_none(value) for key, value in metrics.clip.items()}
    if against is None:  # no reference: fidelity is not defined, not merely unknown
        summary.pop("psnr", None)
        summary.pop("ssim", None)
    if args.json:
        result = {"clip": str(clip), "against": None if against is None else str(against)}
        echo(json.dumps({**result, "clip_frames": total, "scored_frames": frames, **summary}))
        return 0
    if not args.quiet:
        scored = f"{len(frames)} frames" if len(frames) == total else f"{len(frames)} of {total} frames"
        echo(f"{clip}: {scored} scored" + (f", against {against}" if against else ""))
    for line in format_table(summary):
        echo(line)
    return 0
