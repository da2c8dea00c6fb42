"""The default guidance backend: Embree on the CPU (``renderers.guidance.embree``: Embree 4's C
API from compiled loops that release the GIL, or open3d's ``RaycastingScene`` without it).

An Embree scene cannot move geometry once built, so rather than rebuilding a world-space scene
every frame (cost grows with triangles) each unique mesh gets one static scene built once, and
every frame's rays are moved into each entity's object frame instead (cost grows with the pixels
each entity covers). Rays are pruned to the pixel window of the entity's projected bounding
sphere, and all entities sharing a mesh are cast in one call. Rays keep the world ray parameter
in the object frame (directions are not renormalised), so ``t`` is comparable across entities.
Small flat meshes (floors, walls) skip Embree: ``renderers.guidance.planar`` intersects their
plane in a compiled loop, several times cheaper than a cast through Embree.

Per-ray and per-hit work (ray set-up, the nearest-hit merge, grouping hits by entity, hit
geometry) runs in the compiled loops of ``renderers.guidance.kernels``, one pass each; hits are
grouped by entity so per-entity transforms are dense runs.
"""

from __future__ import annotations

import threading

import numpy as np

from renderers.guidance import embree, kernels
from renderers.guidance.backend import EntitySilhouette, RayHits
from renderers.guidance.geometry import (
    clip_meshes,
    linear_scales,
    screen_rects,
)
from renderers.guidance.hits import hits_from_pixels
from renderers.guidance.planar import FlatMeshes, PlanarMesh, planar_mesh
from worldsim.camera.conventions import invert_pose
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import pixel_rays
from worldsim.memory import keep_freed_memory
from worldsim.state import Trajectory


class Open3DBackend:
    """Per-entity object-frame ray casting against static per-mesh Embree scenes."""

    def __init__(self, trajectory: Trajectory) -> None:
        keep_freed_memory()  # each frame's casts reuse the last frames' memory
        self.trajectory = trajectory
        self.meshes = clip_meshes(trajectory)
        self.casters: list[embree.EmbreeScene | embree.Open3DScene | PlanarMesh] = [
            planar_mesh(entry.vertices, entry.faces) or embree.scene([(entry.vertices, entry.faces)])
            for entry in self.meshes.entries
        ]
        """Per mesh entry: what casts its object-frame rays (``cast(rays) -> (t, primitive, uv)``)."""
        flat = [index for index, caster in enumerate(self.casters) if isinstance(caster, PlanarMesh)]
        self._flat_index = {entry: position for position, entry in enumerate(flat)}
        """Mesh entry -> its place in ``_flat`` (flat meshes only)."""
        self._flat = FlatMeshes.of([self.casters[entry] for entry in flat])
        self._ray_cache: dict[Intrinsics, tuple[np.ndarray, np.ndarray]] = {}
        self._buffers = threading.local()

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
        groups = self._jobs(frame, world_to_cam, intrinsics, custom, height, width)
        # Jobs in cast order: per unique mesh, its entities; Embree's meshes first, flat meshes
        # last. Embree's rays go into one buffer (one compiled pass), each mesh's rays one
        # contiguous slice cast in one call; flat meshes are hit straight from the camera rays.
        groups.sort(key=lambda group: group[0] in self._flat_index)
        jobs = [job for _, entity_jobs in groups for job in entity_jobs]
        embree_jobs = sum(len(entity_jobs) for entry, entity_jobs in groups if entry not in self._flat_index)
        job_columns = np.array([col for col, _, _ in jobs], dtype=np.int64)
        rects = np.array([rect for _, rect, _ in jobs], dtype=np.int64).reshape(-1, 4)
        first_rays = np.concatenate([np.zeros(1, np.int64), np.cumsum(_areas(rects))])
        embree_ray_count = int(first_rays[embree_jobs])
        rays = self._scratch("rays", (embree_ray_count, 6), np.float32)
        flat_hits = None
        if jobs:
            world_to_object = np.stack([matrix for _, _, matrix in jobs])
            starts = _camera_centres(world_to_object, cam_to_world)
            part = slice(0, embree_jobs)  # Embree's jobs
            _object_rays(ray_axes, cam_to_world, rects[part], world_to_object[part], starts[part], rays)
            if embree_jobs < len(jobs):
                flat_mesh = np.array(
                    [
                        self._flat_index[entry]
                        for entry, entity_jobs in groups
                        if entry in self._flat_index
                        for _ in entity_jobs
                    ],
                    dtype=np.int64,
                )
                flat_hits = self._flat.window_hits(
                    ray_axes,
                    cam_to_world[:3, :3],
                    rects[embree_jobs:],
                    np.ascontiguousarray(world_to_object[embree_jobs:, :3, :3]),
                    starts[embree_jobs:],
                    flat_mesh,
                )

        best_t = np.full((height, width), np.inf, dtype=np.float32)
        column = np.full((height, width), -1, dtype=np.int32)
        silhouette_hit = np.empty(int(first_rays[-1]), dtype=bool)
        primitives, barycentrics = [], []
        first_job = 0
        embree_hits = self._cast_embree_groups(groups, first_rays, rays)
        for entry_index, entity_jobs in groups:
            stop_job = first_job + len(entity_jobs)
            ray_slice = slice(int(first_rays[first_job]), int(first_rays[stop_job]))
            if entry_index in self._flat_index:
                flat_slice = slice(ray_slice.start - embree_ray_count, ray_slice.stop - embree_ray_count)
                t_hit, primitive_ids, primitive_uvs = (values[flat_slice] for values in flat_hits)
            elif embree_hits is not None:
                t_hit, primitive_ids, primitive_uvs = (values[ray_slice] for values in embree_hits)
            else:
                t_hit, primitive_ids, primitive_uvs = self.casters[entry_index].cast(rays[ray_slice])
            primitives.append(primitive_ids)
            barycentrics.append(primitive_uvs)
            kernels.merge_nearest(
                t_hit,
                rects[first_job:stop_job],
                job_columns[first_job:stop_job],
                best_t,
                column,
                silhouette_hit[ray_slice],
            )
            first_job = stop_job
        silhouettes = [
            EntitySilhouette(
                int(col), rect, silhouette_hit[first_rays[j] : first_rays[j + 1]].reshape(_window_shape(rect))
            )
            for j, (col, rect, _) in enumerate(jobs)
        ]

        # Each entity's final pixels, read from its own window, grouped by entity in column order.
        order = np.argsort(job_columns, kind="stable")
        primitive = self._scratch("primitive", (len(silhouette_hit),), np.uint32)
        barycentric = self._scratch("barycentric", (len(silhouette_hit), 2), np.float32)
        if primitives:
            np.concatenate(primitives, out=primitive)
            np.concatenate(barycentrics, out=barycentric)
        hit_capacity = height * width
        hit_pixels = np.empty(hit_capacity, dtype=np.int64)
        hit_primitive = np.empty(hit_capacity, dtype=np.int64)
        hit_barycentric = np.empty((hit_capacity, 2), dtype=np.float32)
        counts = kernels.group_hits(
            column,
            job_columns[order],
            rects[order],
            first_rays[:-1][order],
            primitive,
            barycentric,
            hit_pixels,
            hit_primitive,
            hit_barycentric,
        )
        segments, hit_count = [], 0
        for col, count in zip(job_columns[order].tolist(), counts.tolist(), strict=True):
            if count:
                segments.append((col, hit_count, hit_count + count))
                hit_count += count
        return hits_from_pixels(
            self.trajectory,
            self.meshes,
            frame,
            intrinsics,
            cam_to_world,
            best_t,
            rays_camera,
            column,
            hit_pixels[:hit_count],
            segments,
            hit_primitive[:hit_count],
            hit_barycentric[:hit_count],
            silhouettes,
        )

    def _cast_embree_groups(
        self, groups: list, first_rays: np.ndarray, rays: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Every Embree mesh's rays (the first groups, ``rays`` in their order) cast in one pass
        (``embree.cast_batches``); None when a mesh is cast through open3d (one call each)."""
        embree_groups = [(entry, jobs) for entry, jobs in groups if entry not in self._flat_index]
        scenes = [self.casters[entry] for entry, _ in embree_groups]
        if not scenes or not all(isinstance(scene, embree.EmbreeScene) for scene in scenes):
            return None
        first_job_of_group = np.cumsum([0] + [len(jobs) for _, jobs in embree_groups])
        return embree.cast_batches(scenes, first_rays[first_job_of_group], rays)

    def embree_rays(
        self, frame: int, cam_to_world: np.ndarray, intrinsics: Intrinsics
    ) -> list[tuple[int, np.ndarray]]:
        """(mesh entry, object-frame rays (R, 6) float32) of every mesh ``cast`` tests at
        ``frame``, as Embree would take them, flat meshes included (a baseline for benchmarks)."""
        rays_camera, ray_axes = self._rays(intrinsics)
        height, width = rays_camera.shape[:2]
        cam_to_world = np.asarray(cam_to_world, dtype=np.float64)
        groups = self._jobs(frame, invert_pose(cam_to_world), intrinsics, False, height, width)
        batches = []
        for entry, entity_jobs in groups:
            rects = np.array([rect for _, rect, _ in entity_jobs], dtype=np.int64).reshape(-1, 4)
            matrices = np.stack([matrix for _, _, matrix in entity_jobs])
            rays = np.empty((int(_areas(rects).sum()), 6), dtype=np.float32)
            starts = _camera_centres(matrices, cam_to_world)
            _object_rays(ray_axes, cam_to_world, rects, matrices, starts, rays)
            batches.append((entry, rays))
        return batches

    def _scratch(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A buffer of ``shape`` for use inside one cast, kept per thread and reused across casts
        (fresh arrays of this size would cost a page fault per 4 KiB on every frame)."""
        buffers = self._buffers.__dict__
        size = int(np.prod(shape))
        buffer = buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = buffers[name] = np.empty(max(size, 1), dtype=dtype)
        return buffer[:size].reshape(shape)

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
        columns = np.flatnonzero(self.trajectory.present[frame])
        if len(columns) == 0:
            return []
        poses = self.trajectory.object_to_world[frame, columns]
        world_to_object = np.linalg.inv(poses)
        entry_of = np.asarray(self.meshes.column_entry, dtype=np.int64)[columns]
        if custom:
            rects = np.tile(np.array([0, height, 0, width], dtype=np.int64), (len(columns), 1))
            seen = np.ones(len(columns), dtype=bool)
        else:
            centers = np.stack([entry.center for entry in self.meshes.entries])[entry_of]
            radii = np.array([entry.radius for entry in self.meshes.entries])[entry_of] * linear_scales(poses)
            centers_world = np.stack(
                [
                    centers[:, 0] * poses[:, k, 0]
                    + centers[:, 1] * poses[:, k, 1]
                    + centers[:, 2] * poses[:, k, 2]
                    + poses[:, k, 3]
                    for k in range(3)
                ],
                axis=1,
            )
            rects, seen = screen_rects(centers_world, radii, world_to_cam, intrinsics)
        jobs: dict[int, list[tuple[int, tuple[int, int, int, int], np.ndarray]]] = {}
        for index in np.flatnonzero(seen).tolist():
            rect = tuple(rects[index].tolist())
            jobs.setdefault(int(entry_of[index]), []).append(
                (int(columns[index]), rect, world_to_object[index])
            )
        return list(jobs.items())


def _camera_centres(world_to_object: np.ndarray, cam_to_world: np.ndarray) -> np.ndarray:
    """(J, 3) float64 the camera centre in each job's object frame (``world_to_object`` (J, 4, 4));
    job by job, as always (a batched matmul may sum in another order)."""
    return np.stack([m[:3, :3] @ cam_to_world[:3, 3] + m[:3, 3] for m in world_to_object])


def _object_rays(
    ray_axes: np.ndarray,
    cam_to_world: np.ndarray,
    rects: np.ndarray,
    world_to_object: np.ndarray,
    starts: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out`` with the jobs' object-frame rays as Embree takes them (``kernels.object_rays``:
    float32 rotations into each object frame, origins ``starts``)."""
    to_object = world_to_object[:, :3, :3].astype(np.float32)
    kernels.object_rays(ray_axes, cam_to_world[:3, :3], rects, to_object, starts, out)


def _areas(rects: np.ndarray) -> np.ndarray:
    """(J,) int64 pixel count of each (y0, y1, x0, x1) window of ``rects`` (J, 4)."""
    return (rects[:, 1] - rects[:, 0]) * (rects[:, 3] - rects[:, 2])


def _window_shape(rect: tuple[int, int, int, int]) -> tuple[int, int]:
    y0, y1, x0, x1 = rect
    return y1 - y0, x1 - x0


def _with_axes(rays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rays`` (H, W, 3) float64 and its components as contiguous (3, H, W)."""
    return rays, np.ascontiguousarray(np.moveaxis(rays, -1, 0))
