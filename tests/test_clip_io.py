"""Clip folder I/O: encodings round trip, atomic writes, layout completeness, videos, Clip reader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from worldsim.clip import atomic, encodings, video
from worldsim.clip.layout import ClipLayout
from worldsim.clip.metadata import ClipFolderError, read_metadata

DEPTH_TOLERANCE_M = 0.0005
"""Half a millimetre: the PNG stores rounded millimetres."""
NORMAL_TOLERANCE_DEG = 0.5
"""8-bit normals: worst-case angular error of (n+1)/2*255 quantisation is well under 0.5 deg."""
FLOW_RELATIVE_TOLERANCE = 1e-3
"""float16 has an 11-bit significand: relative error <= 2**-11 ~ 4.9e-4."""


def test_depth_png_round_trip_within_half_a_millimetre(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.01, 60.0, size=(17, 23)).astype(np.float32)
    depth[0, :5] = np.inf
    depth[1, 0] = np.nan
    depth[1, 1] = 0.0
    atomic.write_png(tmp_path / "d.png", encodings.encode_depth(depth))
    stored = encodings.read_png(tmp_path / "d.png")
    assert stored.dtype == np.uint16
    decoded = encodings.decode_depth(stored)
    background = ~np.isfinite(depth) | (depth <= 0)
    assert np.all(np.isinf(decoded[background]))
    np.testing.assert_allclose(decoded[~background], depth[~background], atol=DEPTH_TOLERANCE_M)


def test_depth_encoding_clips_far_values_and_keeps_tiny_ones_foreground() -> None:
    encoded = encodings.encode_depth(np.array([[100.0, 0.0001, 65.535]]))
    assert encoded.tolist() == [[65535, 1, 65535]]


def test_id_png_round_trip_is_exact(tmp_path: Path) -> None:
    ids = np.random.default_rng(1).integers(0, 65536, size=(9, 11)).astype(np.int64)
    atomic.write_png(tmp_path / "ids.png", encodings.encode_ids(ids))
    decoded = encodings.decode_ids(encodings.read_png(tmp_path / "ids.png"))
    assert decoded.dtype == np.uint16
    np.testing.assert_array_equal(decoded, ids)
    with pytest.raises(ValueError, match="65535"):
        encodings.encode_ids(np.array([[70000]]))


def test_normal_png_round_trip_within_half_a_degree(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    normal = rng.normal(size=(20, 30, 3)).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    normal[:3, :3] = 0.0
    atomic.write_png(tmp_path / "n.png", encodings.encode_normal(normal))
    decoded = encodings.decode_normal(encodings.read_png(tmp_path / "n.png"))
    assert np.all(decoded[:3, :3] == 0.0)
    foreground = np.ones((20, 30), dtype=bool)
    foreground[:3, :3] = False
    cosine = np.clip(np.sum(decoded[foreground] * normal[foreground], axis=-1), -1.0, 1.0)
    worst = np.degrees(np.arccos(cosine)).max()
    assert worst < NORMAL_TOLERANCE_DEG, f"largest angular error {worst:.3f} deg"


def test_flow_npy_round_trip_float16(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    flow = rng.uniform(-200, 200, size=(8, 12, 2)).astype(np.float32)
    valid = rng.random((8, 12)) > 0.5
    atomic.write_npy(tmp_path / "f.npy", encodings.encode_flow(flow, (8, 12)))
    atomic.write_png(tmp_path / "v.png", encodings.encode_mask(valid, (8, 12)))
    stored = encodings.read_npy(tmp_path / "f.npy")
    assert stored.dtype == np.float16 and stored.shape == (8, 12, 2)
    np.testing.assert_allclose(stored.astype(np.float32), flow, rtol=FLOW_RELATIVE_TOLERANCE, atol=1e-3)
    np.testing.assert_array_equal(encodings.decode_mask(encodings.read_png(tmp_path / "v.png")), valid)
    missing = encodings.encode_flow(None, (4, 5))
    assert missing.shape == (4, 5, 2) and not missing.any()
    assert not encodings.encode_mask(None, (4, 5)).any()


def test_rgb_png_round_trip(tmp_path: Path) -> None:
    rgb = np.random.default_rng(4).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    atomic.write_png(tmp_path / "rgb.png", rgb)
    np.testing.assert_array_equal(encodings.read_png(tmp_path / "rgb.png"), rgb)


def test_crash_during_replace_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "metadata.json"
    atomic.write_json(target, {"version": 1})

    def crash(source: str, destination: str) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        atomic.write_json(target, {"version": 2})
    with pytest.raises(OSError, match="simulated crash"):
        atomic.write_png(tmp_path / "new.png", np.zeros((4, 4), dtype=np.uint8))
    monkeypatch.undo()
    assert read_metadata(target) == {"version": 1}
    assert not (tmp_path / "new.png").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["metadata.json"]


def test_crash_while_writing_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"

    def failing_frames():
        yield np.zeros((8, 8, 3), dtype=np.uint8)
        raise RuntimeError("renderer died")

    with pytest.raises(RuntimeError, match="renderer died"):
        video.write_mp4(failing_frames(), target, fps=24)
    assert list(tmp_path.iterdir()) == []


def test_layout_completeness_and_stale_temp_cleanup(tmp_path: Path) -> None:
    layout = ClipLayout(tmp_path)
    maps = ["depth", "instance", "flow"]
    for frame in range(3):
        for path in layout.frame_files(maps, frame):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
    layout.map_files("flow", 1)[1].unlink()  # flow_valid of frame 1
    assert layout.incomplete_frames(maps, range(4)) == [1, 3]
    assert layout.frame_files(["flow"], 2) == [tmp_path / "flow/00002.npy", tmp_path / "flow_valid/00002.png"]
    (tmp_path / "depth" / f"{atomic.TEMP_PREFIX}00004.png").write_bytes(b"partial")
    assert layout.remove_stale_temp_files() == 1
    layout.clear()
    assert list(tmp_path.iterdir()) == []


def test_mp4_has_even_size_and_all_frames(tmp_path: Path) -> None:
    import imageio.v3 as iio

    frames = [np.full((15, 21, 3), 20 * index, dtype=np.uint8) for index in range(5)]
    path = video.write_mp4(iter(frames), tmp_path / "video.mp4", fps=10)
    decoded = iio.imread(path, plugin="pyav") if _has_pyav() else np.stack(list(_read_ffmpeg(path)))
    assert decoded.shape == (5, 16, 22, 3)
    # H.264 at crf 18 on flat frames: grey levels survive within a few steps.
    assert np.abs(decoded[:, :15, :21].mean(axis=(1, 2, 3)) - np.arange(5) * 20).max() < 3.0


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _read_ffmpeg(path: Path):
    import imageio.v2 as imageio

    reader = imageio.get_reader(path, format="FFMPEG")
    try:
        yield from reader
    finally:
        reader.close()


def test_contact_sheet_grid_and_labels(tmp_path: Path) -> None:
    frames = list(range(30))

    def load(frame: int) -> np.ndarray:
        return np.full((20, 16, 3), frame * 8, dtype=np.uint8)

    assert video.evenly_spaced(frames, 4) == [0, 10, 19, 29]
    sheet = video.contact_sheet(load, frames, count=4, columns=2, label_height=10)
    assert sheet.shape == (2 * 30, 2 * 16, 3)
    # Cell (row 1, col 1) shows frame 29 below its label strip.
    assert np.all(sheet[30 + 10 :, 16:] == 29 * 8)
    # Labels are drawn: the label strip is not uniform.
    assert sheet[:10, :16].std() > 0
    path = video.write_contact_sheet(load, frames, tmp_path / "sheet.png", count=4, columns=2)
    assert encodings.read_png(path).shape[1] == 32


def test_read_metadata_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ClipFolderError, match=r"no metadata\.json"):
        read_metadata(tmp_path / "metadata.json")
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(ClipFolderError, match=r"metadata\.json: unreadable"):
        read_metadata(tmp_path / "metadata.json")
