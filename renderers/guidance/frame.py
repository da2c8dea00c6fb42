"""The frame-batch dataclass every guidance backend returns; maps are derived from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GuidanceFrame:
    """All guidance maps of one frame of one camera. H x W is the camera's image size.

    depth: (H, W) float32 metres along the optical axis, +inf on background.
    ray_distance: (H, W) float32 metres from the camera centre, +inf on background.
    instance: (H, W) uint16 entity ids, 0 = background.
    semantic: (H, W) uint16 class ids, 0 = background.
    normal: (H, W, 3) float32 unit geometric normals in the camera frame (0 on background).
    surface_coords: (H, W, 3) float32 hit point in the entity's object frame (0 on background).
    albedo: (H, W, 3) float32 linear RGB; roughness, metallic: (H, W) float32.
    flow_forward / flow_backward: (H, W, 2) float32 pixels (dx, dy) to frame t+1 / t-1, or None
      at the clip's last / first frame; *_valid: (H, W) bool, the surface point is visible there.
    shading_normal: (H, W, 3) float32 interpolated vertex normals where meshes have them.
    visibility: per-entity visibility of this frame (``renderers.guidance.visibility``), or None.
    shadow: (H, W, L) float32 in [0, 1], the visible fraction of each direct light (names in
      ``shadow_lights``); irradiance: (H, W, 3) float32 W/m^2; specular: (H, W, 3) float32
      W/m^2/sr; each None unless asked for (``renderers.guidance.lighting``), 0 on background.
    """

    frame: int
    camera: str
    depth: np.ndarray
    ray_distance: np.ndarray
    instance: np.ndarray
    semantic: np.ndarray
    normal: np.ndarray
    surface_coords: np.ndarray
    albedo: np.ndarray
    roughness: np.ndarray
    metallic: np.ndarray
    flow_forward: np.ndarray | None = None
    flow_forward_valid: np.ndarray | None = None
    flow_backward: np.ndarray | None = None
    flow_backward_valid: np.ndarray | None = None
    shading_normal: np.ndarray | None = None
    visibility: list | None = None
    shadow: np.ndarray | None = None
    shadow_lights: list[str] | None = None
    irradiance: np.ndarray | None = None
    specular: np.ndarray | None = None
