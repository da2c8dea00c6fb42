"""Exact optical flow from surface correspondences (never estimated from images).

The surface point seen at pixel ``(u, v)`` of frame ``t`` (entity ``e``, object-frame point
``p``) sits at ``object_to_world[s, e] @ p`` at frame ``s`` and is projected by frame ``s``'s
camera to ``(u', v')``. Flow is ``(u', v') - (u + 0.5, v + 0.5)`` (pixel centres at +0.5).
"""

from __future__ import annotations

import numpy as np

from renderers.guidance import kernels
from renderers.guidance.backend import RayHits
from renderers.guidance.geometry import segment_array
from worldsim.state import Trajectory

DEPTH_TOLERANCE = 0.01
"""Relative depth tolerance of the visibility test at the destination pixel."""


def correspondence_flow(
    hits: RayHits,
    target: RayHits,
    target_depth: np.ndarray,
    trajectory: Trajectory,
    *,
    depth_tolerance: float = DEPTH_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Flow from ``hits``' frame to ``target``'s frame: ``(flow (H, W, 2) float32, valid (H, W) bool)``.

    Valid where the pixel saw an entity that still exists at the target frame, its point lands
    in front of the target camera and inside the image, and the target frame sees the same
    entity at the destination pixel (the one containing ``(u', v')``) with a depth within
    ``depth_tolerance`` (relative) of the projected depth. The target depth is taken on the
    tangent plane of that pixel's hit, at ``(u', v')`` exactly, so surfaces seen at grazing
    angles (depth changing fast across a pixel) pass the test. Background pixels get flow 0
    and invalid.
    """
    height, width = hits.column.shape
    if len(hits.hit_pixels) == 0:
        return np.zeros((height, width, 2), dtype=np.float32), np.zeros((height, width), dtype=bool)
    # Moving the object-frame point by its pose at the target frame and projecting it: compose
    # object -> world -> target camera per entity, then apply per point (one compiled pass).
    world_to_cam = np.linalg.inv(target.cam_to_world)
    object_to_cam = world_to_cam @ trajectory.object_to_world[target.frame]
    intrinsics = target.intrinsics
    flow = np.zeros((height * width, 2), dtype=np.float32)
    valid = np.zeros(height * width, dtype=bool)
    kernels.correspondence_flow(
        hits.hit_pixels,
        hits.hit_column,
        hits.hit_object_point,
        segment_array(hits.hit_segments),
        np.ascontiguousarray(object_to_cam),
        np.ascontiguousarray(trajectory.present[target.frame]),
        float(intrinsics.fx),
        float(intrinsics.fy),
        float(intrinsics.cx),
        float(intrinsics.cy),
        int(intrinsics.width),
        int(intrinsics.height),
        target.column.ravel(),
        np.asarray(target_depth, dtype=np.float32).ravel(),
        target.pixel_hit,
        target.rays_camera.reshape(-1, 3),
        target.ray_distance.ravel(),
        target.hit_normal_camera,
        float(depth_tolerance),
        width,
        flow,
        valid,
    )
    return flow.reshape(height, width, 2), valid.reshape(height, width)
