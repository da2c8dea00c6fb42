"""Words through a whole render with the shipped weights: descriptions drawn, prompts that differ
give frames that differ, ``--option prompt=`` accepted, unknown words warned by ``validate``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from renderers.tonemap import srgb_decode
from worldsim.cli.main import main
from worldsim.metrics.text_adherence import entity_reflectance_lab
from worldsim.render import render
from worldsim.scene.yaml_io import load_scene_from_string
from worldsim.text.colours import colour_word

SCENE = """
name: words
seed: 2
num_frames: 2
resolution: [64, 64]
prompt: a crate on the ground
render: {guidance: [depth, instance, semantic, normal, irradiance]}
lights: [{type: environment, sky: uniform, color: [1, 1, 1], intensity: 1.0}]
cameras: [{name: main, position: [2.2, -1.8, 1.4], look_at: [0, 0, 0.3], exposure_ev: 0, tonemap: standard}]
entities:
  - {name: ground, semantic_class: ground, mesh: {type: plane, size: [8, 8]}}
  - {name: crate, semantic_class: crate, mesh: {type: box, size: [0.7, 0.7, 0.7]},
     pose: {position: [0, 0, 0.35]}, description: "a red crate, matte"}
"""
OPTIONS = {"mode": "structure", "steps": 4}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("words")
    scene = load_scene_from_string(SCENE)
    texted = render(scene, renderer="diffusion", out=root / "red", options=OPTIONS, progress=False)
    plain = render(
        scene, renderer="diffusion", out=root / "off", options={**OPTIONS, "text": False}, progress=False
    )
    scene.entity("crate").description = "a blue crate"
    blue = render(scene, renderer="diffusion", out=root / "blue", options=OPTIONS, progress=False)
    return texted, plain, blue


def _crate_word(clip) -> str:
    linear = np.stack([srgb_decode(clip.rgb(f).astype(np.float32) / 255.0) for f in range(2)])
    irradiance = np.stack([clip.map("irradiance", f)["irradiance"] for f in range(2)])
    instance = np.stack([clip.instance(f) for f in range(2)])
    return str(colour_word(entity_reflectance_lab(linear, irradiance, instance, 2)))


def test_descriptions_are_drawn_and_recorded(clips) -> None:
    texted, plain, blue = clips
    assert _crate_word(texted) == "red"
    assert _crate_word(blue) == "blue"
    words = texted.metadata["words"]
    assert words["entities"]["2"]["description"] == "a red crate, matte"
    assert words["entities"]["2"]["roughness"] > 0.65
    assert plain.metadata["words"] == {"text": False}
    assert not np.array_equal(texted.rgb(0), blue.rgb(0))


def test_the_prompt_option_replaces_the_scene_prompt(tmp_path) -> None:
    scene_file = tmp_path / "scene.yaml"
    scene_file.write_text(SCENE.replace('description: "a red crate, matte"', 'description: ""'))
    outputs = []
    for prompt in ("a crate at sunset", "a crate at night"):
        out = tmp_path / prompt.split()[-1]
        command = ["render", str(scene_file), "--renderer", "diffusion", "--option", "mode=gbuffer",
                   "--option", f"prompt={prompt}", "--out", str(out), "--quiet"]  # fmt: skip
        assert main(command) == 0
        outputs.append(json.loads((out / "metadata.json").read_text())["words"])
    assert [entry["prompt"] for entry in outputs] == ["a crate at sunset", "a crate at night"]
    assert [entry["lighting"]["kind"] for entry in outputs] == ["sunset", "night"]
    # the scene gives an environment: the world wins, the words are reported unused
    assert all(entry["lighting"]["applied"] is False for entry in outputs)


def test_validate_warns_of_words_the_renderer_does_not_know(tmp_path, capsys) -> None:
    scene_file = tmp_path / "scene.yaml"
    scene_file.write_text(SCENE.replace("a crate on the ground", "a zorbly crate on the ground") + "\n")
    assert main(["validate", str(scene_file)]) == 0
    assert "does not know the words: zorbly" in capsys.readouterr().err
