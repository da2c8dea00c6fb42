"""Exact optical flow from surface correspondences (never estimated from images).

The surface point seen at pixel ``(u, v)`` of frame ``t`` (entity ``e``, object-frame point
``p``) sits at ``object_to_world[s, e] @ p`` at frame ``s`` and is projected by frame ``s``'s
camera to ``(u', v')``. Flow is ``(u', v') - (u + 0.5, v + 0.5)`` (pixel centres at +0.5).
"""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import RayHits
from renderers.guidance.geometry import SEGMENT_LOOP_LIMIT, gathered_matmul
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
    centre_x, centre_y = hits.hit_pixel_centres
    entity = hits.hit_column
    # Moving the object-frame point by its pose at the target frame and projecting it: compose
    # object -> world -> target camera per entity, then apply per point.
    world_to_cam = np.linalg.inv(target.cam_to_world)
    object_to_cam = world_to_cam @ trajectory.object_to_world[target.frame]
    x, y, depth = _transformed(hits, object_to_cam)
    intrinsics = target.intrinsics
    with np.errstate(divide="ignore", invalid="ignore"):
        u = intrinsics.fx * x / depth + intrinsics.cx
        v = intrinsics.fy * y / depth + intrinsics.cy
    flow_hits = np.empty((len(u), 2), dtype=np.float32)
    np.subtract(u, centre_x, out=flow_hits[:, 0], casting="same_kind")
    np.subtract(v, centre_y, out=flow_hits[:, 1], casting="same_kind")
    with np.errstate(invalid="ignore"):
        ok = (
            np.take(trajectory.present[target.frame], entity)
            & (depth > 0)
            & (u >= 0)
            & (u < intrinsics.width)
            & (v >= 0)
            & (v < intrinsics.height)
        )
    # Whole-array tests (no compaction): the destination index is 0 wherever ``ok`` is false.
    with np.errstate(invalid="ignore"):
        dest_flat = v.astype(np.int64) * intrinsics.width + u.astype(np.int64)
    dest_flat[~ok] = 0
    hit_valid = ok & (np.take(target.column.ravel(), dest_flat) == entity)
    # Most points pass against the pixel's own depth; only the rest need the tangent plane.
    tolerance = depth_tolerance * depth
    with np.errstate(invalid="ignore"):
        same_depth = np.abs(np.take(target_depth.ravel(), dest_flat) - depth) <= tolerance
    retry = np.flatnonzero(hit_valid & ~same_depth)
    seen_depth = _tangent_plane_depth(target, dest_flat[retry], u[retry], v[retry])
    hit_valid &= same_depth
    hit_valid[retry] = np.abs(seen_depth - depth[retry]) <= tolerance[retry]
    return hits.scatter(flow_hits), hits.scatter(hit_valid, fill=False)


def _transformed(hits: RayHits, object_to_cam: np.ndarray) -> np.ndarray:
    """(3, N) float64: each hit's object-frame point moved by its entity's ``object_to_cam``
    (E, 4, 4). Per entity a dense run of contiguous rows (``RayHits.hit_segments``)."""
    points = hits.hit_object_axes
    count = points.shape[1]
    if len(hits.hit_segments) > SEGMENT_LOOP_LIMIT:
        rotation = np.swapaxes(object_to_cam[:, :3, :3], -1, -2)
        return gathered_matmul(points.T, rotation, hits.hit_column, object_to_cam[:, :3, 3]).T
    out = np.empty((3, count), dtype=np.float64)
    for col, start, stop in hits.hit_segments:
        px, py, pz = points[:, start:stop]
        matrix = object_to_cam[col]
        for k in range(3):
            row = out[k, start:stop]
            np.multiply(px, matrix[k, 0], out=row)
            row += py * matrix[k, 1]
            row += pz * matrix[k, 2]
            row += matrix[k, 3]
    return out


def _tangent_plane_depth(target: RayHits, flat: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N,) optical-axis depth at continuous pixels ``(u, v)`` on the tangent plane of the target
    hits at flat pixel indices ``flat`` (all hits); the pixel's own depth where the plane is seen
    nearly edge-on."""
    index = np.take(target.pixel_hit, flat)
    ray = np.take(target.rays_camera.reshape(-1, 3), flat, axis=0)
    distance = np.take(target.ray_distance.ravel(), flat).astype(np.float64)
    point = ray * distance[:, None]  # only the few retried pixels
    normal = np.take(target.hit_normal_camera, index, axis=0).astype(np.float64)
    intrinsics = target.intrinsics
    x = (u - intrinsics.cx) / intrinsics.fx
    y = (v - intrinsics.cy) / intrinsics.fy
    denominator = normal[:, 0] * x + normal[:, 1] * y + normal[:, 2]
    numerator = normal[:, 0] * point[:, 0] + normal[:, 1] * point[:, 1] + normal[:, 2] * point[:, 2]
    pixel_depth = point[:, 2]
    usable = np.abs(denominator) > 1e-3 * np.sqrt(x * x + y * y + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plane = numerator / denominator
    return np.where(usable & (plane > 0), plane, pixel_depth)
