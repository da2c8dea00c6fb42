"""(caption, what it says) pairs for the text encoder, from the renderer's training scenes.

Every pair comes from exact facts (``worldsim.text.captions``): entity pairs hold a caption with
some facts left out and the entity's CIELAB colour, roughness and metalness; scene pairs a prompt
and its lighting kind (``None`` where the caption leaves the lighting out) and the camera's
exposure. The scenes are ``lit_scenes.lit_scene`` (what the renderer v2 is trained on); their
colours crowd into a few words (presets are wood, concrete, marble...), so ``balanced_looks``
adds entities whose colour word is drawn uniformly from the vocabulary (a colour drawn inside the
word's CIELAB region) with a random material, finish and shape. Deterministic for a seed range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldsim.datasets.lit_scenes import lit_scene
from worldsim.randomness import derive_seed
from worldsim.scene.material_presets import MATERIAL_PRESETS
from worldsim.text.captions import (
    PHRASINGS,
    EntityFacts,
    entity_caption,
    entity_facts,
    first_camera_exposure_ev,
    phrase,
    pick,
    scene_facts,
)
from worldsim.text.colours import COLOUR_WORDS, colour_word, linear_rgb_to_lab
from worldsim.text.words import (
    LIGHTING_WORDS,
    METAL_WORD,
    PRESET_MATERIAL_WORDS,
    SHAPE_WORDS,
    TEXTURE_WORDS,
    TONE_WORDS,
    finish_of,
)

ENTITY_DROP = 0.3
"""Probability that an entity caption leaves out each fact word."""
EMPTY_SHARE = 0.1
"""Share of captions replaced by the empty string (the prior, for classifier-free guidance)."""
PURPOSE = "caption_pairs"


@dataclass
class CaptionPairs:
    """Entity captions with their targets, scene captions with theirs (aligned lists)."""

    entity_text: list[str]
    lab: np.ndarray
    """(N, 3) CIELAB of the entity's material colour."""
    roughness: np.ndarray
    metallic: np.ndarray
    scene_text: list[str]
    lighting: list[str | None]
    exposure_ev: np.ndarray


def balanced_looks(count: int, seed: int) -> list[EntityFacts]:
    """``count`` entity looks, colour words uniform over the vocabulary (see the module docstring)."""
    rng = np.random.default_rng(derive_seed(seed, PURPOSE + "_balanced"))
    candidates = rng.random((200000, 3)) ** 2.2
    labs = linear_rgb_to_lab(candidates)
    words = colour_word(labs)
    by_word = {word: np.flatnonzero(words == word) for word in COLOUR_WORDS}
    presets = sorted(MATERIAL_PRESETS)
    shapes = sorted(SHAPE_WORDS)
    looks = []
    for _ in range(count):
        word = pick(rng, COLOUR_WORDS)
        lab = labs[pick(rng, by_word[word])]
        material = pattern = None
        draw = rng.random()
        if draw < 0.4:
            preset = pick(rng, presets)
            material = PRESET_MATERIAL_WORDS[preset]
            roughness, metal = MATERIAL_PRESETS[preset].roughness, MATERIAL_PRESETS[preset].metallic
        elif draw < 0.5:
            material, roughness, metal = METAL_WORD, float(rng.uniform(0.05, 0.6)), 1.0
        else:
            roughness, metal = float(rng.uniform(0.03, 1.0)), 0.0
            if rng.random() < 0.3:
                pattern = pick(rng, sorted(TEXTURE_WORDS.values()))
        looks.append(
            EntityFacts(
                colour=word,
                material=material,
                pattern=pattern,
                finish=finish_of(roughness),
                shape=SHAPE_WORDS[pick(rng, shapes)][0],
                lab=tuple(float(v) for v in lab),
                roughness=float(roughness),
                metallic=float(metal),
            )
        )
    return looks


def caption_pairs(
    seeds: range, phrasings: str = "train", per_entity: int = 2, per_scene: int = 3, balanced: int = 0
) -> CaptionPairs:
    """The pairs of the scenes ``lit_scene(seed)`` for ``seed`` in ``seeds``, and of ``balanced``
    looks from ``balanced_looks`` (one caption each)."""
    entity_text, labs, roughness, metallic = [], [], [], []
    rng = np.random.default_rng(derive_seed(seeds.start if len(seeds) else 0, PURPOSE + "_looks"))
    for facts in balanced_looks(balanced, seeds.start if len(seeds) else 0):
        text = entity_caption(facts, rng, phrasings, drop=ENTITY_DROP)
        entity_text.append("" if rng.random() < EMPTY_SHARE else text)
        labs.append(facts.lab)
        roughness.append(facts.roughness)
        metallic.append(facts.metallic)
    scene_text, lighting, exposure = [], [], []
    scene_templates = PHRASINGS[phrasings]["scene"]
    for seed in seeds:
        scene = lit_scene(seed)
        rng = np.random.default_rng(derive_seed(seed, PURPOSE))
        for entity in scene.entities:
            facts = entity_facts(scene, entity)
            for _ in range(per_entity):
                text = entity_caption(facts, rng, phrasings, drop=ENTITY_DROP)
                entity_text.append("" if rng.random() < EMPTY_SHARE else text)
                labs.append(facts.lab)
                roughness.append(facts.roughness)
                metallic.append(facts.metallic)
        facts = scene_facts(scene)
        ev = first_camera_exposure_ev(scene)
        parts = [entity_caption(entity_facts(scene, e), rng, phrasings, drop=0.5) for e in scene.entities[:3]]
        for _ in range(per_scene):
            said = facts.lighting if facts.lighting is not None and rng.random() > 0.2 else None
            tone = facts.tone if facts.tone is not None and rng.random() > 0.2 else None
            slots = {
                "composition": " and ".join(parts[: int(rng.integers(1, 4))]),
                "lighting": "" if said is None else pick(rng, LIGHTING_WORDS[said]),
                "tone": "" if tone is None else pick(rng, TONE_WORDS[tone]),
            }
            text = phrase(pick(rng, scene_templates), slots)
            empty = rng.random() < EMPTY_SHARE
            scene_text.append("" if empty else text)
            lighting.append(None if empty else said)
            exposure.append(0.0 if empty or tone is None else float(ev))
    return CaptionPairs(
        entity_text=entity_text,
        lab=np.asarray(labs, dtype=np.float32),
        roughness=np.asarray(roughness, dtype=np.float32),
        metallic=np.asarray(metallic, dtype=np.float32),
        scene_text=scene_text,
        lighting=lighting,
        exposure_ev=np.asarray(exposure, dtype=np.float32),
    )
