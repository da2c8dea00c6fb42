"""Resource limits a scene file and a scene must stay within (``configs/limits.yaml``).

One place for them: the YAML loader (file size, string length, nesting depth, alias expansion)
and scene validation (resolution, frames, entities) both read ``load_limits()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

LIMITS_FILE = Path(__file__).resolve().parents[2] / "configs" / "limits.yaml"
LIMITS_FILE_NAME = "configs/limits.yaml"
"""How messages name the file a user edits to raise a limit."""


@dataclass(frozen=True)
class Limits:
    """Resource limits; every field can be raised in ``configs/limits.yaml``."""

    max_width: int = 4096
    """Pixels."""
    max_height: int = 4096
    """Pixels."""
    max_frames: int = 100000
    """Frames per clip."""
    max_entities: int = 10000
    """Entities of a scene (includes merged in); ids are uint16 in the instance maps in any case."""
    max_file_bytes: int = 5_000_000
    """Size of one scene file (and of each included file) in bytes."""
    max_string_length: int = 65536
    """Characters of any one string in a scene (keys, names, prompt, ...)."""
    max_nesting_depth: int = 64
    """Nested mappings and lists in a scene file."""
    max_alias_nodes: int = 10000
    """YAML nodes that aliases (``*name``) and interpolations may add by repeating earlier ones."""


@cache
def load_limits(path: str | None = None) -> Limits:
    """Limits from ``configs/limits.yaml`` (omegaconf); defaults where the file or a key is absent."""
    file = Path(path) if path is not None else LIMITS_FILE
    if not file.is_file():
        return Limits()
    from omegaconf import OmegaConf

    config = OmegaConf.merge(OmegaConf.structured(Limits), OmegaConf.load(file))
    return Limits(**OmegaConf.to_container(config))  # type: ignore[arg-type]


def over_limit(what: str, value: int, limit: int, key: str, unit: str = "") -> str:
    """The reason text of a limit breach, naming the key to raise in ``configs/limits.yaml``."""
    return f"{what} {value}{unit} is over the configured limit of {limit}{unit} ({key} in {LIMITS_FILE_NAME})"
