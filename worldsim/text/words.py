"""The appearance vocabulary's word tables and the tokenizer every text path uses.

Facts map to words here and nowhere else: material words (from the preset names, the procedural
texture kinds and metalness), finish words (from roughness), shape words (from the mesh),
lighting kinds (from the environment map or the sun's elevation) and tone words (from the
exposure). ``tokenize`` is the one tokenizer: lower case, letters only, British spelling.
"""

from __future__ import annotations

import re

GLOSSY_ROUGHNESS = 0.3
"""A material at or below this roughness is called glossy."""
MATTE_ROUGHNESS = 0.65
"""A material at or above this roughness is called matte."""
FINISH_WORDS = {"glossy": ("glossy", "shiny", "polished"), "matte": ("matte", "dull", "rough")}
"""Finish -> its words (the first is the canonical one)."""
FINISH_ROUGHNESS = {"glossy": 0.12, "matte": 0.85}
"""The roughness a finish word stands for where a probe or a test needs one value."""

PRESET_MATERIAL_WORDS = {
    "wood": "wood",
    "brushed_metal": "brushed metal",
    "painted_metal": "painted metal",
    "plastic": "plastic",
    "rubber": "rubber",
    "concrete": "concrete",
    "marble": "marble",
    "fabric": "fabric",
    "ceramic": "ceramic",
}
"""Material preset (``worldsim.scene.material_presets``) -> its material words."""
TEXTURE_WORDS = {"checker": "checkered", "stripes": "striped", "noise": "mottled", "marble": "marbled"}
"""Procedural texture kind -> its pattern word (a solid colour has none)."""
METAL_WORD = "metal"

SHAPE_WORDS = {
    "box": ("box", "crate", "cube"),
    "sphere": ("ball", "sphere"),
    "cylinder": ("cylinder", "pillar"),
    "capsule": ("capsule", "pill"),
    "cone": ("cone",),
    "torus": ("ring", "torus"),
    "plane": ("floor", "ground"),
    "car.obj": ("car",),
    "chair.glb": ("chair",),
    "mug.ply": ("mug", "cup"),
    "rock.obj": ("rock", "stone"),
    "stairs.stl": ("stairs", "steps"),
}
"""Mesh primitive or shipped mesh file -> its shape words."""
GENERIC_SHAPE = ("object", "thing")

LIGHTING_WORDS: dict[str, tuple[str, ...]] = {
    "sunset": ("at sunset", "in the sunset light", "sunset", "at dusk with the sun setting"),
    "sunrise": ("at sunrise", "in the sunrise light", "sunrise", "at dawn"),
    "night": ("at night", "in the night", "night", "in the dark of night"),
    "midday": ("at midday", "under the midday sun", "at noon", "midday"),
    "low_sun": ("under a low sun", "with the sun low in the sky", "low sun"),
    "sky": ("under an open sky", "outdoors under the sky", "in daylight"),
    "forest": ("in a forest", "among the trees of a forest", "forest"),
    "interior": ("indoors", "in a room", "inside a room", "interior"),
    "studio": ("in a studio", "in a photo studio", "studio light"),
    "city": ("in the city", "on a city street", "city"),
    "courtyard": ("in a courtyard", "in a sunny courtyard", "courtyard"),
}
"""Lighting kind -> its phrases. HDRI-lit scenes take their map's name; sun-and-sky scenes take
``midday`` / ``sky`` / ``low_sun`` by the sun's elevation."""
LIGHTING_KINDS = tuple(LIGHTING_WORDS)
MIDDAY_ELEVATION_DEG = 55.0
LOW_SUN_ELEVATION_DEG = 35.0

TONE_WORDS = {"bright": ("bright", "brightly exposed", "light"), "dim": ("dim", "dark", "moody")}
"""Tone -> its words: the camera's exposure (``BRIGHT_EV`` and up, ``DIM_EV`` and down)."""
BRIGHT_EV = 0.5
DIM_EV = -0.5
TONE_EV = {"bright": 0.7, "dim": -0.7}
"""The exposure shift (stops) a tone word stands for where a probe needs one value."""

WORD_FORMS = {
    "wooden": "wood",
    "metallic": "metal",
    "shining": "shiny",
    "glossier": "glossy",
    "darker": "dark",
}
"""Other forms of vocabulary words, read as the word (plural ``-s`` / ``-es`` are read too)."""
SPELLINGS = {"gray": "grey", "colored": "coloured", "color": "colour", "checked": "checkered"}
_WORD = re.compile(r"[a-z]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased runs of letters, American spellings mapped to British (``gray`` -> ``grey``)."""
    return [SPELLINGS.get(word, word) for word in _WORD.findall(text.lower())]


def finish_of(roughness: float) -> str | None:
    """``glossy``, ``matte`` or None for a roughness in between."""
    if roughness <= GLOSSY_ROUGHNESS:
        return "glossy"
    if roughness >= MATTE_ROUGHNESS:
        return "matte"
    return None


def tone_of(exposure_ev: float) -> str | None:
    """``bright``, ``dim`` or None for an exposure near 0."""
    if exposure_ev >= BRIGHT_EV:
        return "bright"
    if exposure_ev <= DIM_EV:
        return "dim"
    return None


def sun_lighting_kind(elevation_deg: float) -> str:
    """The lighting kind of a sun-and-sky scene whose sun stands ``elevation_deg`` high."""
    if elevation_deg >= MIDDAY_ELEVATION_DEG:
        return "midday"
    if elevation_deg <= LOW_SUN_ELEVATION_DEG:
        return "low_sun"
    return "sky"
