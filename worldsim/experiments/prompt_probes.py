"""Prompt probes: does a renderer that reads words draw what they say? (``prompt_probes`` in an
experiment config; ``configs/experiments/prompt_adherence.yaml``.)

For every scene and seed of the config, with held-out phrasings (``worldsim.text.captions``):

- **colour**: every entity gets a description with a colour word drawn for it; the clip is lit by a
  neutral white environment; an entity adheres when the median CIELAB colour of its pixels in the
  image divided by the diffuse shading lies in the word's region (``metrics.text_adherence``).
  Chance: the same measurement on the render with ``text`` off.
- **finish**: the same descriptions with ``glossy`` and then ``matte``, under the
  ``finish_lighting`` preset (``studio``: compact bright sources, whose reflections are the
  highlights a finish shows; a lone sun lights most faces without a visible highlight at all); a
  pair adheres when the glossy entity's highlight area is larger. The path tracer
  (``reference_renderer``) renders the same two worlds (the scene as the words made it): its own
  adherence is the ceiling of the probe, and a pair counts as *decided* when the path tracer's
  glossy area exceeds its matte one by ``DECIDED_MARGIN``; adherence is reported on all pairs and on
  the decided ones.
- **lighting**: the scene with ``lighting: auto`` and a prompt naming each of ``lighting_kinds``;
  a scene adheres when brightness rises in the order given and the sunset is the warmest
  (lowest colour temperature) of them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.metrics.text_adherence import (
    colour_temperature,
    entity_reflectance_lab,
    highlight_area,
    mean_brightness,
)
from worldsim.randomness import derive_seed
from worldsim.scene.lighting_presets import preset_lights
from worldsim.scene.model import LightSpec
from worldsim.text.captions import HELDOUT_PHRASINGS, EntityFacts, entity_caption, entity_facts, phrase, pick
from worldsim.text.colours import COLOUR_WORDS, colour_word
from worldsim.text.words import FINISH_WORDS, LIGHTING_WORDS, tokenize

PURPOSE = "prompt_probe"
DECIDED_MARGIN = 0.02
"""A glossy-vs-matte pair is decided when the path tracer's highlight areas differ by this share."""


@dataclass
class PromptProbes:
    """What the probes render (each probe clip: ``frames`` frames at ``resolution``)."""

    scenes: list[str] = field(default_factory=list)
    """Scene files (relative to the config file); empty: the experiment's ``scenes``."""
    renderer: str = "diffusion"
    options: dict[str, Any] = field(default_factory=lambda: {"mode": "structure"})
    frames: int = 4
    resolution: list[int] = field(default_factory=lambda: [128, 128])
    lighting_kinds: list[str] = field(default_factory=lambda: ["night", "sunset", "midday"])
    """In the order of rising brightness the prompts should give."""
    finish_lighting: str = "studio"
    """The lighting preset (``worldsim.scene.lighting_presets``) of the finish probe."""
    reference_renderer: str = "reference"
    """Renders the finish probe's worlds for its ceiling and decided pairs; "" skips it."""
    reference_options: dict[str, Any] = field(default_factory=lambda: {"samples_per_pixel": 64})


def run_prompt_probes(
    probes: PromptProbes, scene_files: list[Path], seeds: list[int], out: Path
) -> dict[str, Any]:
    """Run every probe; write ``prompt_probes.json`` (rows and summary) under ``out``; return it."""
    from worldsim.scene.yaml_io import load_scene

    colour_rows, finish_rows, lighting_rows = [], [], []
    for scene_file in scene_files:
        for seed in seeds:
            base = load_scene(scene_file)
            base.seed = seed
            base.num_frames, base.duration = probes.frames, None
            base.resolution = list(probes.resolution)
            folder = out / "prompt_probes" / f"{scene_file.stem}_seed{seed}"
            label = {"scene": scene_file.stem, "seed": seed}
            colour_rows += [{**label, **row} for row in _colour_probe(probes, base, folder)]
            finish_rows += [{**label, **row} for row in _finish_probe(probes, base, folder)]
            lighting_rows.append({**label, **_lighting_probe(probes, base, folder)})
    summary = {
        "colour_adherence": _share([row["adheres"] for row in colour_rows]),
        "colour_chance": _share([row["chance_adheres"] for row in colour_rows]),
        "colour_entities": len(colour_rows),
        "finish_adherence": _share([row["adheres"] for row in finish_rows]),
        "finish_pairs": len(finish_rows),
        "finish_reference_adherence": _share(
            [row["reference_adheres"] for row in finish_rows if "decided" in row]
        ),
        "finish_decided_adherence": _share([row["adheres"] for row in finish_rows if row.get("decided")]),
        "finish_decided_pairs": sum(bool(row.get("decided")) for row in finish_rows),
        "lighting_adherence": _share([row["adheres"] for row in lighting_rows]),
        "lighting_scenes": len(lighting_rows),
    }
    result = {"summary": summary, "colour": colour_rows, "finish": finish_rows, "lighting": lighting_rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "prompt_probes.json").write_text(json.dumps(result, indent=1, default=float))
    return result


def _colour_probe(probes: PromptProbes, base: Any, folder: Path) -> list[dict[str, Any]]:
    scene = _neutral(base)
    words = _described(scene, colours=True)
    texted = _ClipArrays(_render(probes, scene, folder / "colour", {}), irradiance=True)
    plain = _ClipArrays(_render(probes, scene, folder / "colour_no_text", {"text": False}), irradiance=True)
    rows = []
    for entity, (word, text) in words.items():
        measured = texted.reflectance(entity)
        chance = plain.reflectance(entity)
        if measured is None or chance is None:
            continue
        rows.append(
            {
                "entity": entity,
                "description": text,
                "word": word,
                "lab": [round(float(v), 2) for v in measured],
                "measured_word": str(colour_word(measured)),
                "adheres": bool(colour_word(measured) == word),
                "chance_adheres": bool(colour_word(chance) == word),
            }
        )
    return rows


def _finish_probe(probes: PromptProbes, base: Any, folder: Path) -> list[dict[str, Any]]:
    areas: dict[str, dict[int, float | None]] = {}
    reference: dict[str, dict[int, float | None]] = {}
    for finish in ("glossy", "matte"):
        scene = copy.deepcopy(base)
        scene.lights = preset_lights(probes.finish_lighting, base.seed)
        scene.lighting, scene.prompt = "given", ""
        _described(scene, colours=True, finish=finish)
        rendered = _render(probes, scene, folder / finish, {})
        clip = _ClipArrays(rendered)
        areas[finish] = {entity: clip.highlight(entity) for entity in _entity_ids(scene)}
        if probes.reference_renderer:
            from worldsim.scene.yaml_io import load_scene

            worded = load_scene(rendered.layout.scene_yaml)  # the world as the words made it
            traced = _ClipArrays(
                _render_with(
                    probes.reference_renderer,
                    probes.reference_options,
                    worded,
                    folder / f"{finish}_reference",
                )
            )
            reference[finish] = {entity: traced.highlight(entity) for entity in _entity_ids(scene)}
    rows = []
    for entity in areas["glossy"]:
        glossy, matte = areas["glossy"][entity], areas["matte"][entity]
        if glossy is None or matte is None:
            continue
        row = {"entity": entity, "glossy": glossy, "matte": matte, "adheres": bool(glossy > matte)}
        if reference:
            traced_glossy, traced_matte = reference["glossy"][entity], reference["matte"][entity]
            if traced_glossy is None or traced_matte is None:
                continue
            row["reference_glossy"], row["reference_matte"] = traced_glossy, traced_matte
            row["reference_adheres"] = bool(traced_glossy > traced_matte)
            row["decided"] = bool(traced_glossy > traced_matte + DECIDED_MARGIN)
        rows.append(row)
    return rows


def _lighting_probe(probes: PromptProbes, base: Any, folder: Path) -> dict[str, Any]:
    rng = np.random.default_rng(derive_seed(base.seed, PURPOSE + "_lighting"))
    shapes = " and ".join(entity_facts(base, e).shape for e in base.entities[:3])
    stats = {}
    for kind in probes.lighting_kinds:
        scene = copy.deepcopy(base)
        scene.lighting = "auto"
        for entity in scene.entities:
            entity.description = ""
        templates = HELDOUT_PHRASINGS["scene"]
        words = LIGHTING_WORDS[kind]
        slots = {"composition": shapes, "lighting": pick(rng, words), "tone": ""}
        scene.prompt = phrase(pick(rng, templates), slots)
        linear = _ClipArrays(_render(probes, scene, folder / f"light_{kind}", {})).linear
        mean = linear.reshape(-1, 3).mean(axis=0)
        stats[kind] = {
            "prompt": scene.prompt,
            "brightness": mean_brightness(linear),
            "cct": colour_temperature(mean),
        }
    brightness = [stats[kind]["brightness"] for kind in probes.lighting_kinds]
    ordered = all(a < b for a, b in pairwise(brightness))
    warmest = True
    if "sunset" in stats:
        warmest = all(stats["sunset"]["cct"] < stats[k]["cct"] for k in stats if k != "sunset")
    return {
        "kinds": stats,
        "brightness_ordered": ordered,
        "sunset_warmest": warmest,
        "adheres": ordered and warmest,
    }


def _neutral(base: Any) -> Any:
    """``base`` under a uniform white environment, standard tone map, exposure 0, no prompt."""
    scene = copy.deepcopy(base)
    scene.lights = [
        LightSpec(type="environment", name="neutral", sky="uniform", color=[1.0, 1.0, 1.0], intensity=1.0)
    ]
    scene.lighting, scene.prompt, scene.exposure_ev = "given", "", 0.0
    for camera in scene.cameras:
        camera.exposure_ev, camera.tonemap = 0.0, "standard"
    if "irradiance" not in scene.render.guidance:
        scene.render.guidance = [*scene.render.guidance, "irradiance"]
    return scene


def _described(scene: Any, *, colours: bool, finish: str | None = None) -> dict[int, tuple[str, str]]:
    """Give every entity a held-out-phrased description (a colour word drawn per entity and seed,
    and ``finish``); returns entity id -> (colour word, description)."""
    words = {}
    for entity in scene.entities:
        rng = np.random.default_rng(derive_seed(scene.seed, PURPOSE, int(entity.id)))
        word = pick(rng, COLOUR_WORDS)
        facts = entity_facts(scene, entity)
        said = EntityFacts(
            colour=word if colours else "",
            material=None,
            pattern=None,
            finish=finish,
            shape=facts.shape,
            lab=facts.lab,
            roughness=facts.roughness,
            metallic=facts.metallic,
        )
        # a held-out phrasing that says every word given (optional groups can drop one)
        needed = {word} if colours else set()
        for _ in range(20):
            text = entity_caption(said, rng, "heldout")
            words_said = set(tokenize(text))
            if needed <= words_said and (finish is None or words_said & set(FINISH_WORDS[finish])):
                break
        else:
            raise ValueError(f"no held-out phrasing says {sorted(needed)} and {finish!r}")
        entity.description = text
        words[int(entity.id)] = (word, text)
    return words


def _render(probes: PromptProbes, scene: Any, out: Path, options: dict[str, Any]) -> Any:
    return _render_with(probes.renderer, {**probes.options, **options}, scene, out)


def _render_with(renderer: str, options: dict[str, Any], scene: Any, out: Path) -> Any:
    from worldsim.render import render

    return render(scene, renderer=renderer, out=out, options=options, progress=False)


class _ClipArrays:
    """A probe clip's frames read once: linear rgb, instance ids and (``irradiance``) the map."""

    def __init__(self, clip: Any, irradiance: bool = False) -> None:
        from renderers.tonemap import srgb_decode

        frames = range(clip.num_frames)
        self.linear = np.stack([srgb_decode(clip.rgb(f).astype(np.float32) / 255.0) for f in frames])
        self.instance = np.stack([clip.instance(f) for f in frames])
        self.irradiance = (
            np.stack([clip.map("irradiance", f)["irradiance"] for f in frames]) if irradiance else None
        )

    def reflectance(self, entity: int) -> np.ndarray | None:
        return entity_reflectance_lab(self.linear, self.irradiance, self.instance, entity)

    def highlight(self, entity: int) -> float | None:
        return highlight_area(self.linear, self.instance, entity)


def _entity_ids(scene: Any) -> list[int]:
    return [int(entity.id) for entity in scene.entities]


def _share(values: list[bool]) -> float:
    return float(np.mean(values)) if values else float("nan")


def probe_report(result: dict[str, Any]) -> str:
    """The report section of the probes' summary (markdown)."""
    summary = result["summary"]
    return "\n".join(
        [
            "",
            "## Prompt probes (held-out phrasings, exact masks)",
            "",
            "| probe | adherence | count | chance |",
            "|---|---|---|---|",
            f"| colour word in its CIELAB region | {summary['colour_adherence']:.3f} | "
            f"{summary['colour_entities']} entities | {summary['colour_chance']:.3f} (text off) |",
            f"| glossy vs matte highlight area | {summary['finish_adherence']:.3f} | "
            f"{summary['finish_pairs']} pairs | 0.5 (either way) |",
            f"| ... on the pairs the path tracer decides | {summary['finish_decided_adherence']:.3f} | "
            f"{summary['finish_decided_pairs']} pairs | 0.5; the path tracer itself: "
            f"{summary['finish_reference_adherence']:.3f} on all pairs |",
            f"| lighting order (brightness, sunset warmest) | {summary['lighting_adherence']:.3f} | "
            f"{summary['lighting_scenes']} scenes | 1/6 (one of six orders), lower with the warmth test |",
            "",
        ]
    )
