"""The table of clip metrics, in the ``camera.presets.MOVES`` style: name -> a small function.

Each metric reads a ``MetricFrame`` (this frame's rgb and guidance, the frames before it, the
reference) and writes its values into the frame's ``Scores``: per frame, per entity, or on the
frame before (metrics that need the next frame, like the warping error of t -> t+1). The table's
order is the order of the columns. ``evaluate_clip`` runs them all; adding a metric is one
function and one row (plus its clip-summary keys in ``CLIP_SUMMARY``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from worldsim.metrics.adherence import boundary_f_score, guidance_edges, image_edges, region_homogeneity
from worldsim.metrics.fidelity import fidelity
from worldsim.metrics.flicker import flicker_energy, static_mask
from worldsim.metrics.identity import EntityAppearance, appearance_distance, frame_appearances
from worldsim.metrics.surface import surface_colour_difference
from worldsim.metrics.warping import gap_warping_error, warping_error

if TYPE_CHECKING:
    from worldsim.guidance_frame import GuidanceFrame

Row = dict[str, Any]


@dataclass
class MetricFrame:
    """What a metric sees at one frame.

    rgb: (H, W, 3) uint8; guidance: its maps; history: earlier (rgb, guidance) pairs, oldest first
    (at most ``max(gap, 2)``); gap: k of the gap metrics (frame t vs t - k); reference: (H, W, 3)
    uint8 reference rgb of this frame or None; state: per-metric memory across frames.
    """

    rgb: np.ndarray
    guidance: GuidanceFrame
    history: list[tuple[np.ndarray, GuidanceFrame]]
    gap: int
    reference: np.ndarray | None
    state: dict[str, Any]


@dataclass
class Scores:
    """What the metrics of one frame wrote: ``frame`` and ``entities`` (entity -> values) of this
    frame, ``previous`` and ``previous_entities`` of the frame before."""

    frame: Row = field(default_factory=dict)
    entities: dict[int, Row] = field(default_factory=dict)
    previous: Row = field(default_factory=dict)
    previous_entities: dict[int, Row] = field(default_factory=dict)

    def entity(self, entity: int) -> Row:
        return self.entities.setdefault(int(entity), {})


def warping(inputs: MetricFrame, scores: Scores) -> None:
    """Flow-warping error of the step t-1 -> t, recorded on frame t-1 (overall and per entity)."""
    if not inputs.history:
        return
    previous_rgb, previous = inputs.history[-1]
    if previous.flow_forward is None:
        return
    warp = warping_error(
        previous_rgb, inputs.rgb, previous.flow_forward, previous.flow_forward_valid, previous.instance
    )
    scores.previous["warping_error"] = warp.overall
    for entity, value in warp.per_entity.items():
        scores.previous_entities.setdefault(entity, {})["warping_error"] = value


def flicker(inputs: MetricFrame, scores: Scores) -> None:
    """Temporal second difference on static pixels centred on frame t-1 (needs t-2, t-1, t)."""
    if len(inputs.history) < 2:
        return
    (rgb_a, maps_a), (rgb_b, maps_b) = inputs.history[-2], inputs.history[-1]
    if maps_a.flow_forward is None or maps_b.flow_forward is None:
        return
    guidance = inputs.guidance
    before = static_mask(maps_a.flow_forward, maps_a.flow_forward_valid, maps_a.instance, maps_b.instance)
    after = static_mask(maps_b.flow_forward, maps_b.flow_forward_valid, maps_b.instance, guidance.instance)
    scores.previous["flicker"] = flicker_energy(
        rgb_a, rgb_b, inputs.rgb, before, after, maps_b.instance
    ).overall


def surface_gap(inputs: MetricFrame, scores: Scores) -> None:
    """Frame t against t - gap through exact surface correspondences: warping error and CIELAB
    colour difference (and chromaticity only)."""
    if len(inputs.history) < inputs.gap:
        return
    old_rgb, old = inputs.history[-inputs.gap]
    rgb, maps = inputs.rgb, inputs.guidance
    pair = (old_rgb, rgb, old.instance, old.surface_coords, maps.instance, maps.surface_coords)
    gap_warp = gap_warping_error(*pair)
    colour = surface_colour_difference(*pair)
    chroma = surface_colour_difference(*pair, chromaticity_only=True)
    scores.frame.update(
        gap_warping_error=gap_warp.overall, surface_delta_e=colour.overall, surface_delta_ab=chroma.overall
    )
    for entity, value in colour.per_entity.items():
        scores.entity(entity)["surface_delta_e"] = value


def boundary(inputs: MetricFrame, scores: Scores) -> None:
    """Boundary F-score of image edges against instance and depth discontinuities."""
    edges = guidance_edges(inputs.guidance.instance, inputs.guidance.depth)
    scores.frame["boundary_f"] = boundary_f_score(image_edges(inputs.rgb), edges).f_score


def homogeneity(inputs: MetricFrame, scores: Scores) -> None:
    """Colour homogeneity inside each entity; per-entity values fill the rows other metrics made."""
    values = region_homogeneity(inputs.rgb, inputs.guidance.instance)
    scores.frame["homogeneity"] = nanmean(values.values())
    inputs.state["homogeneity"] = values


def reference_fidelity(inputs: MetricFrame, scores: Scores) -> None:
    """PSNR and SSIM against the reference frame, overall and per entity."""
    if inputs.reference is None:
        return
    result = fidelity(inputs.rgb, inputs.reference, inputs.guidance.instance)
    scores.frame.update(psnr=result.psnr, ssim=result.ssim)
    for entity in result.per_entity_psnr:
        scores.entity(entity).update(psnr=result.per_entity_psnr[entity], ssim=result.per_entity_ssim[entity])


def identity_drift(inputs: MetricFrame, scores: Scores) -> None:
    """Each entity's appearance against its first appearance in the clip (CIELAB, histogram, texture)."""
    first: dict[int, EntityAppearance] = inputs.state.setdefault("first_appearance", {})
    final: dict[int, float] = inputs.state.setdefault("drift_final", {})
    worst: dict[int, float] = inputs.state.setdefault("drift_max", {})
    for entity, appearance in frame_appearances(inputs.rgb, inputs.guidance.instance).items():
        delta_e, histogram, texture = appearance_distance(first.setdefault(entity, appearance), appearance)
        final[entity] = delta_e
        worst[entity] = max(worst.get(entity, 0.0), delta_e)
        scores.entity(entity).update(drift_delta_e=delta_e, drift_histogram=histogram, drift_texture=texture)


METRICS: dict[str, Callable[[MetricFrame, Scores], None]] = {
    "warping": warping, "flicker": flicker, "surface_gap": surface_gap, "boundary": boundary,
    "homogeneity": homogeneity, "fidelity": reference_fidelity, "identity_drift": identity_drift,
}  # fmt: skip
CLIP_SUMMARY = (
    "warping_error", "gap_warping_error", "surface_delta_e", "surface_delta_ab", "flicker", "boundary_f",
    "homogeneity", "drift_delta_e", "drift_histogram", "psnr", "ssim",
)  # fmt: skip
"""Frame columns averaged (NaN-aware) into the clip summary."""


def nanmean(values: Any) -> float:
    """Mean of the finite values (None skipped); NaN when there are none."""
    array = np.asarray([v for v in values if v is not None], dtype=np.float64)
    array = array[np.isfinite(array)]
    return float(array.mean()) if array.size else float("nan")
