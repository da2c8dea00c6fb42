"""Named physically based material presets: ``material: wood`` without defining ``wood``.

Each preset is an ordinary ``MaterialSpec`` (base colour, procedural texture for the grain,
roughness, metallic), so it is a function of the object-frame point like every material and the
guidance albedo stays exact. A scene's own ``materials`` entry of the same name shadows the preset
(``worldsim validate`` warns). Values are linear RGB albedos in the range measured for such
surfaces (dark rubber ~0.03, concrete ~0.3-0.5, white ceramic ~0.8); feature sizes in metres. Rough
presets carry a bump relief (``worldsim.scene.bump``) of a few degrees of normal tilt; polished
ones (plastic, marble, ceramic) are smooth.
"""

from __future__ import annotations

import copy

from worldsim.scene.model import MaterialSpec, TextureSpec

MATERIAL_PRESETS: dict[str, MaterialSpec] = {
    # growth rings: marble's sine bands along the trunk axis, bent by turbulence
    "wood": MaterialSpec(
        base_color=[0.42, 0.26, 0.13],
        roughness=0.6,
        bump_height=0.0004,
        bump_scale=0.02,
        texture=TextureSpec(
            type="marble", color_a=[0.46, 0.29, 0.15], color_b=[0.25, 0.14, 0.06], scale=0.03,
            axis=[1.0, 0.0, 0.0], octaves=3,
        ),
    ),
    # fine grain a few millimetres across
    "brushed_metal": MaterialSpec(
        base_color=[0.62, 0.62, 0.64],
        roughness=0.35,
        bump_height=0.0001,
        bump_scale=0.003,
        metallic=1.0,
        texture=TextureSpec(
            type="noise", color_a=[0.66, 0.66, 0.68], color_b=[0.52, 0.52, 0.55], scale=0.004, octaves=2,
        ),
    ),
    "painted_metal": MaterialSpec(
        base_color=[0.45, 0.06, 0.05],
        roughness=0.3,
        bump_height=0.0003,
        bump_scale=0.02,
        texture=TextureSpec(
            type="noise", color_a=[0.47, 0.065, 0.055], color_b=[0.4, 0.05, 0.045], scale=0.05, octaves=3,
        ),
    ),
    "plastic": MaterialSpec(base_color=[0.08, 0.3, 0.65], roughness=0.25),
    "rubber": MaterialSpec(
        base_color=[0.03, 0.03, 0.03],
        roughness=0.9,
        bump_height=0.0003,
        bump_scale=0.004,
        texture=TextureSpec(
            type="noise", color_a=[0.035, 0.035, 0.035], color_b=[0.022, 0.022, 0.022], scale=0.01,
        ),
    ),
    "concrete": MaterialSpec(
        base_color=[0.42, 0.41, 0.38],
        roughness=0.95,
        bump_height=0.001,
        bump_scale=0.02,
        texture=TextureSpec(
            type="noise", color_a=[0.48, 0.47, 0.44], color_b=[0.3, 0.3, 0.28], scale=0.03, octaves=6,
        ),
    ),
    "marble": MaterialSpec(
        base_color=[0.82, 0.8, 0.76],
        roughness=0.15,
        texture=TextureSpec(
            type="marble", color_a=[0.84, 0.83, 0.8], color_b=[0.35, 0.36, 0.38], scale=0.15,
            axis=[1.0, 0.4, 0.2], octaves=5,
        ),
    ),
    # a woven look: a fine checker of two close tones
    "fabric": MaterialSpec(
        base_color=[0.3, 0.32, 0.45],
        roughness=1.0,
        bump_height=0.0003,
        bump_scale=0.006,
        texture=TextureSpec(
            type="checker", color_a=[0.32, 0.34, 0.48], color_b=[0.24, 0.26, 0.38], scale=0.006,
        ),
    ),
    "ceramic": MaterialSpec(base_color=[0.8, 0.79, 0.76], roughness=0.08),
}  # fmt: skip


def preset_names() -> list[str]:
    """Names usable as ``material: NAME`` without a scene definition."""
    return sorted(MATERIAL_PRESETS)


def preset_material(name: str) -> MaterialSpec | None:
    """A fresh copy of preset ``name``, or None when there is no such preset."""
    preset = MATERIAL_PRESETS.get(name)
    return None if preset is None else copy.deepcopy(preset)
