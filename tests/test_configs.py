"""configs/: each YAML file equals the defaults of the dataclass it configures, or holds overrides
only (one source per default), and the files are found through ``config_io.config_path``."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from renderers.adapters.options import AdapterOptions
from renderers.diffusion.model import ModelConfig
from renderers.diffusion.options import DiffusionOptions
from renderers.reference.options import ReferenceOptions
from worldsim.clip.config import RenderConfig
from worldsim.config_io import CONFIG_DIR, config_path
from worldsim.scene.validation import Limits

REPO = Path(__file__).resolve().parents[1]
RESTATED = {
    # file: the dataclass whose defaults it restates in full (kept as commented documentation)
    "render.yaml": RenderConfig,
    "reference.yaml": ReferenceOptions,
    "limits.yaml": Limits,
    "diffusion/render.yaml": DiffusionOptions,
}
OVERRIDES = {
    # file: the dataclass it changes; every key it holds must differ from the default
    "adapters/cogvideox_fun.yaml": AdapterOptions,
    "adapters/wan_vace.yaml": AdapterOptions,
    "diffusion/model.yaml": ModelConfig,
}
NOT_DEFAULTS = ("experiments/",)
"""Experiment definitions: what to run, not defaults of anything."""


def defaults(schema: type) -> dict[str, Any]:
    return {field.name: getattr(schema(), field.name) for field in dataclasses.fields(schema)}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load(config_path(*name.split("/")).read_text())


@pytest.mark.parametrize("name", list(RESTATED))
def test_a_restating_config_equals_its_dataclass_defaults(name):
    assert load(name) == defaults(RESTATED[name])


@pytest.mark.parametrize("name", list(OVERRIDES))
def test_an_override_config_changes_every_key_it_holds(name):
    expected = defaults(OVERRIDES[name])
    data = load(name)
    assert set(data) <= set(expected), set(data) - set(expected)
    assert {key: value for key, value in data.items() if expected[key] == value} == {}


def test_the_training_recipe_equals_the_train_config_defaults(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_renderer", REPO / "tools" / "train_renderer.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "train_renderer", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    assert load("diffusion/train.yaml") == dataclasses.asdict(module.TrainConfig())


def test_every_config_file_is_covered_and_found_where_the_wheel_ships_it():
    assert (REPO / "configs").resolve() == CONFIG_DIR
    assert (REPO / "worldsim" / "configs").resolve() == CONFIG_DIR  # the package-data link
    files = {str(path.relative_to(CONFIG_DIR)) for path in CONFIG_DIR.rglob("*.yaml")}
    covered = set(RESTATED) | set(OVERRIDES) | {"diffusion/train.yaml"}
    assert {name for name in files if not name.startswith(NOT_DEFAULTS)} == covered
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'worldsim = ["configs/*.yaml", "configs/**/*.yaml"]' in pyproject
