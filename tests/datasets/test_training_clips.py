"""Random scenes validate; a tiny dataset builds, resumes and yields training windows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from renderers.diffusion.conditioning import CODE, CONDITION_CHANNELS, DIRECT, GBUFFER_MASK, SPECULAR
from worldsim.datasets.lit_scenes import lit_scene
from worldsim.datasets.random_scenes import random_scene
from worldsim.datasets.training_clips import TRAINING_FIELDS, ClipDataset, build_dataset, mirrored
from worldsim.render import load_and_validate


@pytest.mark.parametrize("seed", range(6))
def test_random_scenes_validate(seed: int) -> None:
    scene = load_and_validate(random_scene(seed, size=(32, 32), num_frames=4))
    assert 3 <= len(scene.entities) <= 7 and scene.resolution == [32, 32]
    assert random_scene(seed).entities[1].mesh == random_scene(seed).entities[1].mesh


@pytest.mark.parametrize("seed", range(4))
def test_lit_scenes_validate_and_are_reproducible(seed: int) -> None:
    scene = load_and_validate(lit_scene(seed, size=(32, 32), num_frames=4))
    assert scene.resolution == [32, 32]
    again = lit_scene(seed, size=(32, 32), num_frames=4)
    assert [light.hdri for light in scene.lights] == [light.hdri for light in again.lights]
    assert scene.cameras[0].exposure_ev == again.cameras[0].exposure_ev


def test_lit_scenes_use_the_captured_environments_and_presets() -> None:
    scenes = [lit_scene(seed, num_frames=2) for seed in range(40)]
    lit = [any(light.hdri for light in scene.lights) for scene in scenes]
    assert 0.5 < np.mean(lit) < 0.9  # HDRI_SHARE 0.7
    assert len({light.hdri for scene in scenes for light in scene.lights if light.hdri}) >= 5


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
    with np.load(tiny_dataset / "clip_00000.npz") as clip:
        assert clip["direct"].shape == (4, 16, 16, 3) and clip["code"].shape == (4, 22)
        assert clip["shadow_key"].dtype == np.uint8 and str(clip["tonemap"]) in ("filmic", "standard")
    plain = ClipDataset(tiny_dataset, window=3, augment=False)
    item = plain[0]
    assert set(item) == set(TRAINING_FIELDS)
    x0, cond = item["x0"], item["cond"]
    assert x0.shape == (3, 3, 16, 16) and cond.shape == (CONDITION_CHANNELS, 3, 16, 16)
    assert x0.min() >= -1 and x0.max() <= 1 and cond[GBUFFER_MASK].min() == 1 and item["gbuffer"] == 1
    assert item["target"].min() >= 0 and item["target"].max() <= 1
    # the code is constant over each frame's pixels
    assert (cond[CODE] - cond[CODE][..., :1, :1]).abs().max() == 0
    structure = ClipDataset(
        tiny_dataset, window=3, p_structure_only=1.0, p_drop_all=0.0, p_context=1.0, p_memory=1.0
    )
    cond = structure[0]["cond"]
    assert cond[4:10].abs().sum() == 0 and cond[22, 0].min() == 1 and cond[22, -1].max() == 0
    foreground = cond[18] > 0
    assert cond[SPECULAR].abs().sum() == 0 and cond[DIRECT][:, foreground].abs().sum() == 0
    dropped = ClipDataset(tiny_dataset, window=3, p_structure_only=1.0, p_drop_all=1.0)
    assert dropped[0]["cond"].abs().sum() == 0


def test_mirrored_item_flips_the_camera_frame_x(tiny_dataset: Path) -> None:
    plain = ClipDataset(tiny_dataset, window=2, augment=False)
    item = {key: value.numpy() for key, value in plain[0].items()}
    flipped = mirrored(item)
    np.testing.assert_array_equal(flipped["target"], item["target"][..., ::-1])
    np.testing.assert_array_equal(flipped["cond"][1], -item["cond"][1][..., ::-1])  # normal x
    np.testing.assert_array_equal(flipped["cond"][2], item["cond"][2][..., ::-1])
    code, mirrored_code = item["cond"][CODE][:, :, 0, 0], flipped["cond"][CODE][:, :, 0, 0]
    np.testing.assert_array_equal(mirrored_code[0:3], code[3:6])  # +x ambient <- -x ambient
    np.testing.assert_array_equal(mirrored_code[18], -code[18])
    np.testing.assert_array_equal(mirrored(flipped)["cond"], item["cond"])
