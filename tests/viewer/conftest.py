"""Fixtures of the viewer tests: the clip of ``viewer_scene``."""

from __future__ import annotations

from pathlib import Path

import pytest
from viewer_scene import viewer_scene


@pytest.fixture(scope="session")
def viewer_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from worldsim.render import render

    out = tmp_path_factory.mktemp("viewer") / "clip"
    render(viewer_scene(), renderer="flat", out=out, progress=False)
    return out
