"""Identity across renders: does an entity look the same in two clips (two cameras, two shots)?

For each entity both clips show, the CIE76 distance between its median CIELAB colour over all of
clip A's frames and over all of clip B's (issue 22). Within one clip the comparable figure is the
existing identity drift (``worldsim.metrics.identity``: each frame against the first appearance).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from worldsim.metrics.identity import frame_appearances


def median_lab(frames: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict[int, np.ndarray]:
    """Entity id -> (3,) median over the frames of the entity's mean CIELAB colour, from
    (rgb (H, W, 3), instance (H, W)) pairs (frames where it has fewer than MIN_PIXELS skipped)."""
    samples: dict[int, list[np.ndarray]] = {}
    for rgb, instance in frames:
        for entity, appearance in frame_appearances(rgb, instance).items():
            samples.setdefault(entity, []).append(appearance.mean_lab)
    return {entity: np.median(np.stack(values), axis=0) for entity, values in samples.items()}


def cross_clip_delta_e(
    clip_a: Iterable[tuple[np.ndarray, np.ndarray]], clip_b: Iterable[tuple[np.ndarray, np.ndarray]]
) -> dict[int, float]:
    """Entity id -> delta E between its median colour in clip A and in clip B (shared entities)."""
    a, b = median_lab(clip_a), median_lab(clip_b)
    return {entity: float(np.linalg.norm(a[entity] - b[entity])) for entity in sorted(set(a) & set(b))}
