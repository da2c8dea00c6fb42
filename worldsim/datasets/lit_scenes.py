"""``lit_scene``: the random scenes the diffusion renderer v2 is trained on (captured light).

A ``random_scenes.random_scene`` (ground, 2-6 entities, camera move, motion and physics) relit
and re-dressed the way the shipped scenes are: most scenes are lit by one of the captured HDRIs
(random rotation and intensity), some of them with an added sun, point or area light, the rest by
the sun-and-sky rig of ``random_scene``; a share of the materials are the named presets
(``worldsim.scene.material_presets``) recoloured a little, the rest random procedural
materials. Exposure varies by +-1 EV. Every draw comes from ``numpy.random.default_rng`` of a
seed derived from ``seed``, so a seed always gives the same scene.
"""

from __future__ import annotations

import copy

import numpy as np

from worldsim.datasets.random_scenes import random_colour, random_scene
from worldsim.randomness import derive_seed
from worldsim.scene.hdri import shipped_hdri_names
from worldsim.scene.material_presets import MATERIAL_PRESETS
from worldsim.scene.model import LightSpec, MaterialSpec
from worldsim.scene.scene import Scene

HDRI_SHARE = 0.7
"""Share of scenes lit by a captured environment."""
EXTRA_LIGHT_SHARE = 0.5
"""Share of HDRI-lit scenes that also get a sun, point or area light."""
PRESET_SHARE = 0.45
"""Share of entities (ground included) dressed in a named preset."""
PURPOSE = "lit_scene"


def lit_scene(seed: int, *, size: tuple[int, int] = (64, 64), num_frames: int = 16) -> Scene:
    """A random valid scene of ``num_frames`` frames at ``size`` = (width, height) pixels."""
    scene = random_scene(seed, size=size, num_frames=num_frames)
    scene.name = f"lit_{seed}"
    rng = np.random.default_rng(derive_seed(seed, PURPOSE))
    for entity in scene.entities:
        if rng.random() < PRESET_SHARE:
            entity.material = preset_material(rng)
    if rng.random() < HDRI_SHARE:
        direct = [light for light in scene.lights if light.type != "environment"]
        environment = LightSpec(
            type="environment",
            name="environment",
            hdri=str(rng.choice(shipped_hdri_names())),
            rotation_deg=float(rng.uniform(0.0, 360.0)),
            intensity=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
        )
        scene.lights = [environment]
        if rng.random() < EXTRA_LIGHT_SHARE:
            extra = direct[int(rng.integers(len(direct)))]
            extra.intensity = float(extra.intensity) * float(rng.uniform(0.3, 1.0))
            scene.lights.append(extra)
    for camera in scene.cameras:
        camera.exposure_ev = float(rng.uniform(-1.0, 1.0))
    return scene


def preset_material(rng: np.random.Generator) -> MaterialSpec:
    """A named preset, its colours tinted towards a random colour by up to 40 %."""
    material = copy.deepcopy(MATERIAL_PRESETS[str(rng.choice(sorted(MATERIAL_PRESETS)))])
    tint = np.asarray(random_colour(rng))
    share = float(rng.uniform(0.0, 0.4))

    def tinted(colour: list[float]) -> list[float]:
        mixed = (1.0 - share) * np.asarray(colour) + share * tint * np.mean(colour) / max(tint.mean(), 1e-3)
        return [float(c) for c in np.clip(mixed, 0.0, 1.0)]

    material.base_color = tinted(material.base_color)
    if material.texture is not None:
        material.texture.color_a = tinted(material.texture.color_a or material.base_color)
        material.texture.color_b = tinted(material.texture.color_b)
    return material
