"""One-page Markdown report of an experiment: summary table plus the plots."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from worldsim.experiments.config import ExperimentConfig

SUMMARY_METRICS = (
    "warping_error",
    "gap_warping_error",
    "surface_delta_e",
    "surface_delta_ab",
    "drift_delta_e",
    "drift_delta_e_final",
    "flicker",
    "boundary_f",
    "homogeneity",
    "psnr",
    "ssim",
)
EXPLANATIONS = {
    "warping_error": "mean |frame t - warp(frame t+1)| with ground-truth flow, colour in [0, 1]",
    "gap_warping_error": "same across a gap of k frames through surface-coordinate matches",
    "surface_delta_e": "CIELAB ΔE of the same surface point at t and t+k",
    "surface_delta_ab": "the same, chromaticity only (a*, b*)",
    "drift_delta_e": "per-entity mean-colour ΔE against first appearance, mean over frames",
    "drift_delta_e_final": "that drift at each entity's last visible frame",
    "flicker": "mean squared temporal second difference on static surfaces",
    "boundary_f": "F-score of image edges vs instance/depth discontinuities (higher is better)",
    "homogeneity": "RMS Lab spread inside each entity region",
    "psnr": "fidelity to the reference renderer's frames of the same run (dB, higher is better)",
    "ssim": "the same, structural similarity (higher is better)",
}


def _format(value: float) -> str:
    if not math.isfinite(value):
        return "–" if math.isnan(value) else "inf"
    return f"{value:.4g}"


def summary_table(clip_rows: list[dict[str, Any]]) -> str:
    """Markdown table: one line per (setting, clip length), metrics averaged over scenes and seeds."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in clip_rows:
        groups[(str(row["setting"]), int(row["clip_length"]))].append(row)
    header = "| setting | frames | runs | " + " | ".join(SUMMARY_METRICS) + " |"
    lines = [header, "|" + "---|" * (3 + len(SUMMARY_METRICS))]
    for (setting, length), rows in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])):
        cells = []
        for metric in SUMMARY_METRICS:
            values = [float(r[metric]) for r in rows if metric in r and math.isfinite(float(r[metric]))]
            cells.append(_format(sum(values) / len(values)) if values else "–")
        lines.append(f"| {setting} | {length} | {len(rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    path: Path, config: ExperimentConfig, clip_rows: list[dict[str, Any]], plots: list[Path], *, quick: bool
) -> Path:
    """Write ``report.md`` next to its plots (linked by relative path)."""
    settings = ", ".join(
        f"{s.label or s.renderer} ({s.renderer} {dict(s.options)})" for s in config.renderers
    )
    lines = [
        f"# Experiment: {config.name}{' (quick)' if quick else ''}",
        "",
        config.description.strip(),
        "",
        f"- scenes: {', '.join(config.scenes)}",
        f"- settings: {settings}",
        f"- seeds: {list(config.seeds)}; clip lengths: {list(config.clip_lengths) or 'scene default'}; "
        f"gap k = {config.gap}; runs: {len(clip_rows)}",
        "",
        "## Summary (lower is more consistent, except boundary_f, psnr and ssim)",
        "",
        summary_table(clip_rows),
        "",
        *[f"- **{name}**: {text}" for name, text in EXPLANATIONS.items()],
        "",
        "## Plots",
        "",
        *[f"![{plot.stem}]({plot.name})\n" for plot in plots],
        "Per-run CSVs: `runs/<run>/frames.csv`, `runs/<run>/entities.csv`; all clips: `metrics.csv`.",
        "",
    ]
    path.write_text("\n".join(lines))
    return path
