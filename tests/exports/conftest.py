"""Fixtures of the export tests: small clips (32x32, 4 frames) of a box on a floor, rendered once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from export_scene import box_scene

import worldsim as ws


@pytest.fixture(scope="session")
def rgb_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip with rgb frames (the ``flat`` renderer)."""
    out = tmp_path_factory.mktemp("exports") / "clip"
    ws.render(box_scene(), renderer="flat", out=out, progress=False)
    return out


@pytest.fixture(scope="session")
def guidance_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A guidance-only clip (no rgb)."""
    out = tmp_path_factory.mktemp("exports") / "guidance"
    ws.render(box_scene(2), guidance_only=True, out=out, progress=False)
    return out


@pytest.fixture
def clip_copy(rgb_clip: Path, tmp_path: Path) -> Path:
    """A private copy of ``rgb_clip`` a test may export into."""
    return Path(shutil.copytree(rgb_clip, tmp_path / "clip"))


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory, rgb_clip: Path, guidance_clip: Path) -> Path:
    """A dataset folder (``DIR/clips/<id>/``) of three clips: two with rgb, one guidance-only."""
    root = tmp_path_factory.mktemp("dataset")
    shutil.copytree(rgb_clip, root / "clips" / "exports-1")
    shutil.copytree(guidance_clip, root / "clips" / "exports-2")
    ws.render(box_scene(3), renderer="flat", out=root / "clips" / "exports-3", progress=False)
    return root
