"""Guidance maps -> the control videos pretrained models were trained on.

Each function turns one ``GuidanceFrame`` into an (H, W, 3) float32 image in [0, 1]:

- ``depth``: inverse depth, near = white, far and background = black (the look of the MiDaS /
  Depth-Anything maps Wan VACE and CogVideoX-Fun were trained on). The near / far range is fixed
  from the first frames that see anything and kept for the whole clip, so the control does not
  flicker between windows as objects come and go.
- ``edges``: white one-pixel outlines on black where the entity changes, the depth is
  discontinuous or the surface creases (a clean stand-in for the scribble / canny maps of the
  models' training).
- ``segmentation``: each entity in its stable hashed colour (``worldsim.clip.preview``),
  background black.
"""

from __future__ import annotations

import numpy as np

from worldsim.clip.preview import id_colors
from worldsim.guidance_frame import GuidanceFrame

DEPTH_PERCENTILES = (1.0, 99.0)
"""Near / far of the depth control, as percentiles of the first frames' finite depths."""
DEPTH_JUMP = 0.05
"""Second difference of inverse depth, relative to it, drawn as an edge (a depth discontinuity)."""
CREASE_COS = float(np.cos(np.radians(35.0)))
"""Neighbouring normals further apart than 35 degrees draw an edge."""


class DepthNormaliser:
    """Inverse depth -> [0, 1] with one near / far range for the whole clip (set on first use)."""

    def __init__(self) -> None:
        self.near: float | None = None
        self.far: float | None = None

    def fit(self, depths: list[np.ndarray]) -> None:
        """Fix the range from ``depths`` ((H, W) metres each) unless already fixed or all empty."""
        if self.near is not None:
            return
        finite = np.concatenate([d[np.isfinite(d) & (d > 0)] for d in depths])
        if finite.size == 0:
            return
        near, far = np.percentile(finite, DEPTH_PERCENTILES)
        self.near, self.far = float(near), float(max(far, near * (1 + 1e-3)))

    def __call__(self, depth: np.ndarray) -> np.ndarray:
        """(H, W) metres -> (H, W, 3) float32 in [0, 1]."""
        depth = np.asarray(depth, dtype=np.float64)
        image = np.zeros(depth.shape, dtype=np.float32)
        finite = np.isfinite(depth) & (depth > 0)
        if self.near is not None and finite.any():
            inverse = 1.0 / depth[finite]
            low, high = 1.0 / self.far, 1.0 / self.near
            image[finite] = np.clip((inverse - low) / (high - low), 0.0, 1.0)
        return np.repeat(image[..., None], 3, axis=-1)


def edge_control(frame: GuidanceFrame) -> np.ndarray:
    """(H, W, 3) float32: 1 on entity boundaries, depth discontinuities and creases, 0 elsewhere.

    Depth discontinuities are found on inverse depth, which is affine in the image over a plane:
    its second difference is zero on flat surfaces however steeply they are seen, and large where
    a surface occludes another part of itself.
    """
    instance = np.asarray(frame.instance)
    depth = np.asarray(frame.depth, dtype=np.float64)
    normal = np.asarray(frame.normal, dtype=np.float64)
    finite = np.isfinite(depth) & (depth > 0)
    inverse = np.where(finite, 1.0 / np.where(finite, depth, 1.0), 0.0)
    edges = np.zeros(instance.shape, dtype=bool)
    for axis in (0, 1):
        before, after = _neighbours(axis, 0, -1), _neighbours(axis, 1, None)
        edges[before] |= instance[before] != instance[after]
        crease = np.sum(normal[before] * normal[after], axis=-1) < CREASE_COS
        edges[before] |= crease & (instance[before] != 0) & (instance[before] == instance[after])
        left, middle, right = _neighbours(axis, 0, -2), _neighbours(axis, 1, -1), _neighbours(axis, 2, None)
        bend = np.abs(inverse[left] - 2.0 * inverse[middle] + inverse[right])
        known = finite[left] & finite[middle] & finite[right]
        edges[middle] |= known & (bend > DEPTH_JUMP * inverse[middle])
    return np.repeat(edges[..., None], 3, axis=-1).astype(np.float32)


def _neighbours(axis: int, start: int, stop: int | None) -> tuple[slice, slice]:
    """Index of the pixels ``start .. stop`` along ``axis`` (all along the other)."""
    index = [slice(None), slice(None)]
    index[axis] = slice(start, stop)
    return index[0], index[1]


def segmentation_control(frame: GuidanceFrame) -> np.ndarray:
    """(H, W, 3) float32: each entity's stable colour, background black."""
    return id_colors(frame.instance).astype(np.float32) / 255.0


def control_frames(kind: str, frames: list[GuidanceFrame], depth: DepthNormaliser) -> np.ndarray:
    """(T, H, W, 3) float32 control video of ``kind`` (``depth`` | ``edges`` | ``segmentation``)."""
    if kind == "depth":
        depth.fit([frame.depth for frame in frames])
        return np.stack([depth(frame.depth) for frame in frames])
    if kind == "edges":
        return np.stack([edge_control(frame) for frame in frames])
    if kind == "segmentation":
        return np.stack([segmentation_control(frame) for frame in frames])
    raise ValueError(f"unknown control {kind!r}")
