"""Scene files that are cheap to write and expensive to read are refused early (issue 18, item 1),
and an empty scene file is refused (item 2). Each refusal names the file, the key and the reason."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from worldsim.cli.main import main
from worldsim.errors import SceneError, SceneLimitError
from worldsim.scene.limits import Limits, load_limits
from worldsim.scene.yaml_io import load_scene, load_scene_from_string

HANG_GUARD_S = 10
"""A refusal takes milliseconds; this only turns a hang (the old behaviour) into a failure."""


@pytest.fixture(autouse=True)
def hang_guard() -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {HANG_GUARD_S} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(HANG_GUARD_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def alias_bomb(levels: int = 9, width: int = 9, at: str = "prompt") -> str:
    """About 1 KB of YAML whose aliases expand to ``width ** levels`` strings (387 million)."""
    lines = ["name: bomb", "vars:", "  l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    lines.append(f"{at}: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def interpolation_bomb(levels: int = 9, width: int = 9) -> str:
    """The same expansion through omegaconf ``${...}`` references instead of aliases."""
    lines = ["name: bomb", "vars:", "  l0: [" + ", ".join(["1"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: [" + ", ".join([f"'${{vars.l{level - 1}}}'"] * width) + "]")
    lines.append(f"semantic_classes: '${{vars.l{levels - 1}}}'")
    return "\n".join(lines) + "\n"


def refusal(text: str, tmp_path: Path, name: str = "scene.yaml") -> SceneError:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    assert caught.value.file == str(path.resolve())
    return caught.value


def test_default_limits_are_the_issue_s() -> None:
    limits = load_limits()
    assert (limits.max_alias_nodes, limits.max_file_bytes) == (10000, 5_000_000)
    assert limits.max_string_length == 65536
    assert (limits.max_nesting_depth, limits.max_entities) == (64, 10000)


def test_alias_bomb_is_refused_while_loading(tmp_path: Path) -> None:
    text = alias_bomb()
    assert len(text) < 1200
    error = refusal(text, tmp_path)
    assert isinstance(error, SceneLimitError)
    assert "aliases expand to more than 10000 nodes" in error.reason
    assert "max_alias_nodes in configs/limits.yaml" in error.reason
    assert error.key_path.startswith("vars.l")  # where the budget ran out, with its line
    assert "line " in error.reason


def test_alias_bomb_under_a_mapping_merge_key_is_refused(tmp_path: Path) -> None:
    lines = ["name: bomb", "vars:", "  m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}"]
    for level in range(1, 8):
        entries = ", ".join(f"k{i}: *m{level - 1}" for i in range(10))
        lines.append(f"  m{level}: &m{level} {{{entries}}}")
    lines.append("  merged: {<<: *m7}")
    error = refusal("\n".join(lines) + "\n", tmp_path)
    assert "aliases expand to more than 10000 nodes" in error.reason


def test_modest_aliases_still_load() -> None:
    text = "name: reuse\nvars:\n  box: &box {type: box, size: [1, 1, 1]}\nentities:\n" + "".join(
        f"  - {{name: e{i}, mesh: *box}}\n" for i in range(50)
    )
    scene = load_scene_from_string(text)
    assert len(scene.entities) == 50
    assert scene.entities[49].mesh.size == [1, 1, 1]


def test_alias_to_its_own_parent_is_refused(tmp_path: Path) -> None:
    error = refusal("name: loop\nvars: &a {inner: *a}\n", tmp_path)
    assert isinstance(error, SceneLimitError)
    assert error.key_path == "vars.inner"
    assert "refers to a node that contains it" in error.reason


def test_interpolation_bomb_is_refused_before_resolution(tmp_path: Path) -> None:
    error = refusal(interpolation_bomb(), tmp_path)
    assert isinstance(error, SceneLimitError)
    assert "interpolations expand to more than 10000 nodes" in error.reason
    assert error.key_path.startswith("vars.l")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    error = refusal("name: deep\nvars: " + "[" * 65 + "]" * 65 + "\n", tmp_path)
    assert isinstance(error, SceneLimitError)
    assert "nesting depth 65 is over the configured limit of 64" in error.reason
    assert error.key_path == "vars" + "[0]" * 63
    # libyaml's own ceiling (1000 flow levels) is a clear message too, never a RecursionError
    error = refusal("name: deep\nvars: " + "[" * 5000 + "]" * 5000 + "\n", tmp_path)
    assert "nesting depth" in error.reason


def test_long_string_is_refused_with_its_key(tmp_path: Path) -> None:
    error = refusal("name: long\nprompt: '" + "a" * 70_000 + "'\n", tmp_path)
    assert isinstance(error, SceneLimitError)
    assert error.key_path == "prompt"
    assert "a string of 70000 characters is over the configured limit of 65536 characters" in error.reason


def test_fifty_megabyte_prompt_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w", encoding="utf-8") as stream:
        stream.write("name: huge\nprompt: '")
        for _ in range(50):
            stream.write("a" * 1_000_000)
        stream.write("'\n")
    started = time.perf_counter()
    with pytest.raises(SceneLimitError) as caught:
        load_scene(path)
    assert time.perf_counter() - started < HANG_GUARD_S
    assert caught.value.file == str(path.resolve())
    assert "file size 50000022 bytes is over the configured limit of 5000000 bytes" in caught.value.reason


def test_python_built_scene_with_a_huge_prompt_is_refused() -> None:
    from worldsim.scene.scene import Scene
    from worldsim.scene.validation import validate_scene

    scene = Scene(name="py", prompt="x" * 100_000)
    with pytest.raises(SceneError) as caught:
        validate_scene(scene, file="py.yaml")
    assert ("py.yaml", "prompt") in {(file, key) for file, key, _ in caught.value.issues}


def test_entity_count_is_refused_before_the_entities_are_read(tmp_path: Path) -> None:
    text = "name: many\nentities:\n" + "".join(f"  - {{name: e{i}}}\n" for i in range(10001))
    error = refusal(text, tmp_path)
    assert isinstance(error, SceneLimitError)
    assert error.key_path == "entities"
    assert "an entity count of 10001 is over the configured limit of 10000" in error.reason


def test_entity_count_counts_included_entities(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text(
        "entities:\n" + "".join(f"  - {{name: e{i}}}\n" for i in range(6000)), encoding="utf-8"
    )
    error = refusal("name: many\nincludes: [lib.yaml, lib.yaml]\n", tmp_path)
    # each include alone is under the limit; merged, they are over it
    assert isinstance(error, SceneLimitError)
    assert error.key_path == "includes[1]"
    assert "an entity count of 12000 is over the configured limit of 10000" in error.reason


def test_include_fan_out_is_read_once_per_file(tmp_path: Path) -> None:
    """Nine includes of a file that includes another nine times: read once each, merged within
    the entity limit (was 9 ** levels reads)."""
    (tmp_path / "leaf.yaml").write_text("materials: {red: {base_color: [1, 0, 0]}}\n", encoding="utf-8")
    previous = "leaf.yaml"
    for level in range(8):
        name = f"level{level}.yaml"
        (tmp_path / name).write_text(f"includes: [{', '.join([previous] * 9)}]\n", encoding="utf-8")
        previous = name
    path = tmp_path / "scene.yaml"
    path.write_text(f"name: fan\nincludes: [{previous}]\nentities: [{{name: a, material: red}}]\n")
    assert load_scene(path).materials["red"].base_color == [1, 0, 0]


def test_limits_come_from_the_limits_file(tmp_path: Path) -> None:
    from worldsim.scene import yaml_io

    original = yaml_io.load_limits
    yaml_io.load_limits = lambda: Limits(max_string_length=8)  # type: ignore[assignment]
    try:
        with pytest.raises(SceneLimitError) as caught:
            load_scene_from_string("name: 123456789\n", "x.yaml")
    finally:
        yaml_io.load_limits = original
    assert caught.value.key_path == "name"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_scene_file_is_refused(tmp_path: Path, text: str) -> None:
    error = refusal(text, tmp_path)
    assert "the scene file is empty" in error.reason


def test_empty_scene_file_fails_validate_naming_the_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert "valid" not in captured.out
    assert captured.err.startswith(f"{path.resolve()}: the scene file is empty")


def test_an_empty_included_file_is_fine(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text("# nothing yet\n", encoding="utf-8")
    path = tmp_path / "scene.yaml"
    path.write_text("name: x\nincludes: [lib.yaml]\n", encoding="utf-8")
    assert load_scene(path).name == "x"


def test_bomb_through_the_cli_is_one_message(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path.resolve()}: vars.l")
