"""Conventions: round trips, and agreement with OpenCV, open3d and pytorch3d (where installed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from worldsim.camera.conventions import (
    from_open3d_extrinsic,
    from_pytorch3d,
    look_at,
    opencv_to_opengl,
    opengl_to_opencv,
    to_open3d_extrinsic,
    to_pytorch3d,
)
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import pixel_rays, project_points, unproject
from worldsim.errors import SceneError

POSE_ATOL = 1e-12
PIXEL_ATOL = 1e-6
"""Pixel agreement with another library's projection (float64 both sides)."""


def random_poses(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    poses = np.tile(np.eye(4), (count, 1, 1))
    poses[:, :3, :3] = Rotation.random(count, random_state=seed).as_matrix()
    poses[:, :3, 3] = rng.uniform(-5, 5, size=(count, 3))
    return poses


def test_opengl_round_trip_and_axes() -> None:
    poses = random_poses(20)
    assert np.allclose(opengl_to_opencv(opencv_to_opengl(poses)), poses, atol=POSE_ATOL)
    gl = opencv_to_opengl(poses)
    # OpenGL looks down its -z: the same world direction as our +z.
    assert np.allclose(-gl[:, :3, 2], poses[:, :3, 2])
    assert np.allclose(-gl[:, :3, 1], poses[:, :3, 1])  # y up vs y down
    assert np.allclose(gl[:, :3, 3], poses[:, :3, 3])


def test_open3d_and_pytorch3d_round_trips() -> None:
    poses = random_poses(20, seed=1)
    assert np.allclose(from_open3d_extrinsic(to_open3d_extrinsic(poses)), poses, atol=POSE_ATOL)
    R, T = to_pytorch3d(poses)
    assert np.allclose(from_pytorch3d(R, T), poses, atol=1e-10)


def test_pytorch3d_row_vector_convention_by_hand() -> None:
    """X_cam = X_world @ R + T lands in pytorch3d's frame: x left, y up, z forward."""
    pose = look_at(np.array([0.0, -4.0, 0.0]), np.array([0.0, 0.0, 0.0]))  # looking along +y, z up
    R, T = to_pytorch3d(pose)
    point_right_up_ahead = np.array([1.0, 0.0, 2.0])  # world +x is image right, +z is up
    cam = point_right_up_ahead @ R + T
    assert cam[0] < 0 and cam[1] > 0 and cam[2] == pytest.approx(4.0)


def test_look_at_axes_and_degenerate_errors() -> None:
    pose = look_at(np.array([3.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0]))
    assert np.allclose(pose[:3, 2], [-1, 0, 0])  # forward
    assert np.allclose(pose[:3, 1], [0, 0, -1])  # image down is world down
    assert np.allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3))
    assert np.linalg.det(pose[:3, :3]) == pytest.approx(1.0)
    with pytest.raises(SceneError, match="target is at the camera position"):
        look_at(np.ones(3), np.ones(3), key_path="cameras[main]")
    with pytest.raises(SceneError, match="parallel to up") as error:
        look_at(np.array([0.0, 0.0, 5.0]), np.zeros(3), key_path="cameras[main]")
    assert error.value.key_path == "cameras[main]"


def test_project_points_matches_opencv() -> None:
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    intrinsics = Intrinsics(fx=210.0, fy=190.0, cx=61.3, cy=70.7, width=128, height=144)
    pose = look_at(np.array([2.0, -3.0, 1.5]), np.array([0.1, 0.2, 0.3]))
    points = rng.uniform(-1, 1, size=(200, 3))
    uv, depth = project_points(points, pose, intrinsics)
    world_to_cam = to_open3d_extrinsic(pose)
    rvec, _ = cv2.Rodrigues(world_to_cam[:3, :3])
    expected, _ = cv2.projectPoints(points, rvec, world_to_cam[:3, 3], intrinsics.matrix, np.zeros(5))
    assert np.abs(uv - expected[:, 0]).max() < PIXEL_ATOL
    assert np.all(depth > 0)
    assert np.allclose(unproject(uv, depth, pose, intrinsics), points, atol=1e-9)


def test_pixel_rays_match_open3d_create_rays_pinhole() -> None:
    o3d = pytest.importorskip("open3d")
    intrinsics = Intrinsics(fx=40.0, fy=44.0, cx=15.5, cy=12.0, width=32, height=24)
    pose = look_at(np.array([1.0, -2.0, 1.0]), np.array([0.0, 0.0, 0.2]))
    # open3d (0.17+) casts through pixel centres u + 0.5 like us: same K, no shift.
    rays = o3d.t.geometry.RaycastingScene.create_rays_pinhole(
        o3d.core.Tensor(intrinsics.matrix),
        o3d.core.Tensor(to_open3d_extrinsic(pose)),
        intrinsics.width,
        intrinsics.height,
    ).numpy()
    directions = rays[..., 3:] / np.linalg.norm(rays[..., 3:], axis=-1, keepdims=True)
    ours = pixel_rays(intrinsics) @ pose[:3, :3].T
    assert rays.shape[:2] == (intrinsics.height, intrinsics.width)
    assert np.abs(directions - ours).max() < 1e-6  # open3d works in float32
    assert np.allclose(rays[0, 0, :3], pose[:3, 3], atol=1e-6)


def test_pytorch3d_agrees() -> None:
    """In this venv if pytorch3d imports, else in the pytorch3d venv named by WORLDSIM_P3D_PYTHON
    (a CI run without it fails rather than skips)."""
    import importlib.util
    import os
    import subprocess
    from pathlib import Path

    script = Path(__file__).with_name("pytorch3d_camera_check.py")
    if importlib.util.find_spec("pytorch3d") is not None:
        import runpy

        runpy.run_path(str(script))["check_pytorch3d_cameras"]()
        return
    python = os.environ.get("WORLDSIM_P3D_PYTHON")
    if not python:
        message = (
            "pytorch3d is not installed and WORLDSIM_P3D_PYTHON is not set (tools/ci/setup_pytorch3d_venv.sh)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run([python, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "pytorch3d cameras agree" in result.stdout
