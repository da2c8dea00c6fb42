"""Materials and procedural textures: exact patterns, seeded noise purity, ranges, errors."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from worldsim.errors import SceneError
from worldsim.randomness import derive_seed
from worldsim.scene import textures
from worldsim.scene.materials import MaterialSample, evaluate_material, material_seed
from worldsim.scene.model import TEXTURE_TYPES, MaterialSpec, TextureSpec

RED = [0.9, 0.1, 0.1]
BLUE = [0.1, 0.2, 0.8]
FLOAT32_COLOR = 1e-7
"""Tolerance for colours that went through float32."""


def random_points(count: int, seed: int = 0, extent: float = 3.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-extent, extent, size=(count, 3))


def textured(kind: str, **options: object) -> MaterialSpec:
    return MaterialSpec(base_color=RED, texture=TextureSpec(type=kind, **{"color_b": BLUE, **options}))


def weights_from_albedo(sample: MaterialSample) -> np.ndarray:
    """Recover the mix weight t from albedo = a + t (b - a) (red channel)."""
    return (sample.albedo[:, 0] - RED[0]) / (BLUE[0] - RED[0])


def test_no_texture_and_solid_give_the_exact_colour() -> None:
    points = random_points(50)
    for material in (
        MaterialSpec(base_color=RED, roughness=0.3, metallic=1.0),
        MaterialSpec(base_color=RED, roughness=0.3, metallic=1.0, texture=TextureSpec(type="solid")),
    ):
        sample = evaluate_material(material, points, seed=1)
        assert sample.albedo.dtype == np.float32 and sample.albedo.shape == (50, 3)
        assert sample.albedo.flags.c_contiguous
        np.testing.assert_array_equal(sample.albedo, np.tile(np.float32(RED), (50, 1)))
        np.testing.assert_array_equal(sample.roughness, np.full(50, 0.3, dtype=np.float32))
        np.testing.assert_array_equal(sample.metallic, np.ones(50, dtype=np.float32))
    solid_b = MaterialSpec(base_color=RED, texture=TextureSpec(type="solid", color_a=BLUE))
    np.testing.assert_array_equal(evaluate_material(solid_b, points, seed=1).albedo[0], np.float32(BLUE))


def test_empty_point_set() -> None:
    sample = evaluate_material(textured("noise"), np.zeros((0, 3)), seed=3)
    assert sample.albedo.shape == (0, 3) and sample.roughness.shape == (0,)


def test_checker_cells_and_exact_alternation() -> None:
    scale = 0.25
    material = textured("checker", scale=scale)
    delta = 1e-3 * scale
    # Cell (0, 0, 0) spans [0, 0.25)^3; crossing any one face flips the colour, crossing two keeps it.
    inside = np.array([[0.1, 0.1, 0.1], [0.01, 0.24, 0.2], [0.2, 0.02, 0.24]])
    albedo = evaluate_material(material, inside, seed=0).albedo
    np.testing.assert_array_equal(albedo, np.tile(np.float32(RED), (3, 1)))
    for axis in range(3):
        for boundary in (0.0, scale):
            below = np.full(3, 0.1)
            above = np.full(3, 0.1)
            below[axis], above[axis] = boundary - delta, boundary + delta
            pair = evaluate_material(material, np.stack([below, above]), seed=0).albedo
            assert not np.array_equal(pair[0], pair[1]), (axis, boundary)
    diagonal = evaluate_material(material, np.array([[0.1, 0.1, 0.1], [0.35, 0.35, 0.1]]), seed=0).albedo
    np.testing.assert_array_equal(diagonal[0], diagonal[1])
    # Against the textbook formula away from boundaries.
    points = random_points(2000, seed=4)
    parity = np.floor(points / scale).astype(np.int64).sum(axis=1) % 2
    expected = np.where(parity[:, None] == 1, np.float32(BLUE), np.float32(RED))
    away = np.all(np.abs(points / scale - np.round(points / scale)) > 1e-3, axis=1)
    np.testing.assert_array_equal(evaluate_material(material, points, seed=0).albedo[away], expected[away])


def test_checker_face_on_a_cell_boundary_has_one_colour() -> None:
    # A unit box face at x = 0.5 lies exactly on a 0.25 m cell boundary; ray hits carry ~1e-7 error.
    rng = np.random.default_rng(2)
    face = np.column_stack([0.5 + rng.uniform(-1e-7, 1e-7, 500), np.full(500, 0.1), np.full(500, 0.1)])
    albedo = evaluate_material(textured("checker", scale=0.25), face, seed=0).albedo
    assert len(np.unique(albedo, axis=0)) == 1


def test_stripes_period_direction_and_axis_normalisation() -> None:
    scale = 0.4
    material = textured("stripes", scale=scale, axis=[0.0, 2.0, 0.0])
    points = random_points(1000, seed=5)
    offset = (points[:, 1] / scale) % 1.0
    away = (np.abs(offset - 0.5) > 1e-3) & (offset > 1e-3) & (offset < 1 - 1e-3)
    weights = weights_from_albedo(evaluate_material(material, points, seed=0))
    np.testing.assert_allclose(weights[away], (offset[away] >= 0.5).astype(float), atol=FLOAT32_COLOR * 10)
    shifted = points + np.array([0.0, scale, 0.0])  # one period along the axis: same colour
    perpendicular = points + np.array([0.37, 0.0, -1.3])  # across the axis: same colour
    base = evaluate_material(material, points, seed=0).albedo
    np.testing.assert_array_equal(evaluate_material(material, shifted, seed=0).albedo[away], base[away])
    np.testing.assert_array_equal(evaluate_material(material, perpendicular, seed=0).albedo, base)
    half = points + np.array([0.0, scale / 2, 0.0])
    assert not np.any(np.all(evaluate_material(material, half, seed=0).albedo[away] == base[away], axis=1))


def test_noise_is_deterministic_and_seed_sensitive() -> None:
    material = textured("noise", scale=0.5, octaves=4)
    points = random_points(5000, seed=6)
    first = evaluate_material(material, points, seed=123).albedo
    np.testing.assert_array_equal(first, evaluate_material(material, points, seed=123).albedo)
    other = evaluate_material(material, points, seed=124).albedo
    assert np.mean(np.any(first != other, axis=1)) > 0.95
    correlation = np.corrcoef(first[:, 0], other[:, 0])[0, 1]
    assert abs(correlation) < 0.1


def test_noise_range_and_zero_mean_fluctuation_around_the_mix() -> None:
    material = textured("noise", scale=0.3, octaves=4)
    points = random_points(200_000, seed=7, extent=20.0)  # ~130 wavelengths across: many features
    sample = evaluate_material(material, points, seed=99)
    low = np.minimum(RED, BLUE).astype(np.float32)
    high = np.maximum(RED, BLUE).astype(np.float32)
    assert np.all(sample.albedo >= low - FLOAT32_COLOR) and np.all(sample.albedo <= high + FLOAT32_COLOR)
    weights = weights_from_albedo(sample)
    mean_tolerance = 0.02
    assert abs(weights.mean() - 0.5) < mean_tolerance
    assert 0.15 < weights.std() < 0.4  # it really fluctuates, and spans both colours
    assert np.mean(weights < 0.1) > 0.02 and np.mean(weights > 0.9) > 0.02


def test_noise_is_continuous_and_decorrelates_beyond_its_scale() -> None:
    scale = 0.5
    points = random_points(20_000, seed=8, extent=10.0)
    values = textures.noise(points, scale, 4, seed=5)
    step = np.float64(1e-5) * scale
    nudged = textures.noise(points + step, scale, 4, seed=5)
    # Smallest octave has wavelength scale / 8; a quintic-faded lattice has slope < ~2 per cell.
    assert np.max(np.abs(values - nudged)) < 1e-3
    near = textures.noise(points + np.array([0.05 * scale, 0, 0]), scale, 4, seed=5)
    far = textures.noise(points + np.array([20 * scale, 0, 0]), scale, 4, seed=5)
    assert np.corrcoef(values, near)[0, 1] > 0.9
    assert abs(np.corrcoef(values, far)[0, 1]) < 0.05


def reference_value_noise(point: tuple[float, float, float], seed: int) -> float:
    """Scalar, pure-Python re-implementation of ``textures.value_noise`` (independent check)."""

    def mix(value: int) -> int:
        value &= 0xFFFFFFFF
        value ^= value >> 16
        value = (value * 0x7FEB352D) & 0xFFFFFFFF
        value ^= value >> 15
        value = (value * 0x846CA68B) & 0xFFFFFFFF
        value ^= value >> 16
        return value

    cell = [math.floor(c) for c in point]
    fraction = [c - i for c, i in zip(point, cell)]
    fade = [t * t * t * (t * (t * 6 - 15) + 10) for t in fraction]
    total = 0.0
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                hashed = mix(mix(mix((cell[0] + dx) ^ seed) + cell[1] + dy) + cell[2] + dz)
                value = (hashed >> 8) / 2**23 - 1.0
                weight = 1.0
                for delta, t in zip((dx, dy, dz), fade):
                    weight *= t if delta else 1.0 - t
                total += weight * value
    return total


def test_value_noise_matches_a_scalar_reference_including_negative_cells() -> None:
    points = random_points(200, seed=9, extent=50.0)
    points[:5] = [
        [-0.5, -1e-3, 3.25],
        [0.0, 0.0, 0.0],
        [-7.999, 12.5, -3.0],
        [1e6 + 0.3, -1e6, 2.0],
        [-1, -2, -3],
    ]
    seed = 0xDEADBEEF
    vectorised = textures.value_noise(points, seed)
    expected = np.array([reference_value_noise(tuple(point), seed) for point in points])
    # float32 interpolation vs float64 reference.
    np.testing.assert_allclose(vectorised, expected, atol=2e-6)
    assert np.all(np.abs(vectorised) <= 1.0)


@pytest.mark.parametrize("absolute", [False, True])
def test_compiled_fractal_noise_is_bit_identical_to_summed_numpy_octaves(absolute: bool) -> None:
    """The compiled fBm (``noise_kernel``) against the whole-array formulation it replaced:
    ``value_noise`` per octave, scaled and summed in float32 in order."""
    rng = np.random.default_rng(12)
    for trial in range(6):
        points = rng.normal(size=(5000, 3)) * 10.0 ** rng.uniform(-2, 4)
        points[:3] = [[-0.5, -1e-3, 3.25], [1e6 + 0.3, -1e6, 2.0], [-1.0, -2.0, -3.0]]
        scale, octaves, seed = 10.0 ** rng.uniform(-2, 1), trial + 1, int(rng.integers(0, 2**32))
        total = np.zeros(len(points), dtype=np.float32)
        for octave in range(octaves):
            layer = textures.value_noise(points / scale * 2.0**octave, textures._octave_seed(seed, octave))
            total += (np.abs(layer) if absolute else layer) * np.float32(0.5**octave)
        total *= np.float32(1.0 / sum(0.5**octave for octave in range(octaves)))
        compiled = textures.fractal_noise(points, scale, octaves, seed, absolute=absolute)
        assert compiled.dtype == np.float32
        np.testing.assert_array_equal(compiled.view(np.uint32), total.view(np.uint32))


@pytest.mark.parametrize("kind", TEXTURE_TYPES)
def test_subset_evaluation_equals_subset_of_evaluation(kind: str) -> None:
    material = textured(kind, scale=0.35, axis=[1.0, 1.0, 0.2])
    points = random_points(4099, seed=10)
    full = evaluate_material(material, points, seed=77)
    rng = np.random.default_rng(11)
    for subset in (rng.permutation(len(points))[:257], np.array([4098]), np.arange(1, 4099, 3)):
        part = evaluate_material(material, points[subset], seed=77)
        np.testing.assert_array_equal(part.albedo, full.albedo[subset])
        np.testing.assert_array_equal(part.roughness, full.roughness[subset])
    as_float32 = points.astype(np.float32)
    np.testing.assert_array_equal(
        evaluate_material(material, as_float32, seed=77).albedo,
        evaluate_material(material, as_float32.astype(np.float64), seed=77).albedo,
    )


def test_marble_range_veins_and_axis() -> None:
    material = textured("marble", scale=0.5, axis=[0.0, 0.0, 1.0], octaves=3)
    points = random_points(100_000, seed=12, extent=5.0)
    weights = weights_from_albedo(evaluate_material(material, points, seed=5))
    assert weights.min() >= -1e-5 and weights.max() <= 1 + 1e-5
    assert weights.min() < 0.01 and weights.max() > 0.99  # veins reach both colours
    assert abs(weights.mean() - 0.5) < 0.03
    # Veins are layers across the axis: moving along the axis changes the colour far more than
    # moving the same distance across it.
    raw = textures.marble(points, np.array([0.0, 0.0, 1.0]), 0.5, 3, seed=5)
    along = textures.marble(points + np.array([0, 0, 0.05]), np.array([0.0, 0.0, 1.0]), 0.5, 3, seed=5)
    across = textures.marble(points + np.array([0.05, 0, 0]), np.array([0.0, 0.0, 1.0]), 0.5, 3, seed=5)
    assert np.mean(np.abs(raw - along)) > 2 * np.mean(np.abs(raw - across))


def test_material_seed_rule() -> None:
    plain = textured("noise")
    assert material_seed(7, 3, plain) == derive_seed(7, "material", 3)
    assert material_seed(7, 3, plain) != material_seed(7, 4, plain)
    assert material_seed(7, 3, MaterialSpec()) == derive_seed(7, "material", 3)
    fixed = textured("noise", seed=42)
    assert material_seed(7, 3, fixed) == 42 == material_seed(8, 9, fixed)
    points = random_points(100)
    shared = [
        evaluate_material(fixed, points, seed=material_seed(0, entity, fixed)).albedo for entity in (1, 2)
    ]
    np.testing.assert_array_equal(shared[0], shared[1])


@pytest.mark.parametrize(
    ("material", "key_path", "reason"),
    [
        (MaterialSpec(base_color=[1.0, 0.0]), "material.base_color", "3 finite numbers"),
        (MaterialSpec(base_color=[1.5, 0.0, 0.0]), "material.base_color", r"\[0, 1\]"),
        (MaterialSpec(roughness=float("nan")), "material.roughness", "finite"),
        (MaterialSpec(metallic=2.0), "material.metallic", r"\[0, 1\]"),
        (textured("plaid"), "material.texture.type", "unknown texture type"),
        (textured("checker", scale=0.0), "material.texture.scale", "positive"),
        (textured("stripes", axis=[0.0, 0.0, 0.0]), "material.texture.axis", "not all zero"),
        (textured("noise", octaves=0), "material.texture.octaves", "1 to 16"),
        (textured("marble", color_b=[0.0, "x", 0.0]), "material.texture.color_b", "colour"),
    ],
)
def test_invalid_materials_raise_scene_error(material: MaterialSpec, key_path: str, reason: str) -> None:
    with pytest.raises(SceneError, match=reason) as caught:
        evaluate_material(material, np.zeros((2, 3)), seed=0)
    assert caught.value.key_path == key_path


def test_bad_points_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        evaluate_material(MaterialSpec(), np.zeros((4, 2)), seed=0)
    with pytest.raises(ValueError, match="finite"):
        evaluate_material(MaterialSpec(), np.array([[0.0, np.nan, 0.0]]), seed=0)


NOISE_BUDGET_S = 1.0
"""1M points of 4-octave noise must take well under this on one core; CI machines are shared and
noisy, so the assertion allows 3x."""


@pytest.mark.slow
def test_noise_speed_one_million_points() -> None:
    points = random_points(1_000_000, seed=13)
    material = textured("noise", scale=0.25, octaves=4)
    evaluate_material(material, points[:1000], seed=1)  # warm up
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        evaluate_material(material, points, seed=1)
        best = min(best, time.perf_counter() - start)
    assert best < 3 * NOISE_BUDGET_S, f"1M points of 4-octave noise took {best:.2f} s"
