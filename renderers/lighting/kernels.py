"""Compiled per-hit loops of the lighting maps (numba; compiled once, cached on disk).

A frame takes two passes over its hits around one Embree query: ``frame_rays`` (surface frames
and every shadow / occlusion ray) and ``shade`` (the neighbour filter, every direct light and
environment, written straight into the maps), plus ``visible_fractions`` between them; the numpy
formulation took dozens of whole-array passes with temporaries. Arithmetic is float32 like the
rays Embree takes, except where noted. Conventions: N hits; E entity columns; H x W image,
pixels flat ``row * W + col``; rays (K, N, 6) float32: K kinds of ray, each hit's origin (3) and
segment (3).
"""

from __future__ import annotations

import math

import numba
import numpy as np

# error_model="numpy": a float division by zero gives inf/nan like numpy instead of raising.
# parallel=True: the per-hit loops (``prange``) run on numba's threads (NUMBA_NUM_THREADS); on the
# shared 2-core development machine 1 and 2 threads measured the same (the second core was busy).
# The kernels release the GIL, so a renderer's worker threads can also run them side by side.
_compiled = numba.njit(cache=True, nogil=True, parallel=True, error_model="numpy")
# The ray set-up loops do too little per hit to pay for waking threads (on a loaded machine a
# parallel region waits for its slowest thread: 2-3 ms against 0.05 ms serial, measured).
_serial = numba.njit(cache=True, nogil=True, error_model="numpy")

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


@_compiled
def frame_rays(  # pragma: no cover - compiled
    object_point, column, rotation, translation, normal_rotation, rays_camera, hit_pixels,
    cam_rotation, normal_camera, normal_edges, face, barycentric, ray_distance, roughness_image,
    offset, width, kind_mode, kind_samples, kind_table, kind_vector, ambient_local, rays,
):  # fmt: skip
    """Per hit: world point, geometric and shading normal, view vector (N, 3) float32 each, the
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
    count = object_point.shape[0]
    kinds = rays.shape[0]
    points = np.empty((count, 3), dtype=np.float32)
    pattern = np.empty(count, dtype=np.int64)
    geometric = np.empty((count, 3), dtype=np.float32)
    shading = np.empty((count, 3), dtype=np.float32)
    view = np.empty((count, 3), dtype=np.float32)
    distance = np.empty(count, dtype=np.float32)
    roughness = np.empty(count, dtype=np.float32)
    c = cam_rotation
    for i in numba.prange(count):
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
        points[i, 0], points[i, 1], points[i, 2] = wx, wy, wz
        pattern[i] = index
        geometric[i, 0], geometric[i, 1], geometric[i, 2] = gx, gy, gz
        shading[i, 0], shading[i, 1], shading[i, 2] = sx, sy, sz
        view[i, 0], view[i, 1], view[i, 2] = vx, vy, vz
        distance[i] = hit_distance
        roughness[i] = roughness_image[pixel]
    return points, geometric, shading, view, pattern, distance, roughness


@_serial
def fill_segments(rays, kind, segments):  # pragma: no cover - compiled
    """rays[kind, i, 3:] = segments[i] ((N, 3))."""
    for i in numba.prange(rays.shape[1]):
        for k in range(3):
            rays[kind, i, 3 + k] = segments[i, k]


@_serial
def visible_fractions(blocked, rays, geometric, kinds):  # pragma: no cover - compiled
    """(N, len(kinds)) float32: 1 where ray ``kinds[j]`` of a hit is unblocked and leaves on the
    geometric normal's side (a light behind the surface is not seen), else 0.
    blocked (K * N,) bool in ``rays`` (K, N, 6) order."""
    count = rays.shape[1]
    out = np.empty((count, kinds.shape[0]), dtype=np.float32)
    for i in numba.prange(count):
        for j in range(kinds.shape[0]):
            k = kinds[j]
            front = geometric[i, 0] * rays[k, i, 3] + geometric[i, 1] * rays[k, i, 4]
            front += geometric[i, 2] * rays[k, i, 5]
            out[i, j] = np.float32(1.0) if (front > 0 and not blocked[k * count + i]) else np.float32(0.0)
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
    (``environment.bilinear_latlong``: texel centres at (i + 0.5) / W, u wraps, v clamps)."""
    columns = 2 * rows
    x = u * np.float32(columns) - np.float32(0.5)
    y = min(max(v * np.float32(rows) - np.float32(0.5), np.float32(0.0)), np.float32(rows - 1))
    x0f = math.floor(x)
    y0f = min(math.floor(y), rows - 2) if rows > 1 else 0
    fx = np.float32(x - x0f)
    fy = np.float32(y - y0f)
    x0 = int(x0f)  # in [-1, columns]: wrap without an integer division
    if x0 < 0:
        x0 += columns
    elif x0 >= columns:
        x0 -= columns
    x1 = x0 + 1 if x0 + 1 < columns else 0
    y0 = int(y0f)
    y1 = min(y0 + 1, rows - 1)
    a = start + 3 * (y0 * columns + x0)
    b = start + 3 * (y0 * columns + x1)
    c = start + 3 * (y1 * columns + x0)
    d = start + 3 * (y1 * columns + x1)
    one = np.float32(1.0)
    r = (levels[a] * (one - fx) + levels[b] * fx) * (one - fy) + (
        levels[c] * (one - fx) + levels[d] * fx
    ) * fy
    g = (levels[a + 1] * (one - fx) + levels[b + 1] * fx) * (one - fy)
    g += (levels[c + 1] * (one - fx) + levels[d + 1] * fx) * fy
    bl = (levels[a + 2] * (one - fx) + levels[b + 2] * fx) * (one - fy)
    bl += (levels[c + 2] * (one - fx) + levels[d + 2] * fx) * fy
    return r, g, bl


@numba.njit(cache=True, nogil=True, inline="always")
def _agrees(neighbour, key, entity):  # pragma: no cover - compiled
    """A neighbour's key does not break uniformity: the same bits, or another entity (background's
    key -1 shifts to entity -1)."""
    return (neighbour == key) | ((neighbour >> np.int64(32)) != entity)


FILTER_KEY_BITS = 32
"""``uniform_neighbourhoods`` packs at most this many filtered kinds' visibility into a pixel's key."""


@_serial
def uniform_neighbourhoods(raw, filtered, hit_pixels, column, height, width):  # pragma: no cover
    """(H * W,) bool: True at a hit's pixel when every hit in the 3 x 3 pixels around it that
    shows its entity has its raw value (0 or 1) in every filtered kind (``filtered`` (K,) bool):
    the neighbour filter's tests (tangent plane, normals) cannot change its average there.

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
        for k in range(raw.shape[1]):
            if filtered[k]:
                if raw[i, k] > 0:
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


# Kinds of direct shading term (``shade``'s term_mode).
TERM_FIXED = 0
"""The same direction ``term_vector[t]`` and irradiance ``term_rgb[t]`` for every hit (a sun)."""
TERM_POINT = 1
"""A point light at ``term_vector[t]`` of intensity ``term_rgb[t]``: I / r^2 per hit."""
TERM_PER_HIT = 2
"""Per-hit direction and irradiance ``hit_to_light[term_row[t]]``, ``hit_arriving[...]`` (an area
light's strata)."""


@_compiled
def shade(
    raw, filtered, uniform, hit_index, hit_pixels, column, points, geometric, shading, view, distance,
    roughness, plane_tolerance, term_kind, term_mode, term_vector, term_rgb, term_row, hit_to_light,
    hit_arriving, ambient_kind, env_convolved, env_levels, env_level_start, env_level_rows,
    env_level_roughness, env_level_count, env_rotation, want_irradiance, want_specular, fractions,
    shadow, irradiance, specular,
):  # pragma: no cover - compiled  # fmt: skip
    """Every lighting map of a frame in one pass over the hits, written at each hit's pixel.

    raw (N, K) float32: each ray kind's visibility (``visible_fractions``); the kinds with
    ``filtered[k]`` (4 samples interleaved over 2 x 2 pixels), at hits whose pixel is not
    ``uniform`` (``uniform_neighbourhoods``, (H * W,) bool), go through a 3 x 3 tent filter
    (weights (2 - |dy|)(2 - |dx|)) over neighbouring pixels that show the same entity, lie within
    ``plane_tolerance (1 + distance)`` metres of the hit's tangent plane (geometric normal) and
    whose normal is within ~37 degrees (cosine > 0.8); the tent gives each sample of the pattern
    the same total weight. The result goes to ``fractions`` (N, K) and its first L columns (the
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
    height, width = hit_index.shape
    count = hit_pixels.shape[0]
    kinds = raw.shape[1]
    lights = shadow.shape[1]
    any_filtered = False
    for k in range(kinds):
        any_filtered = any_filtered or filtered[k]
    environments = env_convolved.shape[0] if ambient_kind >= 0 else 0
    for i in numba.prange(count):
        pixel = hit_pixels[i]
        for k in range(kinds):
            fractions[i, k] = raw[i, k]
        row = pixel // width
        col = pixel - row * width
        # Where every neighbour that could count agrees, the tent's average is that value (raw
        # values are 0 or 1, and t * fl(1 / t) rounds to 1 for every weight total t in 4 ... 16).
        if any_filtered and not uniform[pixel]:
            nx, ny, nz = geometric[i, 0], geometric[i, 1], geometric[i, 2]
            px, py, pz = points[i, 0], points[i, 1], points[i, 2]
            entity = column[i]
            limit = np.float32(plane_tolerance) * (np.float32(1.0) + distance[i])
            total = np.float32(0.0)
            for k in range(kinds):
                if filtered[k]:
                    fractions[i, k] = np.float32(0.0)
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
                    plane = (points[j, 0] - px) * nx + (points[j, 1] - py) * ny + (points[j, 2] - pz) * nz
                    aligned = geometric[j, 0] * nx + geometric[j, 1] * ny + geometric[j, 2] * nz
                    if abs(plane) > limit or aligned <= 0.8:
                        continue
                    weight = np.float32((2 - abs(dy)) * (2 - abs(dx)))
                    total += weight
                    for k in range(kinds):
                        if filtered[k]:
                            fractions[i, k] += weight * raw[j, k]
            scale = np.float32(1.0) / max(total, np.float32(1e-12))
            for k in range(kinds):
                if filtered[k]:
                    fractions[i, k] *= scale
        for k in range(lights):
            shadow[pixel, k] = fractions[i, k]
        if not want_irradiance:
            continue
        sx, sy, sz = shading[i, 0], shading[i, 1], shading[i, 2]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        cos_v = sx * vx + sy * vy + sz * vz
        alpha2, view_part = _highlight_view_part(cos_v, roughness[i])
        irr0, irr1, irr2 = np.float32(0.0), np.float32(0.0), np.float32(0.0)
        hl0, hl1, hl2 = np.float32(0.0), np.float32(0.0), np.float32(0.0)
        for t in range(term_kind.shape[0]):
            f = fractions[i, term_kind[t]]
            if f <= 0:
                continue
            mode = term_mode[t]
            if mode == TERM_POINT:
                lx = term_vector[t, 0] - points[i, 0]
                ly = term_vector[t, 1] - points[i, 1]
                lz = term_vector[t, 2] - points[i, 2]
                distance2 = max(lx * lx + ly * ly + lz * lz, np.float32(1e-12))
                inverse = np.float32(1.0) / math.sqrt(distance2)
                lx, ly, lz = lx * inverse, ly * inverse, lz * inverse
                e0 = term_rgb[t, 0] / distance2
                e1 = term_rgb[t, 1] / distance2
                e2 = term_rgb[t, 2] / distance2
            elif mode == TERM_FIXED:
                lx, ly, lz = term_vector[t, 0], term_vector[t, 1], term_vector[t, 2]
                e0, e1, e2 = term_rgb[t, 0], term_rgb[t, 1], term_rgb[t, 2]
            else:
                a = term_row[t]
                lx, ly, lz = hit_to_light[a, i, 0], hit_to_light[a, i, 1], hit_to_light[a, i, 2]
                e0, e1, e2 = hit_arriving[a, i, 0], hit_arriving[a, i, 1], hit_arriving[a, i, 2]
            if geometric[i, 0] * lx + geometric[i, 1] * ly + geometric[i, 2] * lz <= 0:
                continue
            cos_l = sx * lx + sy * ly + sz * lz
            if cos_l <= 0:
                continue
            weight = cos_l * f
            # Rounded to float32 at every step, as the maps' float32 buffers always were.
            irr0 = np.float32(irr0 + e0 * weight)
            irr1 = np.float32(irr1 + e1 * weight)
            irr2 = np.float32(irr2 + e2 * weight)
            if want_specular:
                view_dot_light = vx * lx + vy * ly + vz * lz
                factor = _highlight_factor(cos_l, cos_v, view_dot_light, alpha2, view_part) * f
                hl0 = np.float32(hl0 + e0 * factor)
                hl1 = np.float32(hl1 + e1 * factor)
                hl2 = np.float32(hl2 + e2 * factor)
        if environments > 0:
            ao = fractions[i, ambient_kind]
            basis = (
                np.float32(0.282094791773878),
                np.float32(0.488602511902920) * sy,
                np.float32(0.488602511902920) * sz,
                np.float32(0.488602511902920) * sx,
                np.float32(1.092548430592079) * sx * sy,
                np.float32(1.092548430592079) * sy * sz,
                np.float32(0.315391565252520) * (np.float32(3.0) * sz * sz - np.float32(1.0)),
                np.float32(1.092548430592079) * sx * sz,
                np.float32(0.546274215296040) * (sx * sx - sy * sy),
            )
            cos_view = min(max(cos_v, np.float32(0.0)), np.float32(1.0))
            rx = np.float32(2.0) * cos_view * sx - vx
            ry = np.float32(2.0) * cos_view * sy - vy
            rz = np.float32(2.0) * cos_view * sz - vz
            r = min(max(roughness[i], np.float32(0.0)), np.float32(1.0))
            # Split-sum scale and bias (Karis 2014 fit, ``brdf.split_sum_scale_bias``), float32.
            c0 = np.float32(1.0) - r
            c1 = np.float32(-0.0275) * r + np.float32(0.0425)
            c2 = np.float32(-0.572) * r + np.float32(1.04)
            c3 = np.float32(0.022) * r - np.float32(0.04)
            a004 = min(c0 * c0, math.exp(np.float32(-9.28 * math.log(2.0)) * cos_view)) * c0 + c1
            scale_bias = (a004 * np.float32(-1.04) + c2) + (a004 * np.float32(1.04) + c3)
            azimuth = _atan2(ry, rx)
            v = np.float32(0.5) - _atan2(rz, math.sqrt(rx * rx + ry * ry)) * np.float32(1.0 / math.pi)
            for e in range(environments):
                s0, s1, s2 = np.float32(0.0), np.float32(0.0), np.float32(0.0)
                for term in range(9):
                    s0 += basis[term] * env_convolved[e, term, 0]
                    s1 += basis[term] * env_convolved[e, term, 1]
                    s2 += basis[term] * env_convolved[e, term, 2]
                irr0 = np.float32(irr0 + max(s0, np.float32(0.0)) * ao)
                irr1 = np.float32(irr1 + max(s1, np.float32(0.0)) * ao)
                irr2 = np.float32(irr2 + max(s2, np.float32(0.0)) * ao)
                if not want_specular:
                    continue
                # Lat-long coordinates (``worldsim.camera.conventions.direction_to_equirect``).
                phi = azimuth - np.float32(env_rotation[e])
                u = np.float32(0.5) - phi * np.float32(0.5 / math.pi)
                u -= math.floor(u)
                top_level = env_level_count[e] - 1
                upper = 1
                while upper < top_level and env_level_roughness[e, upper] <= r:
                    upper += 1
                lower = upper - 1
                blend = np.float32(
                    (r - env_level_roughness[e, lower])
                    / (env_level_roughness[e, upper] - env_level_roughness[e, lower])
                )
                r0, g0, b0 = np.float32(0.0), np.float32(0.0), np.float32(0.0)
                if blend < 1:
                    r0, g0, b0 = _bilinear(
                        env_levels, env_level_start[e, lower], env_level_rows[e, lower], u, v
                    )
                    keep = np.float32(1.0) - blend
                    r0, g0, b0 = r0 * keep, g0 * keep, b0 * keep
                if blend > 0:
                    r1, g1, b1 = _bilinear(
                        env_levels, env_level_start[e, upper], env_level_rows[e, upper], u, v
                    )
                    r0, g0, b0 = r0 + r1 * blend, g0 + g1 * blend, b0 + b1 * blend
                weight = scale_bias * ao
                hl0 = np.float32(hl0 + r0 * weight)
                hl1 = np.float32(hl1 + g0 * weight)
                hl2 = np.float32(hl2 + b0 * weight)
        irradiance[pixel, 0], irradiance[pixel, 1], irradiance[pixel, 2] = irr0, irr1, irr2
        if want_specular:
            specular[pixel, 0], specular[pixel, 1], specular[pixel, 2] = hl0, hl1, hl2
