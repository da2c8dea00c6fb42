"""Named material presets: usable by name, valid, textured where they have grain, shadowed by scene
definitions with a warning."""

from __future__ import annotations

import logging

import numpy as np

from worldsim.scene.material_presets import MATERIAL_PRESETS, preset_material, preset_names
from worldsim.scene.materials import evaluate_material
from worldsim.scene.validation import collect_issues
from worldsim.scene.yaml_io import load_scene_from_string

REQUIRED = {
    "wood",
    "brushed_metal",
    "painted_metal",
    "plastic",
    "rubber",
    "concrete",
    "marble",
    "fabric",
    "ceramic",
}

SCENE = """
name: presets
num_frames: 1
{materials}
entities:
  - {{name: table, mesh: {{type: box, size: [1, 1, 0.1]}}, material: wood}}
  - {{name: cup, mesh: {{type: cylinder, radius: 0.05, height: 0.1}}, material: ceramic}}
"""


def test_every_required_preset_exists_and_evaluates_in_range():
    assert set(preset_names()) >= REQUIRED
    points = np.random.default_rng(1).uniform(-0.5, 0.5, size=(4000, 3))
    for name in preset_names():
        sample = evaluate_material(preset_material(name), points, seed=5, key_path=name)
        assert sample.albedo.min() >= 0.0 and sample.albedo.max() <= 1.0
        varies = float(np.ptp(sample.albedo, axis=0).max())
        textured = MATERIAL_PRESETS[name].texture is not None
        assert (varies > 0.005) == textured, (name, varies)
    assert MATERIAL_PRESETS["brushed_metal"].metallic == 1.0 and MATERIAL_PRESETS["rubber"].roughness >= 0.8


def test_presets_are_copies_not_shared_objects():
    first = preset_material("wood")
    first.base_color[0] = 0.0
    assert preset_material("wood").base_color[0] != 0.0


def test_a_scene_uses_presets_by_name():
    scene = load_scene_from_string(SCENE.format(materials=""), "presets.yaml")
    table = scene.resolve_material(scene.entities[0])
    assert table == MATERIAL_PRESETS["wood"]
    assert not collect_issues(scene)


def test_a_scene_material_shadows_the_preset_with_a_warning(caplog):
    text = SCENE.format(materials="materials:\n  wood: {base_color: [0.1, 0.9, 0.1]}")
    with caplog.at_level(logging.WARNING):
        scene = load_scene_from_string(text, "presets.yaml")
    assert scene.resolve_material(scene.entities[0]).base_color == [0.1, 0.9, 0.1]
    assert "materials.wood: the scene's own material 'wood' shadows the preset" in caplog.text


def test_an_unknown_material_suggests_a_preset():
    text = SCENE.format(materials="").replace("material: wood", "material: wod")
    scene = load_scene_from_string(text, "presets.yaml", validate=False)
    assert ("entities[0].material", "unknown material 'wod' (did you mean 'wood'?)") in collect_issues(scene)


def test_rough_presets_carry_a_bump_relief_and_polished_ones_are_smooth():
    from worldsim.scene.bump import bumped_normals, has_bump

    rough = {"wood", "brushed_metal", "painted_metal", "rubber", "concrete", "fabric"}
    assert {name for name in preset_names() if has_bump(MATERIAL_PRESETS[name])} == rough
    points = np.random.default_rng(2).uniform(-0.3, 0.3, size=(3000, 3))
    up = np.tile([0.0, 0.0, 1.0], (len(points), 1))
    for name in rough:
        tilt = np.degrees(
            np.arccos(np.clip(bumped_normals(MATERIAL_PRESETS[name], points, up, 3)[:, 2], -1, 1))
        )
        assert 0.5 < tilt.mean() < 15.0, (name, tilt.mean())


def test_bad_bump_values_name_the_key():
    text = SCENE.format(materials="materials:\n  rough: {bump_height: -0.1, bump_scale: 0}")
    scene = load_scene_from_string(text, "presets.yaml", validate=False)
    issues = dict(collect_issues(scene))
    assert "bump_height must be >= 0" in issues["materials.rough.bump_height"]
    assert "bump_scale must be positive" in issues["materials.rough.bump_scale"]
