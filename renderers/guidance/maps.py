"""Small functions deriving each guidance map from a frame's ``RayHits``."""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import RayHits
from renderers.guidance.geometry import ClipMeshes, per_column_matmul
from worldsim.scene.materials import evaluate_material, material_seed
from worldsim.state import Trajectory


def depth_map(hits: RayHits) -> np.ndarray:
    """(H, W) float32 metres along the optical axis (t times the unit ray's z), +inf background."""
    return (hits.ray_distance * hits.rays_camera[..., 2]).astype(np.float32)


def ray_distance_map(hits: RayHits) -> np.ndarray:
    """(H, W) float32 metres from the camera centre, +inf on background."""
    return hits.ray_distance.astype(np.float32, copy=True)


def column_ids(trajectory: Trajectory) -> np.ndarray:
    """(E + 1,) uint16 lookup: entity column + 1 -> entity id (index 0 -> background 0)."""
    return np.array([0] + [info.id for info in trajectory.entities], dtype=np.uint16)


def instance_map(hits: RayHits, trajectory: Trajectory) -> np.ndarray:
    """(H, W) uint16 entity ids, 0 on background."""
    return column_ids(trajectory)[hits.column + 1]


def semantic_map(hits: RayHits, trajectory: Trajectory) -> np.ndarray:
    """(H, W) uint16 semantic class ids from the entity table, 0 on background."""
    lookup = np.array([0] + [info.semantic_id for info in trajectory.entities], dtype=np.uint16)
    return lookup[hits.column + 1]


def camera_normal_map(hits: RayHits) -> np.ndarray:
    """(H, W, 3) float32 unit geometric normals in the camera frame, 0 on background.

    Normals face the camera: one pointing away from the viewer (``dot(n, ray) > 0``, a back face
    or an inward-wound triangle) is flipped, so every visible normal has ``dot(n, ray) <= 0``.
    """
    # Row vectors: n_camera = n_world @ cam_to_world[:3, :3] (= world_to_cam rotation applied).
    normal = hits.hit_normal_world @ hits.cam_to_world[:3, :3].astype(np.float32)
    return hits.scatter(_face_camera(normal, hits))


def shading_normal_map(hits: RayHits, meshes: ClipMeshes, trajectory: Trajectory) -> np.ndarray:
    """(H, W, 3) float32 camera-frame vertex normals interpolated with the hit barycentrics.

    Uses the mesh's vertex normals (trimesh's area-weighted average where the file has none);
    flipped to face the camera like ``camera_normal_map``; 0 on background.
    """
    face = meshes.column_face_offset[hits.hit_column] + hits.primitive.ravel()[hits.hit_pixels]
    uv = hits.barycentric.reshape(-1, 2)[hits.hit_pixels]
    corners = meshes.corner_normals[face]
    u, v = uv[:, 0:1], uv[:, 1:2]
    local = corners[:, 0] + u * (corners[:, 1] - corners[:, 0]) + v * (corners[:, 2] - corners[:, 0])
    to_camera = np.linalg.inv(trajectory.object_to_world[hits.frame, :, :3, :3]) @ hits.cam_to_world[:3, :3]
    normal = per_column_matmul(local, to_camera.astype(np.float32), hits.hit_column)
    length = np.linalg.norm(normal, axis=-1, keepdims=True)
    normal = np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
    return hits.scatter(_face_camera(normal, hits))


def _face_camera(normal: np.ndarray, hits: RayHits) -> np.ndarray:
    """Per-hit normals (N, 3) flipped where they point away from the viewing ray."""
    rays = hits.rays_camera.reshape(-1, 3)[hits.hit_pixels]
    away = np.einsum("ni,ni->n", normal, rays.astype(np.float32)) > 0
    normal[away] *= -1.0
    return normal.astype(np.float32, copy=False)


def surface_coords_map(hits: RayHits) -> np.ndarray:
    """(H, W, 3) float32 object-frame hit points, 0 on background (pair with the instance map)."""
    return hits.object_point


def material_maps(hits: RayHits, trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Albedo (H, W, 3), roughness (H, W), metallic (H, W) float32 from each entity's material.

    Evaluated at the object-frame hit points with the entity's material seed, exactly as every
    other consumer of ``evaluate_material`` does; 0 on background.
    """
    count = len(hits.hit_pixels)
    albedo = np.zeros((count, 3), dtype=np.float32)
    roughness = np.zeros(count, dtype=np.float32)
    metallic = np.zeros(count, dtype=np.float32)
    order = np.argsort(hits.hit_column, kind="stable")
    columns, starts = np.unique(hits.hit_column[order], return_index=True)
    for col, start, stop in zip(columns, starts, [*starts[1:], count], strict=True):
        index = order[start:stop]
        info = trajectory.entities[col]
        sample = evaluate_material(
            info.material,
            hits.hit_object_point[index].astype(np.float64),
            seed=material_seed(trajectory.seed, info.id, info.material),
            key_path=f"entities[{info.name}].material",
        )
        albedo[index] = sample.albedo
        roughness[index] = sample.roughness
        metallic[index] = sample.metallic
    return hits.scatter(albedo), hits.scatter(roughness), hits.scatter(metallic)
