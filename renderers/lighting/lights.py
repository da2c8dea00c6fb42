"""Direct lights (sun, point, area) as samples seen from surface points, in the units the reference
renderer gives them (``renderers.reference.lights``), plus the lights a scene is lit by.

Each light becomes S samples per point: a segment from the point to the sample (its shadow ray)
and the RGB irradiance it delivers to a surface facing it (W/m^2, before the receiver's cosine):
- sun: shadow rays along ``SUN_SHADOW_RAYS`` of the reference renderer's disc directions
  (``sun_directions``), shaded along the disc's axis with the full irradiance ``E``;
- point: one sample, ``I / r^2``;
- area: 2 x 2 strata of the rectangle, each one shadow ray to its centre and the irradiance of
  2 x 2 sub-points (``L cos_light dA / r^2``), one-sided like Mitsuba's rectangle emitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldsim.errors import RenderError
from worldsim.scene.model import LightSpec
from worldsim.state import Trajectory

DIRECT_LIGHT_TYPES = ("sun", "point", "area")
SUN_RAY_LENGTH = 1.0e4
"""Metres: a sun's shadow ray ends this far away (far beyond any scene)."""
SUN_SHADOW_RAYS = 4
"""Shadow rays per sun with a disc: every other one of the path tracer's disc directions."""
AREA_STRATA = 2
"""Shadow rays per area light: AREA_STRATA^2 (one per stratum)."""
AREA_SUBPOINTS = 2
"""Irradiance points per stratum: AREA_SUBPOINTS^2."""


def scene_lights(trajectory: Trajectory) -> list[LightSpec]:
    """The lights the reference renderer uses for ``trajectory``: its own, or the default sun and
    sky when it has none and no entity emits (``renderers.reference.scene_builder``)."""
    if trajectory.lights or any(info.material.emission_strength > 0 for info in trajectory.entities):
        return list(trajectory.lights)
    from renderers.reference.scene_builder import DEFAULT_LIGHTS

    return list(DEFAULT_LIGHTS)


def shadow_channel_names(trajectory: Trajectory) -> list[str]:
    """Names of the ``shadow`` map's channels: each direct light's name (or ``lights[i]``)."""
    return [
        light.name or f"lights[{index}]"
        for index, light in enumerate(scene_lights(trajectory))
        if light.type in DIRECT_LIGHT_TYPES
    ]


def light_rgb(light: LightSpec, index: int) -> np.ndarray:
    """(3,) float64 ``color x intensity``; RenderError naming the light when invalid."""
    color = np.asarray(light.color, dtype=np.float64) * float(light.intensity)
    if color.shape != (3,) or not np.all(np.isfinite(color)) or np.any(color < 0):
        raise RenderError(f"lights[{index}]: color * intensity must be 3 finite non-negative values")
    return color


@dataclass
class LightSamples:
    """One light seen from N points: S shadow-ray samples (1, or 4 to interleave over 2 x 2 pixels)
    and K shading directions (K = 1 for a sun: its disc's axis), all sharing one visible fraction.

    segments: (S, N, 3) float64 world vectors from each point to the sample (shadow-ray segments).
    to_light: (K, N, 3) float64 unit directions towards the light (broadcast views for a sun).
    irradiance: (K, N, 3) float64 RGB W/m^2 on a surface facing ``to_light``, unoccluded.
    """

    segments: np.ndarray
    to_light: np.ndarray
    irradiance: np.ndarray


def light_samples(light: LightSpec, index: int, points: np.ndarray) -> LightSamples:
    """Samples of direct ``light`` (``lights[index]``) seen from world ``points`` (N, 3)."""
    rgb = light_rgb(light, index)
    count = len(points)
    if light.type == "sun":
        from renderers.reference.lights import sun_directions

        directions = np.asarray(sun_directions(light.direction, light.angle_deg))
        if len(directions) > SUN_SHADOW_RAYS:
            directions = directions[:: len(directions) // SUN_SHADOW_RAYS][:SUN_SHADOW_RAYS]
        axis = -np.asarray(light.direction, dtype=np.float64)
        axis /= np.linalg.norm(axis)
        segments = (-directions * SUN_RAY_LENGTH).astype(points.dtype)
        segments = np.broadcast_to(segments[:, None, :], (len(directions), count, 3))
        return LightSamples(
            segments,
            np.broadcast_to(axis.astype(points.dtype), (1, count, 3)),
            np.broadcast_to(rgb.astype(points.dtype), (1, count, 3)),
        )
    if light.type == "point":
        segments = np.asarray(light.position, dtype=points.dtype)[None, None, :] - points[None]
        distance2 = np.maximum(np.einsum("snk,snk->sn", segments, segments), 1e-12)
        to_light = segments / np.sqrt(distance2)[..., None]
        return LightSamples(
            segments, to_light, rgb.astype(points.dtype)[None, None, :] / distance2[..., None]
        )
    if light.type == "area":
        return _area_samples(light, index, points, rgb)
    raise RenderError(f"lights[{index}].type: {light.type!r} is not a direct light")


def area_frame(light: LightSpec, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centre, unit side axes (x, y) and unit emitting normal of an area light, as Mitsuba's
    ``look_at`` places its rectangle (x = cross(up, forward), y = cross(forward, x), +z forward)."""
    position = np.asarray(light.position, dtype=np.float64)
    forward = np.asarray(light.look_at, dtype=np.float64) - position
    if np.linalg.norm(forward) < 1e-9:
        raise RenderError(f"lights[{index}].look_at: the area light looks at its own position")
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    x_axis = np.cross(up, forward)
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.cross(forward, x_axis)
    return position, x_axis, y_axis, forward


def _area_samples(light: LightSpec, index: int, points: np.ndarray, rgb: np.ndarray) -> LightSamples:
    centre, x_axis, y_axis, normal = area_frame(light, index)
    width, height = (float(s) for s in light.size)
    strata = AREA_STRATA
    sub = AREA_SUBPOINTS
    fine = strata * sub
    cell_area = width * height / (fine * fine)
    segments, irradiance = [], []
    for sy in range(strata):
        for sx in range(strata):
            a = ((sx + 0.5) / strata - 0.5) * width
            b = ((sy + 0.5) / strata - 0.5) * height
            segments.append(centre + a * x_axis + b * y_axis - points)
            total = np.zeros((len(points), 3))
            for py in range(sub):
                for px in range(sub):
                    fa = ((sx * sub + px + 0.5) / fine - 0.5) * width
                    fb = ((sy * sub + py + 0.5) / fine - 0.5) * height
                    offset = centre + fa * x_axis + fb * y_axis - points
                    distance2 = np.maximum(np.einsum("nk,nk->n", offset, offset), 1e-12)
                    cos_light = np.maximum(-(offset @ normal) / np.sqrt(distance2), 0.0)
                    total += (cos_light * cell_area / distance2)[:, None] * rgb
            irradiance.append(total)
    segments = np.stack(segments)
    to_light = segments / np.maximum(np.linalg.norm(segments, axis=2, keepdims=True), 1e-12)
    return LightSamples(segments, to_light, np.stack(irradiance))
