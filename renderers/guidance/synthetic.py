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


def ground_box_sphere(
    frames: int, size: tuple[int, int], *, camera_step: float = 0.0, spin: float = 0.0, fov_deg: float = 55.0
) -> Trajectory:
    """Ids 1-3: an 8 m ground plane, a 0.6 m box spinning by ``spin`` rad per frame about +Z and a
    0.4 m sphere; the camera at (-3, camera_step * t, 1.5) m looks along +X, sliding sideways by
    ``camera_step`` m per frame. ``size`` = (width, height)."""
    poses = np.stack(
        [
            np.stack(
                [
                    translation(0, 0, 0),
                    translation(0.0, -0.5, 0.3) @ rotation_z(spin * t),
                    translation(0.2, 0.6, 0.4),
                ]
            )
            for t in range(frames)
        ]
    )
    cameras = np.stack(
        [
            looking_at(np.array([-3.0, camera_step * t, 1.5]), np.array([0.0, camera_step * t, 0.3]))
            for t in range(frames)
        ]
    )
    meshes = [
        MeshSpec(type="plane", size=[8.0, 8.0]),
        MeshSpec(type="box", size=[0.6, 0.6, 0.6]),
        MeshSpec(type="sphere", radius=0.4),
    ]
    return make_trajectory(meshes, poses, cameras, Intrinsics.from_fov(fov_deg, *size))


def orbiting_spheres(resolution: int, frames: int, subdivisions: int = 3, count: int = 3) -> Trajectory:
    """A 20 m ground plane plus ``count`` icospheres (``subdivisions``) circling it and spinning,
    seen by a camera orbiting slowly at 5 m: the clip the guidance and lighting benchmarks time."""
    meshes = [MeshSpec(type="plane", size=[20.0, 20.0])] + [
        MeshSpec(type="sphere", radius=0.5 + 0.05 * i, subdivisions=subdivisions) for i in range(count)
    ]
    poses = np.zeros((frames, len(meshes), 4, 4))
    cams = np.zeros((frames, 4, 4))
    for t in range(frames):
        poses[t, 0] = np.eye(4)
        for i in range(count):
            angle = 2 * np.pi * i / count + 0.05 * t
            poses[t, i + 1] = translation(1.5 * np.cos(angle), 1.5 * np.sin(angle), 0.6) @ rotation_z(0.1 * t)
        eye = np.array([5.0 * np.cos(0.02 * t), 5.0 * np.sin(0.02 * t), 3.0])
        cams[t] = looking_at(eye, np.array([0.0, 0.0, 0.4]))
    return make_trajectory(meshes, poses, cams, Intrinsics.from_fov(50.0, resolution, resolution))
