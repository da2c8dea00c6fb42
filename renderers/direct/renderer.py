"""``direct``: albedo x irradiance / pi x (1 - metallic) + Fresnel-weighted specular, tone mapped.

Every term comes from the guidance frame (albedo, roughness, metallic, normal, ``irradiance``,
``specular``: ``renderers.guidance.lighting``), so it is deterministic, full resolution and as
fast as the guidance. Metals: no diffuse term; the specular term is tinted by the base colour
(F0 = lerp(0.04, albedo, metallic), weighted by the split-sum fit against the map's Fresnel-1
value). Emissive entities add their emission; where no entity is hit the environment shows, as
in the path tracer. The bar every learned renderer must beat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from renderers.base import GuidanceSource
from renderers.baselines.flat import check_options
from renderers.lighting.brdf import DIELECTRIC_F0, split_sum_scale_bias
from renderers.lighting.environment import environment_map
from renderers.lighting.lights import scene_lights
from renderers.tonemap import tonemap_uint8
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import pixel_rays
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.state import Trajectory

GUIDANCE_MAPS = ("irradiance", "specular")
"""The lighting maps this renderer reads from its guidance frames."""


class DirectRenderer:
    """Shades each frame from its guidance frame alone."""

    name = "direct"
    needs_guidance = True
    guidance_maps = GUIDANCE_MAPS

    def __init__(self, exposure: float = 0.0) -> None:
        self.exposure = float(exposure)

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame, (H, W, 3) uint8 sRGB) for each requested frame, through the camera's tone
        map and exposure (plus the ``exposure`` option), as the reference renderer does."""
        if guidance is None:
            raise RenderError("renderer 'direct' needs guidance maps; none were given")
        lens = trajectory.cameras[camera].lens
        exposure = lens.exposure_ev + self.exposure
        for frame in frames:
            linear = self.render_linear(trajectory, camera, guidance(frame))
            yield frame, tonemap_uint8(linear, exposure_ev=exposure, curve=lens.tonemap)

    def render_linear(self, trajectory: Trajectory, camera: str, maps: GuidanceFrame) -> np.ndarray:
        """(H, W, 3) float32 linear radiance of one guidance frame (W/m^2/sr)."""
        if maps.irradiance is None or maps.specular is None:
            raise RenderError(
                "renderer 'direct' needs the 'irradiance' and 'specular' guidance maps "
                "(GuidanceRenderer(..., lighting=('irradiance', 'specular')))"
            )
        return shade(maps, trajectory, camera)


def shade(maps: GuidanceFrame, trajectory: Trajectory, camera: str) -> np.ndarray:
    """(H, W, 3) float32 linear radiance: surfaces from the guidance maps, background from the
    scene's environment lights along each pixel's ray."""
    track = trajectory.cameras[camera]
    intrinsics = track.intrinsics(maps.frame)
    rays = _pixel_rays(intrinsics)
    albedo = maps.albedo.astype(np.float64)
    metallic = maps.metallic.astype(np.float64)[..., None]
    cos_view = np.clip(-np.sum(maps.normal * rays, axis=-1), 0.0, 1.0)
    scale, bias = split_sum_scale_bias(maps.roughness, cos_view)
    f0 = DIELECTRIC_F0 * (1.0 - metallic) + albedo * metallic
    # The map holds Fresnel-1 specular (A + B); the material reflects F0 A + B of it.
    fresnel = (f0 * scale[..., None] + bias[..., None]) / np.maximum(scale + bias, 1e-6)[..., None]
    linear = albedo * maps.irradiance / np.pi * (1.0 - metallic) + maps.specular * fresnel
    linear += _emission(maps, trajectory)
    hit = maps.instance > 0
    background = _background(trajectory, rays[~hit] @ track.cam_to_world[maps.frame][:3, :3].T)
    linear[~hit] = background
    return linear.astype(np.float32)


@lru_cache(maxsize=4)
def _pixel_rays(intrinsics: Intrinsics) -> np.ndarray:
    """``pixel_rays``, kept for the few sizes a render shades at (read-only)."""
    rays = pixel_rays(intrinsics)
    rays.flags.writeable = False
    return rays


def _emission(maps: GuidanceFrame, trajectory: Trajectory) -> np.ndarray:
    """(H, W, 3) emitted radiance of emissive entities (``emission x emission_strength``)."""
    table = np.zeros((max([0] + [info.id for info in trajectory.entities]) + 1, 3))
    for info in trajectory.entities:
        if info.material.emission_strength > 0:
            table[info.id] = (
                np.asarray(info.material.emission, dtype=np.float64) * info.material.emission_strength
            )
    return table[maps.instance]


def _background(trajectory: Trajectory, directions: np.ndarray) -> np.ndarray:
    """(N, 3) radiance of the environment lights along world ``directions`` (N, 3)."""
    total = np.zeros((len(directions), 3))
    for index, light in enumerate(scene_lights(trajectory)):
        if light.type == "environment":
            total += environment_map(light, index).lookup(directions)
    return total


def create_direct_renderer(options: dict[str, Any]) -> DirectRenderer:
    """Factory registered as ``direct``; option ``exposure`` (stops, as the reference renderer's)."""
    checked = check_options("direct", options, {"exposure": float})
    return DirectRenderer(exposure=float(checked.get("exposure", 0.0)))
