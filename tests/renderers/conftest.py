"""Fixtures shared by the renderer tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def p3d_python() -> str:
    """The pytorch3d venv's python (``WORLDSIM_P3D_PYTHON``, made by tools/ci/setup_pytorch3d_venv.sh).

    Skips where it is not set; in CI (``CI=true``) a missing venv fails.
    """
    path = os.environ.get("WORLDSIM_P3D_PYTHON")
    if not path:
        message = "WORLDSIM_P3D_PYTHON is not set: run tools/ci/setup_pytorch3d_venv.sh and export it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
