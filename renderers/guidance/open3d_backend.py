"""The default guidance backend: open3d ``RaycastingScene`` (Embree) on the CPU.

open3d cannot move geometry inside a built scene, so rather than rebuilding a world-space scene
every frame (cost grows with triangles) each unique mesh gets one static scene built once, and
every frame's rays are moved into each entity's object frame instead (cost grows with the pixels
each entity covers). Rays are pruned to the pixel window of the entity's projected bounding
sphere, and all entities sharing a mesh are cast in one call. Rays keep the world ray parameter
in the object frame (directions are not renormalised), so ``t`` is comparable across entities.

Per-pixel work is written for numpy's fast paths: whole-array passes axis by axis, ``np.take``
gathers, hits grouped by entity so per-entity transforms are dense slices, and no ``@`` on
(N, 3) arrays (numpy hands it to a multi-threaded BLAS that costs more than it saves here).
"""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import EntitySilhouette, RayHits
from renderers.guidance.geometry import clip_meshes, linear_scale, screen_rect
from renderers.guidance.hits import hits_from_pixels
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
        self._ray_cache: dict[Intrinsics, tuple[np.ndarray, np.ndarray]] = {}

    def _rays(self, intrinsics: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre rays: (H, W, 3) float64, and the same as (3, H, W) per axis."""
        rays = self._ray_cache.get(intrinsics)
        if rays is None:
            rays = _with_axes(pixel_rays(intrinsics))
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
        if custom:
            rays_camera, ray_axes = _with_axes(np.asarray(rays_camera, np.float64))
        else:
            rays_camera, ray_axes = self._rays(intrinsics)
        height, width = rays_camera.shape[:2]
        cam_to_world = np.asarray(cam_to_world, dtype=np.float64)
        world_to_cam = invert_pose(cam_to_world)
        world_axes = _world_axes(ray_axes, cam_to_world)

        best_t = np.full((height, width), np.inf, dtype=np.float32)
        column = np.full((height, width), -1, dtype=np.int32)
        silhouettes: list[EntitySilhouette] = []
        primitives, barycentrics = [], []
        cast_jobs = []  # (column, rect, index of its first ray among all rays cast this frame)
        cast_count = 0
        for entry_index, entity_jobs in self._jobs(frame, world_to_cam, intrinsics, custom, height, width):
            rays = _object_rays(entity_jobs, world_axes, cam_to_world[:3, 3])
            # from_numpy shares the buffer (Tensor(...) would copy every ray once more).
            result = self._scenes[entry_index].cast_rays(self._o3d.core.Tensor.from_numpy(rays))
            t_all = result["t_hit"].numpy()
            primitives.append(result["primitive_ids"].numpy())
            barycentrics.append(result["primitive_uvs"].numpy())
            for col, rect, _ in entity_jobs:
                y0, y1, x0, x1 = rect
                t = t_all[: (y1 - y0) * (x1 - x0)].reshape(y1 - y0, x1 - x0)
                t_all = t_all[t.size :]
                silhouettes.append(EntitySilhouette(col, rect, np.isfinite(t)))
                window = best_t[y0:y1, x0:x1]
                nearer = t < window  # misses are +inf, never nearer
                np.copyto(window, t, where=nearer)
                np.copyto(column[y0:y1, x0:x1], col, where=nearer)
                cast_jobs.append((col, rect, cast_count))
                cast_count += t.size

        hit_pixels, hit_ray, segments = _grouped_hits(cast_jobs, column)
        primitive = np.concatenate([np.zeros(0, np.uint32), *primitives])
        barycentric = np.concatenate([np.zeros((0, 2), np.float32), *barycentrics])
        return hits_from_pixels(
            self.trajectory,
            self.meshes,
            frame,
            intrinsics,
            cam_to_world,
            best_t,
            rays_camera,
            column,
            hit_pixels,
            segments,
            np.take(primitive, hit_ray).astype(np.int64),
            np.take(barycentric, hit_ray, axis=0),
            silhouettes,
        )

    def _jobs(
        self,
        frame: int,
        world_to_cam: np.ndarray,
        intrinsics: Intrinsics,
        custom: bool,
        height: int,
        width: int,
    ) -> list[tuple[int, list[tuple[int, tuple[int, int, int, int], np.ndarray]]]]:
        """Per unique mesh, its present entities: (column, pixel window, world_to_object)."""
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
        return list(jobs.items())


def _world_axes(ray_axes: np.ndarray, cam_to_world: np.ndarray) -> np.ndarray:
    """(3, H, W) float32 world directions of camera rays ``ray_axes`` (3, H, W) float64.

    Rounded to float32 once, as open3d casts them; the per-entity transforms run in float32 too.
    """
    rotation = cam_to_world[:3, :3]
    world_axes = np.empty(ray_axes.shape, dtype=np.float32)
    for k in range(3):
        world_axes[k] = (
            ray_axes[0] * rotation[k, 0] + ray_axes[1] * rotation[k, 1] + ray_axes[2] * rotation[k, 2]
        )
    return world_axes


def _object_rays(
    entity_jobs: list[tuple[int, tuple[int, int, int, int], np.ndarray]],
    world_axes: np.ndarray,
    origin: np.ndarray,
) -> np.ndarray:
    """(R, 6) float32 open3d rays (origin, direction) of each job's pixel window, in its object frame.

    Written axis by axis into one buffer: no (R, 3) temporaries and no concatenation.
    """
    areas = [(y1 - y0) * (x1 - x0) for _, (y0, y1, x0, x1), _ in entity_jobs]
    rays = np.empty((sum(areas), 6), dtype=np.float32)
    offset = 0
    for (_, (y0, y1, x0, x1), world_to_object), area in zip(entity_jobs, areas, strict=True):
        block = rays[offset : offset + area].reshape(y1 - y0, x1 - x0, 6)
        offset += area
        to_object = world_to_object[:3, :3].astype(np.float32)
        start = world_to_object[:3, :3] @ origin + world_to_object[:3, 3]
        x, y, z = (axis[y0:y1, x0:x1] for axis in world_axes)
        for k in range(3):
            block[..., k] = start[k]
            direction = block[..., 3 + k]
            np.multiply(x, to_object[k, 0], out=direction)
            direction += y * to_object[k, 1]
            direction += z * to_object[k, 2]
    return rays


def _grouped_hits(
    cast_jobs: list[tuple[int, tuple[int, int, int, int], int]], column: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
    """Each entity's final pixels, read from its own window: (hit pixels, index of each hit's ray
    among the rays cast, (column, start, stop) segments), grouped by entity in column order."""
    width = column.shape[1]
    pixels, ray_index, segments = [], [], []
    hit_count = 0
    for col, (y0, y1, x0, x1), first_ray in sorted(cast_jobs):
        local = np.flatnonzero(column[y0:y1, x0:x1] == col)
        if len(local) == 0:
            continue
        rows, cols = np.divmod(local, x1 - x0)
        pixels.append((rows + y0) * width + (cols + x0))
        ray_index.append(local + first_ray)
        segments.append((col, hit_count, hit_count + len(local)))
        hit_count += len(local)
    hit_pixels = np.concatenate([np.zeros(0, np.int64), *pixels])
    return hit_pixels, np.concatenate([np.zeros(0, np.intp), *ray_index]), segments


def _with_axes(rays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rays`` (H, W, 3) float64 and its components as contiguous (3, H, W)."""
    return rays, np.ascontiguousarray(np.moveaxis(rays, -1, 0))
