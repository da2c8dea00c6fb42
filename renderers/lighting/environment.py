"""Environment lights as lat-long radiance maps: lookup, SH projection, prefiltered specular levels.

Every environment (a captured HDRI, the procedural sky, a uniform sky) becomes one
``EnvironmentMap``: an (H, 2H, 3) radiance map in the equirectangular convention of
``worldsim.camera.conventions`` (row 0 at the zenith) turned ``rotation_deg`` about world Z, with
the light's ``color x intensity`` applied, so an HDRI at intensity 1 is radiance in W/m^2/sr.
Maps are built once per light (cached), like the path tracer's emitter.
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from renderers.lighting.brdf import MIN_ALPHA
from renderers.lighting.sh import CLAMPED_COSINE_WEIGHTS, latlong_solid_angles, project_radiance
from worldsim.camera.conventions import direction_to_equirect, equirect_direction
from worldsim.errors import RenderError
from worldsim.scene.model import LightSpec

PROCEDURAL_SKY_ROTATION_DEG = -90.0
"""The procedural sky's bitmap (``renderers.reference.sky``: Mitsuba's envmap frame, u = atan2(x, y)
/ 2 pi in world axes) is our equirectangular map turned -90 degrees about Z (tested)."""
PREFILTER_ROUGHNESS = (0.0, 0.2, 0.35, 0.5, 0.7, 1.0)
"""Roughness of each prefiltered specular level; between two levels lookups blend linearly."""
PREFILTER_SOURCE_ROWS = {0.35: 64}
"""Rows (x 2 columns) the map is box-downsampled to as the source of a blurred level (default 32)."""
SH_SOURCE_ROWS = 128
"""The map is box-downsampled to this many rows before its SH projection (exact block integrals)."""
PREFILTER_OUTPUT_ROWS = 32
"""Rows (x 2 columns) of each blurred level (roughness >= 0.35)."""
SHARP_LEVEL_ROWS = 128
"""Rows of the lightly blurred level (roughness 0.2): a box-downsampled copy of the map."""
UNIFORM_MAP_SHAPE = (8, 16)


class EnvironmentMap:
    """One environment light's radiance. radiance: (H, 2H, 3) float32 W/m^2/sr, read-only."""

    def __init__(self, radiance: np.ndarray, rotation_deg: float = 0.0, uniform: bool = False) -> None:
        radiance = np.asarray(radiance, dtype=np.float32)
        if radiance.ndim != 3 or radiance.shape[2] != 3 or radiance.shape[1] != 2 * radiance.shape[0]:
            raise RenderError(f"environment map must be (H, 2H, 3), got {radiance.shape}")
        self.radiance = radiance
        self.rotation_deg = float(rotation_deg)
        self.uniform = uniform

    def lookup(self, directions: np.ndarray) -> np.ndarray:
        """(N, 3) float32 bilinear radiance along world ``directions`` (N, 3) (need not be unit)."""
        return bilinear_latlong(self.radiance, *direction_to_equirect(directions, self.rotation_deg))

    @cached_property
    def sh_coefficients(self) -> np.ndarray:
        """(9, 3) float64 SH projection of the radiance (``renderers.lighting.sh``)."""
        if self.uniform:
            coefficients = np.zeros((9, 3))
            coefficients[0] = self.radiance[0, 0] * 4.0 * np.pi * 0.282094791773878
            return coefficients
        source = downsample_latlong(self.radiance, SH_SOURCE_ROWS)
        rows, columns = source.shape[:2]
        u = (np.arange(columns) + 0.5) / columns
        v = (np.arange(rows) + 0.5) / rows
        uu, vv = np.meshgrid(u, v)
        directions = equirect_direction(uu, vv, self.rotation_deg).reshape(-1, 3)
        solid = np.repeat(latlong_solid_angles(rows, columns), columns)
        return project_radiance(source.reshape(-1, 3), directions, solid)

    @cached_property
    def specular_levels(self) -> list[np.ndarray]:
        """One lat-long map per ``PREFILTER_ROUGHNESS``: the radiance convolved with the GGX lobe
        of that roughness (alpha = roughness^2) about the reflected direction (n = v = r, as in
        the split-sum prefiltering), each normalised to unit weight."""
        if self.uniform:
            return [self.radiance for _ in PREFILTER_ROUGHNESS]
        out_rows = PREFILTER_OUTPUT_ROWS
        out_dirs = _texel_directions(out_rows, 2 * out_rows).reshape(-1, 3).astype(np.float32)
        levels = []
        for roughness in PREFILTER_ROUGHNESS:
            if roughness == 0.0:
                levels.append(self.radiance)
                continue
            if roughness < 0.3:
                levels.append(downsample_latlong(self.radiance, SHARP_LEVEL_ROWS))
                continue
            source = downsample_latlong(self.radiance, PREFILTER_SOURCE_ROWS.get(roughness, 32))
            rows, columns = source.shape[:2]
            source_dirs = _texel_directions(rows, columns).reshape(-1, 3).astype(np.float32)
            source_weight = np.repeat(latlong_solid_angles(rows, columns), columns).astype(np.float32)
            cosine = out_dirs @ source_dirs.T
            # GGX D of the half vector of (r, w): cos^2(h) = (1 + r.w) / 2, in float32 throughout.
            alpha2 = np.float32(max(roughness * roughness, MIN_ALPHA) ** 2)
            denominator = (np.float32(0.5) * (alpha2 - np.float32(1.0))) * (cosine + np.float32(1.0))
            denominator += np.float32(1.0)
            denominator *= denominator
            weight = np.maximum(cosine, np.float32(0.0))
            weight *= source_weight
            weight /= denominator  # alpha^2 / pi cancels in the normalisation
            blurred = (weight @ source.reshape(-1, 3)) / np.maximum(weight.sum(axis=1, keepdims=True), 1e-30)
            levels.append(blurred.reshape(out_rows, 2 * out_rows, 3).astype(np.float32))
        return levels

    @cached_property
    def packed_levels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The prefiltered levels for the compiled shading (``renderers.lighting.kernels``):
        (flat float32 texels of every level one after the other, (L,) int64 start of each,
        (L,) int64 rows of each, (L,) float32 ``PREFILTER_ROUGHNESS``)."""
        levels = [np.ascontiguousarray(level, dtype=np.float32) for level in self.specular_levels]
        sizes = np.array([level.size for level in levels], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        rows = np.array([level.shape[0] for level in levels], dtype=np.int64)
        flat = np.concatenate([level.ravel() for level in levels])
        return flat, starts, rows, np.asarray(PREFILTER_ROUGHNESS, dtype=np.float32)

    @cached_property
    def convolved_sh(self) -> np.ndarray:
        """(9, 3) float32 SH coefficients times the clamped-cosine weights A_l (irradiance)."""
        return (self.sh_coefficients * CLAMPED_COSINE_WEIGHTS[:, None]).astype(np.float32)

    def prefiltered(self, directions: np.ndarray, roughness: np.ndarray) -> np.ndarray:
        """(N, 3) float32 prefiltered radiance along ``directions`` (N, 3) for ``roughness`` (N,)."""
        roughness = np.clip(np.asarray(roughness, dtype=np.float64), 0.0, 1.0)
        if self.uniform:
            return np.broadcast_to(self.radiance[0, 0], (len(roughness), 3)).astype(np.float32)
        u, v = direction_to_equirect(directions, self.rotation_deg)
        u, v = u.astype(np.float32), v.astype(np.float32)
        grid = np.asarray(PREFILTER_ROUGHNESS)
        upper = np.clip(np.searchsorted(grid, roughness, side="right"), 1, len(grid) - 1)
        lower = upper - 1
        blend = ((roughness - grid[lower]) / (grid[upper] - grid[lower])).astype(np.float32)
        result = np.zeros((len(roughness), 3), dtype=np.float32)
        # Only the levels some hit uses (an entity's roughness is often one value).
        for index in np.flatnonzero(np.bincount(np.r_[lower, upper], minlength=len(grid))):
            for chosen, weight in ((lower == index, 1.0 - blend), (upper == index, blend)):
                chosen &= weight > 0
                if chosen.any():
                    level = self.specular_levels[index]
                    result[chosen] += weight[chosen, None] * bilinear_latlong(level, u[chosen], v[chosen])
        return result


def bilinear_latlong(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N, 3) float32 bilinear samples of a lat-long ``image`` (H, W, 3) at (u, v) (N,) in [0, 1]:
    texel centres at (i + 0.5) / W, u wraps around, v is clamped at the poles."""
    rows, columns = image.shape[:2]
    # float64 coordinates for maps wider than float32's exact-pixel range would need; 4096 is fine.
    kind = np.float32 if columns <= 4096 else np.float64
    x = np.asarray(u, dtype=kind) * kind(columns) - kind(0.5)
    y = np.clip(np.asarray(v, dtype=kind) * kind(rows) - kind(0.5), 0.0, rows - 1)
    x0 = np.floor(x)
    y0 = np.minimum(np.floor(y), rows - 2) if rows > 1 else np.zeros_like(y)
    fx = (x - x0).astype(np.float32, copy=False)[:, None]
    fy = (y - y0).astype(np.float32, copy=False)[:, None]
    x0 = x0.astype(np.int64) % columns
    x1 = (x0 + 1) % columns
    y0 = y0.astype(np.int64)
    y1 = np.minimum(y0 + 1, rows - 1)
    flat = image.reshape(-1, 3)
    top = flat[y0 * columns + x0] * (1.0 - fx) + flat[y0 * columns + x1] * fx
    bottom = flat[y1 * columns + x0] * (1.0 - fx) + flat[y1 * columns + x1] * fx
    return (top * (1.0 - fy) + bottom * fy).astype(np.float32)


def downsample_latlong(image: np.ndarray, rows: int) -> np.ndarray:
    """(rows, 2 rows, 3) float32 box average of a lat-long ``image`` (solid-angle weighted rows)."""
    height, width = image.shape[:2]
    if height <= rows:
        return np.asarray(image, dtype=np.float32)
    factor = height // rows
    if height % rows or width % (2 * rows):
        raise RenderError(f"cannot downsample a {width}x{height} map to {2 * rows}x{rows}")
    weight = latlong_solid_angles(height, width)[:, None, None]
    weighted = (np.asarray(image, dtype=np.float64) * weight).reshape(rows, factor, 2 * rows, factor, 3)
    total = weight.reshape(rows, factor, 1, 1, 1).sum(axis=1) * factor
    return (weighted.sum(axis=(1, 3)) / total[:, 0]).astype(np.float32)


def _texel_directions(rows: int, columns: int) -> np.ndarray:
    """(rows, columns, 3) world directions of texel centres of an unrotated lat-long map."""
    uu, vv = np.meshgrid((np.arange(columns) + 0.5) / columns, (np.arange(rows) + 0.5) / rows)
    return equirect_direction(uu, vv)


def environment_map(light: LightSpec, index: int = 0) -> EnvironmentMap:
    """The ``EnvironmentMap`` of an environment ``light`` (cached by the light's values)."""
    key = (
        light.hdri,
        light.sky,
        float(light.rotation_deg),
        tuple(float(c) for c in light.color),
        float(light.intensity),
        tuple(float(d) for d in light.direction),
    )
    return _environment_map(key, index)


@lru_cache(maxsize=8)
def _environment_map(key: tuple, index: int) -> EnvironmentMap:
    hdri, sky, rotation_deg, color, intensity, direction = key
    scale = np.asarray(color, dtype=np.float64) * intensity
    if scale.shape != (3,) or not np.all(np.isfinite(scale)) or np.any(scale < 0):
        raise RenderError(f"lights[{index}]: color * intensity must be 3 finite non-negative values")
    if hdri:
        from worldsim.scene.hdri import load_hdri, resolve_hdri

        path = resolve_hdri(hdri, key_path=f"lights[{index}].hdri")
        radiance = load_hdri(path, key_path=f"lights[{index}].hdri") * scale.astype(np.float32)
        return EnvironmentMap(radiance, rotation_deg)
    if sky == "uniform":
        return EnvironmentMap(np.broadcast_to(scale, (*UNIFORM_MAP_SHAPE, 3)), uniform=True)
    if sky == "procedural":
        from renderers.reference.lights import SKY_RESOLUTION
        from renderers.reference.sky import procedural_sky

        bitmap = procedural_sky(SKY_RESOLUTION, np.asarray(direction, dtype=np.float64)) * scale
        return EnvironmentMap(bitmap, PROCEDURAL_SKY_ROTATION_DEG)
    raise RenderError(f"lights[{index}].sky: unknown sky {sky!r} (uniform or procedural)")
