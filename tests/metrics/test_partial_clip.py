"""Metrics on clips rendered in part (``--frames``) and the ``worldsim evaluate`` command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from worldsim.cli.main import EXIT_FAILURE, EXIT_USAGE, main
from worldsim.clip import Clip
from worldsim.metrics.clip_metrics import evaluate_clip, evaluate_clip_folder, rendered_frames
from worldsim.render import clip_guidance

SCENE = """\
name: partial
fps: 8
num_frames: 10
resolution: [32, 24]
entities:
  - {name: floor, semantic_class: ground, mesh: {type: plane, size: [10, 10]}}
  - {name: ball, semantic_class: ball, mesh: {type: sphere, radius: 0.3}, pose: {position: [0, 0, 1.0]},
     physics: {mode: dynamic}}
cameras:
  - {name: main, fov_deg: 50, position: [3, -3, 2], look_at: [0, 0, 0.3]}
"""


@pytest.fixture(scope="module")
def scene_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scene") / "partial.yaml"
    path.write_text(SCENE)
    return path


def render_flat(scene_file: Path, out: Path, *frame_ranges: str) -> Path:
    from worldsim.render import render

    for frames in frame_ranges:
        render(scene_file, renderer="flat", out=out, frames=frames, progress=False)
    return out


def in_memory(clip_dir: Path, frames: list[int], gap: int):
    from renderers.guidance import render_guidance

    clip = Clip(clip_dir)
    guidance = render_guidance(clip.trajectory(), clip.camera, frames=frames)
    return evaluate_clip(((clip.rgb(maps.frame), maps) for maps in guidance), gap=gap)


def test_a_partial_clip_scores_the_frames_it_holds(scene_file, tmp_path) -> None:
    clip_dir = render_flat(scene_file, tmp_path / "clip", "0:6")
    assert rendered_frames(clip_dir) == list(range(6))
    metrics = evaluate_clip_folder(clip_dir, clip_guidance(Clip(clip_dir)), gap=2)
    assert metrics.clip["frames"] == 6 and [row["frame"] for row in metrics.frames] == list(range(6))
    expected = in_memory(clip_dir, list(range(6)), gap=2).clip
    for key, value in expected.items():
        assert metrics.clip[key] == pytest.approx(value, rel=1e-9, nan_ok=True), key
    assert math.isfinite(metrics.clip["warping_error"]) and math.isfinite(metrics.clip["gap_warping_error"])


def test_frames_are_compared_only_within_an_unbroken_run(scene_file, tmp_path) -> None:
    clip_dir = render_flat(scene_file, tmp_path / "clip", "0:3", "6:9")
    metrics = evaluate_clip_folder(clip_dir, clip_guidance(Clip(clip_dir)), gap=2)
    rows = {row["frame"]: row for row in metrics.frames}
    assert sorted(rows) == [0, 1, 2, 6, 7, 8]
    assert "warping_error" in rows[1] and "warping_error" not in rows[2]  # 2 -> 3 is not on disk
    assert "gap_warping_error" in rows[2] and "gap_warping_error" not in rows[6]  # 6 vs 4: missing
    assert "gap_warping_error" in rows[8]
    first_run = in_memory(clip_dir, [0, 1, 2], gap=2).frames
    for expected in first_run:
        row = rows[expected["frame"]]
        for key in ("warping_error", "gap_warping_error", "boundary_f"):
            assert (key in row) == (key in expected), key
            if key in expected:
                assert row[key] == pytest.approx(expected[key], rel=1e-9), key


def test_evaluate_command_prints_a_table_and_json(scene_file, tmp_path, capsys) -> None:
    clip_dir = render_flat(scene_file, tmp_path / "clip", "0:6")
    assert main(["evaluate", str(clip_dir), "--gap", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == f"{clip_dir}: 6 of 10 frames scored"
    assert any(line.startswith("warping error (flow, t vs t+1)") for line in lines)
    assert not any("PSNR" in line for line in lines)  # no reference given
    assert main(["evaluate", str(clip_dir), "--gap", "2", "--json", "--against", str(clip_dir)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["scored_frames"] == list(range(6)) and summary["clip_frames"] == 10
    assert summary["psnr"] is None and summary["ssim"] == pytest.approx(1.0)  # identical: PSNR infinite
    expected = evaluate_clip_folder(clip_dir, clip_guidance(Clip(clip_dir)), gap=2).clip
    assert summary["warping_error"] == pytest.approx(expected["warping_error"], rel=1e-12)


def test_evaluate_command_errors(scene_file, tmp_path, capsys) -> None:
    clip_dir = render_flat(scene_file, tmp_path / "clip", "0:2")
    assert main(["evaluate", str(tmp_path / "missing")]) == EXIT_USAGE
    assert "is not a folder" in capsys.readouterr().err
    other = tmp_path / "other"
    other_scene = tmp_path / "other.yaml"
    other_scene.write_text(SCENE.replace("[32, 24]", "[16, 16]"))
    render_flat(other_scene, other, "0:2")
    assert main(["evaluate", str(clip_dir), "--against", str(other)]) == EXIT_FAILURE
    error = capsys.readouterr().err
    assert "compare clips of the same scene and resolution" in error and "Traceback" not in error
    guidance_only = tmp_path / "guidance"
    from worldsim.render import render

    render(scene_file, out=guidance_only, guidance_only=True, frames="0:2", progress=False)
    assert main(["evaluate", str(guidance_only)]) == EXIT_FAILURE
    assert "no rgb frames to score" in capsys.readouterr().err
