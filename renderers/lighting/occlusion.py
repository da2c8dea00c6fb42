"""Shadow and ambient-occlusion rays against a clip's meshes (Embree occlusion queries through
``renderers.guidance.embree``: its C API from compiled loops, or open3d's ``test_occlusions``).

Built once per clip from the guidance backend's mesh table (``ClipMeshes``: the same triangles
the camera rays hit). A clip of at most ``MOVING_TRIANGLE_LIMIT`` triangles with something moving
gets one world-space scene of everything per frame. Otherwise entities that never move and are
always present go into one world-space Embree scene built once, and each frame the others go
into one scene of that frame (while they have at most ``MOVING_TRIANGLE_LIMIT`` triangles) or are
tested one by one in their object frames against their mesh's own scene, on the rays that pass
their bounding sphere. Rays are segments: origin o, vector d, occluded if anything lies at
o + t d for t in (0, 1).
"""

from __future__ import annotations

import threading

import numpy as np

from renderers.guidance import embree
from renderers.guidance.geometry import ClipMeshes, linear_scale
from worldsim.state import Trajectory

MOVING_TRIANGLE_LIMIT = 200_000
"""Up to this many triangles of moving entities, a world-space scene of them is built each frame
(a few milliseconds); beyond it each moving entity is tested in its object frame against its
mesh's own scene, on the rays that pass its bounding sphere."""


class OcclusionTester:
    """Any-hit segment queries at a frame of a trajectory (thread-safe: each query builds the
    frame's scene it needs; the per-mesh scenes are built once, under a lock)."""

    def __init__(self, trajectory: Trajectory, meshes: ClipMeshes) -> None:
        if not embree.available():
            try:
                import open3d  # noqa: F401
            except ImportError as error:  # shadow and occlusion rays always use Embree
                from worldsim.errors import RenderError

                raise RenderError(
                    "the lighting maps (shadow, irradiance, specular) cast their shadow and "
                    f"ambient-occlusion rays with Embree, which this environment lacks ({error}); "
                    "install worldsim's core dependencies (pip install embreex open3d)"
                ) from None

        self.trajectory = trajectory
        self.meshes = meshes
        poses = trajectory.object_to_world
        still = np.all(
            np.abs(poses - poses[:1]).reshape(len(poses), len(trajectory.entities), -1) == 0, axis=(0, 2)
        )
        always = np.all(trajectory.present, axis=0)
        self.static_columns = np.flatnonzero(still & always)
        self.moving_columns = np.flatnonzero(~(still & always))
        faces = meshes.column_face_count
        self.moving_triangles = int(sum(faces[c] for c in self.moving_columns))
        static_triangles = int(sum(faces[c] for c in self.static_columns))
        # A small clip with moving entities gets one scene of everything per frame (one Embree
        # query per ray); otherwise the static entities' scene is built once.
        self.rebuild_all = bool(len(self.moving_columns)) and (
            self.moving_triangles + static_triangles <= MOVING_TRIANGLE_LIMIT
        )
        has_static = len(self.static_columns) and not self.rebuild_all
        self._static_scene = self._world_scene(0, self.static_columns) if has_static else None
        self._mesh_scenes: dict[int, object] = {}
        self._lock = threading.Lock()  # queries of two frames may run on two threads

    def _world_scene(self, frame: int, columns: np.ndarray):
        meshes = []
        for col in columns:
            entry = self.meshes.entries[self.meshes.column_entry[col]]
            pose = self.trajectory.object_to_world[frame, col]
            vertices = (entry.vertices @ pose[:3, :3].T + pose[:3, 3]).astype(np.float32)
            meshes.append((vertices, entry.faces))
        return embree.scene(meshes, robust=False)

    def _mesh_scene(self, entry_index: int):
        with self._lock:
            scene = self._mesh_scenes.get(entry_index)
            if scene is None:
                entry = self.meshes.entries[entry_index]
                scene = self._mesh_scenes[entry_index] = embree.scene(
                    [(entry.vertices, entry.faces)], robust=False
                )
            return scene

    def occluded(self, frame: int, origins: np.ndarray, segments: np.ndarray) -> np.ndarray:
        """(M,) bool: something blocks ``origins + t segments``, 0 < t < 1 (both (M, 3) world)."""
        rays = np.concatenate([origins, segments], axis=1).astype(np.float32)
        return self.occluded_rays(frame, rays)

    def occluded_rays(self, frame: int, rays: np.ndarray) -> np.ndarray:
        """``occluded`` of rays (M, 6) float32: origin (3) and segment (3) per row."""
        origins, segments = rays[:, :3], rays[:, 3:]
        blocked = np.zeros(len(rays), dtype=bool)
        if len(rays) == 0:
            return blocked
        if self.rebuild_all:
            present = np.flatnonzero(self.trajectory.present[frame])
            return self._test(self._world_scene(frame, present), rays)
        if self._static_scene is not None:
            blocked |= self._test(self._static_scene, rays)
        moving = [c for c in self.moving_columns if self.trajectory.present[frame, c]]
        if moving and self.moving_triangles <= MOVING_TRIANGLE_LIMIT:
            open_rays = ~blocked
            blocked[open_rays] = self._test(self._world_scene(frame, np.asarray(moving)), rays[open_rays])
            return blocked
        for col in moving:
            entry_index = self.meshes.column_entry[col]
            entry = self.meshes.entries[entry_index]
            pose = self.trajectory.object_to_world[frame, col]
            centre = pose[:3, :3] @ entry.center + pose[:3, 3]
            radius = entry.radius * linear_scale(pose)
            candidates = np.flatnonzero(~blocked & _segment_near_sphere(origins, segments, centre, radius))
            if len(candidates) == 0:
                continue
            world_to_object = np.linalg.inv(pose)
            local = np.empty((len(candidates), 6), dtype=np.float32)
            local[:, :3] = origins[candidates] @ world_to_object[:3, :3].T.astype(
                np.float32
            ) + world_to_object[:3, 3].astype(np.float32)
            local[:, 3:] = segments[candidates] @ world_to_object[:3, :3].T.astype(np.float32)
            blocked[candidates] |= self._test(self._mesh_scene(entry_index), local)
        return blocked

    def _test(self, scene, rays: np.ndarray) -> np.ndarray:
        return scene.occluded(rays, tnear=0.0, tfar=1.0)


def _segment_near_sphere(
    origins: np.ndarray, segments: np.ndarray, centre: np.ndarray, radius: float
) -> np.ndarray:
    """(M,) bool: the segment passes within ``radius`` of ``centre`` (conservative, float32)."""
    # Component by component: (M, 3) einsum / broadcasting runs M inner loops of length 3.
    offset = [np.float32(centre[k]) - origins[:, k] for k in range(3)]
    length2 = (
        segments[:, 0] * segments[:, 0] + segments[:, 1] * segments[:, 1] + segments[:, 2] * segments[:, 2]
    )
    along = offset[0] * segments[:, 0] + offset[1] * segments[:, 1] + offset[2] * segments[:, 2]
    t = np.clip(along / np.maximum(length2, np.float32(1e-30)), 0.0, 1.0)
    distance2 = sum((offset[k] - t * segments[:, k]) ** 2 for k in range(3))
    return distance2 <= np.float32((radius * 1.0001 + 1e-6) ** 2)
