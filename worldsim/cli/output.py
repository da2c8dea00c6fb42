"""What the CLI says: results to stdout, problems to stderr (the library itself never prints)."""

from __future__ import annotations

import sys


def echo(message: str) -> None:
    """Write a result line to stdout."""
    sys.stdout.write(f"{message}\n")


def warn(message: str) -> None:
    """Write a problem line to stderr."""
    sys.stderr.write(f"{message}\n")
