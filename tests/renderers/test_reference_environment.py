"""The reference renderer's captured environments (orientation against Mitsuba, rotation), its
camera (tone map, exposure) and its thin lens (circle of confusion)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from renderers.base import create
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from renderers.reference.renderer import ReferenceRenderer
from worldsim.camera.conventions import equirect_direction
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.lens import CameraLens, circle_of_confusion_px
from worldsim.errors import AssetError, RenderError
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec

MAP_SIZE = (128, 256)
SPOT_SIGMA_DEG = 3.0


def _write_exr(path, rgb: np.ndarray) -> None:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"RGB": np.asarray(rgb, dtype=np.float32)}) as exr:
        exr.write(str(path))


def spot_map(path, u: float, v: float) -> np.ndarray:
    """Write a dark map with one bright Gaussian spot centred on texel coordinates (u, v); return
    the spot's world direction (unrotated) from ``equirect_direction``."""
    rows, columns = MAP_SIZE
    grid_u, grid_v = np.meshgrid((np.arange(columns) + 0.5) / columns, (np.arange(rows) + 0.5) / rows)
    centre = equirect_direction(u, v)
    angle = np.arccos(np.clip(equirect_direction(grid_u, grid_v) @ centre, -1.0, 1.0))
    spot = 50.0 * np.exp(-0.5 * (angle / np.radians(SPOT_SIGMA_DEG)) ** 2)
    _write_exr(path, np.repeat(spot[..., None], 3, axis=-1) + 0.001)
    return centre


def sky_trajectory(direction: np.ndarray, light: LightSpec, size: int = 48, fov: float = 30.0):
    """No entities: a camera at the origin looking along ``direction``, lit by ``light``."""
    intrinsics = Intrinsics.from_fov(fov, size, size)
    camera = looking_at(np.zeros(3), np.asarray(direction, dtype=np.float64))[None]
    trajectory = make_trajectory([], np.zeros((1, 0, 4, 4)), camera, intrinsics)
    trajectory.lights = [light]
    return trajectory


def radiance(trajectory, spp: int = 16) -> np.ndarray:
    renderer = create("reference", {"denoise": False})
    assert isinstance(renderer, ReferenceRenderer)
    return renderer.render_linear(trajectory, "main", 0, spp=spp)


def centroid_offset_deg(image: np.ndarray, fov: float) -> tuple[float, float]:
    """The brightness centroid's angle from the optical axis (x right, y down), degrees."""
    luminance = image.mean(axis=-1)
    size = luminance.shape[0]
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    focal = size / 2.0 / np.tan(np.radians(fov) / 2.0)
    cx, cy = (luminance * xs).sum() / luminance.sum(), (luminance * ys).sum() / luminance.sum()
    return float(np.degrees(np.arctan((cx - size / 2) / focal))), float(
        np.degrees(np.arctan((cy - size / 2) / focal))
    )


@pytest.mark.parametrize(("u", "v", "rotation"), [(0.1, 0.3, 0.0), (0.7, 0.62, 0.0), (0.35, 0.45, 70.0)])
def test_a_bright_spot_is_where_the_equirect_convention_says(tmp_path, u, v, rotation):
    """Mitsuba's Y-up envmap, through EQUIRECT_TO_MITSUBA_ENVMAP, shows the spot in the direction
    ``equirect_direction(u, v, rotation)``: the camera looking there sees it centred."""
    spot_map(tmp_path / "spot.exr", u, v)
    direction = equirect_direction(u, v, rotation)
    light = LightSpec(type="environment", hdri=str(tmp_path / "spot.exr"), rotation_deg=rotation)
    image = radiance(sky_trajectory(direction, light))
    assert image.max() > 20.0  # the spot is in view
    offset = centroid_offset_deg(image, 30.0)
    texel_deg = 180.0 / MAP_SIZE[0]
    assert max(abs(offset[0]), abs(offset[1])) < 0.25 * texel_deg, offset
    # and a camera looking the opposite way sees none of it
    away = radiance(sky_trajectory(-direction, light), spp=4)
    assert away.max() < 0.01


def test_a_rotated_hdri_rotates_the_background_exactly():
    """Turning the map by r about Z and the camera by r shows the same image."""
    rotation = 37.0
    azimuth, elevation = np.radians(20.0), np.radians(5.0)

    def view(turn_deg: float) -> np.ndarray:
        angle = azimuth + np.radians(turn_deg)
        direction = np.array([np.cos(angle) * np.cos(elevation), np.sin(angle) * np.cos(elevation), 0.1])
        light = LightSpec(type="environment", hdri="sunset", rotation_deg=turn_deg)
        return radiance(sky_trajectory(direction, light, size=32, fov=60.0), spp=4)

    still, turned = view(0.0), view(rotation)
    assert still.std() > 0.01  # the view shows structure, so a wrong rotation would show
    np.testing.assert_allclose(turned, still, rtol=2e-3, atol=1e-5)
    unturned = radiance(
        sky_trajectory(
            np.array([np.cos(azimuth + np.radians(rotation)), np.sin(azimuth + np.radians(rotation)), 0.1]),
            LightSpec(type="environment", hdri="sunset"),
            size=32,
            fov=60.0,
        ),
        spp=4,
    )
    assert np.abs(unturned - still).mean() > 0.05 * still.mean()


def test_an_hdri_at_intensity_one_shows_its_pixel_values_as_background_radiance(tmp_path):
    """A constant map of value c: every background pixel's radiance is c x intensity x color."""
    path = tmp_path / "grey.exr"
    _write_exr(path, np.full((*MAP_SIZE, 3), 0.7, dtype=np.float32))
    light = LightSpec(type="environment", hdri=str(path))
    assert light.intensity == 1.0  # the environment's default
    np.testing.assert_allclose(radiance(sky_trajectory([1.0, 0.0, 0.0], light), spp=2), 0.7, rtol=1e-4)
    light = LightSpec(type="environment", hdri=str(path), intensity=2.0, color=[1.0, 0.5, 0.25])
    image = radiance(sky_trajectory([1.0, 0.0, 0.0], light), spp=2)
    np.testing.assert_allclose(image.reshape(-1, 3).mean(axis=0), [1.4, 0.7, 0.35], rtol=1e-4)


def test_a_missing_hdri_names_the_light():
    light = LightSpec(type="environment", hdri="no_such_map")
    with pytest.raises(AssetError, match=r"lights\[0\]\.hdri: unknown shipped hdri 'no_such_map'"):
        radiance(sky_trajectory([1.0, 0.0, 0.0], light), spp=1)


def _point_trajectory(lens: CameraLens, depth: float, size: int = 96):
    """A small emissive sphere on the optical axis ``depth`` metres away, black surroundings."""
    intrinsics = Intrinsics.from_fov(20.0, size, size)
    camera = looking_at(np.zeros(3), np.array([1.0, 0.0, 0.0]))[None]
    glow = MaterialSpec(base_color=[0.0, 0.0, 0.0], emission=[1.0, 1.0, 1.0], emission_strength=50.0)
    trajectory = make_trajectory(
        [MeshSpec(type="sphere", radius=0.004 * depth, subdivisions=2)],
        translation(depth, 0.0, 0.0)[None, None],
        camera,
        intrinsics,
        materials=[glow],
    )
    trajectory.cameras["main"].lens = lens
    return trajectory, intrinsics


def _blur_radius_px(image: np.ndarray) -> float:
    """sqrt(2 x mean squared distance from the centroid): the radius of a uniform disc."""
    luminance = image.mean(axis=-1)
    ys, xs = np.mgrid[0 : luminance.shape[0], 0 : luminance.shape[1]] + 0.5
    total = luminance.sum()
    cx, cy = (luminance * xs).sum() / total, (luminance * ys).sum() / total
    return float(np.sqrt(2.0 * (luminance * ((xs - cx) ** 2 + (ys - cy) ** 2)).sum() / total))


@pytest.mark.parametrize(("depth", "focus"), [(1.5, 4.0), (8.0, 2.0)])
def test_depth_of_field_blur_matches_the_thin_lens_circle_of_confusion(depth, focus):
    lens = CameraLens(aperture_f=0.7, focus_distance=focus)
    trajectory, intrinsics = _point_trajectory(lens, depth)
    expected = circle_of_confusion_px(lens, intrinsics.fx, intrinsics.width, intrinsics.height, depth, focus)
    assert 8.0 < expected < 40.0  # a blur the measurement resolves
    blurred = _blur_radius_px(radiance(trajectory, spp=256))
    sharp_trajectory, _ = _point_trajectory(CameraLens(), depth)
    sharp = _blur_radius_px(radiance(sharp_trajectory, spp=64))
    # second moments add: the in-focus spot (sphere, pixel filter) widens the disc a little
    measured = 2.0 * np.sqrt(max(blurred**2 - sharp**2, 0.0))
    assert abs(measured / expected - 1.0) < 0.10, (measured, expected)


def test_focus_entity_and_autofocus_keep_the_subject_sharp():
    """Focusing on the sphere (by entity or by autofocus at the image centre) leaves it sharp."""
    sharp_trajectory, _ = _point_trajectory(CameraLens(), 3.0)
    sharp = _blur_radius_px(radiance(sharp_trajectory, spp=32))
    for lens in (CameraLens(aperture_f=1.4, focus_entity="entity1"), CameraLens(aperture_f=1.4)):
        trajectory, _ = _point_trajectory(lens, 3.0)
        assert _blur_radius_px(radiance(trajectory, spp=64)) < 1.3 * sharp + 0.5


def test_depth_of_field_refuses_an_off_centre_principal_point():
    trajectory, _ = _point_trajectory(CameraLens(aperture_f=2.0, focus_distance=3.0), 3.0)
    trajectory.cameras["main"].cx = trajectory.cameras["main"].cx + 2.0
    with pytest.raises(RenderError, match="centred principal point"):
        radiance(trajectory, spp=1)


def test_frames_go_through_the_cameras_tone_map_and_exposure(tmp_path):
    """The uint8 frames are ``tonemap_uint8`` of the radiance with the camera's settings."""
    from renderers.tonemap import tonemap_uint8

    path = tmp_path / "bright.exr"
    _write_exr(path, np.full((*MAP_SIZE, 3), 2.0, dtype=np.float32))
    trajectory = sky_trajectory([1.0, 0.0, 0.0], LightSpec(type="environment", hdri=str(path)), size=8)
    frames = {}
    for name, lens in {
        "filmic": CameraLens(),
        "standard": CameraLens(tonemap="standard"),
        "darker": CameraLens(exposure_ev=-2.0),
    }.items():
        trajectory.cameras["main"].lens = lens
        renderer = create("reference", {"samples_per_pixel": 2, "denoise": False})
        frames[name] = next(renderer.render_frames(trajectory, "main", [0], None))[1]
    assert np.all(frames["standard"] == 255)  # radiance 2 clips
    expected = tonemap_uint8(np.full((1, 1, 3), 2.0), curve="filmic")[0, 0]
    np.testing.assert_array_equal(frames["filmic"][4, 4], expected)
    assert 200 < int(expected[0]) < 255  # rolled off, not clipped
    assert frames["darker"][4, 4, 0] == tonemap_uint8(np.full((1, 1, 3), 0.5), curve="filmic")[0, 0, 0]
