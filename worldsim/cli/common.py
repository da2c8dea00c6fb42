"""What every subcommand module shares: exit codes, the usage error, and reading input files.

Subcommand modules import these from here, never from ``cli.main`` (which imports them: no cycle).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from worldsim.scene.scene import Scene

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad arguments or an unreadable input file (exit code 2)."""


def require_file(path: str) -> Path:
    """``path`` as a Path; UsageError if it is not a readable file."""
    candidate = Path(path)
    if not candidate.exists():
        raise UsageError(f"{path}: file not found")
    if not candidate.is_file():
        raise UsageError(f"{path}: not a file")
    return candidate


def load_valid_scene(path: str, seed: int | None = None) -> Scene:
    """Load and validate the scene file ``path``; ``seed`` replaces its seed before its
    distributions are drawn (``worldsim.scene.distributions``)."""
    from worldsim.render import load_and_validate

    if seed is None:
        return load_and_validate(require_file(path))
    from worldsim.scene.yaml_io import load_scene

    return load_and_validate(load_scene(require_file(path), seed=seed))
