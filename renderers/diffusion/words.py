"""Words -> the world the diffusion renderer draws: descriptions, the prompt's lighting and tone.

``resolve_words`` reads the scene ``prompt`` (or the ``prompt`` option) and each entity's
``description`` with the text encoder (``text_encoder``) and returns the scene as the words make
it, with a report for ``metadata.json``:

- **entities** (``structure`` mode): an entity's description, else the prompt's clause that names
  it (its name or semantic class: ``ground_prompt``), sets its look: a colour drawn from the
  encoder's CIELAB Gaussian (seeded per entity, within ``COLOUR_SPREAD`` standard deviations), its
  roughness and
  metalness. The colour is painted on the entity's pixels as the network's memory condition; the
  finish goes into the entity's material, so the guidance's ``specular`` map is exact for it. In
  ``gbuffer`` mode materials are the scene's: descriptions are reported as not applied.
- **lighting**: where the scene leaves it open (``lighting: auto``, or lights left out: the
  default sun), the lighting kind the prompt names replaces the lights with its preset
  (``worldsim.scene.lighting_presets``); where lights are given without an environment the
  preset's environment is added; otherwise the world wins and the words are reported unused.
- **tone**: the exposure shift the prompt's tone words stand for, applied at the tone map.

Words the encoder does not know are reported (and logged), never silently dropped.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from renderers.diffusion.text_encoder import TextModel
from worldsim.randomness import derive_seed
from worldsim.scene.lighting_presets import preset_lights
from worldsim.scene.model import DefaultList, EntitySpec, MaterialSpec
from worldsim.scene.scene import Scene
from worldsim.text.colours import lab_to_linear_rgb
from worldsim.text.words import tokenize

LOGGER = logging.getLogger(__name__)
COLOUR_PURPOSE = "text_colour"
MIN_LIGHTING_PROBABILITY = 0.5
"""A lighting kind the encoder gives less probability than this is not applied."""
COLOUR_SPREAD = 0.5
"""A described colour is drawn within this many of the encoder's standard deviations of its mean."""
MIN_TONE_EV = 0.25
"""Tone shifts smaller than this (stops) are not applied."""
_CLAUSE_BREAKS = re.compile(r"(,|;|\b(?:and|on|beside|near|behind|under|above|at|next to|in front of)\b)")
GROUND_WORDS = {"ground", "floor"}


@dataclass
class WordsResolution:
    """The scene as the words make it; ``colours``: entity id -> linear albedo (3,) to paint;
    ``tone_ev``: the exposure shift; ``report``: what was applied and what was not, and why."""

    scene: Scene
    colours: dict[int, np.ndarray] = field(default_factory=dict)
    described: set[int] = field(default_factory=set)
    tone_ev: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)


def ground_prompt(prompt: str, scene: Scene) -> dict[int, str]:
    """Entity id -> the prompt's clauses (split at commas and spatial words) that name it by its
    name or semantic class (``"a red crate on grey concrete"``: the crate gets ``a red crate``);
    a clause after ``on`` that names no entity goes to the ground (entities of class or name
    ``ground`` / ``floor``, or planes): ``grey concrete``."""
    pieces = _CLAUSE_BREAKS.split(prompt)
    clauses = []  # (clause, the word that opened it)
    opener = ""
    for piece in pieces:
        if piece is None:
            continue
        if _CLAUSE_BREAKS.fullmatch(piece):
            opener = piece.strip()
        elif piece.strip():
            clauses.append((piece.strip(), opener))
    names_of = {}
    for entity in scene.entities:
        names = {*tokenize(entity.name), *tokenize(entity.semantic_class)} - {"object", "entity"}
        names_of[entity.id] = names | {name + "s" for name in names}
    named = {
        clause for clause, _ in clauses if any(names & set(tokenize(clause)) for names in names_of.values())
    }
    grounded: dict[int, str] = {}
    for entity in scene.entities:
        if entity.id is None:
            continue
        said = [clause for clause, _ in clauses if names_of[entity.id] & set(tokenize(clause))]
        if _is_ground(entity):
            said += [clause for clause, opener in clauses if opener == "on" and clause not in named]
        if said:
            grounded[int(entity.id)] = ", ".join(said)
    return grounded


def _is_ground(entity: EntitySpec) -> bool:
    words = {*tokenize(entity.name), *tokenize(entity.semantic_class)}
    return bool(words & GROUND_WORDS) or entity.mesh.type == "plane"


def resolve_words(
    scene: Scene,
    model: TextModel,
    *,
    mode: str,
    prompt: str | None = None,
    guidance_scale: float = 1.0,
) -> WordsResolution:
    """``scene`` as its words make it for a ``mode`` render (see the module docstring); the
    input scene is not changed."""
    scene = copy.deepcopy(scene)
    prompt = scene.prompt if prompt is None else prompt
    scene.prompt = prompt
    result = WordsResolution(scene=scene)
    report = result.report
    grounded = ground_prompt(prompt, scene) if prompt else {}
    descriptions = {
        int(e.id): e.description or grounded.get(int(e.id), "")
        for e in scene.entities
        if e.id is not None and (e.description or int(e.id) in grounded)
    }
    texts = [prompt, *descriptions.values()]
    unknown = list(dict.fromkeys(word for text in texts for word in model.unknown_words(text)))
    if unknown:
        LOGGER.warning("diffusion renderer: words the text encoder does not know: %s", ", ".join(unknown))
    report["unknown_words"] = unknown
    report["prompt"] = prompt
    if descriptions and mode == "structure":
        _describe(scene, model, descriptions, guidance_scale, result)
    elif descriptions:
        report["descriptions_not_applied"] = {
            "entities": sorted(descriptions),
            "reason": "gbuffer mode draws the scene's materials; words set lighting and tone only",
        }
    if prompt:
        _light(scene, model, prompt, report)
        tone = model.tone(prompt)
        result.tone_ev = tone if abs(tone) >= MIN_TONE_EV else 0.0
        report["tone_ev"] = round(result.tone_ev, 3)
    return result


def _describe(
    scene: Scene,
    model: TextModel,
    descriptions: dict[int, str],
    guidance_scale: float,
    result: WordsResolution,
) -> None:
    """Give each described entity the look its words stand for (material and painted colour)."""
    looks = model.describe(list(descriptions.values()), guidance_scale)
    applied = {}
    by_id = {int(e.id): e for e in scene.entities if e.id is not None}
    for (entity_id, text), look in zip(descriptions.items(), looks, strict=True):
        rng = np.random.default_rng(derive_seed(scene.seed, COLOUR_PURPOSE, entity_id))
        lab = look.lab_mean + COLOUR_SPREAD * look.lab_std * np.clip(rng.normal(size=3), -1.0, 1.0)
        rgb = np.clip(lab_to_linear_rgb(lab), 0.0, 1.0).astype(np.float32)
        entity = by_id[entity_id]
        entity.material = MaterialSpec(
            base_color=[float(c) for c in rgb],
            roughness=round(look.roughness, 4),
            metallic=round(look.metallic, 4),
        )
        result.colours[entity_id] = rgb
        result.described.add(entity_id)
        applied[str(entity_id)] = {
            "description": text,
            "base_color": [round(float(c), 4) for c in rgb],
            "roughness": round(look.roughness, 4),
            "metallic": round(look.metallic, 4),
        }
    result.report["entities"] = applied


def _light(scene: Scene, model: TextModel, prompt: str, report: dict[str, Any]) -> None:
    """Apply the prompt's lighting kind where the scene leaves lighting open."""
    kind, probability = model.lighting(prompt)
    entry: dict[str, Any] = {"kind": kind, "probability": round(probability, 3)}
    report["lighting"] = entry
    if kind is None or probability < MIN_LIGHTING_PROBABILITY:
        entry["applied"] = False
        entry["reason"] = "the prompt names no lighting"
        return
    lights = preset_lights(kind, scene.seed)
    if scene.lighting == "auto" or isinstance(scene.lights, DefaultList):
        scene.lights = lights
        scene.lighting = "given"
        entry["applied"] = "replaced the lights"
    elif not any(light.type == "environment" for light in scene.lights):
        scene.lights = [*[light for light in lights if light.type == "environment"], *scene.lights]
        entry["applied"] = "added the environment"
    else:
        entry["applied"] = False
        entry["reason"] = "the scene's lights are given (set lighting: auto to let words choose)"
