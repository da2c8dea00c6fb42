"""The guidance frame contract: every guidance map of one frame of one camera, and per-entity visibility.

Owned by ``worldsim`` (beside ``state.py``) so clip I/O and metrics read guidance without
importing ``renderers``; ``renderers.guidance`` computes these frames from a backend's ray hits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EntityVisibility:
    """How much of one entity one camera sees at one frame.

    visible_pixels: pixels where the entity is the nearest surface.
    silhouette_pixels: pixels of the entity's projected silhouette (rendered alone).
    visible_fraction: visible / silhouette pixels (0 when the silhouette is empty).
    bbox: (x0, y0, x1, y1) half-open pixel box of the visible pixels, None if none are visible.
    occluders: ids of entities nearer to the camera inside the silhouette, sorted.
    """

    entity_id: int
    visible_pixels: int
    silhouette_pixels: int
    visible_fraction: float
    bbox: tuple[int, int, int, int] | None
    occluders: list[int]


@dataclass(frozen=True)
class GuidanceFrame:
    """All guidance maps of one frame of one camera. H x W is the camera's image size.

    depth: (H, W) float32 metres along the optical axis, +inf on background.
    ray_distance: (H, W) float32 metres from the camera centre, +inf on background.
    instance: (H, W) uint16 entity ids, 0 = background.
    semantic: (H, W) uint16 class ids, 0 = background.
    normal: (H, W, 3) float32 unit geometric normals in the camera frame (0 on background).
    surface_coords: (H, W, 3) float32 metres, the hit point in the entity's object frame (0 on
      background; pair with ``instance``).
    albedo: (H, W, 3) float32 linear RGB in [0, 1]; roughness, metallic: (H, W) float32 in [0, 1];
      all 0 on background.
    flow_forward / flow_backward: (H, W, 2) float32 pixels (dx, dy) to frame t+1 / t-1, or None
      at the clip's last / first frame; *_valid: (H, W) bool, the surface point is visible there.
    shading_normal: (H, W, 3) float32 unit interpolated vertex normals in the camera frame, tilted
      by the material's bump relief (``worldsim.scene.bump``; 0 on background), or None.
    visibility: per-entity visibility of this frame in entity-column order, or None when not
      computed (an empty list when the backend gives no per-entity silhouettes).
    shadow: (H, W, L) float32 in [0, 1], the visible fraction of each direct light (names in
      ``shadow_lights``, the order of the scene's ``lights``); irradiance: (H, W, 3) float32
      W/m^2 linear RGB; specular: (H, W, 3) float32 W/m^2/sr; each None unless asked for
      (``renderers.guidance.lighting``), 0 on background.
    Across a camera cut (``CameraTrack.cuts``) the flow is zeros and all invalid.
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
    visibility: list[EntityVisibility] | None = None
    shadow: np.ndarray | None = None
    shadow_lights: tuple[str, ...] | None = None
    irradiance: np.ndarray | None = None
    specular: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) image size."""
        return self.depth.shape
