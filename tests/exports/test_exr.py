"""The ``exr`` export: OpenEXR's reader gives back the clip's float32 depth bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def test_depth_round_trips_exactly(clip_copy: Path) -> None:
    import OpenEXR

    from worldsim.clip.clip import Clip
    from worldsim.exports.registry import export_clip

    export_clip(clip_copy, ["exr"])
    clip = Clip(clip_copy)
    track = clip.trajectory().cameras[clip.camera]
    for frame in range(clip.num_frames):
        with OpenEXR.File(str(clip_copy / "exports" / "depth_exr" / f"{frame:05d}.exr")) as exr:
            channel = exr.channels()["Z"]
            header = dict(exr.header())  # the file owns its header until closed
            pixels = np.array(channel.pixels)
        expected = np.load(clip_copy / "depth" / f"{frame:05d}.npy")
        assert pixels.dtype == np.float32 and pixels.shape == (32, 32)
        assert np.isinf(expected).any() and np.isfinite(expected).any()  # background and surfaces
        assert np.array_equal(pixels, expected) and pixels.tobytes() == expected.tobytes()
        np.testing.assert_array_equal(
            np.reshape(json.loads(header["worldsim_K"]), (3, 3)), track.intrinsics(frame).matrix
        )


def test_exr_needs_exact_depth(clip_copy: Path) -> None:
    import pytest

    from worldsim.errors import ExportError
    from worldsim.exports.registry import export_clip

    (clip_copy / "depth" / "00001.npy").unlink()
    with pytest.raises(ExportError) as error:
        export_clip(clip_copy, ["exr"])
    assert str(clip_copy / "depth" / "00001.npy") in str(error.value) and "depth_exact" in str(error.value)
