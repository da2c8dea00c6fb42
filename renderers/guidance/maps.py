"""Small functions deriving each guidance map from a frame's ``RayHits``."""

from __future__ import annotations

import numpy as np

from renderers.guidance import kernels
from renderers.guidance.backend import RayHits
from renderers.guidance.geometry import ClipMeshes, segment_array
from worldsim.scene.materials import MaterialSample, evaluate_material, is_uniform, material_seed
from worldsim.state import EntityInfo, Trajectory


def depth_map(hits: RayHits) -> np.ndarray:
    """(H, W) float32 metres along the optical axis (t times the unit ray's z), +inf background."""
    out = np.empty(hits.ray_distance.shape, dtype=np.float32)
    kernels.depth(hits.ray_distance.ravel(), hits.rays_camera.reshape(-1, 3), out.reshape(-1))
    return out


def ray_distance_map(hits: RayHits) -> np.ndarray:
    """(H, W) float32 metres from the camera centre, +inf on background."""
    return hits.ray_distance.astype(np.float32, copy=True)


def column_ids(trajectory: Trajectory) -> np.ndarray:
    """(E + 1,) uint16 lookup: entity column + 1 -> entity id (index 0 -> background 0)."""
    return np.array([0] + [info.id for info in trajectory.entities], dtype=np.uint16)


def instance_map(hits: RayHits, trajectory: Trajectory) -> np.ndarray:
    """(H, W) uint16 entity ids, 0 on background."""
    return _lookup(column_ids(trajectory), hits)


def semantic_map(hits: RayHits, trajectory: Trajectory) -> np.ndarray:
    """(H, W) uint16 semantic class ids from the entity table, 0 on background."""
    return _lookup(np.array([0] + [info.semantic_id for info in trajectory.entities], dtype=np.uint16), hits)


def _lookup(table: np.ndarray, hits: RayHits) -> np.ndarray:
    """(H, W) ``table[column + 1]`` per pixel for an (E + 1,) table (row 0: background)."""
    out = np.empty(hits.shape, dtype=table.dtype)
    kernels.lookup(table, hits.column.ravel(), out.reshape(-1))
    return out


def camera_normal_map(hits: RayHits) -> np.ndarray:
    """(H, W, 3) float32 unit geometric normals in the camera frame, 0 on background.

    Normals face the camera: one pointing away from the viewer (``dot(n, ray) > 0``, a back face
    or an inward-wound triangle) is flipped, so every visible normal has ``dot(n, ray) <= 0``.
    """
    out = np.zeros((*hits.shape, 3), dtype=np.float32)
    kernels.face_camera(
        hits.hit_normal_camera, hits.hit_pixels, hits.rays_camera.reshape(-1, 3), out.reshape(-1, 3)
    )
    return out


def shading_normal_map(hits: RayHits, meshes: ClipMeshes, trajectory: Trajectory) -> np.ndarray:
    """(H, W, 3) float32 camera-frame vertex normals interpolated with the hit barycentrics.

    Uses the mesh's vertex normals (trimesh's area-weighted average where the file has none);
    flipped to face the camera like ``camera_normal_map``; 0 on background.
    """
    to_camera = np.linalg.inv(trajectory.object_to_world[hits.frame, :, :3, :3]) @ hits.cam_to_world[:3, :3]
    to_camera = to_camera.astype(np.float32)
    segments = hits.hit_segments
    # Flat-shaded meshes with fewer triangles than hits take corner 0's normal (the interpolation
    # gives it exactly: zero edges), transformed once per triangle.
    use_corner_zero = np.array(
        [
            meshes.column_flat_shading[col] and meshes.column_face_count[col] < stop - start
            for col, start, stop in segments
        ],
        dtype=bool,
    )
    out = np.zeros((*hits.shape, 3), dtype=np.float32)
    kernels.shading_normals(
        segment_array(segments),
        use_corner_zero,
        meshes.column_face_offset,
        meshes.column_face_count,
        hits.hit_primitive,
        hits.hit_barycentric,
        meshes.corner_normal_edges,
        to_camera,
        hits.hit_pixels,
        hits.rays_camera.reshape(-1, 3),
        out.reshape(-1, 3),
    )
    return out


def surface_coords_map(hits: RayHits) -> np.ndarray:
    """(H, W, 3) float32 object-frame hit points, 0 on background (pair with the instance map)."""
    out = np.zeros((*hits.shape, 3), dtype=np.float32)
    kernels.scatter_rows(hits.hit_object_point, hits.hit_pixels, out.reshape(-1, 3))
    return out


def material_maps(hits: RayHits, trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Albedo (H, W, 3), roughness (H, W), metallic (H, W) float32 from each entity's material.

    Evaluated at the object-frame hit points with the entity's material seed, exactly as every
    other consumer of ``evaluate_material`` does; 0 on background. Uniform materials (the same
    value at every point) are evaluated once per entity and spread by a table look-up; textured
    ones on that entity's hits only.
    """
    count = len(trajectory.entities)
    albedo = np.zeros((count + 1, 3), dtype=np.float32)
    roughness = np.zeros(count + 1, dtype=np.float32)
    metallic = np.zeros(count + 1, dtype=np.float32)
    textured = []
    for col, start, stop in hits.hit_segments:
        info = trajectory.entities[col]
        if not is_uniform(info.material):
            textured.append((col, start, stop))
            continue
        albedo[col + 1], roughness[col + 1], metallic[col + 1] = _uniform_sample(info, trajectory.seed)
    # Table look-ups per pixel (column + 1: background is row 0), then textured entities' hits.
    column = hits.column.ravel()
    albedo_image = np.empty((column.size, 3), dtype=np.float32)
    roughness_image = np.empty(column.size, dtype=np.float32)
    metallic_image = np.empty(column.size, dtype=np.float32)
    kernels.lookup_materials(
        albedo, roughness, metallic, column, albedo_image, roughness_image, metallic_image
    )
    for col, start, stop in textured:
        sample = evaluate_entity_material(
            trajectory.entities[col], trajectory.seed, hits.hit_object_point[start:stop]
        )
        pixels = hits.hit_pixels[start:stop]
        albedo_image[pixels] = sample.albedo
        roughness_image[pixels] = sample.roughness
        metallic_image[pixels] = sample.metallic
    shape = hits.column.shape
    return albedo_image.reshape(*shape, 3), roughness_image.reshape(shape), metallic_image.reshape(shape)


_UNIFORM_SAMPLES: dict[tuple, tuple[np.ndarray, float, float]] = {}
"""(material as written, scene seed, entity id, name) -> its constant (albedo, roughness, metallic)."""
_UNIFORM_SAMPLES_LIMIT = 4096


def _uniform_sample(info: EntityInfo, scene_seed: int) -> tuple[np.ndarray, float, float]:
    """A uniform material's value, evaluated once per (material, seed, entity) and then reused
    (every frame of a clip asks again). Keyed by the material's repr, so an edited material is a
    new key."""
    key = (repr(info.material), scene_seed, info.id, info.name)
    cached = _UNIFORM_SAMPLES.get(key)
    if cached is None:
        sample = evaluate_entity_material(info, scene_seed, np.zeros((1, 3)))
        cached = (sample.albedo[0], sample.roughness[0], sample.metallic[0])
        if len(_UNIFORM_SAMPLES) >= _UNIFORM_SAMPLES_LIMIT:
            _UNIFORM_SAMPLES.clear()
        _UNIFORM_SAMPLES[key] = cached
    return cached


def evaluate_entity_material(info: EntityInfo, scene_seed: int, points: np.ndarray) -> MaterialSample:
    """``evaluate_material`` of an entity's material (with its material seed) at object-frame
    ``points`` (N, 3)."""
    return evaluate_material(
        info.material,
        points.astype(np.float64),
        seed=material_seed(scene_seed, info.id, info.material),
        key_path=f"entities[{info.name}].material",
    )
