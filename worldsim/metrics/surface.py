"""Surface-consistent appearance: colour change of surface points seen at frames t and t+k."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from skimage.color import rgb2lab

from worldsim.metrics._common import to_float_image
from worldsim.metrics.warping import SURFACE_MATCH_TOLERANCE, surface_correspondences


@dataclass
class SurfaceResult:
    """Mean CIELAB difference of matched surface points (delta E, or delta a*b* for chromaticity).

    overall: over all matched points (NaN when none); per_entity: id -> mean; matched: point count.
    """

    overall: float
    per_entity: dict[int, float] = field(default_factory=dict)
    matched: int = 0


def surface_colour_difference(
    rgb_a: np.ndarray,
    rgb_b: np.ndarray,
    instance_a: np.ndarray,
    coords_a: np.ndarray,
    instance_b: np.ndarray,
    coords_b: np.ndarray,
    *,
    chromaticity_only: bool = False,
    tolerance: float = SURFACE_MATCH_TOLERANCE,
) -> SurfaceResult:
    """Colour difference of the surface points seen in both frames (matched by surface coordinates).

    rgb_*: (H, W, 3) uint8; instance_*: (H, W) ids; coords_*: (H, W, 3) object-frame points.
    chromaticity_only drops L* so a pure brightness change (lighting) scores zero.
    """
    index_a, index_b = surface_correspondences(instance_a, coords_a, instance_b, coords_b, tolerance)
    lab_a = rgb2lab(to_float_image(rgb_a)[..., :3].clip(0, 1)).reshape(-1, 3)[index_a]
    lab_b = rgb2lab(to_float_image(rgb_b)[..., :3].clip(0, 1)).reshape(-1, 3)[index_b]
    channels = slice(1, 3) if chromaticity_only else slice(0, 3)
    difference = np.linalg.norm(lab_a[:, channels] - lab_b[:, channels], axis=1)
    ids = instance_a.ravel()[index_a]
    per_entity = {int(e): float(difference[ids == e].mean()) for e in np.unique(ids)}
    overall = float(difference.mean()) if difference.size else float("nan")
    return SurfaceResult(overall, per_entity, int(difference.size))
