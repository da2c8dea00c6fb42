"""``validate`` reports every problem that can be known without rendering (issue 18, item 3):
what ``render`` would refuse later, ``validate`` refuses now, naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from worldsim.cli.main import main
from worldsim.errors import WorldsimError

HEADER = "name: t\nfps: 8\nnum_frames: 4\nresolution: [16, 16]\nlights: [{type: sun}]\n"
CAMERA = "cameras:\n  - {name: main, position: [3, -3, 2], look_at: [0, 0, 0]}\n"
BOX = "  - {name: box, mesh: {type: box, size: [1, 1, 1]}}\n"

# (case id, scene text after HEADER, extra files {name: bytes}, key path, words of the reason)
CASES: list[tuple[str, str, dict[str, bytes], str, list[str]]] = [
    (
        "corrupt_obj",
        "entities:\n  - {name: a, mesh: {type: file, file: broken.obj}}\n" + CAMERA,
        {"broken.obj": b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 99\n"},
        "entities[0].mesh.file",
        ["corrupt", "OBJ", "broken.obj"],
    ),
    (
        "unsupported_extension",
        "entities:\n  - {name: a, mesh: {type: file, file: shape.xyz}}\n" + CAMERA,
        {"shape.xyz": b"0 0 0\n1 0 0\n0 1 0\n"},
        "entities[0].mesh.file",
        ["unsupported mesh file type '.xyz'", ".obj"],
    ),
    (
        "empty_mesh_file",
        "entities:\n  - {name: a, mesh: {type: file, file: empty.stl}}\n" + CAMERA,
        {"empty.stl": b""},
        "entities[0].mesh.file",
        ["empty"],
    ),
    (
        "look_at_is_position",
        "entities:\n" + BOX + "cameras:\n  - {name: main, position: [1, 2, 3], look_at: [1, 2, 3]}\n",
        {},
        "cameras[0].look_at",
        ["is the camera position", "no view direction"],
    ),
    (
        "keyframe_look_at_is_position",
        "entities:\n" + BOX + "cameras:\n  - name: main\n    keyframes:\n"
        "      - {t: 0, position: [3, 0, 1], look_at: [0, 0, 0]}\n"
        "      - {t: 0.4, position: [0, 3, 1], look_at: [0, 3, 1]}\n",
        {},
        "cameras[0].keyframes[1].look_at",
        ["is the camera position"],
    ),
    (
        "chase_without_target",
        "entities:\n" + BOX + "cameras:\n  - {name: main, position: [3, -3, 2], look_at: [0, 0, 0], "
        "moves: [{type: chase}]}\n",
        {},
        "cameras[0].moves[0].target",
        ["a chase move needs a 'target' entity"],
    ),
    (
        "unknown_guidance_map",
        "entities:\n" + BOX + CAMERA + "render: {guidance: [depth, albedoo]}\n",
        {},
        "render.guidance[1]",
        ["unknown guidance map 'albedoo'"],
    ),
    (
        # found only by evaluating the camera path (no static rule for it)
        "keyframe_without_position",
        "entities:\n" + BOX + "cameras:\n  - name: main\n    keyframes: [{t: 0, look_at: [0, 0, 0]}]\n",
        {},
        "cameras[0].keyframes[0].position",
        ["needs a position"],
    ),
    (
        # found only by evaluating the motions
        "orbit_without_center",
        "entities:\n  - {name: a, motion: {type: orbit, radius: 1, period: 2}}\n" + CAMERA,
        {},
        "entities[0].motion.center",
        ["orbit needs a center or a target"],
    ),
]


def write_case(tmp_path: Path, text: str, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    path = tmp_path / "scene.yaml"
    path.write_text(HEADER + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "files", "key_path", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_validate_refuses_what_render_refuses(
    tmp_path: Path, capsys, text: str, files: dict[str, bytes], key_path: str, words: list[str]
) -> None:
    path = write_case(tmp_path, text, files)
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert "valid" not in captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path.resolve()}: {key_path}: "), lines[0]
    for word in words:
        assert word in lines[0]
    # and render refuses the same scene, with the same message, before writing any frame
    from worldsim.render import render

    with pytest.raises(WorldsimError) as caught:
        render(path, out=tmp_path / "clip", guidance_only=True, progress=False)
    assert key_path in str(caught.value)
    assert not (tmp_path / "clip" / "depth").exists()


def test_all_static_problems_are_reported_in_one_pass(tmp_path: Path, capsys) -> None:
    path = write_case(
        tmp_path,
        "entities:\n  - {name: a, mesh: {type: file, file: broken.obj}}\n"
        "  - {name: b, mesh: {type: file, file: shape.xyz}}\n"
        "cameras:\n  - {name: main, position: [1, 1, 1], look_at: [1, 1, 1], moves: [{type: follow}]}\n"
        "render: {guidance: [depth, nope]}\n",
        {"broken.obj": b"v 0 0 0\nf 1 2 3\n", "shape.xyz": b"x"},
    )
    assert main(["validate", str(path)]) == 1
    keys = [line.split(": ")[1] for line in capsys.readouterr().err.splitlines()]
    assert keys == [
        "entities[0].mesh.file",
        "entities[1].mesh.file",
        "cameras[0].look_at",
        "cameras[0].moves[0].target",
        "render.guidance[1]",
    ]


def test_example_scene_meshes_are_opened(scenes_dir: Path) -> None:
    """The shipped assets load; validation is what proves it for a user's own files."""
    from worldsim.scene.validation import validate_scene
    from worldsim.scene.yaml_io import load_scene

    for path in sorted(scenes_dir.glob("*.yaml")):
        validate_scene(load_scene(path))
