"""Every metric over one clip, streamed frame by frame, as tidy rows (per frame, entity, clip).

A clip folder rendered in part (``--frames``) is scored on the frames it holds; metrics that
compare frames (warping, flicker, the gap metrics) compare only frames of one unbroken run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
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
        if history and history[-1][1].frame != maps.frame - 1:
            history.clear()  # a frame missing in between: nothing before it is compared
            previous_entities = []
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


def rendered_frames(clip_dir: str | Path) -> list[int]:
    """The frames of a clip folder whose rgb image is on disk, ascending."""
    from worldsim.clip import Clip

    clip = Clip(Path(clip_dir))
    return [frame for frame in range(clip.num_frames) if clip.layout.is_complete(["rgb"], frame)]


def clip_frames(
    clip_dir: str | Path, guidance: Callable[[int], GuidanceFrame], frames: Sequence[int] | None = None
) -> Iterator[tuple[np.ndarray, GuidanceFrame]]:
    """(rgb, guidance) pairs of a clip folder's ``frames`` (default: every frame with an rgb image)
    in frame order; ``guidance(frame)`` is handed in by the orchestration layer
    (``worldsim.render.clip_guidance``: the clip's own backend, exact maps read back, the rest
    recomputed from trajectory.json). ClipFolderError when no frame has an image."""
    from worldsim.clip import Clip
    from worldsim.clip.metadata import ClipFolderError

    clip = Clip(Path(clip_dir))
    selected = rendered_frames(clip_dir) if frames is None else sorted(int(frame) for frame in frames)
    if not selected:
        raise ClipFolderError(f"{clip.path}: no rgb frames to score (render it with an appearance renderer)")
    for frame in selected:
        yield clip.rgb(frame), guidance(frame)


def evaluate_clip_folder(
    clip_dir: str | Path,
    guidance: Callable[[int], GuidanceFrame],
    *,
    gap: int = DEFAULT_GAP,
    reference_dir: str | Path | None = None,
) -> ClipMetrics:
    """``evaluate_clip`` on the frames a clip folder written by ``worldsim.render`` holds
    (reference: another clip folder of the same scene; its frames that are missing score no PSNR)."""
    reference = None
    if reference_dir is not None:
        from worldsim.clip import Clip
        from worldsim.clip.metadata import ClipFolderError

        clip, reference_clip = Clip(Path(clip_dir)), Clip(Path(reference_dir))
        sizes = [folder.metadata.get("resolution") for folder in (clip, reference_clip)]
        if sizes[0] != sizes[1]:
            raise ClipFolderError(
                f"{reference_clip.path}: a reference of {sizes[1]} pixels for a clip of {sizes[0]}; "
                "compare clips of the same scene and resolution"
            )

        def reference(frame: int) -> np.ndarray | None:
            if not 0 <= frame < reference_clip.num_frames:
                return None
            return reference_clip.rgb(frame) if reference_clip.layout.is_complete(["rgb"], frame) else None

    return evaluate_clip(clip_frames(clip_dir, guidance), gap=gap, reference=reference)
