"""Words -> the world the diffusion renderer draws, with the shipped text encoder and weights."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from renderers.diffusion.text_encoder import DEFAULT_TEXT_WEIGHTS, Vocabulary, load_text_model
from renderers.diffusion.words import ground_prompt, resolve_words
from worldsim.errors import RenderError
from worldsim.scene.model import EntitySpec, LightSpec, MaterialSpec, MeshSpec, Pose
from worldsim.scene.scene import Scene
from worldsim.text.colours import COLOUR_WORDS, colour_word, linear_rgb_to_lab


@pytest.fixture(scope="module")
def model():
    return load_text_model()


def _scene(**kwargs) -> Scene:
    scene = Scene(name="words", num_frames=2, resolution=[64, 64], seed=4, **kwargs)
    scene.add(EntitySpec(name="ground", semantic_class="ground", mesh=MeshSpec(type="plane", size=[8, 8])))
    scene.add(EntitySpec(name="crate", semantic_class="crate", mesh=MeshSpec(type="box", size=[0.6] * 3),
                         pose=Pose(position=[0, 0, 0.3])))  # fmt: skip
    scene.add(EntitySpec(name="ball", semantic_class="ball", mesh=MeshSpec(type="sphere", radius=0.3),
                         pose=Pose(position=[0.8, 0.3, 0.3])))  # fmt: skip
    return scene


def test_the_shipped_encoder_knows_its_vocabulary_and_says_what_it_does_not(model) -> None:
    assert {"red", "glossy", "sunset", "night", "midday"} <= set(model.vocabulary.words)
    assert model.unknown_words("a Glossy RED crate, very cinematic") == ["very", "cinematic"]
    assert model.unknown_words("wooden crates and gray boxes") == []  # forms of known words
    assert model.metadata["heldout_colour_region"] >= 0.9


@pytest.mark.parametrize("word", COLOUR_WORDS)
def test_every_colour_word_draws_a_colour_in_its_region(model, word) -> None:
    for text in (word, f"the {word} ball is made of plastic", f"matte and {word} box"):
        look = model.describe([text])[0]
        assert colour_word(look.lab_mean) == word, text


def test_finish_words_move_roughness_and_guidance_scale_pushes_further(model) -> None:
    glossy, matte = model.describe(["a glossy red box", "a matte red box"])
    assert glossy.roughness < 0.3 < 0.65 < matte.roughness
    plain, guided = model.describe(["red"], 1.0)[0], model.describe(["red"], 2.0)[0]
    prior = model.describe([""])[0]
    assert np.linalg.norm(guided.lab_mean - prior.lab_mean) > 1.5 * np.linalg.norm(
        plain.lab_mean - prior.lab_mean
    )


def test_prompt_clauses_ground_on_entity_names_and_classes() -> None:
    grounded = ground_prompt(
        "a glossy red crate and a matte yellow ball on grey concrete at sunset", _scene()
    )
    assert grounded == {1: "grey concrete", 2: "a glossy red crate", 3: "a matte yellow ball"}


def test_structure_mode_gives_described_entities_their_look(model) -> None:
    scene = _scene(prompt="a red crate beside a blue ball")
    scene.entity("ball").description = "a glossy yellow ball"  # over the prompt's clause
    result = resolve_words(scene, model, mode="structure")
    assert set(result.colours) == {2, 3} and result.described == {2, 3}
    assert colour_word(linear_rgb_to_lab(result.colours[2])) == "red"
    assert colour_word(linear_rgb_to_lab(result.colours[3])) == "yellow"
    ball = result.scene.entity("ball").material
    assert isinstance(ball, MaterialSpec) and ball.roughness < 0.3
    assert scene.entity("ball").material == MaterialSpec()  # the input is not changed
    again = resolve_words(scene, model, mode="structure")
    assert np.array_equal(again.colours[3], result.colours[3])  # deterministic per seed


def test_gbuffer_mode_keeps_materials_and_reports_it(model) -> None:
    scene = _scene()
    scene.entity("crate").description = "a red crate"
    result = resolve_words(scene, model, mode="gbuffer")
    assert result.colours == {} and result.scene.entity("crate").material == MaterialSpec()
    assert result.report["descriptions_not_applied"]["entities"] == [2]


def test_lighting_words_fill_open_lighting_only(model) -> None:
    auto = resolve_words(_scene(prompt="a crate at sunset", lighting="auto"), model, mode="gbuffer")
    assert [light.hdri for light in auto.scene.lights if light.type == "environment"] == ["sunset"]
    assert auto.report["lighting"]["applied"] == "replaced the lights"
    given_sun = _scene(prompt="a crate at night", lights=[LightSpec(type="sun")])
    added = resolve_words(given_sun, model, mode="gbuffer")
    assert [light.type for light in added.scene.lights] == ["environment", "sun"]
    with_environment = _scene(
        prompt="a crate at night", lights=[LightSpec(type="environment", hdri="studio")]
    )
    kept = resolve_words(with_environment, model, mode="gbuffer")
    assert [light.hdri for light in kept.scene.lights] == ["studio"]
    assert kept.report["lighting"]["applied"] is False
    # resolving the resolved scene changes nothing more (the clip's scene.yaml re-renders the same)
    twice = resolve_words(auto.scene, model, mode="gbuffer")
    assert twice.scene.lights == auto.scene.lights


def test_unknown_words_are_reported_and_logged(model, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        result = resolve_words(_scene(prompt="a zorbly crate"), model, mode="structure")
    assert result.report["unknown_words"] == ["zorbly"]
    assert "zorbly" in caplog.text


def test_corrupt_text_weights_are_one_clear_error(tmp_path) -> None:
    bad = tmp_path / "text.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(RenderError, match=r"text encoder weights .*not a readable safetensors"):
        load_text_model(bad)
    with pytest.raises(RenderError, match="file not found"):
        load_text_model(tmp_path / "missing.safetensors")
    assert DEFAULT_TEXT_WEIGHTS.is_file()


def test_vocabulary_encodes_unknown_words_as_unknown() -> None:
    vocabulary = Vocabulary(["red", "box"])
    tokens = vocabulary.encode(["red box", "blue"], max_tokens=8)
    assert tokens.shape == (2, 2) and tokens[1, 0].item() == 2 and tokens[1, 1].item() == 0
