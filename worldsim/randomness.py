"""Seeded randomness: every random draw comes from a generator derived from
(scene seed, purpose, entity id), so a scene renders bit-identically on every run.

Seeds are derived with BLAKE2b over a fixed byte encoding, never Python's ``hash()`` (which is
salted per process for strings), so they are the same across runs, platforms and Python versions.
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np

SEED_BITS = 63
"""Derived seeds lie in ``[0, 2**63)``: non-negative and fit in a signed 64-bit integer."""

_DOMAIN = b"worldsim.derive_seed.v1"


def derive_seed(scene_seed: int, purpose: str, entity_id: int = 0) -> int:
    """A seed in ``[0, 2**63)`` that is a pure function of (scene seed, purpose, entity id).

    Different purposes (``"material"``, ``"physics"``, ``"noise"``, ...) and different entity ids
    give statistically independent seeds; ``entity_id = 0`` stands for "not entity specific".
    """
    scene_seed = _as_int(scene_seed, "scene_seed")
    entity_id = _as_int(entity_id, "entity_id")
    if not isinstance(purpose, str):
        raise TypeError(f"purpose must be a str, got {type(purpose).__name__}")
    # Length-prefixed fields make the encoding injective (no two inputs share a byte string).
    fields = [str(scene_seed).encode("ascii"), purpose.encode("utf-8"), str(entity_id).encode("ascii")]
    message = b"".join(len(field).to_bytes(4, "little") + field for field in fields)
    digest = hashlib.blake2b(message, digest_size=8, person=b"worldsim", key=_DOMAIN).digest()
    return int.from_bytes(digest, "little") >> (64 - SEED_BITS)


def rng_for(scene_seed: int, purpose: str, entity_id: int = 0) -> np.random.Generator:
    """A fresh PCG64 generator seeded with ``derive_seed(scene_seed, purpose, entity_id)``."""
    return np.random.Generator(np.random.PCG64(derive_seed(scene_seed, purpose, entity_id)))


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    return int(value)


SPLITMIX64_GAMMA = np.uint64(0x9E3779B97F4A7C15)
"""splitmix64's increment (the golden-ratio constant)."""


def splitmix64_finalise(values: np.ndarray) -> np.ndarray:
    """splitmix64's output mix, elementwise on uint64 with wrapping arithmetic: a stateless hash
    for keys that must give the same value for the same input on every run and machine."""
    with np.errstate(over="ignore"):
        z = np.asarray(values).astype(np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))
