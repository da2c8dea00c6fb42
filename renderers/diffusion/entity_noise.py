"""Entity-correlated noise: one shared random vector per entity mixed into every pixel's noise.

A small CNN cannot easily pool white noise over a whole entity to decide that entity's colour,
so structure-only generation from white noise gives unstructured blobs. Mixing a per-entity
vector into the initial noise, ``sqrt(1 - share) * pixel_noise + sqrt(share) * z[entity]``,
hands the model a per-entity random code it can read locally: each pixel stays exactly N(0, 1),
pixels of one entity are correlated by ``share``, different entities are independent. The model
is trained with the same noise (``training_noise``: one vector per clip window and entity), and
at inference ``z`` is keyed by (seed, entity id), so an entity keeps its code in every frame and
window (with anchored noise off it is drawn per frame as well).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from renderers.diffusion.conditioning import IDENTITY


def entity_vectors(instance: np.ndarray, seed: int, channels: int = 3) -> np.ndarray:
    """(channels, *instance.shape) float32: each id's N(0, 1) vector, keyed by (seed, id),
    painted on its pixels (the background, id 0, gets one too)."""
    instance = np.asarray(instance)
    ids, inverse = np.unique(instance, return_inverse=True)
    table = np.stack(
        [np.random.default_rng([int(seed) % 2**63, int(entity)]).standard_normal(channels) for entity in ids]
    ).astype(np.float32)
    return np.moveaxis(table[inverse.reshape(instance.shape)], -1, 0)


def mix(pixel_noise: np.ndarray, entity: np.ndarray, share: float) -> np.ndarray:
    """``sqrt(1 - share) * pixel_noise + sqrt(share) * entity`` (both N(0, 1) per element)."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"entity noise share must be in [0, 1), got {share}")
    return (math.sqrt(1.0 - share) * pixel_noise + math.sqrt(share) * entity).astype(np.float32)


def training_noise(
    cond: torch.Tensor, share: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, 3, T, H, W) training noise for condition ``cond`` (B, 27, T, H, W): white noise mixed
    with one vector per (batch item, entity), entities told apart by their identity features
    (background and fully dropped conditions form one group)."""
    batch, _, frames, height, width = cond.shape
    white = torch.randn((batch, 3, frames, height, width), generator=generator, dtype=cond.dtype)
    if share == 0.0:
        return white
    # an int64 key per pixel: batch item and two quantised identity features (24 bits each)
    features = cond[:, IDENTITY.start : IDENTITY.start + 2]
    quantised = torch.round((features.clamp(-1.0, 1.0) + 1.0) * (2**23)).to(torch.int64)
    item = torch.arange(batch, dtype=torch.int64).view(batch, 1, 1, 1)
    keys = (item << 50) | (quantised[:, 0] << 25) | quantised[:, 1]
    unique, inverse = torch.unique(keys.reshape(-1), return_inverse=True)
    table = torch.randn((unique.shape[0], 3), generator=generator, dtype=cond.dtype)
    entity = table[inverse].reshape(batch, frames, height, width, 3).permute(0, 4, 1, 2, 3)
    return math.sqrt(1.0 - share) * white + math.sqrt(share) * entity
