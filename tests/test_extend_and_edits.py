"""Extending a clip (``--extend``), edits as data (``--set``, edit files), ``worldsim diff`` and the
clear messages of every new option (issue 22)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from worldsim.clip import Clip
from worldsim.errors import RenderError, SceneError
from worldsim.render import load_and_validate, render
from worldsim.scene.diff import scene_changes
from worldsim.scene.edits import Edit, EditError, apply_edits, load_edits, parse_set

REPO = Path(__file__).resolve().parents[1]
SHELF = REPO / "tools" / "bench" / "edit" / "shelf_pan.yaml"
EDIT = REPO / "tools" / "bench" / "edit" / "one_entity.yaml"


def shelf(frames: int = 24, size: tuple[int, int] = (32, 20)):
    edits = [
        parse_set(f"resolution=[{size[0]}, {size[1]}]"),
        parse_set(f"num_frames={frames}"),
        parse_set("render.guidance=[depth, instance, flow]"),
    ]
    return apply_edits(load_and_validate(SHELF), edits)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worldsim.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def test_extend_keeps_the_first_frames_and_the_camera_timing(tmp_path: Path) -> None:
    out = tmp_path / "clip"
    first = render(shelf(24), renderer="flat", out=out, progress=False)
    before = {path.name: path.read_bytes() for path in (out / "rgb").glob("*.png")}
    poses = first.trajectory().cameras["main"].cam_to_world.copy()
    # the truck move has no duration: it was rendered over the 24 frames' 23 / 24 s
    assert first.metadata["timing"] == {"cameras[0].moves[0].duration": pytest.approx(23 / 24)}
    clip = render(shelf(24), renderer="flat", out=out, progress=False, extend=12)
    assert clip.num_frames == 36
    after = {path.name: path.read_bytes() for path in (out / "rgb").glob("*.png")}
    assert all(after[name] == before[name] for name in before)  # frame by frame the first render
    assert clip.metadata["rerendered"]["rgb"]["frames"] == []
    extended = clip.trajectory().cameras["main"].cam_to_world
    np.testing.assert_array_equal(extended[:24], poses)
    np.testing.assert_array_equal(extended[24:], np.broadcast_to(poses[-1], extended[24:].shape))
    assert clip.metadata["timing"]["cameras[0].moves[0].duration"] == pytest.approx(23 / 24)
    # the last old frame's forward flow now has a frame after it: only its guidance is recomputed
    assert clip.metadata["rerendered"]["guidance"]["frames"] == [23]
    # a scene with more frames rendered into the folder continues the same way as --extend
    longer = render(shelf(24), renderer="flat", out=tmp_path / "other", progress=False)
    assert longer.num_frames == 24
    longer = render(shelf(36), renderer="flat", out=tmp_path / "other", progress=False)
    assert {path.name: path.read_bytes() for path in (tmp_path / "other" / "rgb").glob("*.png")} == after


def test_extend_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"--extend: .* holds no rendered clip to extend"):
        render(shelf(4), out=tmp_path / "none", guidance_only=True, progress=False, extend=3)
    render(shelf(4, (16, 10)), out=tmp_path / "clip", guidance_only=True, progress=False)
    with pytest.raises(RenderError, match=r"--extend: N must be a whole number of frames >= 1, got 0"):
        render(shelf(4, (16, 10)), out=tmp_path / "clip", guidance_only=True, progress=False, extend=0)
    result = run_cli("render", str(SHELF), "--out", str(tmp_path / "clip"), "--extend", "2", "--overwrite")
    assert result.returncode == 2 and "--extend continues the clip in --out" in result.stderr
    result = run_cli("render", str(SHELF), "--out", str(tmp_path / "clip"), "--extend", "-1")
    assert result.returncode == 2 and "--extend must be at least 1 frame, got -1" in result.stderr


def test_edit_file_and_set_apply_in_order() -> None:
    scene = load_and_validate(SHELF)
    edited = apply_edits(
        scene,
        [
            *load_edits(EDIT),
            parse_set("entities.vase.pose.position=[1, 2, 0.5]"),
            parse_set("lights[sun].intensity=5"),
            parse_set("entities[ball].motion={type: velocity, linear_velocity: [1, 0, 0]}"),
            Edit("remove", "entities[crate]"),
        ],
    )
    vase = edited.entity("vase")
    assert vase.material.base_color == [0.1, 0.6, 0.9] and vase.pose.position == [1, 2, 0.5]
    assert edited.lights[0].intensity == 5.0 and edited.entity("ball").motion.type == "velocity"
    assert "crate" not in [entity.name for entity in edited.entities]
    assert vase.id == scene.entity("vase").id  # ids stay: a removed entity's id is not reused
    assert scene.entity("vase").material.base_color == [0.8, 0.2, 0.2]  # the original is unchanged
    changes = {change.key_path: change for change in scene_changes(scene, edited)}
    assert changes["entities[vase].material.base_color"].after == [0.1, 0.6, 0.9]
    assert changes["entities[crate]"].kind == "removed"
    assert "lights[sun].intensity" in changes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "entities[vasee].material.roughness=0.2",
            "entities has no item named 'vasee'; did you mean 'vase'?",
        ),
        ("entities[vase].material.roughnes=0.2", "roughnes"),
        ("entities[vase].material.roughness=-2", "roughness"),
        ("lights[4].intensity=1", "lights has 1 items; index 4 is out of range"),
        ("entities[vase]..pose=1", "malformed key path"),
        ("no equals sign", "expected KEY.PATH=VALUE"),
        ("entities[vase].material.base_color=[1, 2", "cannot parse value"),
    ],
)
def test_bad_set_gives_one_clear_message(text: str, message: str) -> None:
    with pytest.raises(SceneError, match=None) as raised:
        apply_edits(load_and_validate(SHELF), [parse_set(text)])
    assert message in str(raised.value)
    assert "--set" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "- sett: entities[vase].material.roughness\n  value: 0.2",
            "unknown key 'sett'; did you mean 'set'?",
        ),
        ("- set: entities[vase].material.roughness", "a 'set' edit needs a 'value'"),
        ("- remove: entities[vase]\n  value: 1", "a 'remove' edit takes no 'value'"),
        ("- remove: entities[vase].material", "only list items"),
        ("just: text", "an edit file is a list of edits"),
        ("- 3", "an edit is a mapping"),
    ],
)
def test_bad_edit_file_gives_one_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "edits.yaml"
    path.write_text(content)
    with pytest.raises(EditError) as raised:
        apply_edits(load_and_validate(SHELF), load_edits(path))
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_cli_render_with_set_and_diff(tmp_path: Path) -> None:
    small = [
        "--set",
        "resolution=[24, 16]",
        "--set",
        "num_frames=12",
        "--set",
        "render.guidance=[depth, instance]",
    ]
    out = str(tmp_path / "clip")
    result = run_cli("render", str(SHELF), "--out", out, "--renderer", "flat", *small, "-q")
    assert result.returncode == 0, result.stderr
    result = run_cli(
        "render", str(SHELF), "--out", out, "--renderer", "flat", *small, "--set", "lights[0].intensity=4"
    )
    assert result.returncode == 0, result.stderr
    assert "re-rendered the frames whose inputs changed: 12 rgb, 0 guidance" in result.stdout
    assert json.loads((tmp_path / "clip" / "metadata.json").read_text())["rerendered"]["rgb"][
        "frames"
    ] == list(range(12))
    result = run_cli("diff", str(SHELF), str(SHELF), "--edits", str(EDIT), "--renderer", "reference")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].strip() == "entities[vase].material.base_color: [0.8, 0.2, 0.2] -> [0.1, 0.6, 0.9]"
    assert any(line.startswith("rgb frames (reference, reach global): ") for line in lines)
    assert any("entity 9 (vase):" in line for line in lines)
    result = run_cli("diff", str(SHELF), str(SHELF), "--set", "lights[0].intensity=4", "--renderer", "nope")
    assert result.returncode == 1 and "unknown renderer 'nope'" in result.stderr
    result = run_cli("render", str(SHELF), "--out", out, "--set", "entities[nope].pose.position=[0,0,0]")
    assert result.returncode == 1 and "entities has no item named 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("render", str(SHELF), "--out", out, "--edits", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "missing.yaml: file not found" in result.stderr


def test_appearance_from_errors_are_clear(tmp_path: Path) -> None:
    out = tmp_path / "clip"
    result = run_cli("render", str(SHELF), "--out", str(out), "--appearance-from", str(tmp_path / "nope"))
    assert (
        result.returncode == 2
        and "--appearance-from" in result.stderr
        and "no such clip folder" in result.stderr
    )
    flat = render(shelf(4, (16, 10)), renderer="flat", out=tmp_path / "flat", progress=False)
    with pytest.raises(RenderError, match="renderer 'flat' keeps no appearance memory"):
        render(shelf(4, (16, 10)), renderer="flat", out=out, appearance_from=flat.path, progress=False)
    with pytest.raises(RenderError, match="--guidance-only renders none"):
        render(shelf(4, (16, 10)), out=out, guidance_only=True, appearance_from=flat.path, progress=False)
    assert isinstance(Clip(flat.path).metadata, dict)
