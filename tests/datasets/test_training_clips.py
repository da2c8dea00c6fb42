"""Random scenes validate; a tiny dataset builds, resumes and yields training windows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from renderers.diffusion.conditioning import CONDITION_CHANNELS, GBUFFER_MASK
from worldsim.datasets.random_scenes import random_scene
from worldsim.datasets.training_clips import ClipDataset, build_dataset
from worldsim.render import load_and_validate


@pytest.mark.parametrize("seed", range(6))
def test_random_scenes_validate(seed: int) -> None:
    scene = load_and_validate(random_scene(seed, size=(32, 32), num_frames=4))
    assert 3 <= len(scene.entities) <= 7 and scene.resolution == [32, 32]
    assert random_scene(seed).entities[1].mesh == random_scene(seed).entities[1].mesh


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clips")
    build_dataset(root, 1, size=16, frames_per_clip=4, spp=2, seed=3, progress=False)
    return root


def test_build_writes_clip_and_resumes(tiny_dataset: Path) -> None:
    index = json.loads((tiny_dataset / "index.json").read_text())
    assert index["clips"] == ["clip_00000.npz"]
    with np.load(tiny_dataset / "clip_00000.npz") as clip:
        assert clip["rgb"].shape == (4, 16, 16, 3) and clip["rgb"].dtype == np.float16
        assert clip["instance"].dtype == np.uint16 and clip["normal"].shape == (4, 16, 16, 3)
    written = (tiny_dataset / "clip_00000.npz").stat().st_mtime_ns
    start = time.perf_counter()
    build_dataset(tiny_dataset, 1, size=16, frames_per_clip=4, spp=2, seed=3, progress=False)
    assert (tiny_dataset / "clip_00000.npz").stat().st_mtime_ns == written
    assert time.perf_counter() - start < 1.0


def test_windows_and_dropout(tiny_dataset: Path) -> None:
    plain = ClipDataset(tiny_dataset, window=3, augment=False)
    x0, cond = plain[0]
    assert x0.shape == (3, 3, 16, 16) and cond.shape == (CONDITION_CHANNELS, 3, 16, 16)
    assert x0.min() >= -1 and x0.max() <= 1 and cond[GBUFFER_MASK].min() == 1
    structure = ClipDataset(
        tiny_dataset, window=3, p_structure_only=1.0, p_drop_all=0.0, p_context=1.0, p_memory=1.0
    )
    _, cond = structure[0]
    assert cond[4:10].abs().sum() == 0 and cond[22, 0].min() == 1 and cond[22, -1].max() == 0
    dropped = ClipDataset(tiny_dataset, window=3, p_drop_all=1.0)
    assert dropped[0][1].abs().sum() == 0
