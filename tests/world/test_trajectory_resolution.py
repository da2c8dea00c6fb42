"""``Trajectory.with_resolution``: the same rollout seen at another image size."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import project_points
from worldsim.scene.model import MeshSpec


def test_resized_cameras_project_points_to_scaled_pixels():
    intrinsics = Intrinsics(50.0, 52.0, 33.0, 21.0, 64, 48)
    camera = np.stack([looking_at(np.array([-3.0, 0.5, 1.0]), np.zeros(3))] * 2)
    trajectory = make_trajectory(
        [MeshSpec(type="box")], np.stack([[translation(0, 0, 0)]] * 2), camera, intrinsics
    )
    bigger = trajectory.with_resolution(256, 96)
    assert bigger.resolution == (256, 96) and bigger.object_to_world is trajectory.object_to_world
    points = np.array([[0.1, 0.2, 0.3], [-0.4, 0.1, 0.0]])
    pose = camera[1]
    small_uv, small_depth = project_points(points, pose, trajectory.cameras["main"].intrinsics(1))
    large_uv, large_depth = project_points(points, pose, bigger.cameras["main"].intrinsics(1))
    np.testing.assert_allclose(large_uv, small_uv * [4.0, 2.0], rtol=1e-12)
    np.testing.assert_allclose(large_depth, small_depth)
    assert trajectory.cameras["main"].width == 64  # the original is untouched
    with pytest.raises(ValueError, match="positive"):
        trajectory.with_resolution(0, 10)
