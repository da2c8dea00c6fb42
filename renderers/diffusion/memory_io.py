"""The diffusion renderer's persistent identity on disk: the appearance memory (JSON) and the
surface cache (``.npz``), so another render (another camera, a later shot, an edited scene)
starts from what a clip remembered (``worldsim render --appearance-from CLIP``).

``appearance_memory.json``: ``{"format": 1, "min_pixels": int, "entities": {"<id>": {"colour":
[r, g, b] sRGB-encoded in [0, 1], "first_frame": int}}}``. ``surface_cache.npz``: per entity id
``e``: ``e/points`` (N, 3) float64 object-frame metres, ``e/colours`` (N, 3) float32,
``e/footprints`` (N,) float64 metres, ``e/neighbours`` (N,) int64, plus ``tolerance`` and
``max_magnification``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from renderers.diffusion.memory import AppearanceMemory
from renderers.diffusion.surface_cache import SurfaceCache, _EntitySamples
from worldsim.errors import RenderError

MEMORY_FORMAT = 1


def memory_to_json(memory: AppearanceMemory) -> dict[str, Any]:
    """The memory as JSON-able data (entity ids as strings, in id order)."""
    return {
        "format": MEMORY_FORMAT,
        "min_pixels": memory.min_pixels,
        "entities": {
            str(entity): {
                "colour": [float(value) for value in memory.colours[entity]],
                "first_frame": int(memory.first_frame.get(entity, 0)),
            }
            for entity in sorted(memory.colours)
        },
    }


def memory_from_json(data: Any, source: str = "appearance memory") -> AppearanceMemory:
    """An ``AppearanceMemory`` from ``memory_to_json`` data; RenderError naming ``source`` and the
    key when it is malformed."""
    if not isinstance(data, dict) or data.get("format") != MEMORY_FORMAT:
        raise RenderError(f"{source}: not an appearance memory (format {MEMORY_FORMAT} expected)")
    entities = data.get("entities")
    if not isinstance(entities, dict):
        raise RenderError(f"{source}: entities: expected a mapping of entity id -> entry")
    memory = AppearanceMemory(min_pixels=int(data.get("min_pixels", AppearanceMemory().min_pixels)))
    for key, entry in entities.items():
        colour = entry.get("colour") if isinstance(entry, dict) else None
        if not str(key).isdigit() or not isinstance(colour, list) or len(colour) != 3:
            raise RenderError(f"{source}: entities.{key}: expected an entity id with a colour [r, g, b]")
        values = np.asarray(colour, dtype=np.float32)
        if not np.all(np.isfinite(values)) or values.min() < 0.0 or values.max() > 1.0:
            raise RenderError(f"{source}: entities.{key}.colour: values must be in [0, 1], got {colour}")
        memory.colours[int(key)] = values
        memory.first_frame[int(key)] = int(entry.get("first_frame", 0))
    return memory


def merged(newer: AppearanceMemory, older: AppearanceMemory | None) -> AppearanceMemory:
    """``older``'s entries under ``newer``'s (an entity ``newer`` remembers takes its colour)."""
    result = AppearanceMemory(min_pixels=newer.min_pixels)
    for source in (older, newer):
        if source is not None:
            result.colours.update(source.colours)
            result.first_frame.update(source.first_frame)
    return result


def save_memory(memory: AppearanceMemory, path: str | Path) -> Path:
    """Write ``memory`` as JSON, atomically."""
    from worldsim.clip.atomic import write_json

    return write_json(path, memory_to_json(memory))


def load_memory(path: str | Path) -> AppearanceMemory:
    """Read a file written by ``save_memory``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RenderError(f"{path}: no appearance memory there") from None
    except (OSError, ValueError) as error:
        raise RenderError(f"{path}: unreadable appearance memory ({error})") from None
    return memory_from_json(data, str(path))


def save_surface_cache(cache: SurfaceCache, path: str | Path) -> Path:
    """Write the cache's samples as ``.npz``, atomically."""
    from worldsim.clip.atomic import write_bytes

    arrays: dict[str, np.ndarray] = {
        "tolerance": np.float64(cache.tolerance),
        "max_magnification": np.float64(cache.max_magnification),
    }
    for entity, samples in sorted(cache._entities.items()):
        for name in ("points", "colours", "footprints", "neighbours"):
            arrays[f"{entity}/{name}"] = getattr(samples, name)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return write_bytes(path, buffer.getvalue())


def load_surface_cache(path: str | Path) -> SurfaceCache:
    """Read a file written by ``save_surface_cache``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            cache = SurfaceCache(float(data["tolerance"]), float(data["max_magnification"]))
            entities = sorted({int(key.split("/")[0]) for key in data.files if "/" in key})
            for entity in entities:
                cache._entities[entity] = _EntitySamples(
                    points=data[f"{entity}/points"],
                    colours=data[f"{entity}/colours"],
                    footprints=data[f"{entity}/footprints"],
                    neighbours=data[f"{entity}/neighbours"],
                )
    except FileNotFoundError:
        raise RenderError(f"{path}: no surface cache there") from None
    except (OSError, ValueError, KeyError) as error:
        raise RenderError(f"{path}: unreadable surface cache ({error})") from None
    return cache
