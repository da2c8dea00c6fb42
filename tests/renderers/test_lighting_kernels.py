"""The compiled lighting maps (``renderers.lighting.kernels``) against their whole-array numpy
formulation (``lighting_maps_numpy``), on every kind of light at once."""

from __future__ import annotations

import numpy as np

from renderers.guidance import GuidanceRenderer
from renderers.guidance import render as guidance_render
from renderers.guidance.lighting import LIGHTING_MAPS, lighting_maps, lighting_maps_numpy
from renderers.guidance.synthetic import ground_box_sphere
from renderers.lighting import kernels
from worldsim.scene.model import LightSpec


def test_compiled_lighting_maps_equal_the_numpy_formulation(monkeypatch):
    trajectory = ground_box_sphere(2, (48, 40), spin=0.3)
    trajectory.lights = [
        LightSpec(type="sun", name="sun", direction=[-0.4, 0.3, -1.0], intensity=3.0, angle_deg=3.0),
        LightSpec(type="point", name="lamp", position=[0.5, -1.0, 1.5], intensity=5.0),
        LightSpec(
            type="area",
            name="panel",
            position=[-1.0, 1.0, 2.0],
            look_at=[0, 0, 0],
            size=[1.0, 0.5],
            intensity=4.0,
        ),
        LightSpec(type="environment", name="sky", hdri="courtyard", rotation_deg=40.0, intensity=1.0),
    ]
    seen = {}

    def recording(hits, context, roughness, names):
        seen.update(hits=hits, context=context, roughness=roughness)
        return lighting_maps(hits, context, roughness, names)

    monkeypatch.setattr(guidance_render, "lighting_maps", recording)
    GuidanceRenderer(trajectory, lighting=LIGHTING_MAPS).render(1)
    compiled = lighting_maps(seen["hits"], seen["context"], seen["roughness"], LIGHTING_MAPS)
    reference = lighting_maps_numpy(seen["hits"], seen["context"], seen["roughness"], LIGHTING_MAPS)
    assert compiled["shadow"].shape == (40, 48, 3)
    # Some light is partly shadowed, so the interleaved rays and the neighbour filter are exercised.
    assert np.any((reference["shadow"] > 0.1) & (reference["shadow"] < 0.9))
    for name in LIGHTING_MAPS:
        scale = float(np.abs(reference[name]).max())
        assert scale > 0
        # float32 throughout; the specular lat-long coordinates are float32 in the kernel (float64
        # in numpy), which moves a lookup on the full-resolution level by up to ~1e-3 of the peak.
        np.testing.assert_allclose(compiled[name], reference[name], rtol=0, atol=2e-3 * scale)
        assert np.mean(np.abs(compiled[name] - reference[name])) < 1e-5 * scale


def _uniform_by_shifts(raw, filtered, hit_pixels, column, height, width):
    """``kernels.uniform_neighbourhoods`` as whole-image numpy: the 3 x 3 neighbours that show
    the same entity all have the same filtered raw values."""
    values = np.full((height * width, int(filtered.sum())), -1.0)
    values[hit_pixels] = raw[filtered].T
    entity = np.full(height * width, -1)
    entity[hit_pixels] = column
    values = np.pad(values.reshape(height, width, -1), ((1, 1), (1, 1), (0, 0)), constant_values=-1)
    entity = np.pad(entity.reshape(height, width), 1, constant_values=-1)
    centre = (slice(1, height + 1), slice(1, width + 1))
    uniform = np.ones((height, width), dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = (slice(1 + dy, height + 1 + dy), slice(1 + dx, width + 1 + dx))
            other = entity[shifted] != entity[centre]
            same = np.all(values[shifted] == values[centre], axis=-1)
            uniform &= other | (entity[shifted] < 0) | same
    return uniform.reshape(-1)


def test_uniform_neighbourhoods_match_a_whole_image_formulation():
    rng = np.random.default_rng(5)
    height, width = 37, 29
    pixels = np.flatnonzero(rng.random(height * width) < 0.8)
    column = (rng.random(len(pixels)) < 0.3).astype(np.int32) + 2
    # Mostly lit, so that many neighbourhoods are uniform and many are not.
    raw = (rng.random((4, len(pixels))) < 0.93).astype(np.float32)  # (kinds, hits)
    filtered = np.array([True, False, True, True])
    uniform = kernels.uniform_neighbourhoods(raw, filtered, pixels, column, height, width)
    expected = _uniform_by_shifts(raw, filtered, pixels, column, height, width)
    assert 0.1 < expected[pixels].mean() < 0.9
    np.testing.assert_array_equal(uniform[pixels], expected[pixels])
    # An unfiltered kind never breaks uniformity; too many filtered kinds: nothing is uniform.
    unfiltered = np.zeros(4, dtype=bool)
    none_filtered = kernels.uniform_neighbourhoods(raw, unfiltered, pixels, column, height, width)
    assert none_filtered[pixels].all()
    many = np.ones((kernels.FILTER_KEY_BITS + 1, len(pixels)), dtype=np.float32)
    crowded = kernels.uniform_neighbourhoods(
        many, np.ones(len(many), dtype=bool), pixels, column, height, width
    )
    assert not crowded.any()
