"""Malformed scene files: each error names the file, the exact key path and the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from worldsim.errors import SceneError
from worldsim.scene.yaml_io import load_scene

BOX = "{name: a, mesh: {type: box, size: [1, 1, 1]}}"

# (case id, YAML text, expected key path, words the reason must contain)
CASES: list[tuple[str, str, str, list[str]]] = [
    ("unknown_top_key", "nmae: x\n", "nmae", ["unknown key 'nmae'", "did you mean 'name'"]),
    (
        "unknown_mesh_key",
        "entities:\n  - {name: a, mesh: {type: sphere, radious: 1}}\n",
        "entities[0].mesh.radious",
        ["did you mean 'radius'"],
    ),
    (
        "unknown_keyframe_key",
        "entities:\n  - name: a\n    motion:\n      type: keyframes\n      keyframes: [{t: 0}, {time: 1}]\n",
        "entities[0].motion.keyframes[1].time",
        ["unknown key 'time'"],
    ),
    ("fps_string", "fps: fast\n", "fps", ["expected a number", "string"]),
    ("fps_bool", "fps: true\n", "fps", ["expected a number", "boolean"]),
    ("seed_float", "seed: 1.5\n", "seed", ["expected an integer"]),
    ("name_number", "name: 12\n", "name", ["expected a string"]),
    (
        "position_nan",
        "entities:\n  - {name: a, pose: {position: [0, .nan, 0]}}\n",
        "entities[0].pose.position[1]",
        ["non-finite"],
    ),
    (
        "radius_inf",
        "entities:\n  - {name: a, mesh: {type: sphere, radius: .inf}}\n",
        "entities[0].mesh.radius",
        ["non-finite"],
    ),
    (
        "position_length",
        "entities:\n  - {name: a, pose: {position: [0, 0]}}\n",
        "entities[0].pose.position",
        ["expected a list of 3 numbers, got 2"],
    ),
    (
        "quat_length",
        "entities:\n  - {name: a, pose: {quat_xyzw: [0, 0, 1]}}\n",
        "entities[0].pose.quat_xyzw",
        ["list of 4 numbers"],
    ),
    ("resolution_length", "resolution: [256]\n", "resolution", ["list of 2 numbers"]),
    (
        "color_length",
        "materials:\n  red: {base_color: [1, 0]}\n",
        "materials.red.base_color",
        ["list of 3 numbers"],
    ),
    ("entities_mapping", "entities: {a: 1}\n", "entities", ["expected a list"]),
    ("pose_list", "entities:\n  - {name: a, pose: [1, 2, 3]}\n", "entities[0].pose", ["expected a mapping"]),
    (
        "keyframes_out_of_order",
        "entities:\n  - name: a\n    motion:\n      type: keyframes\n"
        "      keyframes: [{t: 0, position: [0, 0, 0]}, {t: 2}, {t: 1}]\n",
        "entities[0].motion.keyframes[2].t",
        ["strictly increasing"],
    ),
    (
        "camera_keyframes_out_of_order",
        "cameras:\n  - name: c\n    keyframes: [{t: 1}, {t: 1}]\n",
        "cameras[0].keyframes[1].t",
        ["strictly increasing"],
    ),
    (
        "duplicate_names",
        f"entities:\n  - {BOX}\n  - {BOX}\n",
        "entities[1].name",
        ["duplicate entity name 'a'"],
    ),
    (
        "duplicate_ids",
        "entities:\n  - {name: a, id: 3}\n  - {name: b, id: 3}\n",
        "entities[1].id",
        ["duplicate entity id 3"],
    ),
    ("id_too_large", "entities:\n  - {name: a, id: 70000}\n", "entities[0].id", ["[1, 65534]"]),
    (
        "negative_size",
        "entities:\n  - {name: a, mesh: {type: box, size: [1, -2, 1]}}\n",
        "entities[0].mesh.size[1]",
        ["must be positive"],
    ),
    (
        "zero_radius",
        "entities:\n  - {name: a, mesh: {type: sphere, radius: 0}}\n",
        "entities[0].mesh.radius",
        ["must be positive"],
    ),
    (
        "negative_mass",
        "entities:\n  - {name: a, physics: {mode: dynamic, mass: -1}}\n",
        "entities[0].physics.mass",
        ["must be positive"],
    ),
    (
        "mesh_type_typo",
        "entities:\n  - {name: a, mesh: {type: sphre}}\n",
        "entities[0].mesh.type",
        ["unknown mesh type 'sphre'", "did you mean 'sphere'"],
    ),
    (
        "motion_type_typo",
        "entities:\n  - {name: a, motion: {type: orbitt}}\n",
        "entities[0].motion.type",
        ["did you mean 'orbit'"],
    ),
    (
        "physics_mode_typo",
        "entities:\n  - {name: a, physics: {mode: dynamc}}\n",
        "entities[0].physics.mode",
        ["did you mean 'dynamic'"],
    ),
    ("light_type_typo", "lights:\n  - {type: spot}\n", "lights[0].type", ["unknown light type 'spot'"]),
    (
        "missing_mesh_file",
        "entities:\n  - {name: a, mesh: {type: file, file: nothere.obj}}\n",
        "entities[0].mesh.file",
        ["mesh file not found", "nothere.obj"],
    ),
    (
        "resolution_over_limit",
        "resolution: [8192, 256]\n",
        "resolution[0]",
        ["over the configured limit of 4096"],
    ),
    ("frames_over_limit", "num_frames: 200000\n", "num_frames", ["over the configured limit of 100000"]),
    ("frames_and_duration", "num_frames: 10\nduration: 2\n", "num_frames", ["not both"]),
    ("fps_zero", "fps: 0\n", "fps", ["must be positive"]),
    (
        "euler_and_quat",
        "entities:\n  - {name: a, pose: {euler_deg: [0, 0, 0], quat_xyzw: [0, 0, 0, 1]}}\n",
        "entities[0].pose",
        ["either euler_deg or quat_xyzw"],
    ),
    (
        "zero_quat",
        "entities:\n  - {name: a, pose: {quat_xyzw: [0, 0, 0, 0]}}\n",
        "entities[0].pose.quat_xyzw",
        ["must not be zero"],
    ),
    (
        "orbit_unknown_target",
        f"entities:\n  - {BOX}\n  - {{name: b, motion: {{type: orbit, target: aa}}}}\n",
        "entities[1].motion.target",
        ["unknown entity 'aa'", "did you mean 'a'"],
    ),
    (
        "attach_cycle",
        "entities:\n  - {name: a, motion: {type: attach, parent: b}}\n"
        "  - {name: b, motion: {type: attach, parent: a}}\n",
        "entities[0].motion.parent",
        ["attach cycle", "a -> b -> a"],
    ),
    (
        "camera_target_unknown",
        "cameras:\n  - {name: c, target: ghost}\n",
        "cameras[0].target",
        ["unknown entity 'ghost'"],
    ),
    (
        "unknown_material",
        "materials:\n  red: {}\nentities:\n  - {name: a, material: rd}\n",
        "entities[0].material",
        ["unknown material 'rd'", "did you mean 'red'"],
    ),
    (
        "roughness_range",
        "entities:\n  - {name: a, material: {roughness: 1.5}}\n",
        "entities[0].material.roughness",
        ["[0, 1]"],
    ),
    (
        "negative_colour",
        "entities:\n  - {name: a, material: {base_color: [1, -0.1, 0]}}\n",
        "entities[0].material.base_color",
        ["must not be negative"],
    ),
    (
        "restitution_range",
        "entities:\n  - {name: a, physics: {restitution: 2}}\n",
        "entities[0].physics.restitution",
        ["[0, 1]"],
    ),
    (
        "negative_friction",
        "entities:\n  - {name: a, physics: {friction: -0.5}}\n",
        "entities[0].physics.friction",
        ["must not be negative"],
    ),
    (
        "spawn_after_despawn",
        "entities:\n  - {name: a, spawn_time: 2, despawn_time: 1}\n",
        "entities[0].despawn_time",
        ["must be after spawn_time"],
    ),
    (
        "duplicate_cameras",
        "cameras:\n  - {name: c}\n  - {name: c}\n",
        "cameras[1].name",
        ["duplicate camera name 'c'"],
    ),
    ("semantic_class_zero", "semantic_classes: {car: 0}\n", "semantic_classes.car", ["must be >= 1"]),
    (
        "semantic_class_duplicate",
        "semantic_classes: {car: 1, tree: 1}\n",
        "semantic_classes.tree",
        ["duplicate class id 1"],
    ),
    (
        "physics_timestep_too_long",
        "fps: 24\nworld: {physics_timestep: 0.1}\n",
        "world.physics_timestep",
        ["longer than one frame"],
    ),
    (
        "keyframes_empty",
        "entities:\n  - {name: a, motion: {type: keyframes}}\n",
        "entities[0].motion.keyframes",
        ["at least one keyframe"],
    ),
    (
        "path_one_point",
        "entities:\n  - {name: a, motion: {type: path, points: [[0, 0, 0]], speed: 1}}\n",
        "entities[0].motion.points",
        ["at least 2 points"],
    ),
    (
        "path_no_speed",
        "entities:\n  - {name: a, motion: {type: path, points: [[0, 0, 0], [1, 0, 0]]}}\n",
        "entities[0].motion.speed",
        ["speed or duration"],
    ),
    (
        "path_point_length",
        "entities:\n  - {name: a, motion: {type: path, points: [[0, 0], [1, 0, 0]]}}\n",
        "entities[0].motion.points[0]",
        ["list of 3 numbers"],
    ),
    (
        "camera_interpolation_typo",
        "cameras:\n  - {name: c, position_interpolation: catmullrom}\n",
        "cameras[0].position_interpolation",
        ["did you mean 'catmull_rom'"],
    ),
    (
        "up_axis_typo",
        "entities:\n  - {name: a, mesh: {type: box, up_axis: w}}\n",
        "entities[0].mesh.up_axis",
        ["unknown up_axis 'w'"],
    ),
    (
        "texture_type_typo",
        "entities:\n  - {name: a, material: {texture: {type: checkr}}}\n",
        "entities[0].material.texture.type",
        ["did you mean 'checker'"],
    ),
    (
        "interpolation_missing_key",
        "vars: {size: 1}\nentities:\n  - {name: a, mesh: {radius: '${vars.sise}'}}\n",
        "entities[0].mesh.radius",
        ["interpolation", "vars.sise"],
    ),
]


@pytest.mark.parametrize(
    ("text", "key_path", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_malformed_scene_message(tmp_path: Path, text: str, key_path: str, words: list[str]) -> None:
    path = tmp_path / "bad_scene.yaml"
    path.write_text(text)
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    error = caught.value
    matching = [issue for issue in error.issues if issue[1] == key_path]
    assert matching, f"no issue at {key_path!r}; got {error.issues}"
    file, _, reason = matching[0]
    assert file is not None and file.endswith("bad_scene.yaml")
    for word in words:
        assert word in reason, f"{word!r} not in {reason!r}"
    assert "bad_scene.yaml" in str(error) and key_path in str(error)


def test_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("name: a\nentities: [1, 2\n", 3, 1), ("name: a\n  fps: 3\n", 2, 6), ("a: 1\na: 2\n", 2, 1)],
    ids=["unclosed_list", "bad_indent", "duplicate_key"],
)
def test_yaml_syntax_error_has_line_and_column(tmp_path: Path, text: str, line: int, column: int) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text(text)
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    message = str(caught.value)
    assert "syntax.yaml" in message and f"line {line}, column {column}" in message
    assert "invalid YAML" in message


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(SceneError, match=r"list\.yaml: a scene file must be a mapping"):
        load_scene(path)


def test_include_cycle_names_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("includes: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("includes: [a.yaml]\n")
    (tmp_path / "scene.yaml").write_text("includes: [a.yaml]\n")
    with pytest.raises(SceneError) as caught:
        load_scene(tmp_path / "scene.yaml")
    message = str(caught.value)
    assert "include cycle" in message and "a.yaml -> " in message and "b.yaml" in message
    assert caught.value.key_path == "includes[0]"


def test_missing_include_names_files(tmp_path: Path) -> None:
    (tmp_path / "scene.yaml").write_text("includes: [lib/missing.yaml]\n")
    with pytest.raises(SceneError) as caught:
        load_scene(tmp_path / "scene.yaml")
    assert caught.value.file.endswith("scene.yaml")
    assert "missing.yaml" in caught.value.reason and "not found" in caught.value.reason


def test_error_in_included_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text("entities:\n  - {name: x}\n  - {name: y, mesh: {radious: 1}}\n")
    (tmp_path / "scene.yaml").write_text("includes: [lib.yaml]\nentities:\n  - {name: z, fps: 3}\n")
    with pytest.raises(SceneError) as caught:
        load_scene(tmp_path / "scene.yaml")
    issues = {(Path(file).name, path) for file, path, _ in caught.value.issues}
    assert issues == {("lib.yaml", "entities[1].mesh.radious"), ("scene.yaml", "entities[0].fps")}


def test_three_problems_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    path.write_text(
        textwrap.dedent("""\
        fps: -1
        entities:
          - {name: a, mesh: {type: box, size: [1, -1, 1]}}
          - {name: a, physics: {restitution: 3}}
    """)
    )
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    paths = [issue[1] for issue in caught.value.issues]
    assert sorted(paths) == sorted(
        ["fps", "entities[0].mesh.size[1]", "entities[1].name", "entities[1].physics.restitution"]
    )
    assert len(str(caught.value).splitlines()) == 4


def test_type_problems_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "types.yaml"
    path.write_text("fps: x\nseed: y\nentities:\n  - {name: a, spawn_time: z}\n")
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    assert [issue[1] for issue in caught.value.issues] == ["fps", "seed", "entities[0].spawn_time"]
