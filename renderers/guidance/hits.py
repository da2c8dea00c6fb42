"""Backend-agnostic hit completion: ``RayHits`` from each backend's nearest triangles and barycentrics.

Every backend finds, per pixel, the nearest entity, triangle and barycentrics its own way; the rest
(object-frame points on the mesh's own vertices, camera-frame normals, per-entity grouping) is the
same for all of them and lives here, in the compiled loops of ``renderers.guidance.kernels``.
"""

from __future__ import annotations

import numpy as np

from renderers.guidance import kernels
from renderers.guidance.backend import EntitySilhouette, RayHits
from renderers.guidance.geometry import ClipMeshes, column_segments, segment_array
from worldsim.camera.intrinsics import Intrinsics
from worldsim.state import Trajectory


def hits_from_nearest(
    trajectory: Trajectory,
    meshes: ClipMeshes,
    frame: int,
    intrinsics: Intrinsics,
    cam_to_world: np.ndarray,
    ray_distance: np.ndarray,
    rays_camera: np.ndarray,
    column: np.ndarray,
    primitive: np.ndarray,
    barycentric: np.ndarray,
    silhouettes: list[EntitySilhouette],
) -> RayHits:
    """Complete ``RayHits`` from per-pixel images of the nearest (column, triangle, barycentrics).

    ``primitive`` (H, W) and ``barycentric`` (H, W, 2) are read where ``column`` >= 0.
    """
    hit_pixels = np.flatnonzero(column.ravel() >= 0)
    order, segments = column_segments(np.take(column.ravel(), hit_pixels))
    hit_pixels = hit_pixels[order]
    return hits_from_pixels(
        trajectory,
        meshes,
        frame,
        intrinsics,
        cam_to_world,
        ray_distance,
        rays_camera,
        column,
        hit_pixels,
        segments,
        np.take(primitive.ravel(), hit_pixels).astype(np.int64),
        np.take(barycentric.reshape(-1, 2), hit_pixels, axis=0).astype(np.float32),
        silhouettes,
    )


def hits_from_pixels(
    trajectory: Trajectory,
    meshes: ClipMeshes,
    frame: int,
    intrinsics: Intrinsics,
    cam_to_world: np.ndarray,
    ray_distance: np.ndarray,
    rays_camera: np.ndarray,
    column: np.ndarray,
    hit_pixels: np.ndarray,
    segments: list[tuple[int, int, int]],
    hit_primitive: np.ndarray,
    hit_barycentric: np.ndarray,
    silhouettes: list[EntitySilhouette],
) -> RayHits:
    """Complete ``RayHits`` from the hit pixels (grouped by entity into ``segments``) and their
    triangles and barycentrics.

    Object-frame points come from the barycentrics on the mesh's own vertices (exactly on the
    surface); camera-frame normals from the face normals by the inverse transpose of each pose.
    """
    count = len(hit_pixels)
    hit_column = np.empty(count, dtype=np.int32)
    face = np.empty(count, dtype=np.int64)
    object_point = np.empty((count, 3), dtype=np.float32)
    normal_camera = np.empty((count, 3), dtype=np.float32)
    # Normals transform with the inverse transpose: n_world (row) = n_object @ inv(R), and
    # n_camera = n_world @ cam_to_world[:3, :3].
    to_world = np.linalg.inv(trajectory.object_to_world[frame, :, :3, :3])
    normal_matrices = (to_world @ cam_to_world[:3, :3]).astype(np.float32)
    kernels.complete_hits(
        segment_array(segments),
        meshes.column_face_offset,
        meshes.column_face_count,
        np.asarray(hit_primitive, dtype=np.int64),
        np.asarray(hit_barycentric, dtype=np.float32),
        meshes.triangle_edges,
        meshes.face_normals,
        normal_matrices,
        hit_column,
        face,
        object_point,
        normal_camera,
    )
    return RayHits(
        frame=frame,
        intrinsics=intrinsics,
        cam_to_world=cam_to_world,
        ray_distance=ray_distance,
        rays_camera=rays_camera,
        column=column,
        hit_pixels=hit_pixels,
        hit_segments=segments,
        hit_column=hit_column,
        hit_primitive=hit_primitive,
        hit_face=face,
        hit_barycentric=hit_barycentric,
        hit_object_point=object_point,
        hit_normal_camera=normal_camera,
        silhouettes=silhouettes,
    )
