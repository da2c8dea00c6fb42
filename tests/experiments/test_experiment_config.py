"""Experiment configs: every shipped sweep loads (full and quick); bad input names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from worldsim.experiments.config import ExperimentConfigError, load_experiment_config
from worldsim.experiments.runner import plan_runs

CONFIGS = sorted((Path(__file__).parents[2] / "configs" / "experiments").glob("*.yaml"))


def test_all_four_sweeps_are_shipped():
    assert {path.stem for path in CONFIGS} >= {
        "long_clip_drift",
        "occlusion_reappearance",
        "camera_motion",
        "multi_shot_identity",
    }


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads_full_and_quick(path):
    full, base = load_experiment_config(path)
    quick, _ = load_experiment_config(path, quick=True)
    assert quick.clip_lengths == full.quick.clip_lengths and quick.resolution == full.quick.resolution
    runs = plan_runs(full, base)
    assert len(runs) == len(full.scenes) * len(full.renderers) * len(full.seeds) * len(full.clip_lengths)
    assert len({run.run_id for run in runs}) == len(runs)
    assert all(run.scene_file.is_file() for run in runs)


def test_long_clip_sweep_spans_60_to_1800_frames():
    config, _ = load_experiment_config(next(p for p in CONFIGS if p.stem == "long_clip_drift"))
    assert min(config.clip_lengths) == 60 and max(config.clip_lengths) == 1800


def test_bad_configs_name_file_key_and_reason(tmp_path):
    bad_type = tmp_path / "bad_type.yaml"
    bad_type.write_text("name: x\nscenes: [a.yaml]\ngap: lots\n")
    with pytest.raises(ExperimentConfigError, match=r"bad_type.yaml: gap"):
        load_experiment_config(bad_type)
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: x\nscenes: [nowhere.yaml]\nrenderers: [{renderer: flat}, {renderer: flat}]\n")
    with pytest.raises(ExperimentConfigError) as error:
        load_experiment_config(missing)
    assert "scenes[0]: scene file 'nowhere.yaml' not found" in str(error.value)
    assert "renderers: labels must be unique" in str(error.value)
    with pytest.raises(ExperimentConfigError, match="no such experiment config file"):
        load_experiment_config(tmp_path / "absent.yaml")
