"""Bump relief on the ``shading_normal`` guidance map (``worldsim.scene.bump``).

``maps.shading_normal_map`` interpolates the meshes' vertex normals; an entity whose material has
a bump relief then gets ``worldsim.scene.bump.bumped_normals`` at its hits: the interpolated
normal as wound, in the object frame (where the relief is defined), tilted against the relief's
gradient, and turned back to face the camera. The ``normal`` map (geometric) and the lighting
maps do not use it.
"""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import RayHits
from worldsim.scene.bump import bumped_normals, has_bump
from worldsim.scene.materials import material_seed
from worldsim.state import Trajectory


def bumped_shading_normal_map(
    shading_normal: np.ndarray, hits: RayHits, trajectory: Trajectory
) -> np.ndarray:
    """(H, W, 3) float32 unit camera-frame shading normals with each entity's bump relief.

    ``shading_normal`` (H, W, 3) float32 is ``maps.shading_normal_map`` of ``hits`` (facing the
    camera, 0 on background); it is returned as is when no entity in view has a bump, else a
    copy with the bumped entities' pixels replaced.
    """
    bumped_segments = [
        (col, start, stop)
        for col, start, stop in hits.hit_segments
        if has_bump(trajectory.entities[col].material)
    ]
    if not bumped_segments:
        return shading_normal
    out = shading_normal.copy()
    flat = out.reshape(-1, 3)
    cam_to_world = hits.cam_to_world[:3, :3].astype(np.float64)
    for col, start, stop in bumped_segments:
        info = trajectory.entities[col]
        pixels = hits.hit_pixels[start:stop]
        normals = flat[pixels].astype(np.float64)
        usable = np.any(normals != 0, axis=1)  # a degenerate (zero) normal stays as it is
        if not usable.all():
            rows = np.arange(start, stop)[usable]
            pixels, normals = pixels[usable], normals[usable]
        else:
            rows = slice(start, stop)
        # The map faces the camera; the relief tilts the normal as wound (the geometric normal's
        # side, as the reference renderer's shading frame), so undo the flip, then redo it.
        geometric = hits.hit_normal_camera[rows].astype(np.float64)
        wound = np.where(np.einsum("nk,nk->n", normals, geometric) < 0, -1.0, 1.0)[:, None]
        linear = trajectory.object_to_world[hits.frame, col, :3, :3]
        # Normals go object -> world by inv(M)^T, so world -> object by M^T (rows: n @ M).
        object_normals = _unit((wound * normals) @ cam_to_world.T @ linear)
        seed = material_seed(trajectory.seed, info.id, info.material)
        tilted = bumped_normals(info.material, hits.hit_object_point[rows], object_normals, seed).astype(
            np.float64
        )
        camera_normals = _unit(tilted @ np.linalg.inv(linear) @ cam_to_world) * wound
        flat[pixels] = camera_normals.astype(np.float32)
    return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    """(N, 3) rows scaled to unit length (zero rows stay zero)."""
    length = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, length, out=np.zeros_like(vectors), where=length > 0)
