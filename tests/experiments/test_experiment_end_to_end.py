"""A quick experiment config runs end to end through ``worldsim.render`` and resumes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("worldsim.scene.yaml_io", reason="scene loading (engineer scene-io) not available yet")
pytest.importorskip("worldsim.scene.validation", reason="scene validation not available yet")

from worldsim.cli.main import main
from worldsim.experiments.experiment import run_and_report

CONFIG = Path(__file__).parents[2] / "configs" / "experiments" / "long_clip_drift.yaml"


def test_quick_long_clip_drift_end_to_end_and_resume(tmp_path):
    out = tmp_path / "exp"
    outputs = run_and_report(CONFIG, out, quick=True)
    with outputs.metrics_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * 2  # settings x quick clip lengths
    assert {int(r["clip_length"]) for r in rows} == {6, 10}
    for length in (6, 10):
        by = {r["setting"]: r for r in rows if int(r["clip_length"]) == length}
        # reseed48 never reaches its first window edge in a quick clip, so only jitter must be worse
        for key in ("drift_delta_e", "warping_error", "flicker"):
            assert float(by["flat"][key]) < float(by["jitter"][key]), key
            assert float(by["reference"][key]) < float(by["jitter"][key]), key
        # fidelity columns: every run is scored against the reference run of its scene and length
        assert by["reference"]["psnr"] == "nan"
        for setting in ("flat", "jitter"):
            assert 5.0 < float(by[setting]["psnr"]) < 60.0 and 0.0 < float(by[setting]["ssim"]) <= 1.0
    assert all(plot.is_file() and plot.stat().st_size > 5000 for plot in outputs.plots)
    assert "| flat |" in outputs.report.read_text()
    done = sorted(out.glob("runs/*/metrics.json"))
    stamps = [path.stat().st_mtime_ns for path in done]
    assert main(["experiment", str(CONFIG), "--quick", "--out", str(out), "--no-progress"]) == 0
    assert [path.stat().st_mtime_ns for path in done] == stamps  # nothing re-run


@pytest.mark.parametrize("name", ["camera_motion", "multi_shot_identity", "occlusion_reappearance"])
def test_every_shipped_sweep_runs_quick(tmp_path, name):
    from worldsim.experiments.config import load_experiment_config

    path = CONFIG.parent / f"{name}.yaml"
    config, _ = load_experiment_config(path, quick=True)
    outputs = run_and_report(path, tmp_path / name, quick=True)
    with outputs.metrics_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    expected = len(config.scenes) * len(config.renderers) * len(config.seeds) * len(config.clip_lengths)
    assert len(rows) == expected
    assert {row["setting"] for row in rows} >= {"reference", "flat", "jitter"}
    for scene in {row["scene"] for row in rows}:
        by = {row["setting"]: row for row in rows if row["scene"] == scene}
        assert float(by["flat"]["surface_delta_e"]) < float(by["jitter"]["surface_delta_e"]), scene
    assert outputs.report.is_file() and all(plot.is_file() for plot in outputs.plots)
