"""The lighting guidance maps of one frame, from its ``RayHits``: ``shadow``, ``irradiance``, ``specular``.

- ``shadow``: (H, W, L) float32 in [0, 1], per direct light (sun, point, area, in the order of the
  scene's lights): the fraction of its shadow rays (``renderers.lighting.lights``) that reach it;
  0 where the light is behind the surface; 0 on background.
- ``irradiance``: (H, W, 3) float32 linear RGB W/m^2 at the surface: the direct lights (receiver
  cosine x visibility x irradiance, the reference renderer's units) plus each environment's
  order-2 SH irradiance at the normal times the ambient occlusion of up to 4 short rays. A white
  Lambertian surface shows ``irradiance / pi`` (W/m^2/sr).
- ``specular``: (H, W, 3) float32 W/m^2/sr: what a GGX surface of the pixel's roughness with
  Fresnel 1 reflects to the camera: each environment prefiltered along the reflected view ray
  (times the split-sum directional albedo and the ambient occlusion) plus the direct lights'
  highlight lobes (times their visibility). Renderers scale it by their Fresnel (``direct``).

Normals are the path tracer's shading normals (vertex normals with edges sharper than 30 degrees
split, ``renderers.reference.surfaces``), interpolated at the hit; rays start on the geometric
normal's side facing the camera. Everything is deterministic (fixed sample patterns).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from renderers.guidance.backend import RayHits
from renderers.guidance.geometry import (
    ClipMeshes,
    barycentric_interpolate,
    normalized,
    per_segment_matmul,
    rows_times,
)
from renderers.lighting import kernels
from renderers.lighting.brdf import highlight_radiance_factor, split_sum_scale_bias
from renderers.lighting.environment import EnvironmentMap, environment_map
from renderers.lighting.lights import (
    AREA_STRATA,
    DIRECT_LIGHT_TYPES,
    LightSamples,
    light_rgb,
    light_samples,
    scene_lights,
    shadow_channel_names,
)
from renderers.lighting.occlusion import OcclusionTester
from renderers.lighting.sh import sh_irradiance
from worldsim.clip.layout import LIGHTING_MAPS
from worldsim.errors import RenderError
from worldsim.scene.model import LightSpec
from worldsim.state import Trajectory

AMBIENT_OCCLUSION_RAYS = 4
"""Cosine-distributed rays per pixel (a fixed pattern in each normal's tangent frame, so the
occlusion is stable from frame to frame)."""
AMBIENT_OCCLUSION_DISTANCE = 0.5
"""Metres: occluders farther than this do not darken the environment light."""
RAY_OFFSET = 1e-4
"""Shadow rays start this far (times 1 + the distance to the camera, metres) off the surface."""


@dataclass
class LightingContext:
    """What the lighting maps of a clip share: built once per guidance renderer."""

    trajectory: Trajectory
    meshes: ClipMeshes
    direct_lights: list[tuple[int, LightSpec]]
    """(index in the scene's lights, light) of each sun, point and area light: the shadow channels."""
    environments: list[EnvironmentMap]
    occlusion: OcclusionTester
    corner_normal_edges: np.ndarray
    """(F_total, 3, 3) float32 path-tracer vertex normals per triangle (corner 0, edges)."""
    _frame_tables: dict[bool, FrameTables] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def frame_tables(self, with_environment: bool) -> FrameTables:
        """The clip's ``FrameTables`` (built on first use, then shared by every frame and by
        the lighting threads)."""
        with self._lock:
            tables = self._frame_tables.get(with_environment)
            if tables is None:
                tables = self._frame_tables[with_environment] = frame_tables(self, with_environment)
            return tables

    @property
    def shadow_names(self) -> list[str]:
        """The ``shadow`` map's channel names (a light's name, or ``lights[i]``)."""
        return shadow_channel_names(self.trajectory)


def lighting_context(trajectory: Trajectory, meshes: ClipMeshes) -> LightingContext:
    """Lights, environment maps (SH, prefiltered levels), shadow scenes and normals of a clip."""
    direct, environments = [], []
    for index, light in enumerate(scene_lights(trajectory)):
        if light.type in DIRECT_LIGHT_TYPES:
            direct.append((index, light))
        elif light.type == "environment":
            environments.append(environment_map(light, index))
        else:
            raise RenderError(f"lights[{index}].type: unknown light type {light.type!r}")
    return LightingContext(
        trajectory=trajectory,
        meshes=meshes,
        direct_lights=direct,
        environments=environments,
        occlusion=OcclusionTester(trajectory, meshes),
        corner_normal_edges=path_tracer_corner_normals(meshes),
    )


def lighting_maps(
    hits: RayHits, context: LightingContext, roughness: np.ndarray, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """The maps ``names`` (of ``LIGHTING_MAPS``) of one frame; ``roughness`` (H, W) float32 is the
    frame's material roughness map. Returns name -> array as documented in the module.

    Two compiled passes over the hits (``renderers.lighting.kernels``) around one Embree query
    of every shadow and occlusion ray of the frame: ``frame_rays`` (surface frames and rays) and
    ``shade`` (neighbour filter, lights, environments, written into the maps). The per-clip
    tables (sun samples, point lights, environments' SH and prefiltered levels) come from
    ``context``. ``lighting_maps_numpy`` is the same in whole-array numpy (the reference the
    tests compare against)."""
    _check_names(names)
    frame = hits.frame
    count = len(hits.hit_pixels)
    height, width = hits.column.shape
    want_specular = "specular" in names
    want_irradiance = want_specular or "irradiance" in names
    tables = context.frame_tables(bool(context.environments) and want_irradiance)
    poses = context.trajectory.object_to_world[frame]
    rotation = np.ascontiguousarray(poses[:, :3, :3], dtype=np.float32)
    translation = np.ascontiguousarray(poses[:, :3, 3], dtype=np.float32)
    normal_rotation = np.ascontiguousarray(
        np.linalg.inv(poses[:, :3, :3]).transpose(0, 2, 1), dtype=np.float32
    )
    rays = np.empty((tables.kinds, count, 6), dtype=np.float32)
    points, geometric, shading, view, pattern, distance, hit_roughness = kernels.frame_rays(
        np.ascontiguousarray(hits.hit_object_point, dtype=np.float32),
        np.ascontiguousarray(hits.hit_column, dtype=np.int32),
        rotation,
        translation,
        normal_rotation,
        np.ascontiguousarray(hits.rays_camera.reshape(-1, 3), dtype=np.float64),
        np.ascontiguousarray(hits.hit_pixels, dtype=np.int64),
        np.ascontiguousarray(hits.cam_to_world[:3, :3], dtype=np.float32),
        np.ascontiguousarray(hits.hit_normal_camera, dtype=np.float32),
        context.corner_normal_edges,
        np.ascontiguousarray(hits.hit_face, dtype=np.int64),
        np.ascontiguousarray(hits.hit_barycentric, dtype=np.float32),
        np.ascontiguousarray(hits.ray_distance.reshape(-1), dtype=np.float32),
        np.ascontiguousarray(roughness.reshape(-1), dtype=np.float32),
        RAY_OFFSET,
        width,
        tables.kind_mode,
        tables.kind_samples,
        tables.kind_table,
        tables.kind_vector,
        _ambient_table(),
        rays,
    )
    # Area lights: per-hit samples (numpy), their rays written into the batch.
    to_light, arriving = [], []
    for kind in tables.area_kinds:
        index, light = context.direct_lights[kind]
        sample = light_samples(light, index, points.T)
        segment = sample.segments[0] if len(sample.segments) == 1 else _interleaved(sample.segments, pattern)
        kernels.fill_segments(rays, kind, np.ascontiguousarray(segment, dtype=np.float32))
        to_light.append(sample.to_light)
        arriving.append(sample.irradiance)
    hit_to_light, hit_arriving = (
        (np.concatenate(to_light).astype(np.float32), np.concatenate(arriving).astype(np.float32))
        if to_light
        else (_NO_PER_HIT, _NO_PER_HIT)
    )
    blocked = context.occlusion.occluded_rays(frame, rays.reshape(-1, 6))
    raw = kernels.visible_fractions(blocked, rays, geometric, np.arange(tables.kinds, dtype=np.int64))

    lights = len(context.direct_lights)
    shadow = np.zeros((height * width, lights), dtype=np.float32)
    irradiance = np.zeros((height * width if want_irradiance else 0, 3), dtype=np.float32)
    specular = np.zeros((height * width if want_specular else 0, 3), dtype=np.float32)
    environment = tables.environment
    hit_pixels = np.ascontiguousarray(hits.hit_pixels, dtype=np.int64)
    hit_column = np.ascontiguousarray(hits.hit_column, dtype=np.int32)
    uniform = kernels.uniform_neighbourhoods(raw, tables.filtered, hit_pixels, hit_column, height, width)
    kernels.shade(
        raw, tables.filtered, uniform, np.asarray(hits.hit_index, dtype=np.int64), hit_pixels,
        hit_column, points, geometric, shading, view, distance,
        hit_roughness, PLANE_TOLERANCE, tables.term_kind, tables.term_mode, tables.term_vector,
        tables.term_rgb, tables.term_row, hit_to_light, hit_arriving, tables.ambient_kind,
        environment.convolved, environment.levels, environment.level_start, environment.level_rows,
        environment.level_roughness, environment.level_count, environment.rotation, want_irradiance,
        want_specular, np.empty((tables.kinds, count), dtype=np.float32), shadow, irradiance, specular,
    )  # fmt: skip
    result: dict[str, np.ndarray] = {}
    if "shadow" in names:
        result["shadow"] = shadow.reshape(height, width, lights)
    if "irradiance" in names:
        result["irradiance"] = irradiance.reshape(height, width, 3)
    if want_specular:
        result["specular"] = specular.reshape(height, width, 3)
    return result


_NO_PER_HIT = np.zeros((1, 1, 3), dtype=np.float32)
"""``shade``'s per-hit light arrays when no light has per-hit samples."""


@dataclass(frozen=True)
class EnvironmentTables:
    """Every environment of a clip for ``kernels.shade``: Ne maps with up to L prefiltered levels.

    convolved: (Ne, 9, 3) float32 SH coefficients x A_l; levels: every level of every map, flat
    float32; level_start, level_rows: (Ne, L) int64; level_roughness: (Ne, L) float32 ascending;
    level_count: (Ne,) int64; rotation: (Ne,) float64 radians about world Z."""

    convolved: np.ndarray
    levels: np.ndarray
    level_start: np.ndarray
    level_rows: np.ndarray
    level_roughness: np.ndarray
    level_count: np.ndarray
    rotation: np.ndarray


def environment_tables(environments: Sequence[EnvironmentMap]) -> EnvironmentTables:
    """The ``EnvironmentTables`` of ``environments`` (their cached SH and ``packed_levels``)."""
    packed = [environment.packed_levels for environment in environments]
    most = max((len(starts) for _, starts, _, _ in packed), default=1)
    start = np.zeros((len(packed), most), dtype=np.int64)
    rows = np.ones((len(packed), most), dtype=np.int64)
    roughness = np.ones((len(packed), most), dtype=np.float32)
    offset = 0
    for e, (flat, starts, level_rows, level_roughness) in enumerate(packed):
        start[e, : len(starts)] = starts + offset
        rows[e, : len(starts)] = level_rows
        roughness[e, : len(starts)] = level_roughness
        offset += len(flat)
    return EnvironmentTables(
        convolved=np.stack([environment.convolved_sh for environment in environments]).astype(np.float32)
        if environments
        else np.zeros((0, 9, 3), dtype=np.float32),
        levels=np.concatenate([flat for flat, _, _, _ in packed]).astype(np.float32)
        if packed
        else np.zeros(1, dtype=np.float32),
        level_start=start,
        level_rows=rows,
        level_roughness=roughness,
        level_count=np.array([len(starts) for _, starts, _, _ in packed], dtype=np.int64),
        rotation=np.array([np.deg2rad(environment.rotation_deg) for environment in environments]),
    )


@dataclass(frozen=True)
class FrameTables:
    """What every frame of a clip casts and shades, for ``kernels.frame_rays`` and ``shade``.

    K ray kinds: one per direct light (the shadow channels, in order), then the ambient one when
    an environment is shaded. kind_mode (K,) int64 ``kernels.RAY_*``; kind_samples (K,) int64
    (1, or 4 interleaved over 2 x 2 pixels); kind_table (K, 4, 3) float32 sun segments;
    kind_vector (K, 3) float32 point-light positions; filtered (K,) bool (interleaved kinds go
    through the neighbour filter); area_kinds: the kinds whose rays and shading are per hit.
    T direct shading terms: term_kind (T,) int64 (whose visibility), term_mode (T,) int64
    ``kernels.TERM_*``, term_vector (T, 3) float32 (a direction or a position), term_rgb (T, 3)
    float32 (W/m^2, or W/sr for a point light), term_row (T,) int64 (row of the per-hit arrays,
    area lights' strata stacked in ``area_kinds`` order); ambient_kind: -1 without environment."""

    kinds: int
    kind_mode: np.ndarray
    kind_samples: np.ndarray
    kind_table: np.ndarray
    kind_vector: np.ndarray
    filtered: np.ndarray
    area_kinds: tuple[int, ...]
    term_kind: np.ndarray
    term_mode: np.ndarray
    term_vector: np.ndarray
    term_rgb: np.ndarray
    term_row: np.ndarray
    ambient_kind: int
    environment: EnvironmentTables


def frame_tables(context: LightingContext, with_environment: bool) -> FrameTables:
    """The ``FrameTables`` of a clip's lights (``with_environment``: shade its environments)."""
    lights = context.direct_lights
    kinds = len(lights) + int(with_environment)
    kind_mode = np.full(kinds, kernels.RAY_AMBIENT, dtype=np.int64)
    kind_samples = np.full(kinds, PATTERN_SIZE, dtype=np.int64)
    kind_table = np.zeros((kinds, PATTERN_SIZE, 3), dtype=np.float32)
    kind_vector = np.zeros((kinds, 3), dtype=np.float32)
    terms: list[tuple[int, int, np.ndarray, np.ndarray, int]] = []
    area_kinds: list[int] = []
    for kind, (index, light) in enumerate(lights):
        if light.type == "point":
            kind_mode[kind], kind_samples[kind] = kernels.RAY_TO_POINT, 1
            kind_vector[kind] = np.asarray(light.position, dtype=np.float64).astype(np.float32)
            terms.append((kind, kernels.TERM_POINT, kind_vector[kind], light_rgb(light, index), 0))
        elif light.type == "sun":  # the same few segments for every hit
            sample = _sun_table(light, index)
            kind_mode[kind], kind_samples[kind] = kernels.RAY_TABLE, len(sample.segments)
            kind_table[kind, : len(sample.segments)] = sample.segments[:, 0]
            for to_light, arriving in zip(sample.to_light, sample.irradiance, strict=True):
                terms.append((kind, kernels.TERM_FIXED, to_light[0], arriving[0], 0))
        else:  # an area light: per-hit samples, AREA_STRATA^2 shading directions
            kind_mode[kind] = kernels.RAY_GIVEN
            kind_samples[kind] = AREA_STRATA * AREA_STRATA
            first = len(area_kinds) * AREA_STRATA * AREA_STRATA
            for row in range(AREA_STRATA * AREA_STRATA):
                terms.append((kind, kernels.TERM_PER_HIT, np.zeros(3), np.zeros(3), first + row))
            area_kinds.append(kind)
    return FrameTables(
        kinds=kinds,
        kind_mode=kind_mode,
        kind_samples=kind_samples,
        kind_table=kind_table,
        kind_vector=kind_vector,
        filtered=kind_samples > 1,
        area_kinds=tuple(area_kinds),
        term_kind=np.array([term[0] for term in terms], dtype=np.int64),
        term_mode=np.array([term[1] for term in terms], dtype=np.int64),
        term_vector=np.array([term[2] for term in terms], dtype=np.float32).reshape(-1, 3),
        term_rgb=np.array([term[3] for term in terms], dtype=np.float32).reshape(-1, 3),
        term_row=np.array([term[4] for term in terms], dtype=np.int64),
        ambient_kind=len(lights) if with_environment else -1,
        environment=environment_tables(context.environments if with_environment else []),
    )


def _check_names(names: Sequence[str]) -> None:
    unknown = [name for name in names if name not in LIGHTING_MAPS]
    if unknown:
        raise RenderError(f"unknown lighting map {unknown[0]!r}; known: {', '.join(LIGHTING_MAPS)}")


def _sun_table(light: LightSpec, index: int) -> LightSamples:
    """A sun's ``light_samples`` seen from one point (the same from every point), float32."""
    sample = light_samples(light, index, np.zeros((1, 3), dtype=np.float32))
    if len(sample.segments) not in (1, PATTERN_SIZE):
        raise RenderError(f"interleaved rays need {PATTERN_SIZE} samples, got {len(sample.segments)}")
    return LightSamples(
        *(
            np.ascontiguousarray(part, dtype=np.float32)
            for part in (sample.segments, sample.to_light, sample.irradiance)
        )
    )


@lru_cache(maxsize=1)
def _ambient_table() -> np.ndarray:
    """(4, 3) float32 ambient-occlusion segments in tangent-frame coordinates (tangent, bitangent,
    normal; metres): ``ambient_segments``' Vogel spiral of cosine-distributed directions."""
    frame = np.eye(3, dtype=np.float32)
    return np.stack(
        [ambient_segments(frame[2:3], np.array([index]))[0] for index in range(AMBIENT_OCCLUSION_RAYS)]
    ).astype(np.float32)


def lighting_maps_numpy(
    hits: RayHits, context: LightingContext, roughness: np.ndarray, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """``lighting_maps`` in whole-array numpy passes (the reference formulation for the tests)."""
    _check_names(names)
    frame = hits.frame
    trajectory = context.trajectory
    count = len(hits.hit_pixels)
    poses = trajectory.object_to_world[frame]
    # float32 per hit (what Embree takes anyway): half the memory traffic of float64.
    points = per_segment_matmul(
        hits.hit_object_point,
        poses[:, :3, :3].transpose(0, 2, 1).astype(np.float32),
        hits.hit_segments,
        hits.hit_column,
        poses[:, :3, 3].astype(np.float32),
    )
    camera_rotation = hits.cam_to_world[:3, :3].T.astype(np.float32)
    view = -rows_times(hits.hit_rays, camera_rotation)
    geometric = rows_times(hits.hit_normal_camera, camera_rotation)
    geometric *= np.where(_dot(geometric, view) < 0, np.float32(-1.0), np.float32(1.0))[:, None]
    shading = _shading_normals(hits, context, poses)
    shading *= np.where(_dot(shading, geometric) < 0, np.float32(-1.0), np.float32(1.0))[:, None]
    hit_roughness = np.take(roughness.ravel(), hits.hit_pixels).astype(np.float32)
    distance = np.take(hits.ray_distance.ravel(), hits.hit_pixels).astype(np.float32)
    origins = points + geometric * (np.float32(RAY_OFFSET) * (1.0 + distance))[:, None]

    want_specular = "specular" in names
    needs_environment = bool(context.environments) and ("irradiance" in names or want_specular)
    pattern = _pattern_index(hits)
    neighbours = _NeighbourFilter(hits, points, geometric, distance)
    # Every shadow and occlusion ray of the frame goes to Embree in one batch.
    batch = _RayBatch(origins)
    samples = [light_samples(light, index, points) for index, light in context.direct_lights]
    light_rays = []
    for sample in samples:
        segment = sample.segments[0] if len(sample.segments) == 1 else _interleaved(sample.segments, pattern)
        light_rays.append(batch.add(segment, _dot(geometric, segment) > 0))
    if needs_environment:
        ambient_ray = batch.add(ambient_segments(geometric, pattern))
    blocked = batch.occluded(context.occlusion, frame)

    shadow = np.zeros((count, len(context.direct_lights)), dtype=np.float32)
    irradiance = np.zeros((count, 3), dtype=np.float32)
    highlight = np.zeros((count, 3), dtype=np.float32)
    for channel, (sample, ray) in enumerate(zip(samples, light_rays, strict=True)):
        visible = batch.visible(ray, blocked)
        # Several rays per light are interleaved over 2 x 2 pixels and gathered back by the filter.
        fraction = visible if len(sample.segments) == 1 else neighbours.average(visible)
        shadow[:, channel] = fraction
        for to_light, arriving in zip(sample.to_light, sample.irradiance, strict=True):
            cosine = np.maximum(_dot(shading, to_light), 0.0) * (_dot(geometric, to_light) > 0)
            irradiance += arriving * (cosine * fraction)[:, None]
            if want_specular:
                factor = highlight_radiance_factor(shading, view, to_light, hit_roughness)
                highlight += arriving * (factor * fraction)[:, None]

    if needs_environment:
        occlusion = neighbours.average(batch.visible(ambient_ray, blocked))
        cos_view = np.clip(_dot(shading, view), 0.0, 1.0)
        reflected = 2.0 * cos_view[:, None] * shading - view
        scale, bias = split_sum_scale_bias(hit_roughness, cos_view)
        for environment in context.environments:
            irradiance += sh_irradiance(environment.sh_coefficients, shading) * occlusion[:, None]
            if want_specular:
                radiance = environment.prefiltered(reflected, hit_roughness)
                highlight += radiance * ((scale + bias) * occlusion)[:, None]

    result: dict[str, np.ndarray] = {}
    if "shadow" in names:
        result["shadow"] = hits.scatter(shadow)
    if "irradiance" in names:
        result["irradiance"] = hits.scatter(irradiance.astype(np.float32))
    if want_specular:
        result["specular"] = hits.scatter(highlight.astype(np.float32))
    return result


def ambient_segments(normals: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """(N, 3) ambient-occlusion segments of length ``AMBIENT_OCCLUSION_DISTANCE``: ray
    ``pattern[i]`` of ``AMBIENT_OCCLUSION_RAYS`` cosine-distributed directions (a Vogel spiral,
    fixed in each unit normal's tangent frame) about ``normals[i]``."""
    # A tangent frame without cross products (Duff et al. 2017, "Building an orthonormal basis,
    # revisited"), component by component.
    x, y, z = normals[:, 0], normals[:, 1], normals[:, 2]
    sign = np.where(z >= 0, np.float32(1.0), np.float32(-1.0))
    a = -1.0 / (sign + z)
    b = x * y * a
    tangent = np.stack([1.0 + sign * x * x * a, sign * b, -sign * x], axis=1)
    bitangent = np.stack([b, sign + y * y * a, -y], axis=1)
    golden = np.pi * (3.0 - np.sqrt(5.0))
    sample = np.arange(AMBIENT_OCCLUSION_RAYS)
    radius = np.sqrt((sample + 0.5) / AMBIENT_OCCLUSION_RAYS)
    angle = sample * golden + 0.25 * np.pi
    length = AMBIENT_OCCLUSION_DISTANCE
    along_tangent = np.take((radius * np.cos(angle) * length).astype(np.float32), pattern)
    along_bitangent = np.take((radius * np.sin(angle) * length).astype(np.float32), pattern)
    along_normal = np.take((np.sqrt(1.0 - radius * radius) * length).astype(np.float32), pattern)
    return (
        tangent * along_tangent[:, None]
        + bitangent * along_bitangent[:, None]
        + normals * along_normal[:, None]
    )


PATTERN_SIZE = 4
"""Rays of one kind a 2 x 2 pixel block shares: each pixel casts one (``_pattern_index``)."""
PLANE_TOLERANCE = 0.01
"""Neighbours whose point lies off a pixel's tangent plane by more than this times (1 + its
distance to the camera, metres), or whose normal differs by more than ~37 degrees, or that show
another entity, are not averaged with it."""


def _pattern_index(hits: RayHits) -> np.ndarray:
    """(N,) int64 in [0, 4): which of 4 interleaved samples each hit casts, (x % 2) + 2 (y % 2)."""
    width = hits.column.shape[1]
    rows, cols = np.divmod(hits.hit_pixels, width)
    return (cols % 2) + 2 * (rows % 2)


def _interleaved(samples: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """(N, 3) row i of ``samples[pattern[i]]`` from (PATTERN_SIZE, N, 3)."""
    if len(samples) != PATTERN_SIZE:
        raise RenderError(f"interleaved rays need {PATTERN_SIZE} samples, got {len(samples)}")
    if samples.strides[1] == 0:  # the same vector for every hit (a sun): a table look-up
        return np.take(samples[:, 0], pattern, axis=0)
    out = np.empty(samples.shape[1:], dtype=samples.dtype)
    for index in range(PATTERN_SIZE):
        chosen = pattern == index
        out[chosen] = samples[index][chosen]
    return out


class _NeighbourFilter:
    """A 3 x 3 tent filter over the hits, restricted to neighbours on the same surface.

    The tent's weights (1 2 1 x 1 2 1) give each of the 2 x 2 pattern's samples the same total
    weight, so a pixel's average sees all four interleaved rays on a flat, unbroken surface.
    Works on padded images with shifted views (no per-hit gathers)."""

    def __init__(self, hits: RayHits, points: np.ndarray, normals: np.ndarray, distance: np.ndarray) -> None:
        self.hits = hits
        column = _padded(hits.column, -1)
        point = [_padded(hits.scatter(points[:, k].astype(np.float32)), 0.0) for k in range(3)]
        normal = [_padded(hits.scatter(normals[:, k].astype(np.float32)), 0.0) for k in range(3)]
        tolerance = PLANE_TOLERANCE * (1.0 + np.where(np.isfinite(hits.ray_distance), hits.ray_distance, 0.0))
        tolerance = tolerance.astype(np.float32)
        height, width = hits.column.shape
        centre = (slice(1, height + 1), slice(1, width + 1))
        self.shifts, self.weights = [], []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                shifted = (slice(1 + dy, height + 1 + dy), slice(1 + dx, width + 1 + dx))
                same = (column[shifted] == column[centre]) & (column[centre] >= 0)
                plane = np.abs(
                    sum((point[k][shifted] - point[k][centre]) * normal[k][centre] for k in range(3))
                )
                aligned = sum(normal[k][shifted] * normal[k][centre] for k in range(3)) > 0.8
                weight = (same & (plane <= tolerance) & aligned).astype(np.float32)
                weight *= (2.0 - abs(dy)) * (2.0 - abs(dx))
                self.shifts.append(shifted)
                self.weights.append(weight)
        self.total = np.maximum(sum(self.weights), np.float32(1e-12))

    def average(self, values: np.ndarray) -> np.ndarray:
        """(N,) float32 filtered per-hit ``values`` (N,)."""
        image = _padded(self.hits.scatter(values.astype(np.float32)), 0.0)
        out = sum(weight * image[shifted] for shifted, weight in zip(self.shifts, self.weights, strict=True))
        return np.take((out / self.total).ravel(), self.hits.hit_pixels)


def _padded(image: np.ndarray, fill: float) -> np.ndarray:
    """``image`` (H, W) with a one-pixel border of ``fill``."""
    return np.pad(image, 1, constant_values=fill)


class _RayBatch:
    """Shadow-ray segments from the hits' ``origins`` (N, 3), gathered for one occlusion query.

    Every hit casts every queued kind of ray (a ray towards a light behind the surface is cheap:
    it meets the surface at once) and masks apply afterwards: cheaper than compacting the rays."""

    def __init__(self, origins: np.ndarray) -> None:
        self.origins = origins
        self._segments: list[np.ndarray] = []

    def add(self, segments: np.ndarray, where: np.ndarray | None = None) -> tuple[np.ndarray | None, slice]:
        """Queue ``segments`` (N, 3); only the hits ``where`` (N,) bool count (all if None)."""
        count = len(self.origins)
        span = slice(len(self._segments) * count, (len(self._segments) + 1) * count)
        self._segments.append(segments)
        return where, span

    def occluded(self, tester: OcclusionTester, frame: int) -> np.ndarray:
        """(R,) bool for every queued ray."""
        count = len(self.origins)
        rays = np.empty((len(self._segments), count, 6), dtype=np.float32)
        rays[:, :, :3] = self.origins
        for index, segments in enumerate(self._segments):
            rays[index, :, 3:] = segments
        return tester.occluded_rays(frame, rays.reshape(-1, 6))

    def visible(self, ray: tuple[np.ndarray | None, slice], blocked: np.ndarray) -> np.ndarray:
        """(N,) float32: 1 where the hit's queued ray is unblocked (and counts), else 0."""
        where, span = ray
        visible = ~blocked[span]
        if where is not None:
            visible &= where
        return visible.astype(np.float32)


def _dot(vectors: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(N,) row-wise dot products of (N, 3) arrays, component by component (no BLAS)."""
    return vectors[:, 0] * others[:, 0] + vectors[:, 1] * others[:, 1] + vectors[:, 2] * others[:, 2]


def _shading_normals(hits: RayHits, context: LightingContext, poses: np.ndarray) -> np.ndarray:
    """(N, 3) float32 unit world shading normals at the hits (object normals by inv(R) rows)."""
    local = barycentric_interpolate(
        np.take(context.corner_normal_edges, hits.hit_face, axis=0), hits.hit_barycentric
    )
    to_world = np.linalg.inv(poses[:, :3, :3])
    return normalized(
        per_segment_matmul(local, to_world.astype(np.float32), hits.hit_segments, hits.hit_column)
    )


def path_tracer_corner_normals(meshes: ClipMeshes) -> np.ndarray:
    """(F_total, 3, 3) float32 per triangle: the reference renderer's vertex normal at corner 0
    and the differences at corners 1, 2 (``ClipMeshes.corner_normal_edges`` layout).

    Those normals come from ``trimesh.graph.smooth_shade`` with the path tracer's sharp-edge angle,
    which splits vertices (and may reorder faces): its faces are matched to ours by position.
    """
    import trimesh

    from renderers.reference.surfaces import SHARP_EDGE_DEG

    tables = []
    for entry in meshes.entries:
        corners = entry.vertices[entry.faces]
        shaded = trimesh.graph.smooth_shade(entry.mesh, angle=np.radians(SHARP_EDGE_DEG), facet_minarea=None)
        shaded_corners = np.asarray(shaded.vertices, dtype=np.float64)[np.asarray(shaded.faces)]
        shaded_normals = np.asarray(shaded.vertex_normals, dtype=np.float64)[np.asarray(shaded.faces)]
        normals = _match_corner_normals(corners, shaded_corners, shaded_normals)
        if normals is None:  # unmatched geometry: flat shading, never a wrong normal
            normals = np.repeat(entry.face_normals[:, None, :], 3, axis=1)
        tables.append(normals)
    if not tables:
        return np.zeros((0, 3, 3), dtype=np.float32)
    corners = np.concatenate(tables)
    edges = corners.copy()
    edges[:, 1:] -= corners[:, :1]
    return edges.astype(np.float32)


def _match_corner_normals(
    corners: np.ndarray, shaded_corners: np.ndarray, shaded_normals: np.ndarray
) -> np.ndarray | None:
    """(F, 3, 3) normals at ``corners`` (F, 3, 3) read from a reordered copy of the same triangles."""
    if corners.shape != shaded_corners.shape:
        return None
    scale = max(float(np.abs(corners).max(initial=0.0)), 1e-9)

    def order(values: np.ndarray) -> np.ndarray:
        key = np.round(values.sum(axis=1) / (3.0 * scale), 7)
        return np.lexsort((key[:, 2], key[:, 1], key[:, 0]))

    ours, theirs = order(corners), order(shaded_corners)
    mapped_corners = np.empty_like(shaded_corners)
    mapped_normals = np.empty_like(shaded_normals)
    mapped_corners[ours] = shaded_corners[theirs]
    mapped_normals[ours] = shaded_normals[theirs]
    distance = np.linalg.norm(corners[:, :, None, :] - mapped_corners[:, None, :, :], axis=-1)
    nearest = distance.argmin(axis=2)
    if distance.min(axis=2).max() > 1e-6 * scale:
        return None
    return np.take_along_axis(mapped_normals, nearest[..., None], axis=1)
