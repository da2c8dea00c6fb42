"""Resource limits a scene file and a scene must stay within (``configs/limits.yaml``).

One place for them: the YAML loader (file size, string length, nesting depth, alias expansion)
and scene validation (resolution, frames, entities) both read ``load_limits()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from worldsim.config_io import config_path

LIMITS_FILE = config_path("limits.yaml")
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
    max_physics_steps: int = 10_000_000
    """Physics steps of one clip (its duration over ``world.physics_timestep``)."""
    max_primitive_triangles: int = 2_000_000
    """Triangles of one primitive mesh (``subdivisions`` of a sphere, torus, plane, ...)."""
    max_length_m: float = 1.0e6
    """Largest coordinate, size or distance (metres; also any direction vector or scale factor)."""
    min_size_m: float = 1.0e-6
    """Smallest mesh dimension (metres) and mesh scale factor: below it physics sees no volume."""
    max_speed_m_s: float = 1.0e4
    """Largest linear speed (initial velocities, path speed)."""
    max_angular_speed_deg_s: float = 1.0e6
    """Largest initial angular velocity (degrees per second)."""
    max_acceleration_m_s2: float = 1.0e4
    """Largest gravity (about 1000 g)."""
    min_mass_kg: float = 1.0e-6
    max_mass_kg: float = 1.0e9
    max_friction: float = 1.0e3
    min_duration_s: float = 1.0e-6
    """Shortest period or duration of a motion or camera move."""
    max_time_s: float = 1.0e9
    """Largest time (keys, spawn, shots) or duration."""
    max_magnitude: float = 1.0e12
    """Largest magnitude of any other number in a scene (overflow insurance)."""
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
