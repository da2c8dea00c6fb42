"""Condition packing: channel layout, normalisation, hashing, context and memory."""

from __future__ import annotations

import numpy as np

from renderers.diffusion import conditioning as c
from worldsim.guidance_frame import GuidanceFrame

TOLERANCE = 1e-6


def make_frame(index: int, size: int = 8) -> GuidanceFrame:
    depth = np.full((size, size), np.inf, dtype=np.float32)
    depth[2:6, 2:6] = 2.0 + index
    instance = np.where(np.isfinite(depth), 3, 0).astype(np.uint16)
    normal = np.zeros((size, size, 3), dtype=np.float32)
    normal[np.isfinite(depth)] = [0.0, 0.0, -1.0]
    return GuidanceFrame(
        frame=index,
        camera="main",
        depth=depth,
        ray_distance=depth,
        instance=instance,
        semantic=instance * 2,
        normal=normal,
        surface_coords=np.zeros((size, size, 3), dtype=np.float32),
        albedo=np.full((size, size, 3), 0.5, dtype=np.float32),
        roughness=np.full((size, size), 0.25, dtype=np.float32),
        metallic=np.zeros((size, size), dtype=np.float32),
    )


def test_layout_and_normalisation() -> None:
    cond = c.guidance_condition([make_frame(0), make_frame(1)], gbuffer=True)
    assert cond.shape == (c.CONDITION_CHANNELS, 2, 8, 8) and cond.dtype == np.float32
    assert abs(cond[0].max() - 1.0) < TOLERANCE  # nearest foreground depth -> 1
    assert abs(cond[0, 1, 3, 3] - 2.0 / 3.0) < TOLERANCE
    assert cond[0, :, 0, 0].max() == 0 and cond[c.FOREGROUND][0, :, 0, 0].max() == 0
    assert np.all(cond[c.GBUFFER_MASK] == 1) and abs(cond[c.ROUGHNESS][0, 0, 3, 3] - 0.25) < TOLERANCE
    assert np.all(cond[c.CONTEXT] == 0) and np.all(cond[c.MEMORY] == 0)
    structure = c.guidance_condition([make_frame(0)], gbuffer=False)
    assert np.all(structure[c.GBUFFER] == 0)


def test_id_features_are_fixed_and_bounded() -> None:
    features = c.id_features(np.array([0, 1, 2, 65535]))
    assert np.all(features[0] == 0) and np.all(np.abs(features) <= 1)
    assert not np.allclose(features[1], features[2])
    np.testing.assert_array_equal(features, c.id_features(np.array([0, 1, 2, 65535])))


def test_context_and_memory() -> None:
    cond = c.guidance_condition([make_frame(0), make_frame(1)], gbuffer=True)
    rgb = np.full((2, 8, 8, 3), 0.75, dtype=np.float32)
    with_context = c.with_context(cond, rgb, np.array([True, False]))
    assert np.allclose(with_context[c.CONTEXT_RGB][:, 0], 0.5) and np.all(
        with_context[c.CONTEXT_RGB][:, 1] == 0
    )
    assert np.all(with_context[c.CONTEXT_MASK][0, 0] == 1) and np.all(with_context[c.CONTEXT_MASK][0, 1] == 0)
    instance = np.stack([make_frame(0).instance] * 2)
    with_memory = c.with_memory(cond, instance, {3: np.array([1.0, 0.0, 0.5])})
    assert np.allclose(with_memory[c.MEMORY_RGB][:, 0, 3, 3], [1.0, -1.0, 0.0])
    assert with_memory[c.MEMORY_MASK][0, 0, 3, 3] == 1 and with_memory[c.MEMORY_MASK][0, 0, 0, 0] == 0


def test_model_space_round_trip() -> None:
    linear = np.linspace(0, 1, 30, dtype=np.float32).reshape(10, 3)
    x = c.to_model_space(linear)
    assert x.min() >= -1 and x.max() <= 1
    np.testing.assert_allclose(c.from_model_space(x), linear, atol=1e-5)
