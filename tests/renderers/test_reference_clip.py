"""``worldsim render SCENE --renderer reference``: rgb frames, video, contact sheet, resume; the
scalar fallback variant renders the same picture as the LLVM one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from worldsim.cli.main import main
from worldsim.clip import Clip

SCENE = """\
name: reference_tiny
seed: 4
fps: 8
num_frames: 3
resolution: [40, 32]
entities:
  - {name: ground, semantic_class: ground, mesh: {type: plane, size: [8, 8]},
     material: {base_color: [0.6, 0.6, 0.6], texture: {type: checker, scale: 0.5}}}
  - name: ball
    semantic_class: ball
    mesh: {type: sphere, radius: 0.4}
    material: {base_color: [0.9, 0.1, 0.1], roughness: 0.3}
    pose: {position: [0, 0, 0.4]}
    motion: {type: velocity, linear_velocity: [0.8, 0, 0]}
    physics: {mode: kinematic}
lights:
  - {type: sun, direction: [-0.3, 0.4, -1.0], intensity: 3.0}
  - {type: environment, sky: procedural, intensity: 0.5}
cameras:
  - {name: main, fov_deg: 50, position: [-3, -2, 2], look_at: [0, 0, 0.3]}
render: {samples_per_pixel: 4}
"""


@pytest.fixture
def scene_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENE)
    return path


def test_cli_renders_frames_video_and_resumes_identically(scene_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip"
    assert main(["render", str(scene_file), "--renderer", "reference", "--out", str(out), "--quiet"]) == 0
    for name in ("video.mp4", "guidance.mp4", "contact_sheet.png", "rgb/00000.png", "rgb/00002.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    clip = Clip(out)
    first = clip.rgb(1)
    assert first.shape == (32, 40, 3) and first.dtype == np.uint8
    ball = clip.instance(1) == 2
    red = first[ball].astype(float).mean(axis=0)
    assert red[0] > 1.5 * red[1], red
    assert clip.metadata["settings"]["appearance"]["renderer"] == "reference"
    before = (out / "rgb/00001.png").read_bytes()
    (out / "rgb/00001.png").unlink()
    stamp = (out / "rgb/00000.png").stat().st_mtime_ns
    assert main(["render", str(scene_file), "--renderer", "reference", "--out", str(out), "--quiet"]) == 0
    assert (out / "rgb/00001.png").read_bytes() == before  # same seed per frame: same pixels
    assert (out / "rgb/00000.png").stat().st_mtime_ns == stamp  # not re-rendered


def test_scalar_variant_renders_the_same_picture(scene_file: Path) -> None:
    """The fallback without LLVM (scalar_rgb) and the LLVM variant agree up to sampling noise."""
    script = textwrap.dedent(
        f"""
        import sys, numpy as np
        from renderers.base import create
        from worldsim.render import load_and_validate, rollout
        trajectory = rollout(load_and_validate({str(scene_file)!r}))
        renderer = create("reference", {{"variant": sys.argv[1]}})
        image = renderer.render_linear(trajectory, "main", 0, spp=64)
        np.save(sys.argv[2], image)
        print(renderer.variant)
        """
    )
    images = {}
    # "auto" without a usable libLLVM falls back to scalar_rgb with a one-line notice
    runs = {"scalar_rgb": ("auto", "/nonexistent/libLLVM.so"), "llvm_ad_rgb": ("llvm_ad_rgb", None)}
    for variant, (requested, libllvm) in runs.items():
        target = scene_file.parent / f"{variant}.npy"
        env = {key: value for key, value in os.environ.items() if key != "DRJIT_LIBLLVM_PATH"}
        if libllvm:
            env["DRJIT_LIBLLVM_PATH"] = libllvm
        result = subprocess.run(
            [sys.executable, "-c", script, requested, str(target)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip().endswith(variant)
        if variant == "scalar_rgb":
            assert "scalar_rgb variant" in result.stderr and "libllvm19" in result.stderr
        images[variant] = np.load(target)
    scalar, llvm = images["scalar_rgb"], images["llvm_ad_rgb"]
    assert abs(scalar.mean() / llvm.mean() - 1.0) < 0.03
    np.testing.assert_allclose(scalar.mean(axis=(0, 1)), llvm.mean(axis=(0, 1)), rtol=0.05)
