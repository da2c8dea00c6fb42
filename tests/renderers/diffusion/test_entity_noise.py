"""Entity-correlated noise: N(0, 1) per pixel, correlated by ``share`` within an entity only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderers.diffusion.conditioning import condition_from_maps
from renderers.diffusion.entity_noise import entity_vectors, mix, training_noise


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_mixed_noise_is_standard_normal_and_correlated_within_entities() -> None:
    instance = np.zeros((256, 256), dtype=np.int64)
    instance[:, 128:] = 7
    rng = np.random.default_rng(0)
    samples = []
    for seed in range(400):  # many seeds: the entity vectors are the random part across seeds
        entity = entity_vectors(instance[::64, ::64], seed)
        samples.append(mix(rng.standard_normal(entity.shape).astype(np.float32), entity, 0.5))
    noise = np.stack(samples)  # (400, 3, 4, 4)
    assert abs(noise.mean()) < 0.03 and abs(noise.std() - 1.0) < 0.03
    same = _correlation(noise[:, :, 0, 0], noise[:, :, 3, 0])  # both pixels on the background
    other = _correlation(noise[:, :, 0, 0], noise[:, :, 0, 3])  # background vs entity 7
    assert same == pytest.approx(0.5, abs=0.06) and abs(other) < 0.06
    # keyed by (seed, id): same seed, same vectors wherever the entity is
    np.testing.assert_array_equal(
        entity_vectors(instance, 3)[:, 0, 200], entity_vectors(instance[:, ::-1], 3)[:, 0, 0]
    )
    with pytest.raises(ValueError, match="share"):
        mix(noise[0], noise[0], 1.0)


def test_training_noise_groups_by_item_and_identity() -> None:
    instance = np.zeros((2, 8, 8), dtype=np.int64)
    instance[:, :, 4:] = 3
    depth = np.where(instance > 0, 2.0, np.inf)
    single = condition_from_maps(depth, np.zeros((2, 8, 8, 3)), instance, instance)
    cond = torch.from_numpy(np.stack([single] * 2000))  # (B, 27, T, H, W), identical items
    noise = training_noise(cond, 0.5, torch.Generator().manual_seed(0)).numpy()
    assert noise.shape == (2000, 3, 2, 8, 8)
    assert abs(noise.std() - 1.0) < 0.02
    # within an entity (across pixels and frames): 0.5; across entities or items: 0
    assert _correlation(noise[:, :, 0, 1, 5], noise[:, :, 1, 6, 7]) == pytest.approx(0.5, abs=0.05)
    assert abs(_correlation(noise[:, :, 0, 1, 1], noise[:, :, 0, 1, 5])) < 0.05
    assert abs(_correlation(noise[:-1, :, 0, 1, 5], noise[1:, :, 0, 1, 5])) < 0.05
    white = training_noise(cond[:4], 0.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(white, torch.randn(white.shape, generator=torch.Generator().manual_seed(0)))
