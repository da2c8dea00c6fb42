"""CSV, plots and report from real metric rows of small synthetic clips (no scene files needed)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from renderers.base import create
from renderers.guidance import render_guidance
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.experiments.config import ExperimentConfig, RendererSetting
from worldsim.experiments.plots import plot_drift_over_time, plot_entity_heatmaps, plot_metric_vs_length
from worldsim.experiments.report import summary_table, write_report
from worldsim.experiments.runner import tidy_rows, write_csv
from worldsim.metrics.clip_metrics import evaluate_clip
from worldsim.scene.model import MaterialSpec, MeshSpec

SETTINGS = [("flat", {}), ("jitter", {"amplitude": 0.2}), ("reseed", {"window": 3})]
LENGTHS = (6, 10)


def synthetic_guidance(frames: int) -> tuple:
    intrinsics = Intrinsics.from_fov(60.0, 40, 30)
    poses = np.stack(
        [np.stack([translation(0, 0, 0), translation(0.0, -0.5 + 0.1 * t, 0.4)]) for t in range(frames)]
    )
    camera = np.stack([looking_at(np.array([-3.0, 0.0, 1.2]), np.array([0.0, 0.0, 0.3]))] * frames)
    trajectory = make_trajectory(
        [MeshSpec(type="plane", size=[8.0, 8.0]), MeshSpec(type="sphere", radius=0.3)],
        poses,
        camera,
        intrinsics,
        materials=[MaterialSpec(base_color=[0.6, 0.6, 0.6]), MaterialSpec(base_color=[0.1, 0.3, 0.8])],
    )
    return trajectory, list(render_guidance(trajectory))


@pytest.fixture(scope="module")
def rows():
    clip_rows, frame_rows, entity_rows = [], [], []
    for length in LENGTHS:
        trajectory, guidance = synthetic_guidance(length)
        for name, options in SETTINGS:
            rgb = dict(
                create(name, options).render_frames(
                    trajectory, "main", range(length), lambda f, g=guidance: g[f]
                )
            )
            metrics = evaluate_clip(((rgb[g.frame], g) for g in guidance), gap=2)
            identity = {
                "run": f"{name}_{length}",
                "scene": "synthetic",
                "setting": name,
                "renderer": name,
                "seed": 0,
                "clip_length": length,
            }
            clip, frames, entities = tidy_rows(identity, metrics)
            clip_rows.append(clip)
            frame_rows += frames
            entity_rows += entities
    return clip_rows, frame_rows, entity_rows


def test_csv_plots_and_report(rows, tmp_path):
    clip_rows, frame_rows, entity_rows = rows
    write_csv(tmp_path / "metrics.csv", clip_rows)
    with (tmp_path / "metrics.csv").open() as handle:
        read = list(csv.DictReader(handle))
    assert len(read) == len(SETTINGS) * len(LENGTHS)
    assert float(read[0]["warping_error"]) == pytest.approx(clip_rows[0]["warping_error"], rel=1e-12)
    plots = [
        plot_drift_over_time(frame_rows, tmp_path / "drift.png"),
        plot_metric_vs_length(clip_rows, tmp_path / "length.png"),
        plot_entity_heatmaps(entity_rows, tmp_path / "heatmaps.png"),
    ]
    for plot in plots:
        with Image.open(plot) as image:
            assert image.size[0] >= 400 and image.size[1] >= 200
            assert np.asarray(image.convert("L")).std() > 5.0  # not a blank canvas
    config = ExperimentConfig(
        name="synthetic",
        scenes=["synthetic"],
        renderers=[RendererSetting(renderer=n, options=o) for n, o in SETTINGS],
    )
    report = write_report(tmp_path / "report.md", config, clip_rows, plots, quick=True).read_text()
    assert "# Experiment: synthetic (quick)" in report
    for plot in plots:
        assert f"({plot.name})" in report
    table = summary_table(clip_rows)
    assert len(table.splitlines()) == 2 + len(SETTINGS) * len(LENGTHS)


def test_summary_ranks_flat_first_on_drift(rows):
    clip_rows = rows[0]
    for length in LENGTHS:
        by_setting = {r["setting"]: r for r in clip_rows if r["clip_length"] == length}
        assert by_setting["flat"]["drift_delta_e"] < by_setting["jitter"]["drift_delta_e"]
        assert by_setting["flat"]["drift_delta_e"] < by_setting["reseed"]["drift_delta_e"]
        assert by_setting["flat"]["warping_error"] < by_setting["jitter"]["warping_error"]
