"""Hand-built trajectories (no World rollout) for guidance tests and benchmarks."""

from __future__ import annotations

import numpy as np

from worldsim.camera.conventions import look_at
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.track import CameraTrack
from worldsim.scene.model import MaterialSpec, MeshSpec
from worldsim.state import EntityInfo, Trajectory


def translation(x: float, y: float, z: float) -> np.ndarray:
    """(4, 4) pose translating by (x, y, z) metres."""
    pose = np.eye(4)
    pose[:3, 3] = (x, y, z)
    return pose


def rotation_z(angle: float) -> np.ndarray:
    """(4, 4) pose rotating by ``angle`` radians about +Z."""
    c, s = np.cos(angle), np.sin(angle)
    pose = np.eye(4)
    pose[:2, :2] = [[c, -s], [s, c]]
    return pose


def camera_track(cam_to_world: np.ndarray, intrinsics: Intrinsics, name: str = "main") -> CameraTrack:
    """A ``CameraTrack`` with fixed intrinsics over the poses ``cam_to_world`` (T, 4, 4)."""
    frames = len(cam_to_world)
    return CameraTrack(
        name,
        np.asarray(cam_to_world, dtype=np.float64),
        np.full(frames, intrinsics.fx),
        np.full(frames, intrinsics.fy),
        np.full(frames, intrinsics.cx),
        np.full(frames, intrinsics.cy),
        intrinsics.width,
        intrinsics.height,
    )


def looking_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(4, 4) OpenCV ``cam_to_world`` at ``eye`` looking at ``target`` with world +Z up."""
    return look_at(np.asarray(eye, dtype=np.float64), np.asarray(target, dtype=np.float64))


def make_trajectory(
    meshes: list[MeshSpec],
    object_to_world: np.ndarray,
    cam_to_world: np.ndarray,
    intrinsics: Intrinsics,
    *,
    present: np.ndarray | None = None,
    materials: list[MaterialSpec] | None = None,
    fps: float = 10.0,
    seed: int = 0,
) -> Trajectory:
    """A trajectory of entities ``meshes`` (ids 1..E) with poses (T, E, 4, 4) and camera (T, 4, 4)."""
    object_to_world = np.asarray(object_to_world, dtype=np.float64)
    frames, count = object_to_world.shape[:2]
    materials = materials or [MaterialSpec() for _ in meshes]
    entities = [
        EntityInfo(
            id=index + 1,
            name=f"entity{index + 1}",
            semantic_class=mesh.type,
            semantic_id=10 + index,
            mesh=mesh,
            material=material,
        )
        for index, (mesh, material) in enumerate(zip(meshes, materials, strict=True))
    ]
    present = np.ones((frames, count), dtype=bool) if present is None else np.asarray(present, dtype=bool)
    track = camera_track(cam_to_world, intrinsics)
    return Trajectory(
        scene_name="synthetic",
        seed=seed,
        fps=fps,
        resolution=(intrinsics.width, intrinsics.height),
        entities=entities,
        object_to_world=object_to_world,
        present=present,
        cameras={track.name: track},
        in_view={track.name: present.copy()},
    )
