"""Exact optical flow from surface correspondences (never estimated from images).

The surface point seen at pixel ``(u, v)`` of frame ``t`` (entity ``e``, object-frame point
``p``) sits at ``object_to_world[s, e] @ p`` at frame ``s`` and is projected by frame ``s``'s
camera to ``(u', v')``. Flow is ``(u', v') - (u + 0.5, v + 0.5)`` (pixel centres at +0.5).
"""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import RayHits
from renderers.guidance.geometry import per_column_matmul
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
    flow = np.zeros((height, width, 2), dtype=np.float32)
    valid = np.zeros((height, width), dtype=bool)
    if len(hits.hit_pixels) == 0:
        return flow, valid
    rows, cols = np.divmod(hits.hit_pixels, width)
    entity = hits.hit_column
    # Moving the object-frame point by its pose at the target frame and projecting it: compose
    # object -> world -> target camera per entity, then apply per point.
    world_to_cam = np.linalg.inv(target.cam_to_world)
    object_to_cam = world_to_cam @ trajectory.object_to_world[target.frame]
    points = hits.hit_object_point.astype(np.float64)
    cam = per_column_matmul(points, np.swapaxes(object_to_cam[:, :3, :3], -1, -2), entity)
    cam += object_to_cam[entity, :3, 3]
    intrinsics = target.intrinsics
    depth = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = intrinsics.fx * cam[:, 0] / depth + intrinsics.cx
        v = intrinsics.fy * cam[:, 1] / depth + intrinsics.cy
    flow_hits = np.stack([u - (cols + 0.5), v - (rows + 0.5)], axis=-1).astype(np.float32)
    with np.errstate(invalid="ignore"):
        ok = (
            trajectory.present[target.frame, entity]
            & (depth > 0)
            & (u >= 0)
            & (u < intrinsics.width)
            & (v >= 0)
            & (v < intrinsics.height)
        )
    index = np.flatnonzero(ok)
    dest_x = u[index].astype(np.int64)
    dest_y = v[index].astype(np.int64)
    dest_flat = dest_y * intrinsics.width + dest_x
    same_entity = target.column.ravel()[dest_flat] == entity[index]
    index, dest_flat = index[same_entity], dest_flat[same_entity]
    # Most points pass against the pixel's own depth; only the rest need the tangent plane.
    tolerance = depth_tolerance * depth[index]
    same_depth = np.abs(target_depth.ravel()[dest_flat] - depth[index]) <= tolerance
    retry = np.flatnonzero(~same_depth)
    seen_depth = _tangent_plane_depth(target, dest_flat[retry], u[index[retry]], v[index[retry]])
    same_depth[retry] = np.abs(seen_depth - depth[index[retry]]) <= tolerance[retry]
    hit_valid = np.zeros(len(entity), dtype=bool)
    hit_valid[index[same_depth]] = True
    flow.reshape(-1, 2)[hits.hit_pixels] = flow_hits
    valid.reshape(-1)[hits.hit_pixels] = hit_valid
    return flow, valid


def _tangent_plane_depth(target: RayHits, flat: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N,) optical-axis depth at continuous pixels ``(u, v)`` on the tangent plane of the target
    hits at flat pixel indices ``flat`` (all hits); the pixel's own depth where the plane is seen
    nearly edge-on."""
    index = target.hit_index.ravel()[flat]
    ray = target.rays_camera.reshape(-1, 3)[flat]
    distance = target.ray_distance.ravel()[flat].astype(np.float64)
    point = ray * distance[:, None]
    normal = target.hit_normal_world[index].astype(np.float64) @ target.cam_to_world[:3, :3]
    intrinsics = target.intrinsics
    x = (u - intrinsics.cx) / intrinsics.fx
    y = (v - intrinsics.cy) / intrinsics.fy
    denominator = normal[:, 0] * x + normal[:, 1] * y + normal[:, 2]
    numerator = np.einsum("ni,ni->n", normal, point)
    pixel_depth = point[:, 2]
    usable = np.abs(denominator) > 1e-3 * np.sqrt(x * x + y * y + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plane = numerator / denominator
    return np.where(usable & (plane > 0), plane, pixel_depth)
