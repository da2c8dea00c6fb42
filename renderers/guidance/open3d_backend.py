"""The default guidance backend: open3d ``RaycastingScene`` (Embree) on the CPU.

open3d cannot move geometry inside a built scene, so rather than rebuilding a world-space scene
every frame (cost grows with triangles) each unique mesh gets one static scene built once, and
every frame's rays are moved into each entity's object frame instead (cost grows with the pixels
each entity covers). Rays are pruned to the pixel window of the entity's projected bounding
sphere, and all entities sharing a mesh are cast in one call. Rays keep the world ray parameter
in the object frame (directions are not renormalised), so ``t`` is comparable across entities.
"""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import EntitySilhouette, RayHits
from renderers.guidance.geometry import ClipMeshes, clip_meshes, linear_scale, per_column_matmul, screen_rect
from worldsim.camera.conventions import invert_pose
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import pixel_rays
from worldsim.state import Trajectory


class Open3DBackend:
    """Per-entity object-frame ray casting against static per-mesh Embree scenes."""

    def __init__(self, trajectory: Trajectory) -> None:
        import open3d as o3d

        self._o3d = o3d
        self.trajectory = trajectory
        self.meshes = clip_meshes(trajectory)
        self._scenes = []
        for entry in self.meshes.entries:
            scene = o3d.t.geometry.RaycastingScene()
            scene.add_triangles(
                o3d.core.Tensor(entry.vertices.astype(np.float32)),
                o3d.core.Tensor(entry.faces.astype(np.uint32)),
            )
            self._scenes.append(scene)
        self._ray_cache: dict[Intrinsics, np.ndarray] = {}

    def _rays(self, intrinsics: Intrinsics) -> np.ndarray:
        rays = self._ray_cache.get(intrinsics)
        if rays is None:
            rays = pixel_rays(intrinsics)
            self._ray_cache = {intrinsics: rays}
        return rays

    def cast(
        self,
        frame: int,
        cam_to_world: np.ndarray,
        intrinsics: Intrinsics,
        rays_camera: np.ndarray | None = None,
    ) -> RayHits:
        """The nearest hits of every pixel-centre ray at ``frame``.

        ``rays_camera`` (H, W, 3) unit camera-frame directions replaces the pixel-centre rays
        (e.g. to sample at sub-pixel positions); then no screen-space pruning is done.
        """
        custom = rays_camera is not None
        rays_camera = self._rays(intrinsics) if rays_camera is None else np.asarray(rays_camera, np.float64)
        height, width = rays_camera.shape[:2]
        cam_to_world = np.asarray(cam_to_world, dtype=np.float64)
        world_to_cam = invert_pose(cam_to_world)
        origin = cam_to_world[:3, 3]
        # open3d casts float32 rays, so the per-entity transforms run in float32 too.
        rays_world = (rays_camera @ cam_to_world[:3, :3].T).astype(np.float32)

        best_t = np.full((height, width), np.inf, dtype=np.float32)
        column = np.full((height, width), -1, dtype=np.int32)
        primitive = np.full((height, width), -1, dtype=np.int64)
        barycentric = np.zeros((height, width, 2), dtype=np.float32)
        silhouettes: list[EntitySilhouette] = []

        poses = self.trajectory.object_to_world[frame]
        present = self.trajectory.present[frame]
        jobs: dict[int, list[tuple[int, tuple[int, int, int, int], np.ndarray]]] = {}
        for col in np.flatnonzero(present):
            entry_index = self.meshes.column_entry[col]
            entry = self.meshes.entries[entry_index]
            pose = poses[col]
            center_world = pose[:3, :3] @ entry.center + pose[:3, 3]
            if custom:
                rect = (0, height, 0, width)
            else:
                radius = entry.radius * linear_scale(pose)
                rect = screen_rect(center_world, radius, world_to_cam, intrinsics)
            if rect is None:
                continue
            jobs.setdefault(entry_index, []).append((int(col), rect, np.linalg.inv(pose)))

        for entry_index, entity_jobs in jobs.items():
            blocks = []
            for _, (y0, y1, x0, x1), world_to_object in entity_jobs:
                directions = rays_world[y0:y1, x0:x1].reshape(-1, 3) @ world_to_object[:3, :3].T.astype(
                    np.float32
                )
                start = world_to_object[:3, :3] @ origin + world_to_object[:3, 3]
                block = np.empty((len(directions), 6), dtype=np.float32)
                block[:, :3] = start
                block[:, 3:] = directions
                blocks.append(block)
            result = self._scenes[entry_index].cast_rays(self._o3d.core.Tensor(np.concatenate(blocks)))
            t_all = result["t_hit"].numpy()
            prim_all = result["primitive_ids"].numpy()
            uv_all = result["primitive_uvs"].numpy()
            offset = 0
            for col, (y0, y1, x0, x1), _ in entity_jobs:
                count = (y1 - y0) * (x1 - x0)
                shape = (y1 - y0, x1 - x0)
                t = t_all[offset : offset + count].reshape(shape)
                own = np.isfinite(t)
                silhouettes.append(EntitySilhouette(col, (y0, y1, x0, x1), own))
                window = best_t[y0:y1, x0:x1]
                nearer = own & (t < window)
                if nearer.any():
                    window[nearer] = t[nearer]
                    column[y0:y1, x0:x1][nearer] = col
                    primitive[y0:y1, x0:x1][nearer] = prim_all[offset : offset + count].reshape(shape)[nearer]
                    uv = uv_all[offset : offset + count].reshape((*shape, 2))
                    barycentric[y0:y1, x0:x1][nearer] = uv[nearer]
                offset += count

        return hits_from_nearest(
            self.trajectory,
            self.meshes,
            frame,
            intrinsics,
            cam_to_world,
            best_t,
            rays_camera,
            column,
            primitive,
            barycentric,
            silhouettes,
        )


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
    """Complete ``RayHits`` from the nearest (column, triangle, barycentrics) of every pixel.

    Object-frame points come from the barycentrics on the mesh's own vertices (exactly on the
    surface); world normals from the face normals by the inverse transpose of each pose.
    """
    hit_pixels = np.flatnonzero(column.ravel() >= 0)
    hit_column = column.ravel()[hit_pixels]
    face = meshes.column_face_offset[hit_column] + primitive.ravel()[hit_pixels]
    uv = barycentric.reshape(-1, 2)[hit_pixels]
    corners = meshes.triangle_vertices[face]
    u, v = uv[:, 0:1], uv[:, 1:2]
    object_point = corners[:, 0] + u * (corners[:, 1] - corners[:, 0]) + v * (corners[:, 2] - corners[:, 0])
    # Normals transform with the inverse transpose: n_world (row) = n_object @ inv(R).
    normal_matrices = np.linalg.inv(trajectory.object_to_world[frame, :, :3, :3]).astype(np.float32)
    normal = per_column_matmul(meshes.face_normals[face], normal_matrices, hit_column)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return RayHits(
        frame=frame,
        intrinsics=intrinsics,
        cam_to_world=cam_to_world,
        ray_distance=ray_distance,
        rays_camera=rays_camera,
        column=column,
        primitive=primitive,
        barycentric=barycentric,
        hit_pixels=hit_pixels,
        hit_column=hit_column,
        hit_object_point=object_point.astype(np.float32, copy=False),
        hit_normal_world=normal.astype(np.float32, copy=False),
        silhouettes=silhouettes,
    )
