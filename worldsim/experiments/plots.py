"""Experiment plots (matplotlib, Agg backend): drift over time, metric vs clip length, heatmaps."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

TIME_METRIC = "drift_delta_e"
LENGTH_METRICS = ("warping_error", "drift_delta_e_final", "surface_delta_e", "flicker")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def plot_drift_over_time(frame_rows: list[dict[str, Any]], path: Path, metric: str = TIME_METRIC) -> Path:
    """One line per setting (mean over the runs of that setting at the longest clip length)."""
    plt = _pyplot()
    longest = max(int(row["clip_length"]) for row in frame_rows)
    curves: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in frame_rows:
        if int(row["clip_length"]) == longest:
            curves[row["setting"]][int(row["frame"])].append(_number(row.get(metric)))
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for setting, per_frame in sorted(curves.items()):
        frames = sorted(per_frame)
        axes.plot(
            frames,
            [np.nanmean(per_frame[f]) if np.isfinite(per_frame[f]).any() else np.nan for f in frames],
            label=setting,
        )
    axes.set(
        xlabel="frame",
        ylabel=f"{metric} (CIE76 ΔE vs first appearance)",
        title=f"Identity drift over time ({longest} frames)",
    )
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_metric_vs_length(
    clip_rows: list[dict[str, Any]], path: Path, metrics: tuple[str, ...] = LENGTH_METRICS
) -> Path:
    """One panel per metric: x = clip length (frames), one line per setting (mean over seeds/scenes)."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(metrics), figsize=(3.4 * len(metrics), 3.2), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        grouped: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in clip_rows:
            grouped[row["setting"]][int(row["clip_length"])].append(_number(row.get(metric)))
        for setting, per_length in sorted(grouped.items()):
            lengths = sorted(per_length)
            values = [
                np.nanmean(per_length[n]) if np.isfinite(per_length[n]).any() else np.nan for n in lengths
            ]
            axis.plot(lengths, values, marker="o", label=setting)
        axis.set(xlabel="clip length (frames)", title=metric)
        all_lengths = sorted({int(row["clip_length"]) for row in clip_rows})
        if len(all_lengths) > 1 and all_lengths[-1] / all_lengths[0] >= 10:
            axis.set_xscale("log")
        axis.set_xticks(all_lengths, [str(n) for n in all_lengths])
        axis.minorticks_off()
        axis.grid(alpha=0.3)
    axes[0][0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_entity_heatmaps(entity_rows: list[dict[str, Any]], path: Path, metric: str = TIME_METRIC) -> Path:
    """Per setting, entity x frame heatmap of ``metric`` for its longest first-seed run (grey = away)."""
    plt = _pyplot()
    by_setting: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in entity_rows:
        by_setting[row["setting"]].append(row)
    settings = sorted(by_setting)
    figure, axes = plt.subplots(len(settings), 1, figsize=(6.4, 1.0 + 1.6 * len(settings)), squeeze=False)
    values_all = [_number(row.get(metric)) for row in entity_rows]
    vmax = np.nanmax(values_all) if np.isfinite(values_all).any() else 1.0
    for axis, setting in zip(axes[:, 0], settings):
        rows = by_setting[setting]
        run = max(rows, key=lambda r: (int(r["clip_length"]), -int(r["seed"])))["run"]
        rows = [r for r in rows if r["run"] == run]
        entities = sorted({int(r["entity"]) for r in rows})
        frames = max(int(r["frame"]) for r in rows) + 1
        grid = np.full((len(entities), frames), np.nan)
        for r in rows:
            grid[entities.index(int(r["entity"])), int(r["frame"])] = _number(r.get(metric))
        cmap = plt.get_cmap("magma").with_extremes(bad="lightgrey")
        image = axis.imshow(
            np.ma.masked_invalid(grid),
            aspect="auto",
            cmap=cmap,
            vmin=0,
            vmax=max(vmax, 1e-6),
            interpolation="nearest",
        )
        axis.set_yticks(range(len(entities)), [str(e) for e in entities])
        axis.set(ylabel="entity", title=f"{setting}: {metric} ({run})")
        figure.colorbar(image, ax=axis)
    axes[-1, 0].set_xlabel("frame")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
