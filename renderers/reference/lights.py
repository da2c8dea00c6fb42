"""``LightSpec`` -> Mitsuba emitter and shape dictionaries (world frame, Z up, linear RGB).

An environment ``hdri`` that is a relative path resolves against the current folder here; scene
rollouts make it absolute (relative to the scene file) before it reaches a renderer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.reference.sky import procedural_sky, world_from_envmap
from worldsim.camera.conventions import EQUIRECT_TO_MITSUBA_ENVMAP, environment_rotation
from worldsim.errors import RenderError
from worldsim.scene.hdri import load_hdri, resolve_hdri
from worldsim.scene.model import LightSpec

SUN_DISC_SAMPLES = 8
"""A sun with an angular diameter becomes this many directional lights spread over its disc
(soft shadows); each carries 1/N of the irradiance."""
SKY_RESOLUTION = (128, 256)
"""(rows, columns) of the procedural sky's lat-long bitmap."""


def light_dicts(lights: list[LightSpec]) -> dict[str, dict[str, Any]]:
    """Mitsuba plugin dictionaries for ``lights``, keyed by unique names."""
    result: dict[str, dict[str, Any]] = {}
    for index, light in enumerate(lights):
        key = f"light_{index}"
        radiance = _rgb(light, index)
        if light.type == "sun":
            directions = sun_directions(light.direction, light.angle_deg)
            for sample, direction in enumerate(directions):
                result[f"{key}_{sample}"] = {
                    "type": "directional",
                    "direction": direction.tolist(),
                    "irradiance": _rgb_value(radiance / len(directions)),
                }
        elif light.type == "point":
            result[key] = {
                "type": "point",
                "position": [float(v) for v in light.position],
                "intensity": _rgb_value(radiance),
            }
        elif light.type == "area":
            result[key] = {
                "type": "rectangle",
                "to_world": area_to_world(light, index),
                "emitter": {"type": "area", "radiance": _rgb_value(radiance)},
            }
        elif light.type == "environment":
            result[key] = environment_dict(light, radiance, index)
        else:
            raise RenderError(f"lights[{index}].type: unknown light type {light.type!r}")
    return result


def sun_directions(direction: list[float], angle_deg: float) -> list[np.ndarray]:
    """Unit directions of travel spread evenly (Vogel spiral) over a disc of ``angle_deg`` diameter."""
    axis = np.asarray(direction, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    if angle_deg <= 0.0:
        return [axis]
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    radius = np.tan(np.radians(angle_deg) / 2.0)
    golden = np.pi * (3.0 - np.sqrt(5.0))
    directions = []
    for i in range(SUN_DISC_SAMPLES):
        r = radius * np.sqrt((i + 0.5) / SUN_DISC_SAMPLES)
        offset = r * (np.cos(i * golden) * u + np.sin(i * golden) * v)
        sample = axis + offset
        directions.append(sample / np.linalg.norm(sample))
    return directions


def area_to_world(light: LightSpec, index: int) -> Any:
    """Mitsuba's rectangle ([-1, 1]^2 in z = 0, emitting along +z) placed at ``position``, sized
    ``size`` and facing ``look_at``."""
    import mitsuba as mi

    position = np.asarray(light.position, dtype=np.float64)
    target = np.asarray(light.look_at, dtype=np.float64)
    forward = target - position
    if np.linalg.norm(forward) < 1e-9:
        raise RenderError(f"lights[{index}].look_at: the area light looks at its own position")
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    size = np.asarray(light.size, dtype=np.float64)
    look = mi.ScalarTransform4f().look_at(origin=position.tolist(), target=target.tolist(), up=up.tolist())
    return look @ mi.ScalarTransform4f().scale([size[0] / 2.0, size[1] / 2.0, 1.0])


def environment_dict(light: LightSpec, radiance: np.ndarray, index: int = 0) -> dict[str, Any]:
    """An importance-sampled ``envmap`` of the light's HDRI (turned ``rotation_deg`` about world Z),
    a uniform ``constant`` emitter, or an ``envmap`` holding the procedural sky bitmap."""
    import mitsuba as mi

    if light.hdri:
        return hdri_envmap_dict(light, radiance, index)
    if light.sky == "uniform":
        return {"type": "constant", "radiance": _rgb_value(radiance)}
    bitmap = procedural_sky(SKY_RESOLUTION, np.asarray(light.direction, dtype=np.float64)) * radiance
    return {
        "type": "envmap",
        "bitmap": mi.Bitmap(bitmap.astype(np.float32)),
        "to_world": mi.ScalarTransform4f(world_from_envmap().tolist()),
    }


def hdri_envmap_dict(light: LightSpec, radiance: np.ndarray, index: int) -> dict[str, Any]:
    """Mitsuba ``envmap`` of a captured map: pixel values x ``color`` x ``intensity`` are radiance.

    Mitsuba samples it in proportion to its luminance (a sun in the map gets most rays), and it is
    what camera rays that miss every entity see. Orientation: ``EQUIRECT_TO_MITSUBA_ENVMAP``.
    """
    import mitsuba as mi

    key_path = f"lights[{index}].hdri"
    pixels = load_hdri(resolve_hdri(light.hdri, key_path=key_path), key_path=key_path)
    bitmap = (pixels * radiance.astype(np.float32)).astype(np.float32)
    to_world = environment_rotation(float(light.rotation_deg)) @ EQUIRECT_TO_MITSUBA_ENVMAP
    return {
        "type": "envmap",
        "bitmap": mi.Bitmap(np.ascontiguousarray(bitmap)),
        "to_world": mi.ScalarTransform4f(to_world.tolist()),
    }


def _rgb(light: LightSpec, index: int) -> np.ndarray:
    color = np.asarray(light.color, dtype=np.float64) * float(light.intensity)
    if color.shape != (3,) or not np.all(np.isfinite(color)) or np.any(color < 0):
        raise RenderError(f"lights[{index}]: color * intensity must be 3 finite non-negative values")
    return color


def _rgb_value(color: np.ndarray) -> dict[str, Any]:
    return {"type": "rgb", "value": [float(c) for c in color]}
