"""The ``worldsim`` command line: exit codes, messages, simulate output, a guidance render."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from worldsim.cli.main import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO = REPO_ROOT / "scenes" / "demo.yaml"

TINY_SCENE = """\
name: tiny_cli
fps: 8
num_frames: 3
resolution: [24, 16]
entities:
  - {name: floor, semantic_class: ground, mesh: {type: plane, size: [10, 10]}}
  - name: ball
    semantic_class: ball
    mesh: {type: sphere, radius: 0.3}
    pose: {position: [0, 0, 1.0]}
    physics: {mode: dynamic}
cameras:
  - {name: main, fov_deg: 50, position: [3, -3, 2], look_at: [0, 0, 0.3]}
"""


@pytest.fixture
def tiny_scene_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SCENE)
    return path


def test_validate_good_file_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DEMO)]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"{DEMO}: valid"
    assert main(["--quiet", "validate", str(DEMO)]) == EXIT_OK
    assert capsys.readouterr().out == ""


def test_validate_bad_file_lists_every_problem_with_key_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_SCENE.replace("radius: 0.3", "radius: -0.3").replace("fps: 8", "fps: 8\nfsp: 3"))
    assert main(["validate", str(bad), str(DEMO)]) == EXIT_FAILURE
    captured = capsys.readouterr()
    assert f"{DEMO}: valid" in captured.out
    assert "fsp" in captured.err and "entities[1].mesh.radius" in captured.err
    # the demo's line is its renderer's unknown-words warning (worldsim validate reports those)
    assert all(line.startswith((str(bad), f"{DEMO}: warning:")) for line in captured.err.strip().splitlines())
    assert "Traceback" not in captured.err


def test_missing_file_is_a_clean_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    for command in (
        ["validate", str(missing)],
        ["info", str(missing)],
        ["render", str(missing), "--out", str(tmp_path / "o")],
    ):
        assert main(command) == EXIT_USAGE
        err = capsys.readouterr().err
        assert err.strip() == f"error: {missing}: file not found"


def test_argparse_usage_error_exits_two() -> None:
    with pytest.raises(SystemExit) as stop:
        main(["render"])
    assert stop.value.code == EXIT_USAGE


def test_info_lists_entities_classes_cameras_lights(tiny_scene_file: Path, capsys) -> None:
    assert main(["info", str(tiny_scene_file)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "frames: 3 at 8 fps" in out and "resolution 24x16" in out
    assert "entities (2):" in out and "ball" in out and "dynamic" in out
    assert "classes: ground=1, ball=2" in out
    assert "cameras (1):" in out and "lights (1):" in out


def test_simulate_writes_scene_metadata_and_trajectory(tiny_scene_file: Path, tmp_path: Path) -> None:
    from worldsim.scene.yaml_io import load_scene
    from worldsim.state import Trajectory

    out = tmp_path / "sim"
    assert main(["--quiet", "simulate", str(tiny_scene_file), "--out", str(out)]) == EXIT_OK
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json", "scene.yaml", "trajectory.json"]
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["num_frames"] == 3 and metadata["resolution"] == [24, 16]
    assert [row["name"] for row in metadata["entities"]] == ["floor", "ball"]
    assert len(metadata["cameras"]["main"]["cam_to_world"]) == 3
    ball_z = [frame["2"][2][3] for frame in metadata["entity_poses"]]
    assert ball_z[0] == pytest.approx(1.0) and ball_z[2] < ball_z[0]  # falling
    trajectory = Trajectory.load(out / "trajectory.json")
    np.testing.assert_allclose(trajectory.object_to_world[:, 1, 2, 3], ball_z)
    assert load_scene(out / "scene.yaml").entity("ball").id == 2


def test_render_guidance_only_from_the_command_line(tiny_scene_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip"
    command = [
        sys.executable,
        "-m",
        "worldsim.cli.main",
        "render",
        str(tiny_scene_file),
        "--out",
        str(out),
        "--guidance-only",
        "--frames",
        "1:3",
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert sorted(p.name for p in (out / "depth").iterdir()) == ["00001.png", "00002.png"]
    assert (out / "guidance.mp4").is_file() and (out / "contact_sheet.png").is_file()


def test_worldsim_errors_print_one_line_without_traceback(
    tiny_scene_file: Path, tmp_path: Path, capsys
) -> None:
    code = main(["render", str(tiny_scene_file), "--out", str(tmp_path / "x"), "--renderer", "nope"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert err.startswith("error: unknown renderer 'nope'") and "Traceback" not in err
    assert (
        main(["--debug", "render", str(tiny_scene_file), "--out", str(tmp_path / "x"), "--renderer", "nope"])
        == 1
    )
    assert "Traceback" in capsys.readouterr().err


def test_camera_and_experiment_subcommands_are_wired() -> None:
    from worldsim.cli.main import build_parser

    subcommands = build_parser()._subparsers._group_actions[0].choices
    assert {"validate", "info", "simulate", "render", "camera", "experiment"} <= set(subcommands)


def test_import_worldsim_is_light() -> None:
    heavy = ("open3d", "mujoco", "torch", "mitsuba", "trimesh")
    code = f"import sys, worldsim, worldsim.cli.main; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_subcommand_takes_quiet_after_its_name(tmp_path, capsys) -> None:
    """README: every command takes --quiet; the camera and experiment subcommands too."""
    assert main(["camera", "preview", str(DEMO), "--out", str(tmp_path / "p.png"), "--quiet"]) == EXIT_OK
    assert (
        main(
            [
                "camera",
                "export",
                str(DEMO),
                "--format",
                "keyframes",
                "--out",
                str(tmp_path / "k.json"),
                "--quiet",
            ]
        )
        == EXIT_OK
    )
    assert main(["validate", str(DEMO), "--quiet"]) == EXIT_OK
    assert capsys.readouterr().out == ""
    assert (tmp_path / "p.png").stat().st_size > 1000 and (tmp_path / "k.json").is_file()
