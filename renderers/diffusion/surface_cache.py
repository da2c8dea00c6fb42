"""Surface cache: each surface point's colour as first generated, looked up in later frames.

The cache stores, per entity, object-frame surface points (``GuidanceFrame.surface_coords``: the
simulator's exact correspondence) with the colour and the footprint of the pixel that first
showed them. ``add`` stores a frame's pixels whose point is not yet covered; ``lookup`` colours a
frame's pixels from their nearest cached point of the same entity. A pixel is covered only when

- one of its ``CANDIDATES`` nearest cached points (the nearest such) is within ``tolerance`` of
  its footprints (the surface distance between the caching pixel and its neighbours), so surface
  parts never seen (disocclusions, faces turning into view) stay unknown, and
- the cached footprint is at most ``max_magnification`` times the pixel's own: a surface now seen
  larger than when it was cached would come out as a stretched copy (blocks and stripes), so it is
  left to the model, and its finer samples are cached when added.

A pixel is also keyed by its neighbourhood (``neighbour_key``: the other entity among its 8
neighbours, if any) and matches only samples with the same key: a pixel on a silhouette mixes in
its neighbour's colour and the model's contact shadows there, so keying it lets a static
silhouette stay fixed, while ground a moving entity has just left is drawn afresh instead of
keeping its trail (measured: caching without keys left visible trails in the demo; caching only
pixels away from silhouettes raised identity drift from 0.06 to 1.0 dE). Background pixels are
never cached. Every lookup reads first observations, so a colour is resampled once, not once per
window: a chain of copies (each window copying the previous one) was measured to build up a
blotchy mosaic of duplicated pixels. The cache grows with the surface area seen (at the finest
scale seen), not with the clip length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from worldsim.guidance_frame import GuidanceFrame

DEFAULT_TOLERANCE = 1.5
"""Accepted distance to the nearest cached point, in that point's footprints."""
DEFAULT_MAX_MAGNIFICATION = 1.25
"""Accepted ratio of a cached point's footprint to the looking-up pixel's."""
CANDIDATES = 4
"""Nearest cached points tried per pixel (the nearest one may be too coarse for it)."""


@dataclass
class _EntitySamples:
    """One entity's cached samples, row-aligned, and a k-d tree over ``points`` (rebuilt after
    an ``add``)."""

    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    colours: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.float32))
    footprints: np.ndarray = field(default_factory=lambda: np.zeros(0))
    neighbours: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tree: cKDTree | None = None


class SurfaceCache:
    """Entity id -> cached (surface point, colour, footprint, neighbour key) samples."""

    def __init__(
        self, tolerance: float = DEFAULT_TOLERANCE, max_magnification: float = DEFAULT_MAX_MAGNIFICATION
    ) -> None:
        self.tolerance = float(tolerance)
        self.max_magnification = float(max_magnification)
        self._entities: dict[int, _EntitySamples] = {}

    def __len__(self) -> int:
        """Number of cached samples."""
        return sum(len(samples.footprints) for samples in self._entities.values())

    def lookup(self, frame: GuidanceFrame) -> tuple[np.ndarray, np.ndarray]:
        """(colours (H, W, 3) float32, covered (H, W) bool) of ``frame``'s pixels; 0 where not
        covered."""
        return self._match(frame, footprint(frame), neighbour_key(frame.instance))

    def add(self, colours: np.ndarray, frame: GuidanceFrame) -> int:
        """Cache ``frame``'s pixels (colours (H, W, 3)) whose surface point is not covered yet
        (judged against the cache before this frame); returns how many were added."""
        colours = np.asarray(colours, dtype=np.float32)
        if colours.shape[:2] != frame.instance.shape:
            raise ValueError(
                f"SurfaceCache.add: colours {colours.shape[:2]} do not match the guidance "
                f"{frame.instance.shape}"
            )
        pixel_footprint, pixel_neighbours = footprint(frame), neighbour_key(frame.instance)
        _, covered = self._match(frame, pixel_footprint, pixel_neighbours)
        new = (frame.instance > 0) & ~covered & np.isfinite(pixel_footprint)
        for entity in np.unique(frame.instance[new]):
            pixels = np.nonzero(new & (frame.instance == entity))
            samples = self._entities.setdefault(int(entity), _EntitySamples())
            samples.points = np.concatenate([samples.points, frame.surface_coords[pixels].astype(np.float64)])
            samples.colours = np.concatenate([samples.colours, colours[pixels]])
            samples.footprints = np.concatenate([samples.footprints, pixel_footprint[pixels]])
            samples.neighbours = np.concatenate([samples.neighbours, pixel_neighbours[pixels]])
            samples.tree = None
        return int(new.sum())

    def _match(
        self, frame: GuidanceFrame, pixel_footprint: np.ndarray, pixel_neighbours: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``lookup`` given the frame's pixel footprints and neighbour keys."""
        height, width = frame.instance.shape
        colours = np.zeros((height, width, 3), dtype=np.float32)
        covered = np.zeros((height, width), dtype=bool)
        for entity in np.unique(frame.instance):
            samples = self._entities.get(int(entity))
            if entity == 0 or samples is None:
                continue
            if samples.tree is None:
                samples.tree = cKDTree(samples.points)
            pixels = np.nonzero(frame.instance == entity)
            count = min(CANDIDATES, len(samples.footprints))
            distance, nearest = samples.tree.query(frame.surface_coords[pixels].astype(np.float64), k=count)
            distance, nearest = distance.reshape(-1, count), nearest.reshape(-1, count)
            reach = samples.footprints[nearest]
            usable = (
                (distance <= self.tolerance * reach)
                & (reach <= self.max_magnification * pixel_footprint[pixels][:, None])
                & (samples.neighbours[nearest] == pixel_neighbours[pixels][:, None])
            )
            hit = usable.any(axis=1)
            chosen = nearest[hit, np.argmax(usable[hit], axis=1)]  # the nearest usable candidate
            colours[pixels[0][hit], pixels[1][hit]] = samples.colours[chosen]
            covered[pixels[0][hit], pixels[1][hit]] = True
        return colours, covered


def neighbour_key(instance: np.ndarray) -> np.ndarray:
    """(H, W) int64: -1 where all 8 neighbours show the pixel's own entity, else the smallest other
    id among them (0 = background). A silhouette pixel mixes in that neighbour's colour and the
    model's contact shadows, so it is cached and covered only together with its neighbour: a
    pixel a moving entity has left is drawn afresh instead of keeping its trail."""
    padded = np.pad(instance.astype(np.int64), 1, mode="edge")
    height, width = instance.shape
    own = instance.astype(np.int64)
    key = np.full((height, width), np.iinfo(np.int64).max)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            other = padded[dy : dy + height, dx : dx + width]
            key = np.where(other != own, np.minimum(key, other), key)
    return np.where(key == np.iinfo(np.int64).max, -1, key)


def footprint(frame: GuidanceFrame) -> np.ndarray:
    """(H, W) each pixel's extent on its surface: the larger of its object-frame distances to the
    horizontal and the vertical neighbour of the same entity (the nearer side; +inf where it has
    no such neighbour along an axis, 0 on background)."""
    coords = frame.surface_coords.astype(np.float64)
    instance = frame.instance
    extents = []
    for axis in (0, 1):
        steps = []
        for shift in (1, -1):
            same = (np.roll(instance, shift, axis=axis) == instance) & _unwrapped(instance.shape, axis, shift)
            distance = np.linalg.norm(coords - np.roll(coords, shift, axis=axis), axis=-1)
            steps.append(np.where(same, distance, np.inf))
        extents.append(np.minimum(*steps))
    return np.where(instance > 0, np.maximum(*extents), 0.0)


def _unwrapped(shape: tuple[int, int], axis: int, shift: int) -> np.ndarray:
    """(H, W) False on the row or column that ``np.roll`` by ``shift`` along ``axis`` wraps into."""
    inside = np.ones(shape, dtype=bool)
    edge = 0 if shift > 0 else -1
    if axis == 0:
        inside[edge, :] = False
    else:
        inside[:, edge] = False
    return inside
