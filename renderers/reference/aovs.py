"""Mitsuba's own geometry buffers (AOVs) of a frame, to cross-check against our guidance maps.

Two independent ray tracers (Mitsuba's and the guidance backend's Embree scenes) looking at the
same world state must agree: ray distance where both hit, and the entity seen at each pixel away from edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from renderers.reference.scene_builder import build_clip_scene
from renderers.reference.variant import activate
from worldsim.state import Trajectory

CENTRE_SAMPLER = {"type": "stratified", "sample_count": 1, "jitter": False}
"""One ray through each pixel centre, as the guidance casts it."""


@dataclass
class ReferenceAovs:
    """ray_distance: (H, W) float32 metres, +inf on background; entity: (H, W) int64 entity id at
    the pixel centre, 0 on background; albedo: (H, W, 3) float32 linear base colour Mitsuba's BSDF
    sees at the hit (0 on background)."""

    ray_distance: np.ndarray
    entity: np.ndarray
    albedo: np.ndarray


def render_aovs(
    trajectory: Trajectory, camera: str, frames: list[int], *, variant: str = "auto", near_clip: float = 1e-4
) -> dict[int, ReferenceAovs]:
    """Mitsuba's ray distance, entity ids and albedo of ``camera`` at each of ``frames``."""
    mi, _ = activate(variant)
    integrator = {"type": "aov", "aovs": "distance:depth,shape:shape_index,albedo:albedo"}
    clip = build_clip_scene(
        mi,
        trajectory,
        camera,
        integrator,
        reconstruction_filter="box",
        near_clip=near_clip,
        sampler=CENTRE_SAMPLER,
        thin_lens=False,
    )
    result = {}
    for frame in frames:
        clip.set_frame(frame)
        image = np.asarray(mi.render(clip.scene, spp=1, seed=frame), dtype=np.float64)
        distance, shape = image[..., 0], image[..., 1]
        # The depth AOV measures from the near-clip plane; add the ray's length up to it.
        track = trajectory.cameras[camera]
        u, v = np.meshgrid(np.arange(track.width) + 0.5, np.arange(track.height) + 0.5)
        x, y = (u - track.cx[frame]) / track.fx[frame], (v - track.cy[frame]) / track.fy[frame]
        distance = distance + near_clip * np.sqrt(x * x + y * y + 1.0)
        hit = image[..., 0] > 0.0
        # Mitsuba's shape_index AOV counts shapes from 1 (0: no shape).
        index = np.clip(np.round(shape).astype(np.int64) - 1, 0, len(clip.shape_entity_ids) - 1)
        entity = np.where(hit, clip.shape_entity_ids[index], 0)
        result[frame] = ReferenceAovs(
            ray_distance=np.where(hit, distance, np.inf).astype(np.float32),
            entity=entity.astype(np.int64),
            albedo=np.where(hit[..., None], image[..., 2:5], 0.0).astype(np.float32),
        )
    return result
