"""Evaluate a ``MaterialSpec`` at object-frame points: the one function every consumer calls.

The guidance albedo buffer and the appearance renderers' textures both come from
``evaluate_material``, so what the guidance shows is what a renderer draws (docs/ARCHITECTURE.md,
"Conventions"). Points are in the entity's object frame, so a texture sticks to the surface as the
entity moves; the seed comes from ``material_seed`` so an entity looks the same in every frame,
shot and run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from worldsim.errors import SceneError
from worldsim.randomness import derive_seed
from worldsim.scene import textures
from worldsim.scene.model import TEXTURE_TYPES, MaterialSpec, TextureSpec

MATERIAL_SEED_PURPOSE = "material"
"""``derive_seed`` purpose of an entity's material seed."""


@dataclass(frozen=True)
class MaterialSample:
    """Material values at ``N`` points.

    albedo: (N, 3) float32 linear RGB in [0, 1].
    roughness: (N,) float32 in [0, 1].
    metallic: (N,) float32 in [0, 1].
    """

    albedo: np.ndarray
    roughness: np.ndarray
    metallic: np.ndarray


def material_seed(scene_seed: int, entity_id: int, material: MaterialSpec) -> int:
    """The seed of an entity's procedural texture.

    ``material.texture.seed`` when set (so several entities can share one exact look), otherwise
    ``derive_seed(scene_seed, "material", entity_id)``.
    """
    texture = material.texture
    if texture is not None and texture.seed is not None:
        return int(texture.seed)
    return derive_seed(scene_seed, MATERIAL_SEED_PURPOSE, entity_id)


def is_uniform(material: MaterialSpec) -> bool:
    """True when ``evaluate_material`` gives the same values at every point (no varying texture),
    so a consumer may evaluate it once per entity instead of once per point."""
    return material.texture is None or material.texture.type == "solid"


def evaluate_material(
    material: MaterialSpec, points: np.ndarray, *, seed: int, key_path: str = "material"
) -> MaterialSample:
    """Albedo, roughness and metallic of ``material`` at ``points`` ``(N, 3)`` (object frame, metres).

    Vectorised and elementwise: the same (material, points, seed) gives bit-identical output, and
    any subset of points gives the subset of the output. ``seed`` is usually
    ``material_seed(scene_seed, entity_id, material)``; a texture's own ``seed`` is not consulted
    here. Raises ``SceneError`` (with ``key_path``) for invalid material values.
    """
    if not isinstance(material, MaterialSpec):
        raise TypeError(
            f"expected a MaterialSpec, got {type(material).__name__} "
            "(resolve a named material with Scene.resolve_material first)"
        )
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must have shape (N, 3), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite")
    count = len(points)
    base = _color(material.base_color, f"{key_path}.base_color")
    roughness = _unit_scalar(material.roughness, f"{key_path}.roughness")
    metallic = _unit_scalar(material.metallic, f"{key_path}.metallic")
    albedo = _albedo(material.texture, base, points, int(seed), f"{key_path}.texture")
    return MaterialSample(
        albedo=np.ascontiguousarray(np.clip(albedo, 0.0, 1.0), dtype=np.float32),
        roughness=np.full(count, roughness, dtype=np.float32),
        metallic=np.full(count, metallic, dtype=np.float32),
    )


def _albedo(
    texture: TextureSpec | None, base: np.ndarray, points: np.ndarray, seed: int, key_path: str
) -> np.ndarray:
    """(N, 3) float32 albedo before clipping."""
    count = len(points)
    if texture is None:
        return np.broadcast_to(base, (count, 3))
    if texture.type not in TEXTURE_TYPES:
        raise SceneError(
            f"unknown texture type {texture.type!r} (one of {', '.join(TEXTURE_TYPES)})",
            key_path=f"{key_path}.type",
        )
    color_a = base if texture.color_a is None else _color(texture.color_a, f"{key_path}.color_a")
    if texture.type == "solid":
        return np.broadcast_to(color_a, (count, 3))
    color_b = _color(texture.color_b, f"{key_path}.color_b")
    scale = _positive(texture.scale, f"{key_path}.scale")
    if texture.type == "checker":
        weight = textures.checker(points, scale)
    elif texture.type == "stripes":
        weight = textures.stripes(points, _unit_axis(texture.axis, f"{key_path}.axis"), scale)
    else:
        octaves = _octaves(texture.octaves, f"{key_path}.octaves")
        if texture.type == "noise":
            weight = textures.noise(points, scale, octaves, seed)
        else:
            weight = textures.marble(
                points, _unit_axis(texture.axis, f"{key_path}.axis"), scale, octaves, seed
            )
    # (1 - t) a + t b (not a + t (b - a)): exactly a at t = 0 and exactly b at t = 1.
    weight = weight[:, None]
    return (np.float32(1.0) - weight) * color_a + weight * color_b


def _color(value: object, key_path: str) -> np.ndarray:
    try:
        color = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise SceneError(f"a colour must be 3 numbers, got {value!r}", key_path=key_path) from None
    if color.shape != (3,) or not np.all(np.isfinite(color)):
        raise SceneError(f"a colour must be 3 finite numbers, got {value!r}", key_path=key_path)
    if np.any(color < 0.0) or np.any(color > 1.0):
        raise SceneError(
            f"colour components must lie in [0, 1] (linear RGB), got {value!r}", key_path=key_path
        )
    return color.astype(np.float32)


def _unit_scalar(value: object, key_path: str) -> float:
    number = _number(value, key_path)
    if not 0.0 <= number <= 1.0:
        raise SceneError(f"must lie in [0, 1], got {value!r}", key_path=key_path)
    return number


def _positive(value: object, key_path: str) -> float:
    number = _number(value, key_path)
    if number <= 0.0:
        raise SceneError(f"must be positive, got {value!r}", key_path=key_path)
    return number


def _octaves(value: object, key_path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= value <= 16:
        raise SceneError(f"octaves must be an integer from 1 to 16, got {value!r}", key_path=key_path)
    return int(value)


def _unit_axis(value: object, key_path: str) -> np.ndarray:
    try:
        axis = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise SceneError(f"an axis must be 3 numbers, got {value!r}", key_path=key_path) from None
    norm = float(np.linalg.norm(axis)) if axis.shape == (3,) else float("nan")
    if not math.isfinite(norm) or norm == 0.0:
        raise SceneError(f"an axis must be 3 finite numbers, not all zero; got {value!r}", key_path=key_path)
    return axis / norm


def _number(value: object, key_path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise SceneError(f"expected a number, got {value!r}", key_path=key_path)
    number = float(value)
    if not math.isfinite(number):
        raise SceneError(f"must be finite, got {value!r}", key_path=key_path)
    return number
