"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def scenes_dir() -> Path:
    return REPO_ROOT / "scenes"


@pytest.fixture(autouse=True, scope="session")
def _worldsim_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the local test signing identity (content credentials) out of the user's home."""
    import os

    os.environ.setdefault("WORLDSIM_HOME", str(tmp_path_factory.mktemp("worldsim_home")))
