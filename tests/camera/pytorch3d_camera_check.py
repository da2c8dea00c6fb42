"""Our pytorch3d conversion against pytorch3d's own cameras (run in the pytorch3d venv).

Imported by ``test_camera_conventions.test_pytorch3d_agrees`` where pytorch3d is installed, and
run as a script by it through ``WORLDSIM_P3D_PYTHON`` where it is not (the CI venv split).
"""

from __future__ import annotations

import numpy as np


def check_pytorch3d_cameras() -> None:
    """Raise AssertionError if our ``to_pytorch3d`` disagrees with pytorch3d's OpenCV import."""
    import torch
    from pytorch3d.utils import cameras_from_opencv_projection

    from worldsim.camera.conventions import look_at, to_open3d_extrinsic, to_pytorch3d
    from worldsim.camera.intrinsics import Intrinsics
    from worldsim.camera.projection import project_points

    intrinsics = Intrinsics(fx=100.0, fy=110.0, cx=30.0, cy=34.0, width=64, height=72)
    pose = look_at(np.array([2.0, -3.0, 1.5]), np.zeros(3))
    world_to_cam = to_open3d_extrinsic(pose)

    def tensor(values: np.ndarray) -> torch.Tensor:
        return torch.tensor(np.asarray(values), dtype=torch.float32)  # pytorch3d works in float32

    cameras = cameras_from_opencv_projection(
        tensor(world_to_cam[None, :3, :3]),
        tensor(world_to_cam[None, :3, 3]),
        tensor(intrinsics.matrix[None]),
        tensor([[intrinsics.height, intrinsics.width]]),
    )
    R, T = to_pytorch3d(pose)
    assert np.allclose(cameras.R.numpy()[0], R, atol=1e-6)
    assert np.allclose(cameras.T.numpy()[0], T, atol=1e-5)
    points = np.random.default_rng(0).uniform(-0.5, 0.5, size=(50, 3))
    view = cameras.get_world_to_view_transform().transform_points(tensor(points[None])).numpy()[0]
    assert np.allclose(view, points @ R + T, atol=1e-5)
    # pytorch3d's screen projection in pixels against ours (OpenCV convention, centres at +0.5)
    screen = cameras.transform_points_screen(tensor(points[None])).numpy()[0]
    uv, _ = project_points(points, pose, intrinsics)
    assert np.allclose(screen[:, :2], uv, atol=1e-3), np.abs(screen[:, :2] - uv).max()


if __name__ == "__main__":
    check_pytorch3d_cameras()
    print("pytorch3d cameras agree")
