"""``evaluate_clip`` on hand-built guidance: zero for a consistent clip, a jump found where injected."""

from __future__ import annotations

import numpy as np
import pytest

from worldsim.guidance_frame import GuidanceFrame
from worldsim.metrics.clip_metrics import evaluate_clip

H, W, FRAMES, JUMP_FRAME, JUMP_ENTITY = 24, 32, 60, 50, 3
PALETTE = {0: (20, 20, 20), 1: (200, 40, 40), 2: (40, 200, 40), 3: (40, 40, 200)}


def static_guidance(frame: int) -> GuidanceFrame:
    """Three static blocks; every map consistent with a still camera (zero flow, all valid)."""
    instance = np.zeros((H, W), np.uint16)
    instance[2:10, 2:12], instance[12:22, 4:14], instance[4:20, 18:30] = 1, 2, 3
    rows, cols = np.mgrid[0:H, 0:W]
    coords = np.stack([cols * 0.01, rows * 0.01, np.zeros((H, W))], -1).astype(np.float32)
    coords[instance == 0] = 0
    depth = np.where(instance > 0, 2.0, np.inf).astype(np.float32)
    zeros = np.zeros((H, W), np.float32)
    last = frame == FRAMES - 1
    return GuidanceFrame(
        frame,
        "main",
        depth,
        depth,
        instance,
        instance,
        np.zeros((H, W, 3), np.float32),
        coords,
        np.zeros((H, W, 3), np.float32),
        zeros,
        zeros,
        None if last else np.zeros((H, W, 2), np.float32),
        None if last else np.ones((H, W), bool),
    )


def clip(jump: bool):
    for frame in range(FRAMES):
        maps = static_guidance(frame)
        rgb = np.zeros((H, W, 3), np.uint8)
        for entity, colour in PALETTE.items():
            shifted = np.array(colour) + (60 if jump and entity == JUMP_ENTITY and frame >= JUMP_FRAME else 0)
            rgb[maps.instance == entity] = shifted
        yield rgb, maps


def test_consistent_clip_scores_zero():
    metrics = evaluate_clip(clip(jump=False), gap=5)
    for key in ("warping_error", "gap_warping_error", "surface_delta_e", "flicker", "drift_delta_e"):
        assert metrics.clip[key] == pytest.approx(0.0, abs=1e-9), key
    assert metrics.clip["frames"] == FRAMES
    assert len(metrics.entities) == 3 * FRAMES


def test_colour_jump_on_entity_3_at_frame_50_is_found_there_alone():
    metrics = evaluate_clip(clip(jump=True), gap=5)
    drifting = {(r["frame"], r["entity"]) for r in metrics.entities if r["drift_delta_e"] > 1.0}
    assert drifting == {(frame, JUMP_ENTITY) for frame in range(JUMP_FRAME, FRAMES)}
    warped = {(r["frame"], r["entity"]) for r in metrics.entities if r.get("warping_error", 0.0) > 1e-6}
    assert warped == {(JUMP_FRAME - 1, JUMP_ENTITY)}  # the step t=49 -> t+1=50
    flicker = [r["frame"] for r in metrics.frames if r.get("flicker", 0.0) > 1e-9]
    assert flicker == [JUMP_FRAME - 1, JUMP_FRAME]  # second differences centred on 49 and 50
    gap = [r["frame"] for r in metrics.frames if r.get("surface_delta_e", 0.0) > 1e-6]
    assert gap == list(range(JUMP_FRAME, JUMP_FRAME + 5))  # t-5 before the jump, t after it


def test_a_metric_is_one_function_and_one_row_of_the_table(monkeypatch):
    from worldsim.metrics import registry

    def mean_red(inputs, scores):
        scores.frame["mean_red"] = float(inputs.rgb[..., 0].mean())
        red = inputs.rgb[..., 0]
        for entity in (1, 3):
            scores.entity(entity)["red"] = float(red[inputs.guidance.instance == entity].mean())

    monkeypatch.setitem(registry.METRICS, "mean_red", mean_red)
    metrics = evaluate_clip(clip(jump=True), gap=5)
    assert [row["mean_red"] for row in metrics.frames][:1] == [pytest.approx(expected_mean_red())]
    assert {row["red"] for row in metrics.entities if row["entity"] == 3} == {40.0, 100.0}
    assert all("red" not in row for row in metrics.entities if row["entity"] == 2)


def expected_mean_red() -> float:
    rgb, _ = next(clip(jump=False))
    return float(rgb[..., 0].mean())
