"""Pinhole projection and unprojection with our conventions (OpenCV axes, pixel centres at +0.5)."""

from __future__ import annotations

import numpy as np

from worldsim.camera.conventions import invert_pose
from worldsim.camera.intrinsics import Intrinsics


def project_points(
    points_world: np.ndarray, cam_to_world: np.ndarray, intrinsics: Intrinsics
) -> tuple[np.ndarray, np.ndarray]:
    """Project world points (N, 3) to pixels.

    Returns ``uv`` (N, 2) continuous pixel coordinates (the centre of pixel ``(0, 0)`` is
    ``(0.5, 0.5)``) and ``depth`` (N,) metres along the optical axis (negative behind the camera,
    where ``uv`` is meaningless).
    """
    points = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
    world_to_cam = invert_pose(cam_to_world)
    cam = points @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    depth = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = intrinsics.fx * cam[:, 0] / depth + intrinsics.cx
        v = intrinsics.fy * cam[:, 1] / depth + intrinsics.cy
    return np.stack([u, v], axis=-1), depth


def unproject(
    uv: np.ndarray, depth: np.ndarray, cam_to_world: np.ndarray, intrinsics: Intrinsics
) -> np.ndarray:
    """World points (N, 3) at pixel coordinates ``uv`` (N, 2) and optical-axis ``depth`` (N,) metres."""
    uv = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
    depth = np.asarray(depth, dtype=np.float64).reshape(-1)
    cam = np.stack(
        [
            (uv[:, 0] - intrinsics.cx) / intrinsics.fx * depth,
            (uv[:, 1] - intrinsics.cy) / intrinsics.fy * depth,
            depth,
        ],
        axis=-1,
    )
    pose = np.asarray(cam_to_world, dtype=np.float64)
    return cam @ pose[:3, :3].T + pose[:3, 3]


def pixel_rays(intrinsics: Intrinsics) -> np.ndarray:
    """(H, W, 3) float64 unit direction vectors in the camera frame through every pixel centre.

    Multiply a ray by ``depth / ray[..., 2]`` to get the point at optical-axis depth ``depth``.
    """
    u = np.arange(intrinsics.width, dtype=np.float64) + 0.5
    v = np.arange(intrinsics.height, dtype=np.float64) + 0.5
    uu, vv = np.meshgrid(u, v, indexing="xy")
    x = (uu - intrinsics.cx) / intrinsics.fx
    y = (vv - intrinsics.cy) / intrinsics.fy
    rays = np.stack([x, y, np.ones_like(uu)], axis=-1)
    return rays / np.linalg.norm(rays, axis=-1, keepdims=True)


def world_rays(intrinsics: Intrinsics, cam_to_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray ``origins`` (H, W, 3) and unit ``directions`` (H, W, 3) in the world frame."""
    pose = np.asarray(cam_to_world, dtype=np.float64)
    directions = pixel_rays(intrinsics) @ pose[:3, :3].T
    origins = np.broadcast_to(pose[:3, 3], directions.shape).copy()
    return origins, directions
