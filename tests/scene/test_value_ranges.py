"""Numbers a scene can hold but nothing can simulate are refused by validation, naming the key
(found by fuzzing the example scenes, issue 18): before, each of these passed ``validate`` and then
made ``simulate`` print a traceback (OverflowError, zero-norm quaternions, MuJoCo compile errors),
run for ever, or write poses of 1e302 m."""

from __future__ import annotations

from pathlib import Path

import pytest

from worldsim.cli.main import main

BALL = (
    "{name: ball, mesh: {type: sphere, radius: 0.2}, pose: {position: [0, 0, 1]}, physics: {mode: dynamic}}"
)
HEADER = "name: r\nfps: 24\nnum_frames: 4\nresolution: [16, 16]\n"
CAMERA = "cameras: [{name: main, position: [3, -3, 2], look_at: [0, 0, 0]}]\n"

# (case id, scene text after HEADER, key path, words of the reason)
CASES: list[tuple[str, str, str, list[str]]] = [
    (
        "camera_far_away",
        f"entities: [{BALL}]\ncameras: [{{name: main, position: [1.0e308, 0, 0], look_at: [0, 0, 0]}}]\n",
        "cameras[0].position[0]",
        ["1e+308 m is out of range: at most 1e+06 m", "max_length_m in configs/limits.yaml"],
    ),
    (
        "tiny_mass",
        "entities: [{name: ball, physics: {mode: dynamic, mass: 1.0e-308}}]\n" + CAMERA,
        "entities[0].physics.mass",
        ["at least 1e-06 kg", "min_mass_kg"],
    ),
    (
        "huge_friction",
        "entities: [{name: ball, physics: {mode: dynamic, friction: 1.0e308}}]\n" + CAMERA,
        "entities[0].physics.friction",
        ["at most 1000"],
    ),
    (
        "huge_gravity",
        f"entities: [{BALL}]\nworld: {{gravity: [0, 0, -1.0e308]}}\n" + CAMERA,
        "world.gravity[2]",
        ["m/s^2 is out of range"],
    ),
    (
        "tiny_scale",
        "entities: [{name: box, mesh: {type: box, scale: [1.0e-308, 1, 1]}}]\n" + CAMERA,
        "entities[0].mesh.scale[0]",
        ["at least 1e-06"],
    ),
    (
        "class_id_over_uint16",
        f"entities: [{BALL}]\nsemantic_classes: {{object: 70000}}\n" + CAMERA,
        "semantic_classes.object",
        ["<= 65535", "uint16"],
    ),
    (
        "physics_steps",
        f"entities: [{BALL}]\nworld: {{physics_timestep: 1.0e-12}}\n" + CAMERA,
        "world.physics_timestep",
        ["physics steps", "max_physics_steps"],
    ),
    (
        "sphere_subdivisions",
        "entities: [{name: s, mesh: {type: sphere, subdivisions: 20}}]\n" + CAMERA,
        "entities[0].mesh.subdivisions",
        ["triangles", "max_primitive_triangles"],
    ),
    (
        "odd_key_is_quoted",
        "entities: [{name: s, 'a b': 1}]\n" + CAMERA,
        "entities[0]['a b']",
        ["unknown key 'a b'"],
    ),
]


@pytest.mark.parametrize(("text", "key_path", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_out_of_range_values_are_refused_by_validate(
    tmp_path: Path, capsys, text: str, key_path: str, words: list[str]
) -> None:
    path = tmp_path / "scene.yaml"
    path.write_text(HEADER + text, encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines and lines[0].startswith(f"{path.resolve()}: {key_path}: "), lines
    for word in words:
        assert word in lines[0]
    assert main(["simulate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_frames_from_fps_alone_are_limited(tmp_path: Path, capsys) -> None:
    """Without num_frames or duration a clip lasts one second: fps frames."""
    path = tmp_path / "scene.yaml"
    path.write_text("name: r\nfps: 1.0e9\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    assert "fps: 1000000000 frames is over the configured limit of 100000" in capsys.readouterr().err


def test_ranges_allow_every_example_scene(scenes_dir: Path) -> None:
    from worldsim.scene.validation import collect_issues
    from worldsim.scene.yaml_io import load_scene

    for path in sorted(scenes_dir.glob("*.yaml")):
        assert collect_issues(load_scene(path)) == []


def test_exponent_numbers_are_numbers() -> None:
    """PyYAML (YAML 1.1) reads ``1e3`` and ``1e-3`` as strings; a scene file reads them as numbers."""
    from worldsim.scene.yaml_io import load_scene_from_string

    scene = load_scene_from_string("name: e\nfps: 2.4e1\nworld: {physics_timestep: 1e-3}\n")
    assert scene.fps == 24.0 and scene.world.physics_timestep == 0.001
    assert load_scene_from_string("name: '1e3'\n").name == "1e3"  # quoted stays a string


def test_messages_stay_one_line_whatever_the_scene_holds(tmp_path: Path, capsys) -> None:
    """A value with a carriage return or newline is shown escaped (found by the fuzz test)."""
    path = tmp_path / "scene.yaml"
    path.write_text(HEADER + f"entities: [{BALL}]\n" + CAMERA.replace("}]", ', easing: "\\r\\nx"}]'))
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"{path.resolve()}: cameras[0].easing: unknown easing '\\r\\nx'; expected one of "
                     "linear, ease_in, ease_out, ease_in_out, smoothstep"]  # fmt: skip
