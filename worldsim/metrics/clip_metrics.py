"""Every metric over one clip, streamed frame by frame, as tidy rows (per frame, entity, clip)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.guidance_frame import GuidanceFrame
from worldsim.metrics.registry import CLIP_SUMMARY, METRICS, MetricFrame, Row, Scores, nanmean

DEFAULT_GAP = 8
"""Frames between the two frames compared through surface correspondences."""


@dataclass
class ClipMetrics:
    """Tidy rows: ``frames`` (one per frame), ``entities`` (one per frame and visible entity) and
    ``clip`` (one summary: NaN-aware means and the final / maximum identity drift)."""

    frames: list[Row] = field(default_factory=list)
    entities: list[Row] = field(default_factory=list)
    clip: Row = field(default_factory=dict)


def evaluate_clip(
    frames: Iterable[tuple[np.ndarray, GuidanceFrame]],
    *,
    gap: int = DEFAULT_GAP,
    reference: Callable[[int], np.ndarray | None] | None = None,
) -> ClipMetrics:
    """All metrics of ``registry.METRICS`` over a clip given (rgb (H, W, 3) uint8, guidance) pairs
    in frame order.

    gap: k of the surface-correspondence warping error and colour difference (frame t vs t-k).
    reference: ``frame -> reference rgb`` (or None) for PSNR / SSIM. Memory holds ``gap`` frames.
    """
    metrics = ClipMetrics()
    history: deque[tuple[np.ndarray, GuidanceFrame]] = deque(maxlen=max(gap, 2))
    state: dict[str, Any] = {}
    previous_entities: list[Row] = []  # the entity rows of the frame before
    for rgb, maps in frames:
        reference_rgb = reference(maps.frame) if reference is not None else None
        inputs = MetricFrame(rgb, maps, list(history), gap, reference_rgb, state)
        scores = Scores(frame={"frame": maps.frame})
        for metric in METRICS.values():
            metric(inputs, scores)
        if metrics.frames:
            metrics.frames[-1].update(scores.previous)
        for entity_row in previous_entities:
            entity_row.update(scores.previous_entities.get(entity_row["entity"], {}))
        homogeneity = state.get("homogeneity", {})
        previous_entities = []
        for entity, values in sorted(scores.entities.items()):
            values.setdefault("homogeneity", homogeneity.get(entity, float("nan")))
            previous_entities.append({"frame": maps.frame, "entity": entity, **values})
        metrics.entities += previous_entities
        row = scores.frame
        row["drift_delta_e"] = nanmean(r.get("drift_delta_e") for r in scores.entities.values())
        row["drift_histogram"] = nanmean(r.get("drift_histogram") for r in scores.entities.values())
        metrics.frames.append(row)
        history.append((rgb, maps))
    metrics.clip = {key: nanmean(r.get(key) for r in metrics.frames) for key in CLIP_SUMMARY}
    metrics.clip["frames"] = len(metrics.frames)
    metrics.clip["drift_delta_e_final"] = nanmean(state.get("drift_final", {}).values())
    metrics.clip["drift_delta_e_max"] = nanmean(state.get("drift_max", {}).values())
    return metrics


def clip_frames(
    clip_dir: str | Path, guidance: Callable[[int], GuidanceFrame]
) -> Iterator[tuple[np.ndarray, GuidanceFrame]]:
    """(rgb, guidance) pairs of a clip folder in frame order; ``guidance(frame)`` is handed in by
    the orchestration layer (``worldsim.render.clip_guidance``: the clip's own backend, exact maps
    read back, the rest recomputed from trajectory.json)."""
    from worldsim.clip import Clip

    clip = Clip(Path(clip_dir))
    for frame in range(clip.num_frames):
        yield clip.rgb(frame), guidance(frame)


def evaluate_clip_folder(
    clip_dir: str | Path,
    guidance: Callable[[int], GuidanceFrame],
    *,
    gap: int = DEFAULT_GAP,
    reference_dir: str | Path | None = None,
) -> ClipMetrics:
    """``evaluate_clip`` on a clip folder written by ``worldsim.render`` (reference: another clip)."""
    reference = None
    if reference_dir is not None:
        from worldsim.clip import Clip

        reference_clip = Clip(Path(reference_dir))
        reference = reference_clip.rgb
    return evaluate_clip(clip_frames(clip_dir, guidance), gap=gap, reference=reference)
