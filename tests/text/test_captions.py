"""Captions from the world: exact facts, several phrasings, held-out phrasings of known words."""

from __future__ import annotations

import numpy as np

from worldsim.datasets.caption_pairs import balanced_looks, caption_pairs
from worldsim.datasets.lit_scenes import lit_scene
from worldsim.scene.model import EntitySpec, MaterialSpec, MeshSpec
from worldsim.scene.scene import Scene
from worldsim.text.captions import (
    HELDOUT_PHRASINGS,
    TRAIN_PHRASINGS,
    clip_captions,
    entity_caption,
    entity_facts,
    phrase,
)
from worldsim.text.colours import COLOUR_WORDS
from worldsim.text.words import tokenize


def _words(templates: dict[str, tuple[str, ...]]) -> set[str]:
    return {word for group in templates.values() for template in group for word in tokenize(template)}


def test_heldout_phrasings_are_new_orders_of_known_words() -> None:
    assert _words(HELDOUT_PHRASINGS) <= _words(TRAIN_PHRASINGS)
    for kind in ("entity", "scene"):
        assert not set(HELDOUT_PHRASINGS[kind]) & set(TRAIN_PHRASINGS[kind])


def test_facts_are_what_the_entity_is_made_of() -> None:
    scene = Scene(name="s")
    scene.add(
        EntitySpec(
            name="crate",
            mesh=MeshSpec(type="box"),
            material=MaterialSpec(base_color=[0.7, 0.02, 0.02], roughness=0.1),
        )
    )
    scene.add(EntitySpec(name="mug", mesh=MeshSpec(type="sphere"), material="rubber"))
    crate, mug = (entity_facts(scene, entity) for entity in scene.entities)
    assert (crate.colour, crate.finish, crate.shape, crate.material) == ("red", "glossy", "box", None)
    assert (mug.material, mug.finish, mug.shape) == ("rubber", "matte", "ball")
    caption = entity_caption(crate, np.random.default_rng(0))
    assert "red" in tokenize(caption)


def test_optional_groups_vanish_with_their_slot() -> None:
    assert (
        phrase("a [{colour}] {shape} [made of {material}]", {"shape": "box", "colour": "red"}) == "a red box"
    )
    assert phrase("{shape}[, {colour}][, {finish}]", {"shape": "ball", "finish": "matte"}) == "ball, matte"


def test_clip_captions_are_deterministic_and_cover_every_entity() -> None:
    scene = lit_scene(3)
    first, second = clip_captions(scene, 3), clip_captions(scene, 3)
    assert first == second
    assert len(first["entities"]) == len(scene.entities)
    for entry in first["entities"].values():
        assert len(entry["captions"]) == 3 and all(entry["captions"])
    assert first["scene_facts"]["lighting"] is not None


def test_balanced_looks_spread_over_the_whole_vocabulary() -> None:
    looks = balanced_looks(1200, 0)
    counts = {word: sum(look.colour == word for look in looks) for word in COLOUR_WORDS}
    assert min(counts.values()) > 50
    pairs = caption_pairs(range(5), balanced=100)
    assert len(pairs.entity_text) == len(pairs.lab) == len(pairs.roughness)
    assert len(pairs.scene_text) == len(pairs.lighting) == len(pairs.exposure_ev) == 15
