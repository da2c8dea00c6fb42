"""``--quiet`` prints nothing on a clean render: no library loading bars or notices, no Mitsuba log
(it writes to the process's stdout, so these tests capture the file descriptors)."""

from __future__ import annotations

import json

import pytest

from worldsim.cli.main import main

SCENE = """\
name: quiet
fps: 8
num_frames: 3
resolution: [48, 32]
prompt: a red box on a blue floor
entities:
  - {name: floor, semantic_class: ground, mesh: {type: plane, size: [10, 10]}}
  - {name: box, semantic_class: box, mesh: {type: box, size: [0.6, 0.6, 0.6]}, pose: {position: [0, 0, 0.3]}}
cameras:
  - {name: main, fov_deg: 50, position: [3, -3, 2], look_at: [0, 0, 0.3]}
"""


@pytest.fixture
def scene_file(tmp_path):
    path = tmp_path / "scene.yaml"
    path.write_text(SCENE)
    return path


def test_quiet_reference_render_prints_nothing(scene_file, tmp_path, capfd) -> None:
    pytest.importorskip("mitsuba")
    # 5 samples per pixel: the multijitter sampler rounds it up to 6, which Mitsuba warned on every frame
    args = ["--quiet", "render", str(scene_file), "--renderer", "reference", "--spp", "5"]
    assert main([*args, "--out", str(tmp_path / "clip")]) == 0
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
    assert len(list((tmp_path / "clip" / "rgb").glob("*.png"))) == 3


def test_quiet_adapter_render_prints_nothing(scene_file, tmp_path, capfd, make_adapter, tiny_options) -> None:
    make_adapter("wan_vace")  # builds and saves the tiny pipeline once per session
    options = {**tiny_options, "window": 5, "overlap": 0}
    pairs = [f"--option={key}={json.dumps(value)}" for key, value in options.items() if key != "prompt"]
    capfd.readouterr()
    weights = str(make_adapter.folders["wan_vace"])
    args = ["--quiet", "render", str(scene_file), "--renderer", "wan_vace", "--weights", weights, *pairs]
    assert main([*args, "--out", str(tmp_path / "clip")]) == 0
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
    assert len(list((tmp_path / "clip" / "rgb").glob("*.png"))) == 3
