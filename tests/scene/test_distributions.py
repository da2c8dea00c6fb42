"""Randomised scene files: distributions and repeats drawn from (seed, key path) before the typed
model; one clear error per malformed distribution; ``validate --seeds`` and ``info --seed``."""

from __future__ import annotations

import numpy as np
import pytest

from worldsim.cli.main import main
from worldsim.errors import SceneError
from worldsim.randomness import rng_for
from worldsim.scene.distributions import resolve_template
from worldsim.scene.yaml_io import load_scene, load_scene_from_string, scene_to_yaml

RANDOMISED = """
name: rand
num_frames: 4
resolution: [32, 32]
vars:
  size: {uniform: [0.2, 0.5]}
entities:
  - name: floor
    semantic_class: ground
    mesh: {type: plane, size: [6, 6]}
    material: {base_color: {uniform: [[0, 0, 0], [1, 1, 1]]}}
  - repeat:
      count: {randint: [2, 5]}
      entity:
        name: ball
        semantic_class: {choice: [ball, box]}
        mesh: {type: sphere, radius: "${vars.size}"}
        pose: {position: [{uniform: [-1, 1]}, {normal: [0, 0.3]}, 0.5]}
  - name: lamp_post
    mesh: {type: cylinder, radius: 0.05, height: {uniform: [1, 2]}}
    pose: {position: [2, 2, 1]}
cameras:
  - {name: main, fov_deg: {uniform: [40, 60]}, position: [4, -4, 3], look_at: [0, 0, 0.5]}
"""


def _scene(seed: int, text: str = RANDOMISED):
    return load_scene_from_string(text, "rand.yaml", seed=seed)


def test_same_seed_same_scene_byte_for_byte_and_seeds_differ():
    first, again, other = (scene_to_yaml(_scene(seed)) for seed in (7, 7, 8))
    assert first == again
    assert first != other
    texts = {scene_to_yaml(_scene(seed)) for seed in range(10)}
    assert len(texts) == 10


def test_every_value_is_drawn_within_its_distribution():
    sizes, xs, ys, counts, classes, fovs = [], [], [], [], set(), []
    for seed in range(60):
        scene = _scene(seed)
        balls = [entity for entity in scene.entities if entity.name.startswith("ball_")]
        counts.append(len(balls))
        assert [entity.name for entity in balls] == [f"ball_{index}" for index in range(len(balls))]
        # one vars draw is shared by every reference to it
        assert len({entity.mesh.radius for entity in balls}) == 1
        sizes.append(balls[0].mesh.radius)
        for entity in balls:
            xs.append(entity.pose.position[0])
            ys.append(entity.pose.position[1])
            classes.add(entity.semantic_class)
            assert entity.pose.position[2] == 0.5
        colour = scene.entities[0].material.base_color
        assert len(colour) == 3 and all(0.0 <= value < 1.0 for value in colour)
        assert len(set(colour)) == 3  # element-wise: three independent draws
        fovs.append(scene.cameras[0].fov_deg)
    assert min(sizes) >= 0.2 and max(sizes) < 0.5
    assert min(xs) >= -1 and max(xs) < 1
    assert set(counts) == {2, 3, 4, 5}  # randint includes both ends
    assert classes == {"ball", "box"}
    assert min(fovs) >= 40 and max(fovs) < 60
    # normal(0, 0.3) over ~200 draws: mean within 4 standard errors, std within 20 %
    ys = np.asarray(ys)
    assert abs(ys.mean()) < 4 * 0.3 / np.sqrt(len(ys))
    assert 0.24 < ys.std() < 0.36


def test_draws_are_a_function_of_seed_and_key_path():
    data = {"seed": 3, "a": {"uniform": [0, 1]}, "b": [{"normal": [5, 2]}, {"randint": [0, 100]}]}
    resolved = resolve_template(data, 3).data
    assert resolved["a"] == float(rng_for(3, "distribution a").uniform(0.0, 1.0))
    assert resolved["b"][0] == float(rng_for(3, "distribution b[0]").normal(5.0, 2.0))
    assert resolved["b"][1] == int(rng_for(3, "distribution b[1]").integers(0, 100, endpoint=True))
    # another value added or changed leaves the draws of the others as they were
    edited = resolve_template({**data, "a": {"uniform": [10, 20]}, "c": {"uniform": [0, 1]}}, 3).data
    assert edited["b"] == resolved["b"]


def test_choice_over_strings_and_mappings_resolves_the_chosen_item():
    text = """
name: pick
num_frames: 2
entities:
  - name: thing
    mesh:
      choice:
        - {type: box, size: {uniform: [[0.2, 0.2, 0.2], [0.4, 0.4, 0.4]]}}
        - {type: sphere, radius: 0.3}
lights:
  - {type: environment, hdri: {choice: [city, forest, studio]}}
"""
    kinds, maps = set(), set()
    for seed in range(30):
        scene = load_scene_from_string(text, "pick.yaml", seed=seed)
        mesh = scene.entities[0].mesh
        kinds.add(mesh.type)
        if mesh.type == "box":
            assert all(0.2 <= value < 0.4 for value in mesh.size)
        maps.add(scene.lights[0].hdri)
    assert kinds == {"box", "sphere"}
    assert maps == {"city", "forest", "studio"}


def test_a_scene_without_distributions_loads_as_before():
    text = "name: plain\nnum_frames: 2\nentities:\n  - {name: a, mesh: {type: box}}\n"
    assert scene_to_yaml(load_scene_from_string(text, seed=5)) == scene_to_yaml(
        load_scene_from_string(text.replace("name: plain", "name: plain\nseed: 5"))
    )


@pytest.mark.parametrize(
    ("value", "key_path", "reason"),
    [
        (
            "{gaussian: [0, 1]}",
            "entities[0].mesh.radius",
            "unknown distribution 'gaussian' (did you mean 'normal'?)",
        ),
        (
            "{unifrom: [0, 1]}",
            "entities[0].mesh.radius",
            "unknown distribution 'unifrom' (did you mean 'uniform'?)",
        ),
        ("{uniform: [0.5, 0.2]}", "entities[0].mesh.radius.uniform", "lo > hi (0.5 > 0.2)"),
        ("{uniform: [0.2]}", "entities[0].mesh.radius.uniform", "expected [lo, hi], got a list of 1"),
        ("{uniform: [a, 1]}", "entities[0].mesh.radius.uniform[0]", "lo must be a finite number"),
        ("{normal: [1, -2]}", "entities[0].mesh.radius.normal[1]", "std must be >= 0"),
        ("{randint: [1.5, 3]}", "entities[0].mesh.radius.randint[0]", "lo must be an integer"),
        ("{randint: [4, 3]}", "entities[0].mesh.radius.randint", "lo > hi (4 > 3)"),
        ("{choice: []}", "entities[0].mesh.radius.choice", "expected a non-empty list"),
        ("{uniform: [[0, 0], [1, 1, 1]]}", "entities[0].mesh.radius.uniform", "different lengths"),
    ],
)
def test_malformed_distributions_get_one_clear_error(value, key_path, reason):
    text = f"name: bad\nnum_frames: 2\nentities:\n  - name: a\n    mesh: {{type: sphere, radius: {value}}}\n"
    with pytest.raises(SceneError) as caught:
        load_scene_from_string(text, "bad.yaml")
    assert len(caught.value.issues) == 1
    file, path, message = caught.value.issues[0]
    assert (file, path) == ("bad.yaml", key_path)
    assert reason in message


def test_misspelt_keys_are_not_mistaken_for_distributions():
    text = "name: bad\nnum_frames: 2\nentities:\n  - name: a\n    pose: {positon: [0, 0, 1]}\n"
    with pytest.raises(
        SceneError, match=r"entities\[0\]\.pose\.positon: unknown key 'positon' \(did you mean"
    ):
        load_scene_from_string(text, "bad.yaml")


@pytest.mark.parametrize(
    ("text", "key_path", "reason"),
    [
        ("seed: {randint: [0, 9]}\n", "seed", "'seed' cannot be randomised"),
        ("entities:\n  - repeat: {count: 2}\n", "entities[0].repeat", "missing key 'entity'"),
        (
            "entities:\n  - repeat: {count: -1, entity: {name: a}}\n",
            "entities[0].repeat.count",
            "expected an integer",
        ),
        (
            "entities:\n  - repeat: {count: 2, entity: {name: a}, each: 1}\n",
            "entities[0].repeat.each",
            "unknown key",
        ),
        ("world: {repeat: {count: 2, entity: {}}}\n", "world", "only allowed as an item of a list"),
    ],
)
def test_malformed_repeats_and_seeds(text, key_path, reason):
    with pytest.raises(SceneError) as caught:
        load_scene_from_string("name: bad\nnum_frames: 2\n" + text, "bad.yaml")
    assert caught.value.issues[0][1] == key_path
    assert reason in caught.value.issues[0][2]


def test_a_resolved_scene_that_is_invalid_names_its_seed():
    text = "name: r\nnum_frames: 2\nentities:\n  - {name: a, mesh: {type: {choice: [sphere, blob]}}}\n"
    failing = None
    for seed in range(50):
        try:
            load_scene_from_string(text, "r.yaml", seed=seed)
        except SceneError as error:
            failing = (seed, error)
            break
    assert failing is not None
    seed, error = failing
    assert error.key_path == "entities[0].mesh.type"
    assert f"(resolved with seed {seed})" in error.reason


def test_validate_and_info_resolve_seeds(tmp_path, capsys):
    path = tmp_path / "rand.yaml"
    path.write_text(RANDOMISED)
    assert main(["validate", str(path), "--seeds", "0:5"]) == 0
    assert "valid at seeds 0:5" in capsys.readouterr().out
    assert main(["validate", str(path), "--seeds", "5:2"]) == 2
    assert "empty range" in capsys.readouterr().err
    assert main(["info", str(path), "--seed", "4", "--yaml"]) == 0
    printed = capsys.readouterr().out
    assert printed.rstrip("\n") == scene_to_yaml(load_scene(path, seed=4)).rstrip("\n")
    assert "seed: 4" in printed
    bad = tmp_path / "bad.yaml"
    bad.write_text(RANDOMISED.replace("{uniform: [40, 60]}", "{uniform: [60, 40]}"))
    assert main(["validate", str(bad)]) == 1
    assert f"{bad}: cameras[0].fov_deg.uniform: lo > hi (60 > 40)" in capsys.readouterr().err
