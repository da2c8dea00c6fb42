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

from renderers.guidance.frame import GuidanceFrame
from worldsim.metrics.adherence import boundary_f_score, guidance_edges, image_edges, region_homogeneity
from worldsim.metrics.fidelity import fidelity
from worldsim.metrics.flicker import flicker_energy, static_mask
from worldsim.metrics.identity import EntityAppearance, appearance_distance, frame_appearances
from worldsim.metrics.surface import surface_colour_difference
from worldsim.metrics.warping import gap_warping_error, warping_error

DEFAULT_GAP = 8
"""Frames between the two frames compared through surface correspondences."""

Row = dict[str, Any]


@dataclass
class ClipMetrics:
    """Tidy rows: ``frames`` (one per frame), ``entities`` (one per frame and visible entity) and
    ``clip`` (one summary: NaN-aware means and the final / maximum identity drift)."""

    frames: list[Row] = field(default_factory=list)
    entities: list[Row] = field(default_factory=list)
    clip: Row = field(default_factory=dict)


def _nanmean(values: Iterable[float]) -> float:
    array = np.asarray([v for v in values if v is not None], dtype=np.float64)
    array = array[np.isfinite(array)]
    return float(array.mean()) if array.size else float("nan")


def _previous_flicker(history: deque, guidance: GuidanceFrame, rgb: np.ndarray) -> dict[int, Any] | None:
    """Flicker at the previous frame once frame t is known (needs t-2, t-1, t and both flows)."""
    if len(history) < 2:
        return None
    (rgb_a, maps_a), (rgb_b, maps_b) = history[-2], history[-1]
    if maps_a.flow_forward is None or maps_b.flow_forward is None:
        return None
    before = static_mask(maps_a.flow_forward, maps_a.flow_forward_valid, maps_a.instance, maps_b.instance)
    after = static_mask(maps_b.flow_forward, maps_b.flow_forward_valid, maps_b.instance, guidance.instance)
    result = flicker_energy(rgb_a, rgb_b, rgb, before, after, maps_b.instance)
    return {"overall": result.overall, "per_entity": result.per_entity}


def evaluate_clip(
    frames: Iterable[tuple[np.ndarray, GuidanceFrame]],
    *,
    gap: int = DEFAULT_GAP,
    reference: Callable[[int], np.ndarray | None] | None = None,
) -> ClipMetrics:
    """All metrics of a clip given (rgb (H, W, 3) uint8, guidance) pairs in frame order.

    gap: k of the surface-correspondence warping error and colour difference (frame t vs t-k).
    reference: ``frame -> reference rgb`` (or None) for PSNR / SSIM. Memory holds ``gap`` frames.
    """
    metrics = ClipMetrics()
    history: deque[tuple[np.ndarray, GuidanceFrame]] = deque(maxlen=max(gap, 2))
    first: dict[int, EntityAppearance] = {}
    drift_final: dict[int, float] = {}
    drift_max: dict[int, float] = {}
    for rgb, maps in frames:
        if history and history[-1][1].frame != maps.frame - 1:
            history.clear()  # a frame missing in between: nothing before it is compared
        row: Row = {"frame": maps.frame}
        per_entity: dict[int, Row] = {}
        if history:
            previous_rgb, previous = history[-1]
            if previous.flow_forward is not None:
                warp = warping_error(
                    previous_rgb, rgb, previous.flow_forward, previous.flow_forward_valid, previous.instance
                )
                metrics.frames[-1]["warping_error"] = warp.overall
                for entity, value in warp.per_entity.items():
                    for entity_row in metrics.entities[::-1]:
                        if entity_row["frame"] != previous.frame:
                            break
                        if entity_row["entity"] == entity:
                            entity_row["warping_error"] = value
        flicker = _previous_flicker(history, maps, rgb)
        if flicker is not None:
            metrics.frames[-1]["flicker"] = flicker["overall"]
        if len(history) >= gap:
            old_rgb, old = history[-gap]
            gap_warp = gap_warping_error(
                old_rgb, rgb, old.instance, old.surface_coords, maps.instance, maps.surface_coords
            )
            colour = surface_colour_difference(
                old_rgb, rgb, old.instance, old.surface_coords, maps.instance, maps.surface_coords
            )
            chroma = surface_colour_difference(
                old_rgb,
                rgb,
                old.instance,
                old.surface_coords,
                maps.instance,
                maps.surface_coords,
                chromaticity_only=True,
            )
            row.update(
                gap_warping_error=gap_warp.overall,
                surface_delta_e=colour.overall,
                surface_delta_ab=chroma.overall,
            )
            for entity, value in colour.per_entity.items():
                per_entity.setdefault(entity, {})["surface_delta_e"] = value
        row["boundary_f"] = boundary_f_score(
            image_edges(rgb), guidance_edges(maps.instance, maps.depth)
        ).f_score
        homogeneity = region_homogeneity(rgb, maps.instance)
        row["homogeneity"] = _nanmean(homogeneity.values())
        reference_rgb = reference(maps.frame) if reference is not None else None
        if reference_rgb is not None:
            fid = fidelity(rgb, reference_rgb, maps.instance)
            row.update(psnr=fid.psnr, ssim=fid.ssim)
            for entity in fid.per_entity_psnr:
                per_entity.setdefault(entity, {}).update(
                    psnr=fid.per_entity_psnr[entity], ssim=fid.per_entity_ssim[entity]
                )
        for entity, appearance in frame_appearances(rgb, maps.instance).items():
            delta_e, histogram, texture = appearance_distance(
                first.setdefault(entity, appearance), appearance
            )
            drift_final[entity] = delta_e
            drift_max[entity] = max(drift_max.get(entity, 0.0), delta_e)
            per_entity.setdefault(entity, {}).update(
                drift_delta_e=delta_e, drift_histogram=histogram, drift_texture=texture
            )
        for entity, values in sorted(per_entity.items()):
            values.setdefault("homogeneity", homogeneity.get(entity, float("nan")))
            metrics.entities.append({"frame": maps.frame, "entity": entity, **values})
        row["drift_delta_e"] = _nanmean(r.get("drift_delta_e") for r in per_entity.values())
        row["drift_histogram"] = _nanmean(r.get("drift_histogram") for r in per_entity.values())
        metrics.frames.append(row)
        history.append((rgb, maps))
    keys = [
        "warping_error",
        "gap_warping_error",
        "surface_delta_e",
        "surface_delta_ab",
        "flicker",
        "boundary_f",
        "homogeneity",
        "drift_delta_e",
        "drift_histogram",
        "psnr",
        "ssim",
    ]
    metrics.clip = {key: _nanmean(r.get(key) for r in metrics.frames) for key in keys}
    metrics.clip["frames"] = len(metrics.frames)
    metrics.clip["drift_delta_e_final"] = _nanmean(drift_final.values())
    metrics.clip["drift_delta_e_max"] = _nanmean(drift_max.values())
    return metrics


def rendered_frames(clip_dir: str | Path) -> list[int]:
    """The frames of a clip folder whose rgb image is on disk, ascending."""
    from worldsim.clip import Clip

    clip = Clip(Path(clip_dir))
    return [frame for frame in range(clip.num_frames) if clip.layout.is_complete(["rgb"], frame)]


def clip_frames(
    clip_dir: str | Path, frames: Sequence[int] | None = None
) -> Iterator[tuple[np.ndarray, GuidanceFrame]]:
    """(rgb, guidance) pairs of a clip folder's ``frames`` (default: every frame with an rgb image);
    guidance (with surface coordinates) is recomputed from its trajectory.json rather than stored,
    so the folder layout stays as DESIGN.md has it. ClipFolderError when no frame has an image."""
    from renderers.guidance import render_guidance
    from worldsim.clip import Clip
    from worldsim.clip.metadata import ClipFolderError

    clip = Clip(Path(clip_dir))
    selected = rendered_frames(clip_dir) if frames is None else sorted(int(frame) for frame in frames)
    if not selected:
        raise ClipFolderError(f"{clip.path}: no rgb frames to score (render it with an appearance renderer)")
    trajectory = clip.trajectory()
    for maps in render_guidance(trajectory, clip.camera, frames=selected):
        yield clip.rgb(maps.frame), maps


def evaluate_clip_folder(
    clip_dir: str | Path, *, gap: int = DEFAULT_GAP, reference_dir: str | Path | None = None
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

    return evaluate_clip(clip_frames(clip_dir), gap=gap, reference=reference)
