"""Intrinsics constructors, resize and crop, checked through projection."""

from __future__ import annotations

import math

import numpy as np
import pytest

from worldsim.camera.conventions import look_at
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import pixel_rays, project_points, unproject

PIXEL_ATOL = 1e-9


def test_fov_constructors() -> None:
    vertical = Intrinsics.from_fov(60.0, 160, 90)
    assert vertical.vertical_fov_deg == pytest.approx(60.0)
    horizontal = Intrinsics.from_fov(90.0, 160, 90, axis="horizontal")
    assert horizontal.horizontal_fov_deg == pytest.approx(90.0) and horizontal.fx == pytest.approx(80.0)
    assert (vertical.cx, vertical.cy) == (80.0, 45.0)


def test_35mm_equivalent_and_sensor_agree_on_full_frame() -> None:
    # A 3:2 image from a 36 x 24 mm sensor: 35 mm-equivalent focal length = the lens focal length.
    from_sensor = Intrinsics.from_sensor(50.0, 36.0, 300, 200, sensor_height_mm=24.0)
    equivalent = Intrinsics.from_focal_35mm(50.0, 300, 200)
    assert from_sensor.fx == pytest.approx(equivalent.fx) and from_sensor.fy == pytest.approx(equivalent.fy)
    assert from_sensor.fx == pytest.approx(50.0 * 300 / 36.0)
    assert from_sensor.horizontal_fov_deg == pytest.approx(math.degrees(2 * math.atan(18 / 50)))


def test_resize_and_crop_move_projections_consistently() -> None:
    intrinsics = Intrinsics(fx=120.0, fy=110.0, cx=63.0, cy=49.0, width=128, height=96)
    pose = look_at(np.array([2.0, -2.0, 1.0]), np.array([0.0, 0.0, 0.3]))
    points = np.random.default_rng(0).uniform(-0.4, 0.4, size=(30, 3))
    uv, depth = project_points(points, pose, intrinsics)
    half, _ = project_points(points, pose, intrinsics.resize(64, 48))
    assert np.abs(half - uv / 2.0).max() < PIXEL_ATOL  # continuous coordinates scale with the image
    cropped = intrinsics.crop(10, 20, 64, 48)
    assert (cropped.width, cropped.height) == (64, 48)
    shifted, _ = project_points(points, pose, cropped)
    assert np.abs(shifted - (uv - [10, 20])).max() < PIXEL_ATOL
    assert np.allclose(unproject(uv, depth, pose, intrinsics), points)


def test_pixel_rays_are_unit_and_through_pixel_centres() -> None:
    intrinsics = Intrinsics(fx=50.0, fy=50.0, cx=8.0, cy=6.0, width=16, height=12)
    rays = pixel_rays(intrinsics)
    assert rays.shape == (12, 16, 3)
    assert np.allclose(np.linalg.norm(rays, axis=-1), 1.0)
    # Pixel (7, 5) has its centre at (7.5, 5.5): half a pixel left of and above the principal point.
    ray = rays[5, 7] / rays[5, 7, 2]
    assert np.allclose(ray, [-0.5 / 50.0, -0.5 / 50.0, 1.0])
    uv, _ = project_points(rays[5, 7][None] * 3.0, np.eye(4), intrinsics)
    assert np.allclose(uv, [[7.5, 5.5]])
