"""Captions from the world: what a generated scene contains, said in words.

The simulator knows every parameter it sampled, so its captions are exact: ``entity_facts`` reads
an entity's colour word (``colours``), material, pattern, finish and shape words (``words``),
``scene_facts`` the lighting kind and the tone. ``entity_caption`` and ``scene_caption`` phrase
them with a template drawn from ``TRAIN_PHRASINGS`` (training) or ``HELDOUT_PHRASINGS``
(evaluation: word orders never used in training, built of the same vocabulary), optionally
dropping facts so the model learns what a word left out means. ``clip_captions`` is what the
training-data generator writes next to every clip (``captions.json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from worldsim.scene.hdri import shipped_hdri_names
from worldsim.scene.lighting_presets import sun_elevation_deg
from worldsim.scene.material_presets import MATERIAL_PRESETS
from worldsim.scene.model import EntitySpec, MaterialSpec
from worldsim.scene.scene import Scene
from worldsim.text.colours import colour_word, linear_rgb_to_lab
from worldsim.text.words import (
    FINISH_WORDS,
    GENERIC_SHAPE,
    LIGHTING_WORDS,
    METAL_WORD,
    PRESET_MATERIAL_WORDS,
    SHAPE_WORDS,
    TEXTURE_WORDS,
    TONE_WORDS,
    finish_of,
    sun_lighting_kind,
    tone_of,
)

TRAIN_PHRASINGS = {
    "entity": (
        "[{finish}] [{colour}] [{pattern}] [{material}] {shape}",
        "a [{colour}] {shape} [made of {material}] [, {finish}]",
        "{shape}[, {colour}][, {finish}][, {pattern}][, {material}]",
        "the {shape} is [{colour}] [{material}] [and {finish}]",
        "[{colour}] [{pattern}] [{material}] {shape} [with a {finish} look]",
        "a {shape} [of {colour} {material}] [with a {pattern} look]",
        "[{finish}] {shape} [in {colour}] [and {pattern}]",
        "[{colour}][, {finish}] [{pattern}] [{material}] {shape}",
    ),
    "scene": (
        "[{tone}] {composition} [{lighting}]",
        "[{lighting},] {composition}[, {tone}]",
        "a [{tone}] scene [{lighting}]: {composition}",
    ),
}
HELDOUT_PHRASINGS = {
    "entity": (
        "[{material}] {shape} [in {colour}][, {finish}] [and {pattern}]",
        "[{finish} and] [{colour}] {shape} [of {pattern} {material}]",
        "the [{colour}] [{finish}] {shape} [is made of {material}]",
    ),
    "scene": ("[{lighting},] a [{tone}] scene: {composition}", "{composition}[, {lighting}] [and {tone}]"),
}
"""Evaluation templates: word orders no training caption has (every word of them appears in
``TRAIN_PHRASINGS``; ``tests/text`` checks both). ``[...]`` is left out when a slot in it is empty."""
PHRASINGS = {"train": TRAIN_PHRASINGS, "heldout": HELDOUT_PHRASINGS}
_SLOT = re.compile(r"\{(\w+)\}")
T = TypeVar("T")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


@dataclass(frozen=True)
class EntityFacts:
    """What an entity looks like, as the simulator sampled it, and its words (None: no word)."""

    colour: str
    material: str | None
    pattern: str | None
    finish: str | None
    shape: str
    lab: tuple[float, float, float]
    roughness: float
    metallic: float


@dataclass(frozen=True)
class SceneFacts:
    """The lighting kind (``words.LIGHTING_KINDS`` or None) and tone (``bright``/``dim``/None)."""

    lighting: str | None
    tone: str | None


def material_colour(material: MaterialSpec) -> np.ndarray:
    """(3,) linear RGB: the base colour, or the mean of a texture's two colours."""
    texture = material.texture
    if texture is None:
        return np.asarray(material.base_color, dtype=np.float64)
    first = texture.color_a if texture.color_a is not None else material.base_color
    return (np.asarray(first, dtype=np.float64) + np.asarray(texture.color_b, dtype=np.float64)) / 2.0


def preset_name(material: MaterialSpec) -> str | None:
    """The named preset ``material`` was made from (roughness, metalness and texture kind the
    same, colours free: ``lit_scenes`` tints them), or None."""
    kind = None if material.texture is None else material.texture.type
    for name, preset in MATERIAL_PRESETS.items():
        preset_kind = None if preset.texture is None else preset.texture.type
        same = preset.roughness == material.roughness and preset.metallic == material.metallic
        if same and preset_kind == kind:
            return name
    return None


def entity_facts(scene: Scene, entity: EntitySpec) -> EntityFacts:
    """The facts of ``entity`` (its material resolved through ``scene``)."""
    material = scene.resolve_material(entity)
    lab = linear_rgb_to_lab(np.clip(material_colour(material), 0.0, 1.0))
    preset = preset_name(material)
    if preset is not None:
        word = PRESET_MATERIAL_WORDS[preset]
    else:
        word = METAL_WORD if material.metallic >= 0.5 else None
    pattern = None
    if material.texture is not None and preset is None:
        pattern = TEXTURE_WORDS.get(material.texture.type)
    mesh = entity.mesh
    key = mesh.type if mesh.type != "file" else str(mesh.file or "").replace("\\", "/").rsplit("/", 1)[-1]
    shapes = SHAPE_WORDS.get(key, GENERIC_SHAPE)
    return EntityFacts(
        colour=str(colour_word(lab)),
        material=word,
        pattern=pattern,
        finish=finish_of(float(material.roughness)),
        shape=shapes[0],
        lab=tuple(float(v) for v in lab),
        roughness=float(material.roughness),
        metallic=float(material.metallic),
    )


def scene_facts(scene: Scene) -> SceneFacts:
    """The scene's lighting kind and its first camera's tone."""
    lighting = None
    shipped = set(shipped_hdri_names())
    for light in scene.lights:
        if light.type == "environment" and light.hdri in shipped:
            lighting = light.hdri
            break
    if lighting is None:
        suns = [light for light in scene.lights if light.type == "sun"]
        if suns:
            lighting = sun_lighting_kind(sun_elevation_deg(suns[0].direction))
    return SceneFacts(lighting=lighting, tone=tone_of(first_camera_exposure_ev(scene)))


def first_camera_exposure_ev(scene: Scene) -> float:
    """The exposure (stops) of the scene's first camera: its own, else the scene's (0 without one)."""
    if not scene.cameras:
        return 0.0
    camera = scene.cameras[0]
    return float(camera.exposure_ev if camera.exposure_ev is not None else scene.exposure_ev)


def phrase(template: str, slots: dict[str, str]) -> str:
    """``template`` with its ``{slot}`` fields filled (missing ones empty), spaces and stray
    punctuation tidied."""

    def optional(match: re.Match[str]) -> str:
        inner = match.group(1)
        return inner if all(slots.get(name) for name in _SLOT.findall(inner)) else ""

    text = _OPTIONAL.sub(optional, template)
    text = _SLOT.sub(lambda match: slots.get(match.group(1), ""), text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,:])", r"\1", text)
    text = re.sub(r"([,:])(\s*[,:])+", r"\1", text)
    return text.strip(" ,:")


def entity_caption(
    facts: EntityFacts,
    rng: np.random.Generator,
    phrasings: str = "train",
    drop: float = 0.0,
    shape: bool = True,
) -> str:
    """A caption of ``facts`` with a ``phrasings`` template; each fact word is left out with
    probability ``drop`` (the shape too unless ``shape`` is False); synonyms drawn by ``rng``."""
    templates = PHRASINGS[phrasings]["entity"]
    template = pick(rng, templates)
    return phrase(template, _slots(facts, rng, drop, shape))


def _slots(facts: EntityFacts, rng: np.random.Generator, drop: float, shape: bool) -> dict[str, str]:
    """The words of ``facts`` by slot, each left out with probability ``drop``."""
    slots = {
        "colour": facts.colour,
        "material": facts.material or "",
        "pattern": facts.pattern or "",
        "finish": "" if facts.finish is None else pick(rng, FINISH_WORDS[facts.finish]),
        "shape": pick(rng, SHAPE_WORDS.get(facts.shape, (facts.shape,))),
    }
    for name in ("colour", "material", "pattern", "finish", "shape"):
        if (name != "shape" or shape) and rng.random() < drop:
            slots[name] = ""
    return slots


def scene_caption(scene: Scene, rng: np.random.Generator, phrasings: str = "train", drop: float = 0.0) -> str:
    """A caption of the whole scene: its lighting and tone, and a short phrase per entity."""
    facts = scene_facts(scene)
    parts = [
        phrase(PHRASINGS[phrasings]["entity"][0], _slots(entity_facts(scene, e), rng, drop=0.5, shape=False))
        for e in scene.entities
    ]
    templates = PHRASINGS[phrasings]["scene"]
    slots = {
        "composition": " and ".join(parts[:3]),
        "lighting": "" if facts.lighting is None else pick(rng, LIGHTING_WORDS[facts.lighting]),
        "tone": "" if facts.tone is None else pick(rng, TONE_WORDS[facts.tone]),
    }
    for name in ("lighting", "tone"):
        if rng.random() < drop:
            slots[name] = ""
    return phrase(pick(rng, templates), slots)


def clip_captions(scene: Scene, seed: int, phrasings: str = "train", count: int = 3) -> dict[str, Any]:
    """What ``captions.json`` holds for a generated clip: ``count`` phrasings of the scene caption
    and of each entity's caption, with the facts they say."""
    rng = np.random.default_rng(seed)
    entities = {}
    for entity in scene.entities:
        facts = entity_facts(scene, entity)
        entities[str(entity.id)] = {
            "name": entity.name,
            "captions": [entity_caption(facts, rng, phrasings) for _ in range(count)],
            "facts": asdict(facts),
        }
    return {
        "phrasings": phrasings,
        "scene": [scene_caption(scene, rng, phrasings) for _ in range(count)],
        "scene_facts": asdict(scene_facts(scene)),
        "entities": entities,
    }


def write_captions(path: str | Path, scene: Scene, seed: int) -> Path:
    """``clip_captions`` of ``scene`` written atomically as JSON to ``path``."""
    from worldsim.clip.atomic import write_text

    return write_text(path, json.dumps(clip_captions(scene, seed), indent=1))


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One of ``options``, drawn uniformly by ``rng`` (one ``integers`` draw)."""
    return options[int(rng.integers(len(options)))]
