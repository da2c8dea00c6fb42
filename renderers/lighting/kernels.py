"""Compiled per-hit loops of the lighting maps (numba; compiled once, cached on disk).

A frame takes two passes over its hits around one Embree query: ``frame_rays`` (surface frames
and every shadow / occlusion ray) and ``shade`` (the neighbour filter, every direct light and
environment, written straight into the maps), plus ``visible_fractions`` and
``uniform_neighbourhoods`` between them; the numpy formulation took dozens of whole-array passes
with temporaries. Per-hit vectors are (3, N) rows and ``shade`` runs each light as one loop over
the hits, which the compiler turns into vector (AVX) code; the sums keep the order and precision
of a loop over lights per hit, so the maps are bit-identical to that formulation. Arithmetic is
float32 like the rays Embree takes, except where noted. Conventions: N hits; K kinds of ray; E
entity columns; H x W image, pixels flat ``row * W + col``; rays (K, N, 6) float32: each hit's
origin (3) and segment (3).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from renderers.guidance.kernels import split

# error_model="numpy": a float division by zero gives inf/nan like numpy instead of raising.
# The per-hit loops run in pieces through ``renderers.guidance.kernels.split``: the calling thread
# and the guidance kernels' helper threads take pieces as they come free, so on two cores the
# lighting thread uses the second core only while the other guidance work leaves it idle (numba's
# own parallel loops ran a second team of threads beside the renderer's: about 6 CPU-ms a frame at
# 256^2, measured per thread). The kernels release the GIL.
_compiled = numba.njit(cache=True, nogil=True, error_model="numpy")

MIN_ALPHA = np.float32(1e-3)  # renderers.lighting.brdf.MIN_ALPHA (float32 here)


# Kinds of shadow / occlusion ray (``frame_rays``' kind_mode).
RAY_TABLE = 0
"""The same segment for every hit (a sun): ``kind_table[k, pattern]`` (or row 0 for one sample)."""
RAY_TO_POINT = 1
"""Towards the point ``kind_vector[k]``."""
RAY_GIVEN = 2
"""Per-hit segments written afterwards (``fill_segments``: an area light's strata)."""
RAY_AMBIENT = 3
"""Ambient occlusion: ``ambient_local[pattern]`` in the geometric normal's tangent frame."""


def frame_rays(
    object_point, column, rotation, translation, normal_rotation, rays_camera, hit_pixels,
    cam_rotation, normal_camera, normal_edges, face, barycentric, ray_distance, roughness_image,
    offset, width, kind_mode, kind_samples, kind_table, kind_vector, ambient_local, rays,
):  # fmt: skip
    """Per hit: world point, geometric and shading normal, view vector (3, N) float32 each (one
    row per component, so that the shading loops over hits compile to vector instructions), the
    interleaving pattern index (N,) int64 in [0, 4) ((x % 2) + 2 (y % 2) of its pixel in an image
    ``width`` wide), distance to the camera and roughness (N,) float32; and every shadow /
    occlusion ray of the frame written into ``rays`` (K, N, 6): origin (3) and segment (3).

    object_point (N, 3) float32; column (N,) int32; rotation (E, 3, 3) and translation (E, 3)
    float32 object-to-world; normal_rotation (E, 3, 3) float32 inv(R)^T (normals to world);
    rays_camera (H * W, 3) float64 unit camera rays, gathered at hit_pixels (N,) int64;
    cam_rotation (3, 3) float32 camera-to-world; normal_camera (N, 3) float32 geometric normals;
    normal_edges (F, 3, 3) float32 path-tracer corner normal + edges per triangle, face (N,)
    int64, barycentric (N, 2) float32; ray_distance and roughness_image (H * W,) float32 (metres,
    the material roughness); offset float: the ray start's offset per metre of (1 + distance).
    The geometric normal faces the camera, the shading normal the geometric normal's side;
    origins lie ``offset (1 + distance)`` off the surface along the geometric normal. A sun or
    point ray leaving behind the geometric normal gets a zero segment (the light is not seen
    there: Embree skips it, ``visible_fractions`` gives 0).
    Ray kind k: ``kind_mode[k]`` (``RAY_*``), ``kind_samples[k]`` (1 or 4 interleaved), sun
    segments ``kind_table`` (K, 4, 3) float32, point positions ``kind_vector`` (K, 3) float32,
    ambient segments ``ambient_local`` (4, 3) float32 (tangent, bitangent, normal; metres).
    """
    count = len(object_point)
    points = np.empty((3, count), dtype=np.float32)
    pattern = np.empty(count, dtype=np.int64)
    geometric = np.empty((3, count), dtype=np.float32)
    shading = np.empty((3, count), dtype=np.float32)
    view = np.empty((3, count), dtype=np.float32)
    distance = np.empty(count, dtype=np.float32)
    roughness = np.empty(count, dtype=np.float32)
    arguments = (
        object_point, column, rotation, translation, normal_rotation, rays_camera, hit_pixels,
        cam_rotation, normal_camera, normal_edges, face, barycentric, ray_distance, roughness_image,
        np.float32(offset), width, kind_mode, kind_samples, kind_table, kind_vector, ambient_local,
        rays, points, pattern, geometric, shading, view, distance, roughness,
    )  # fmt: skip
    split(_frame_rays_part, arguments, count, "hits")
    return points, geometric, shading, view, pattern, distance, roughness


@_compiled
def _frame_rays_part(  # pragma: no cover - compiled
    object_point, column, rotation, translation, normal_rotation, rays_camera, hit_pixels,
    cam_rotation, normal_camera, normal_edges, face, barycentric, ray_distance, roughness_image,
    offset, width, kind_mode, kind_samples, kind_table, kind_vector, ambient_local, rays, points,
    pattern, geometric, shading, view, distance, roughness, first, stop,
):  # fmt: skip
    """``frame_rays`` of hits ``first`` .. ``stop`` into the per-hit arrays."""
    kinds = rays.shape[0]
    c = cam_rotation
    for i in range(first, stop):
        e = column[i]
        r = rotation[e]
        px, py, pz = object_point[i, 0], object_point[i, 1], object_point[i, 2]
        wx = r[0, 0] * px + r[0, 1] * py + r[0, 2] * pz + translation[e, 0]
        wy = r[1, 0] * px + r[1, 1] * py + r[1, 2] * pz + translation[e, 1]
        wz = r[2, 0] * px + r[2, 1] * py + r[2, 2] * pz + translation[e, 2]
        pixel = hit_pixels[i]
        dx = np.float32(rays_camera[pixel, 0])
        dy = np.float32(rays_camera[pixel, 1])
        dz = np.float32(rays_camera[pixel, 2])
        vx = -(c[0, 0] * dx + c[0, 1] * dy + c[0, 2] * dz)
        vy = -(c[1, 0] * dx + c[1, 1] * dy + c[1, 2] * dz)
        vz = -(c[2, 0] * dx + c[2, 1] * dy + c[2, 2] * dz)
        nx, ny, nz = normal_camera[i, 0], normal_camera[i, 1], normal_camera[i, 2]
        gx = c[0, 0] * nx + c[0, 1] * ny + c[0, 2] * nz
        gy = c[1, 0] * nx + c[1, 1] * ny + c[1, 2] * nz
        gz = c[2, 0] * nx + c[2, 1] * ny + c[2, 2] * nz
        if gx * vx + gy * vy + gz * vz < 0:
            gx, gy, gz = -gx, -gy, -gz
        edges = normal_edges[face[i]]
        u, v = barycentric[i, 0], barycentric[i, 1]
        lx = edges[0, 0] + u * edges[1, 0] + v * edges[2, 0]
        ly = edges[0, 1] + u * edges[1, 1] + v * edges[2, 1]
        lz = edges[0, 2] + u * edges[1, 2] + v * edges[2, 2]
        m = normal_rotation[e]
        sx = m[0, 0] * lx + m[0, 1] * ly + m[0, 2] * lz
        sy = m[1, 0] * lx + m[1, 1] * ly + m[1, 2] * lz
        sz = m[2, 0] * lx + m[2, 1] * ly + m[2, 2] * lz
        length = math.sqrt(sx * sx + sy * sy + sz * sz)
        if length > 0:
            sx, sy, sz = sx / length, sy / length, sz / length
        if sx * gx + sy * gy + sz * gz < 0:
            sx, sy, sz = -sx, -sy, -sz
        hit_distance = ray_distance[pixel]
        lift = np.float32(offset) * (np.float32(1.0) + hit_distance)
        ox, oy, oz = wx + gx * lift, wy + gy * lift, wz + gz * lift
        row = pixel // width
        index = (pixel - row * width) % 2 + 2 * (row % 2)
        for k in range(kinds):
            rays[k, i, 0], rays[k, i, 1], rays[k, i, 2] = ox, oy, oz
            mode = kind_mode[k]
            if mode == RAY_AMBIENT:  # Duff et al. 2017 tangent frame of the geometric normal
                sign = np.float32(1.0) if gz >= 0 else np.float32(-1.0)
                a = np.float32(-1.0) / (sign + gz)
                b = gx * gy * a
                t0, t1, t2 = np.float32(1.0) + sign * gx * gx * a, sign * b, -sign * gx
                b0, b1, b2 = b, sign + gy * gy * a, -gy
                s = ambient_local[index]
                rays[k, i, 3] = t0 * s[0] + b0 * s[1] + gx * s[2]
                rays[k, i, 4] = t1 * s[0] + b1 * s[1] + gy * s[2]
                rays[k, i, 5] = t2 * s[0] + b2 * s[1] + gz * s[2]
            elif mode != RAY_GIVEN:  # towards a sun sample or a point light
                if mode == RAY_TABLE:
                    sample = index if kind_samples[k] > 1 else 0
                    ax, ay, az = kind_table[k, sample, 0], kind_table[k, sample, 1], kind_table[k, sample, 2]
                else:
                    ax, ay, az = kind_vector[k, 0] - wx, kind_vector[k, 1] - wy, kind_vector[k, 2] - wz
                if gx * ax + gy * ay + gz * az <= 0:  # behind the surface: not seen, no query
                    ax, ay, az = np.float32(0.0), np.float32(0.0), np.float32(0.0)
                rays[k, i, 3], rays[k, i, 4], rays[k, i, 5] = ax, ay, az
        points[0, i], points[1, i], points[2, i] = wx, wy, wz
        pattern[i] = index
        geometric[0, i], geometric[1, i], geometric[2, i] = gx, gy, gz
        shading[0, i], shading[1, i], shading[2, i] = sx, sy, sz
        view[0, i], view[1, i], view[2, i] = vx, vy, vz
        distance[i] = hit_distance
        roughness[i] = roughness_image[pixel]


@_compiled
def fill_segments(rays, kind, segments):  # pragma: no cover - compiled
    """rays[kind, i, 3:] = segments[i] ((N, 3))."""
    for i in range(rays.shape[1]):
        for k in range(3):
            rays[kind, i, 3 + k] = segments[i, k]


@_compiled
def visible_fractions(blocked, rays, geometric, kinds):  # pragma: no cover - compiled
    """(len(kinds), N) float32: 1 where ray ``kinds[j]`` of a hit is unblocked and leaves on the
    geometric normal's (3, N) side (a light behind the surface is not seen), else 0.
    blocked (K * N,) bool in ``rays`` (K, N, 6) order."""
    count = rays.shape[1]
    out = np.empty((kinds.shape[0], count), dtype=np.float32)
    for j in range(kinds.shape[0]):
        k = kinds[j]
        for i in range(count):
            front = geometric[0, i] * rays[k, i, 3] + geometric[1, i] * rays[k, i, 4]
            front += geometric[2, i] * rays[k, i, 5]
            out[j, i] = np.float32(1.0) if (front > 0 and not blocked[k * count + i]) else np.float32(0.0)
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _highlight_view_part(cos_v, roughness):  # pragma: no cover - compiled
    """(alpha^2, G1(v) / (4 n.v)): what ``_highlight_factor`` needs of the view alone, once per
    hit (0 for n.v <= 0)."""
    alpha = max(roughness * roughness, MIN_ALPHA)
    alpha2 = alpha * alpha
    if cos_v <= 0:
        return alpha2, np.float32(0.0)
    return alpha2, _smith_g1(cos_v, alpha2) / (np.float32(4.0) * max(cos_v, np.float32(1e-4)))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _highlight_factor(cos_l, cos_v, view_dot_light, alpha2, view_part):  # pragma: no cover - compiled
    """GGX D G1 G1 / (4 n.v) with Fresnel 1 (``renderers.lighting.brdf.highlight_radiance_factor``);
    ``alpha2``, ``view_part``: ``_highlight_view_part`` of the hit."""
    if cos_l <= 0 or cos_v <= 0:
        return np.float32(0.0)
    cos_h = (cos_v + cos_l) / math.sqrt(max(np.float32(2.0) + np.float32(2.0) * view_dot_light, 1e-12))
    cos_h = min(max(cos_h, np.float32(0.0)), np.float32(1.0))
    denominator = (alpha2 - np.float32(1.0)) * cos_h * cos_h + np.float32(1.0)
    distribution = alpha2 / (np.float32(math.pi) * denominator * denominator)
    return distribution * _smith_g1(cos_l, alpha2) * view_part


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _smith_g1(cosine, alpha2):  # pragma: no cover - compiled
    cosine = min(max(cosine, np.float32(1e-6)), np.float32(1.0))
    cos2 = cosine * cosine
    return np.float32(2.0) / (np.float32(1.0) + math.sqrt(np.float32(1.0) + alpha2 * (1.0 - cos2) / cos2))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _atan2(y, x):  # pragma: no cover - compiled
    """float32 atan2(y, x) in (-pi, pi] from a degree-9 odd minimax polynomial of atan on [0, 1]:
    within 1.2e-5 rad (a 2048-texel-wide lat-long map's texel is 3e-3 rad); atan2(0, 0) = 0."""
    ax, ay = abs(x), abs(y)
    largest, smallest = max(ax, ay), min(ax, ay)
    a = smallest / largest if largest > 0 else np.float32(0.0)
    s = a * a
    r = a * (
        np.float32(0.9998660)
        + s
        * (
            np.float32(-0.3302995)
            + s * (np.float32(0.1801410) + s * (np.float32(-0.0851330) + s * np.float32(0.0208351)))
        )
    )
    if ay > ax:
        r = np.float32(0.5 * math.pi) - r
    if x < 0:
        r = np.float32(math.pi) - r
    return -r if y < 0 else r


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _bilinear(levels, start, rows, u, v):  # pragma: no cover - compiled
    """RGB bilinear sample at (u, v) of the (rows, 2 rows, 3) map stored from ``levels[start]``
    (``environment.bilinear_latlong``: texel centres at (i + 0.5) / W, u wraps, v clamps).

    ``np.floor`` and unsigned offsets (no integer round trip, no negative-index fix-ups): half
    the time of the same arithmetic through ``math.floor``, bit-identical."""
    columns = 2 * rows
    x = u * np.float32(columns) - np.float32(0.5)
    y = min(max(v * np.float32(rows) - np.float32(0.5), np.float32(0.0)), np.float32(rows - 1))
    x0f = np.floor(x)
    y0f = min(np.floor(y), np.float32(rows - 2)) if rows > 1 else np.float32(0.0)
    fx = np.float32(x - x0f)  # u may arrive as float64 (exact): the weights are float32
    fy = np.float32(y - y0f)
    x0 = np.int64(x0f)  # in [-1, columns]: wrap without an integer division
    x0 = x0 + columns if x0 < 0 else x0
    x0 = x0 - columns if x0 >= columns else x0
    x1 = x0 + 1 if x0 + 1 < columns else np.int64(0)
    y0 = np.int64(y0f)
    y1 = min(y0 + 1, rows - 1)
    a = np.uint64(start + 3 * (y0 * columns + x0))
    b = np.uint64(start + 3 * (y0 * columns + x1))
    c = np.uint64(start + 3 * (y1 * columns + x0))
    d = np.uint64(start + 3 * (y1 * columns + x1))
    one, two = np.uint64(1), np.uint64(2)
    keep_x, keep_y = np.float32(1.0) - fx, np.float32(1.0) - fy
    r = (levels[a] * keep_x + levels[b] * fx) * keep_y + (levels[c] * keep_x + levels[d] * fx) * fy
    g = (levels[a + one] * keep_x + levels[b + one] * fx) * keep_y
    g += (levels[c + one] * keep_x + levels[d + one] * fx) * fy
    bl = (levels[a + two] * keep_x + levels[b + two] * fx) * keep_y
    bl += (levels[c + two] * keep_x + levels[d + two] * fx) * fy
    return r, g, bl


@numba.njit(cache=True, nogil=True, inline="always")
def _agrees(neighbour, key, entity):  # pragma: no cover - compiled
    """A neighbour's key does not break uniformity: the same bits, or another entity (background's
    key -1 shifts to entity -1)."""
    return (neighbour == key) | ((neighbour >> np.int64(32)) != entity)


FILTER_KEY_BITS = 32
"""``uniform_neighbourhoods`` packs at most this many filtered kinds' visibility into a pixel's key."""


@_compiled
def uniform_neighbourhoods(raw, filtered, hit_pixels, column, height, width):  # pragma: no cover
    """(H * W,) bool: True at a hit's pixel when every hit in the 3 x 3 pixels around it that
    shows its entity has its raw value (``raw`` (K, N): 0 or 1) in every filtered kind
    (``filtered`` (K,) bool): the neighbour filter's tests (tangent plane, normals) cannot
    change its average there.

    Each pixel gets one int64 key, entity column << 32 | the bits of its filtered kinds (-1 on
    background), and the 3 x 3 test runs over rows of keys without branches (the compiler
    vectorises it), instead of nine gathers per hit. With more than ``FILTER_KEY_BITS`` filtered
    kinds no pixel is called uniform (``shade`` then filters every hit: slower, same result)."""
    count = hit_pixels.shape[0]
    uniform = np.zeros(height * width, dtype=np.bool_)
    filtered_count = 0
    for k in range(filtered.shape[0]):
        filtered_count += 1 if filtered[k] else 0
    if filtered_count > FILTER_KEY_BITS:
        return uniform
    keys = np.full((height + 2, width + 2), -1, dtype=np.int64)
    for i in range(count):
        bits = 0
        bit = 0
        for k in range(raw.shape[0]):
            if filtered[k]:
                if raw[k, i] > 0:
                    bits |= 1 << bit
                bit += 1
        pixel = hit_pixels[i]
        row = pixel // width
        keys[row + 1, pixel - row * width + 1] = (np.int64(column[i]) << 32) | bits
    shift = np.int64(32)
    for y in range(height):
        above, here, below = keys[y], keys[y + 1], keys[y + 2]
        for x in range(width):
            key = here[x + 1]
            entity = key >> shift
            uniform[y * width + x] = (
                _agrees(above[x], key, entity) & _agrees(above[x + 1], key, entity)
                & _agrees(above[x + 2], key, entity) & _agrees(here[x], key, entity)
                & _agrees(here[x + 2], key, entity) & _agrees(below[x], key, entity)
                & _agrees(below[x + 1], key, entity) & _agrees(below[x + 2], key, entity)
            )  # fmt: skip
    return uniform


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _sh_irradiance(convolved, x, y, z):  # pragma: no cover - compiled
    """RGB of the order-2 SH irradiance ``convolved`` (9, 3) (coefficients x A_l) at the unit
    normal (x, y, z), float32, summed term by term in order k = 0 .. 8."""
    basis0 = np.float32(0.282094791773878)
    basis1 = np.float32(0.488602511902920) * y
    basis2 = np.float32(0.488602511902920) * z
    basis3 = np.float32(0.488602511902920) * x
    basis4 = np.float32(1.092548430592079) * x * y
    basis5 = np.float32(1.092548430592079) * y * z
    basis6 = np.float32(0.315391565252520) * (np.float32(3.0) * z * z - np.float32(1.0))
    basis7 = np.float32(1.092548430592079) * x * z
    basis8 = np.float32(0.546274215296040) * (x * x - y * y)
    basis = (basis0, basis1, basis2, basis3, basis4, basis5, basis6, basis7, basis8)
    s0, s1, s2 = np.float32(0.0), np.float32(0.0), np.float32(0.0)
    for term in range(9):
        s0 += basis[term] * convolved[term, 0]
        s1 += basis[term] * convolved[term, 1]
        s2 += basis[term] * convolved[term, 2]
    return s0, s1, s2


# Rows of ``_shade_part``'s per-hit table (float32): world point, geometric normal, shading
# normal, view vector (3 rows each), then the shading normal's cosine with the view, GGX alpha^2,
# roughness and the ambient visibility.
SURFACE_POINT, SURFACE_GEOMETRIC, SURFACE_SHADING, SURFACE_VIEW = 0, 3, 6, 9
SURFACE_COS_VIEW, SURFACE_ALPHA2, SURFACE_ROUGHNESS, SURFACE_AMBIENT = 12, 13, 14, 15
SURFACE_ROWS = 16

# Kinds of direct shading term (``shade``'s term_mode).
TERM_FIXED = 0
"""The same direction ``term_vector[t]`` and irradiance ``term_rgb[t]`` for every hit (a sun)."""
TERM_POINT = 1
"""A point light at ``term_vector[t]`` of intensity ``term_rgb[t]``: I / r^2 per hit."""
TERM_PER_HIT = 2
"""Per-hit direction and irradiance ``hit_to_light[term_row[t]]``, ``hit_arriving[...]`` (an area
light's strata)."""


def shade(
    raw, filtered, uniform, hit_index, hit_pixels, column, points, geometric, shading, view, distance,
    roughness, plane_tolerance, term_kind, term_mode, term_vector, term_rgb, term_row, hit_to_light,
    hit_arriving, ambient_kind, env_convolved, env_levels, env_level_start, env_level_rows,
    env_level_roughness, env_level_count, env_rotation, want_irradiance, want_specular, fractions,
    shadow, irradiance, specular,
):  # fmt: skip
    """Every lighting map of a frame, written at each hit's pixel; points, geometric and
    shading normals, view vectors (3, N) float32 (``frame_rays``), distance, roughness (N,).

    raw (K, N) float32: each ray kind's visibility (``visible_fractions``); the kinds with
    ``filtered[k]`` (4 samples interleaved over 2 x 2 pixels), at hits whose pixel is not
    ``uniform`` (``uniform_neighbourhoods``, (H * W,) bool), go through a 3 x 3 tent filter
    (weights (2 - |dy|)(2 - |dx|)) over neighbouring pixels that show the same entity, lie within
    ``plane_tolerance (1 + distance)`` metres of the hit's tangent plane (geometric normal) and
    whose normal is within ~37 degrees (cosine > 0.8); the tent gives each sample of the pattern
    the same total weight. The result goes to ``fractions`` (K, N) and its first L rows (the
    direct lights) to ``shadow`` (H * W, L).
    Irradiance (W/m^2) and specular (W/m^2/sr) go to (H * W, 3) ``irradiance``, ``specular``:
    direct terms t (``TERM_*``, visibility of kind ``term_kind[t]``): receiver cosine x
    visibility x irradiance, and the GGX highlight (Fresnel 1) at the hit's roughness; then each
    environment e: its SH irradiance at the shading normal (``env_convolved[e]`` (9, 3): the
    coefficients x A_l, clamped at 0) and its prefiltered radiance along the reflected view ray x
    the split-sum (A + B), both x the ambient visibility (kind ``ambient_kind``; -1: no
    environment). Environment e's levels: ``env_level_count[e]`` lat-long maps stored flat in
    ``env_levels`` from ``env_level_start[e, j]``, ``env_level_rows[e, j]`` rows each, for
    ``env_level_roughness[e, j]`` ascending; ``env_rotation[e]`` radians about world Z.
    hit_index (H, W) int64: -1 on background. Arithmetic is float32 throughout.
    """
    arguments = (
        raw, filtered, uniform, hit_index, hit_pixels, column, points, geometric, shading, view,
        distance, roughness, np.float32(plane_tolerance), term_kind, term_mode, term_vector, term_rgb,
        term_row, hit_to_light, hit_arriving, ambient_kind, env_convolved, env_levels,
        env_level_start, env_level_rows, env_level_roughness, env_level_count, env_rotation,
        want_irradiance, want_specular, fractions, shadow, irradiance, specular,
    )  # fmt: skip
    split(_shade_part, arguments, len(hit_pixels), "hits")


@_compiled
def _shade_part(  # pragma: no cover - compiled
    raw, filtered, uniform, hit_index, hit_pixels, column, points, geometric, shading, view, distance,
    roughness, plane_tolerance, term_kind, term_mode, term_vector, term_rgb, term_row, hit_to_light,
    hit_arriving, ambient_kind, env_convolved, env_levels, env_level_start, env_level_rows,
    env_level_roughness, env_level_count, env_rotation, want_irradiance, want_specular, fractions,
    shadow, irradiance, specular, first, stop,
):  # fmt: skip
    """``shade`` of hits ``first`` .. ``stop``: the filter hit by hit, then each light and
    environment as one loop over the hits on (3, N) rows (vector instructions), accumulating in
    the same order as a loop over lights per hit (the same float32 sums)."""
    _filter_part(
        raw, filtered, uniform, hit_index, hit_pixels, column, points, geometric, distance,
        plane_tolerance, fractions, first, stop,
    )  # fmt: skip
    pixels = hit_pixels[first:stop]
    count = stop - first
    for k in range(shadow.shape[1]):
        visible = fractions[k, first:stop]
        for i in range(count):
            shadow[pixels[i], k] = visible[i]
    if not want_irradiance:
        return
    # One C-contiguous table of this part's hits (``SURFACE_*`` rows): unit strides and a single
    # array to check for overlap with the sums, so the loops over hits compile to vector code.
    surface = np.empty((SURFACE_ROWS, count), dtype=np.float32)
    for axis in range(3):
        surface[SURFACE_POINT + axis] = points[axis, first:stop]
        surface[SURFACE_GEOMETRIC + axis] = geometric[axis, first:stop]
        surface[SURFACE_SHADING + axis] = shading[axis, first:stop]
        surface[SURFACE_VIEW + axis] = view[axis, first:stop]
    surface[SURFACE_ROUGHNESS] = roughness[first:stop]
    if ambient_kind >= 0:
        surface[SURFACE_AMBIENT] = fractions[ambient_kind, first:stop]
    view_part = np.empty(count, dtype=np.float64)  # float64 as _smith_g1 returns it
    for i in range(count):
        cos_v = (
            surface[SURFACE_SHADING, i] * surface[SURFACE_VIEW, i]
            + surface[SURFACE_SHADING + 1, i] * surface[SURFACE_VIEW + 1, i]
            + surface[SURFACE_SHADING + 2, i] * surface[SURFACE_VIEW + 2, i]
        )
        surface[SURFACE_COS_VIEW, i] = cos_v
        surface[SURFACE_ALPHA2, i], view_part[i] = _highlight_view_part(cos_v, surface[SURFACE_ROUGHNESS, i])
    sums = np.zeros((6, count), dtype=np.float32)  # irradiance RGB, specular RGB
    for t in range(term_kind.shape[0]):
        _direct_term(
            t, term_mode[t], fractions[term_kind[t], first:stop], surface, view_part, term_vector,
            term_rgb, hit_to_light[term_row[t]], hit_arriving[term_row[t]], first, want_specular,
            sums,
        )  # fmt: skip
    if ambient_kind >= 0 and env_convolved.shape[0] > 0:
        for e in range(env_convolved.shape[0]):
            _environment_irradiance(env_convolved[e], surface, sums)
        if want_specular:
            _environment_specular(
                surface, env_levels, env_level_start, env_level_rows, env_level_roughness,
                env_level_count, env_rotation, sums,
            )  # fmt: skip
    for i in range(count):
        pixel = pixels[i]
        irradiance[pixel, 0], irradiance[pixel, 1], irradiance[pixel, 2] = sums[0, i], sums[1, i], sums[2, i]
    if want_specular:
        for i in range(count):
            pixel = pixels[i]
            specular[pixel, 0], specular[pixel, 1], specular[pixel, 2] = sums[3, i], sums[4, i], sums[5, i]


@_compiled
def _filter_part(  # pragma: no cover - compiled
    raw, filtered, uniform, hit_index, hit_pixels, column, points, geometric, distance,
    plane_tolerance, fractions, first, stop,
):  # fmt: skip
    """``fractions[:, first:stop]``: ``raw``, through the neighbour filter where not uniform."""
    height, width = hit_index.shape
    kinds = raw.shape[0]
    any_filtered = False
    for k in range(kinds):
        any_filtered = any_filtered or filtered[k]
    for k in range(kinds):
        fractions[k, first:stop] = raw[k, first:stop]
    if not any_filtered:
        return
    for i in range(first, stop):
        pixel = hit_pixels[i]
        # Where every neighbour that could count agrees, the tent's average is that value (raw
        # values are 0 or 1, and t * fl(1 / t) rounds to 1 for every weight total t in 4 ... 16).
        if uniform[pixel]:
            continue
        row = pixel // width
        col = pixel - row * width
        nx, ny, nz = geometric[0, i], geometric[1, i], geometric[2, i]
        px, py, pz = points[0, i], points[1, i], points[2, i]
        entity = column[i]
        limit = np.float32(plane_tolerance) * (np.float32(1.0) + distance[i])
        total = np.float32(0.0)
        for k in range(kinds):
            if filtered[k]:
                fractions[k, i] = np.float32(0.0)
        for dy in range(-1, 2):
            y = row + dy
            if y < 0 or y >= height:
                continue
            for dx in range(-1, 2):
                x = col + dx
                if x < 0 or x >= width:
                    continue
                j = hit_index[y, x]
                if j < 0 or column[j] != entity:
                    continue
                plane = (points[0, j] - px) * nx + (points[1, j] - py) * ny + (points[2, j] - pz) * nz
                aligned = geometric[0, j] * nx + geometric[1, j] * ny + geometric[2, j] * nz
                if abs(plane) > limit or aligned <= 0.8:
                    continue
                weight = np.float32((2 - abs(dy)) * (2 - abs(dx)))
                total += weight
                for k in range(kinds):
                    if filtered[k]:
                        fractions[k, i] += weight * raw[k, j]
        scale = np.float32(1.0) / max(total, np.float32(1e-12))
        for k in range(kinds):
            if filtered[k]:
                fractions[k, i] *= scale


@_compiled
def _direct_term(  # pragma: no cover - compiled
    t, mode, visible, surface, view_part, term_vector, term_rgb, to_light, arriving, first,
    want_specular, sums,
):  # fmt: skip
    """Add direct term ``t`` (``TERM_*`` ``mode``) to ``sums`` (6, n) for the n hits of
    ``surface`` (``SURFACE_*`` rows; ``view_part`` (n,) float64): receiver cosine x visibility x
    irradiance, and the highlight, where the light is seen (visible > 0, in front of the
    geometric normal and of the shading normal), else nothing. One loop per mode (a loop with
    the modes' branches inside does not compile to vector code)."""
    if mode == TERM_FIXED:
        lx, ly, lz = term_vector[t, 0], term_vector[t, 1], term_vector[t, 2]
        e0, e1, e2 = term_rgb[t, 0], term_rgb[t, 1], term_rgb[t, 2]
        for i in range(visible.shape[0]):
            _add_term(surface, view_part, i, visible[i], lx, ly, lz, e0, e1, e2, want_specular, sums)
    elif mode == TERM_POINT:
        for i in range(visible.shape[0]):
            lx = term_vector[t, 0] - surface[SURFACE_POINT, i]
            ly = term_vector[t, 1] - surface[SURFACE_POINT + 1, i]
            lz = term_vector[t, 2] - surface[SURFACE_POINT + 2, i]
            distance2 = max(lx * lx + ly * ly + lz * lz, np.float32(1e-12))
            inverse = np.float32(1.0) / math.sqrt(distance2)
            e0 = term_rgb[t, 0] / distance2
            e1 = term_rgb[t, 1] / distance2
            e2 = term_rgb[t, 2] / distance2
            _add_term(
                surface, view_part, i, visible[i], lx * inverse, ly * inverse, lz * inverse, e0, e1, e2,
                want_specular, sums,
            )  # fmt: skip
    else:
        for i in range(visible.shape[0]):
            hit = first + i
            _add_term(
                surface, view_part, i, visible[i], to_light[hit, 0], to_light[hit, 1], to_light[hit, 2],
                arriving[hit, 0], arriving[hit, 1], arriving[hit, 2], want_specular, sums,
            )  # fmt: skip


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _add_term(surface, view_part, i, f, lx, ly, lz, e0, e1, e2, want_specular, sums):  # pragma: no cover
    """One direct term at hit ``i``: light direction (lx, ly, lz), irradiance (e0, e1, e2),
    visibility ``f``; selects instead of branches (what is not seen adds nothing)."""
    cos_l = (
        surface[SURFACE_SHADING, i] * lx
        + surface[SURFACE_SHADING + 1, i] * ly
        + surface[SURFACE_SHADING + 2, i] * lz
    )
    front = (
        surface[SURFACE_GEOMETRIC, i] * lx
        + surface[SURFACE_GEOMETRIC + 1, i] * ly
        + surface[SURFACE_GEOMETRIC + 2, i] * lz
    )
    seen = (f > 0) & (front > 0) & (cos_l > 0)
    weight = cos_l * f
    # Rounded to float32 at every step, as the maps' float32 buffers always were.
    sums[0, i] = np.float32(sums[0, i] + e0 * weight) if seen else sums[0, i]
    sums[1, i] = np.float32(sums[1, i] + e1 * weight) if seen else sums[1, i]
    sums[2, i] = np.float32(sums[2, i] + e2 * weight) if seen else sums[2, i]
    if want_specular:
        view_dot_light = (
            surface[SURFACE_VIEW, i] * lx
            + surface[SURFACE_VIEW + 1, i] * ly
            + surface[SURFACE_VIEW + 2, i] * lz
        )
        cos_v, alpha2 = surface[SURFACE_COS_VIEW, i], surface[SURFACE_ALPHA2, i]
        factor = _highlight_factor(cos_l, cos_v, view_dot_light, alpha2, view_part[i]) * f
        sums[3, i] = np.float32(sums[3, i] + e0 * factor) if seen else sums[3, i]
        sums[4, i] = np.float32(sums[4, i] + e1 * factor) if seen else sums[4, i]
        sums[5, i] = np.float32(sums[5, i] + e2 * factor) if seen else sums[5, i]


@_compiled
def _environment_irradiance(convolved, surface, sums):  # pragma: no cover - compiled
    """Add an environment's SH irradiance (``convolved`` (9, 3), clamped at 0) at the shading
    normals of ``surface``'s n hits x their ambient visibility to ``sums[:3]``."""
    for i in range(surface.shape[1]):
        s0, s1, s2 = _sh_irradiance(
            convolved,
            surface[SURFACE_SHADING, i],
            surface[SURFACE_SHADING + 1, i],
            surface[SURFACE_SHADING + 2, i],
        )
        ambient = surface[SURFACE_AMBIENT, i]
        sums[0, i] = np.float32(sums[0, i] + max(s0, np.float32(0.0)) * ambient)
        sums[1, i] = np.float32(sums[1, i] + max(s1, np.float32(0.0)) * ambient)
        sums[2, i] = np.float32(sums[2, i] + max(s2, np.float32(0.0)) * ambient)


@_compiled
def _environment_specular(  # pragma: no cover - compiled
    surface, env_levels, env_level_start, env_level_rows, env_level_roughness, env_level_count,
    env_rotation, sums,
):  # fmt: skip
    """Add every environment's prefiltered radiance along the reflected view rays x the
    split-sum (A + B) x the ambient visibility to ``sums[3:]`` (the n hits of ``surface``)."""
    count = surface.shape[1]
    scale_bias = np.empty(count, dtype=np.float32)
    azimuth = np.empty(count, dtype=np.float32)
    v = np.empty(count, dtype=np.float32)
    clamped = np.empty(count, dtype=np.float32)
    for i in range(count):
        cos_view = min(max(surface[SURFACE_COS_VIEW, i], np.float32(0.0)), np.float32(1.0))
        rx = np.float32(2.0) * cos_view * surface[SURFACE_SHADING, i] - surface[SURFACE_VIEW, i]
        ry = np.float32(2.0) * cos_view * surface[SURFACE_SHADING + 1, i] - surface[SURFACE_VIEW + 1, i]
        rz = np.float32(2.0) * cos_view * surface[SURFACE_SHADING + 2, i] - surface[SURFACE_VIEW + 2, i]
        r = min(max(surface[SURFACE_ROUGHNESS, i], np.float32(0.0)), np.float32(1.0))
        # Split-sum scale and bias (Karis 2014 fit, ``brdf.split_sum_scale_bias``), float32.
        c0 = np.float32(1.0) - r
        c1 = np.float32(-0.0275) * r + np.float32(0.0425)
        c2 = np.float32(-0.572) * r + np.float32(1.04)
        c3 = np.float32(0.022) * r - np.float32(0.04)
        a004 = min(c0 * c0, math.exp(np.float32(-9.28 * math.log(2.0)) * cos_view)) * c0 + c1
        scale_bias[i] = (a004 * np.float32(-1.04) + c2) + (a004 * np.float32(1.04) + c3)
        azimuth[i] = _atan2(ry, rx)
        v[i] = np.float32(0.5) - _atan2(rz, math.sqrt(rx * rx + ry * ry)) * np.float32(1.0 / math.pi)
        clamped[i] = r
    u = np.empty(count, dtype=np.float64)  # float64 as ``u - math.floor(u)`` gives it
    lower = np.empty(count, dtype=np.int64)
    blend = np.empty(count, dtype=np.float32)
    for e in range(env_level_count.shape[0]):
        top_level = env_level_count[e] - 1
        rotation = np.float32(env_rotation[e])
        level_roughness = env_level_roughness[e]
        for i in range(count):  # vector code: coordinates and the two levels around r
            # Lat-long coordinates (``worldsim.camera.conventions.direction_to_equirect``).
            phi = azimuth[i] - rotation
            wrapped = np.float32(0.5) - phi * np.float32(0.5 / math.pi)
            u[i] = wrapped - math.floor(wrapped)
            r = clamped[i]
            upper = 1  # the first level above r, at most the top one (levels ascend)
            for level in range(1, top_level):
                upper += 1 if level_roughness[level] <= r else 0
            lower[i] = upper - 1
            blend[i] = (r - level_roughness[upper - 1]) / (
                level_roughness[upper] - level_roughness[upper - 1]
            )
        for i in range(count):  # the look-ups
            below, fraction = lower[i], blend[i]
            r0, g0, b0 = np.float32(0.0), np.float32(0.0), np.float32(0.0)
            if fraction < 1:
                r0, g0, b0 = _bilinear(
                    env_levels, env_level_start[e, below], env_level_rows[e, below], u[i], v[i]
                )
                keep = np.float32(1.0) - fraction
                r0, g0, b0 = r0 * keep, g0 * keep, b0 * keep
            if fraction > 0:
                r1, g1, b1 = _bilinear(
                    env_levels, env_level_start[e, below + 1], env_level_rows[e, below + 1], u[i], v[i]
                )
                r0, g0, b0 = r0 + r1 * fraction, g0 + g1 * fraction, b0 + b1 * fraction
            weight = scale_bias[i] * surface[SURFACE_AMBIENT, i]
            sums[3, i] = np.float32(sums[3, i] + r0 * weight)
            sums[4, i] = np.float32(sums[4, i] + g0 * weight)
            sums[5, i] = np.float32(sums[5, i] + b0 * weight)
