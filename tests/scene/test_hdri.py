"""Environment maps: shipped names, path resolution, loading (.exr and .hdr), bad files, orientation."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from worldsim.camera.conventions import direction_to_equirect, environment_rotation, equirect_direction
from worldsim.errors import AssetError
from worldsim.scene.hdri import load_hdri, resolve_hdri, shipped_hdri_names

SHIPPED = ["city", "courtyard", "forest", "interior", "night", "studio", "sunrise", "sunset"]


def _write_exr(path, rgb: np.ndarray) -> None:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"RGB": np.asarray(rgb, dtype=np.float32)}) as exr:
        exr.write(str(path))


def _write_rgbe(path, rgb: np.ndarray, run_length: bool) -> None:
    """An independent RGBE encoder (flat or new-style RLE with literal runs only)."""
    height, width, _ = rgb.shape
    peak = rgb.max(axis=-1)
    mantissa, exponent = np.frexp(peak)
    scale = np.where(peak > 1e-32, mantissa * 256.0 / np.maximum(peak, 1e-32), 0.0)
    rgbe = np.zeros((height, width, 4), dtype=np.uint8)
    rgbe[..., :3] = np.clip(np.floor(rgb * scale[..., None]), 0, 255)
    rgbe[..., 3] = np.where(peak > 1e-32, exponent + 128, 0)
    out = bytearray(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + f"-Y {height} +X {width}\n".encode())
    for row in rgbe:
        if not run_length:
            out += row.tobytes()
            continue
        out += bytes([2, 2, width >> 8, width & 255])
        for channel in range(4):
            values = row[:, channel]
            for start in range(0, width, 128):
                chunk = values[start : start + 128]
                out += bytes([len(chunk)]) + chunk.tobytes()
    path.write_bytes(bytes(out))


def test_every_shipped_map_loads_clean_and_two_to_one():
    assert shipped_hdri_names() == SHIPPED
    for name in SHIPPED:
        radiance = load_hdri(resolve_hdri(name))
        assert radiance.shape == (512, 1024, 3) and radiance.dtype == np.float32
        assert np.isfinite(radiance).all() and radiance.min() >= 0.0
        assert 0.05 < radiance.mean() < 5.0, name
        assert not radiance.flags.writeable


def test_unknown_name_and_missing_or_wrong_files_name_the_key(tmp_path):
    scene_file = tmp_path / "scene.yaml"
    with pytest.raises(AssetError, match=r"lights\[0\]\.hdri: unknown shipped hdri 'sunsett'.*sunset"):
        resolve_hdri("sunsett", scene_file, key_path="lights[0].hdri")
    with pytest.raises(AssetError, match="environment map not found"):
        resolve_hdri("maps/missing.exr", scene_file, key_path="lights[0].hdri")
    (tmp_path / "map.png").write_bytes(b"x")
    with pytest.raises(AssetError, match=r"unsupported environment map type '\.png'"):
        resolve_hdri("map.png", scene_file)
    corrupt = tmp_path / "corrupt.exr"
    corrupt.write_bytes(b"not an exr at all")
    with pytest.raises(AssetError, match="unreadable environment map"):
        load_hdri(resolve_hdri("corrupt.exr", scene_file))
    square = tmp_path / "square.exr"
    _write_exr(square, np.ones((16, 16, 3)))
    with pytest.raises(AssetError, match="not an equirectangular map: 16x16"):
        load_hdri(square)


def test_relative_paths_resolve_from_the_scene_file(tmp_path):
    (tmp_path / "maps").mkdir()
    _write_exr(tmp_path / "maps" / "sky.exr", np.full((8, 16, 3), 0.25))
    path = resolve_hdri("maps/sky.exr", tmp_path / "scene.yaml")
    assert path == (tmp_path / "maps" / "sky.exr").resolve()
    np.testing.assert_allclose(load_hdri(path), 0.25)


def test_negative_and_non_finite_pixels_are_zeroed_with_one_warning(tmp_path, caplog):
    rgb = np.full((8, 16, 3), 2.0, dtype=np.float32)
    rgb[0, 0, 0], rgb[1, 1, 1], rgb[2, 2, 2] = -1.0, np.nan, np.inf
    path = tmp_path / "dirty.exr"
    _write_exr(path, rgb)
    with caplog.at_level(logging.WARNING, logger="worldsim.scene.hdri"):
        radiance = load_hdri(path)
    assert [record.getMessage() for record in caplog.records] == [
        f"{path}: 3 pixels negative or not finite, set to 0"
    ]
    assert radiance[0, 0, 0] == radiance[1, 1, 1] == radiance[2, 2, 2] == 0.0
    assert np.count_nonzero(radiance == 2.0) == rgb.size - 3


@pytest.mark.parametrize("run_length", [False, True])
def test_radiance_hdr_decodes_to_within_rgbe_precision(tmp_path, run_length):
    rng = np.random.default_rng(3)
    rgb = (rng.random((8, 16, 3)) * np.logspace(-2, 3, 16)[None, :, None]).astype(np.float32)
    path = tmp_path / "map.hdr"
    _write_rgbe(path, rgb, run_length)
    decoded = load_hdri(path)
    # RGBE keeps 8 mantissa bits of the brightest channel: error < 1/128 of the pixel's peak.
    tolerance = rgb.max(axis=-1, keepdims=True) / 128.0
    assert np.all(np.abs(decoded - rgb) <= tolerance)


def test_equirect_convention_round_trips_and_names_its_axes():
    np.testing.assert_allclose(equirect_direction(0.5, 0.5), [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(equirect_direction(0.25, 0.5), [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(equirect_direction(0.3, 0.0), [0.0, 0.0, 1.0], atol=1e-12)
    rng = np.random.default_rng(0)
    u, v = rng.random(500), 0.01 + 0.98 * rng.random(500)
    for rotation in (0.0, 35.0, -200.0):
        back_u, back_v = direction_to_equirect(equirect_direction(u, v, rotation), rotation)
        np.testing.assert_allclose(np.column_stack([back_u, back_v]), np.column_stack([u, v]), atol=1e-12)
        # The rotation turns the directions about +Z by the same angle.
        turned = (environment_rotation(rotation)[:3, :3] @ equirect_direction(u, v).T).T
        np.testing.assert_allclose(turned, equirect_direction(u, v, rotation), atol=1e-12)
