"""Compiled per-hit loops of the lighting maps (numba; compiled once, cached on disk).

Each kernel does in one parallel pass over the hits what the numpy formulation did in many
whole-array passes with temporaries (surface frames, shadow-ray set-up, the neighbour filter,
direct-light and environment shading). Arithmetic is float32 like the rays Embree takes, except
where noted. Conventions: N hits; E entity columns; H x W image, pixels flat ``row * W + col``;
rays (K, N, 6) float32: K kinds of ray, each hit's origin (3) and segment (3).
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


@_compiled
def surface_frames(  # pragma: no cover - compiled
    object_point, column, rotation, translation, normal_rotation, rays_camera, hit_pixels,
    cam_rotation, normal_camera, normal_edges, face, barycentric, distance, offset, width, rays,
):  # fmt: skip
    """World hit points, geometric and shading normals and view vectors (N, 3) float32 each, and
    each hit's interleaving pattern index (N,) int64 in [0, 4): (x % 2) + 2 (y % 2) of its pixel
    in an image ``width`` wide; writes the ray origins into ``rays[:, :, :3]`` (K, N, 6).

    object_point (N, 3) float32; column (N,) int32; rotation (E, 3, 3) and translation (E, 3)
    float32 object-to-world; normal_rotation (E, 3, 3) float32 inv(R)^T (normals to world);
    rays_camera (H * W, 3) float64 unit camera rays, gathered at hit_pixels (N,) int64;
    cam_rotation (3, 3) float32 camera-to-world; normal_camera (N, 3) float32 geometric normals;
    normal_edges (F, 3, 3) float32 path-tracer corner normal + edges per triangle, face (N,)
    int64, barycentric (N, 2) float32; distance (N,) float32 metres; offset float: the ray
    start's offset per metre of (1 + distance). The geometric normal faces the camera, the
    shading normal the geometric normal's side; origins lie ``offset (1 + distance)`` off the
    surface along the geometric normal.
    """
    count = object_point.shape[0]
    points = np.empty((count, 3), dtype=np.float32)
    pattern = np.empty(count, dtype=np.int64)
    geometric = np.empty((count, 3), dtype=np.float32)
    shading = np.empty((count, 3), dtype=np.float32)
    view = np.empty((count, 3), dtype=np.float32)
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
        lift = np.float32(offset) * (np.float32(1.0) + distance[i])
        points[i, 0], points[i, 1], points[i, 2] = wx, wy, wz
        ox, oy, oz = wx + gx * lift, wy + gy * lift, wz + gz * lift
        for k in range(rays.shape[0]):
            rays[k, i, 0], rays[k, i, 1], rays[k, i, 2] = ox, oy, oz
        row = pixel // width
        pattern[i] = (pixel - row * width) % 2 + 2 * (row % 2)
        geometric[i, 0], geometric[i, 1], geometric[i, 2] = gx, gy, gz
        shading[i, 0], shading[i, 1], shading[i, 2] = sx, sy, sz
        view[i, 0], view[i, 1], view[i, 2] = vx, vy, vz
    return points, geometric, shading, view, pattern


@_serial
def fill_table_segments(rays, kind, table, pattern):  # pragma: no cover - compiled
    """rays[kind, i, 3:] = table[pattern[i]] (table (S, 3) float32; S = 1: the same for all)."""
    several = 1 if table.shape[0] > 1 else 0
    for i in numba.prange(rays.shape[1]):
        row = pattern[i] * several
        rays[kind, i, 3], rays[kind, i, 4], rays[kind, i, 5] = table[row, 0], table[row, 1], table[row, 2]


@_serial
def fill_point_segments(rays, kind, points, position):  # pragma: no cover - compiled
    """rays[kind, i, 3:] = position (3,) - points[i]."""
    for i in numba.prange(rays.shape[1]):
        for k in range(3):
            rays[kind, i, 3 + k] = np.float32(position[k]) - points[i, k]


@_serial
def fill_segments(rays, kind, segments):  # pragma: no cover - compiled
    """rays[kind, i, 3:] = segments[i] ((N, 3))."""
    for i in numba.prange(rays.shape[1]):
        for k in range(3):
            rays[kind, i, 3 + k] = segments[i, k]


@_serial
def fill_ambient_segments(rays, kind, normals, pattern, local):  # pragma: no cover - compiled
    """rays[kind, i, 3:] = sample ``local[pattern[i]]`` (S, 3) (tangent, bitangent, normal
    coordinates, metres) in the tangent frame of unit ``normals[i]`` (Duff et al. 2017)."""
    for i in numba.prange(rays.shape[1]):
        x, y, z = normals[i, 0], normals[i, 1], normals[i, 2]
        sign = np.float32(1.0) if z >= 0 else np.float32(-1.0)
        a = np.float32(-1.0) / (sign + z)
        b = x * y * a
        t0, t1, t2 = np.float32(1.0) + sign * x * x * a, sign * b, -sign * x
        b0, b1, b2 = b, sign + y * y * a, -y
        s = local[pattern[i]]
        rays[kind, i, 3] = t0 * s[0] + b0 * s[1] + x * s[2]
        rays[kind, i, 4] = t1 * s[0] + b1 * s[1] + y * s[2]
        rays[kind, i, 5] = t2 * s[0] + b2 * s[1] + z * s[2]


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


@_compiled
def neighbour_average(values, hit_index, hit_pixels, column, points, normals, tolerance):  # pragma: no cover
    """(N, C) float32: per-hit ``values`` (N, C) through a 3 x 3 tent filter (weights
    (2 - |dy|)(2 - |dx|)) over neighbouring pixels that show the same entity, lie within
    ``tolerance[i]`` metres of hit i's tangent plane (unit ``normals`` (N, 3)) and whose normal
    is within ~37 degrees (cosine > 0.8). hit_index (H, W) int64: -1 on background. The tent
    gives each sample of a 2 x 2 interleaving pattern the same total weight."""
    height, width = hit_index.shape
    count = hit_pixels.shape[0]
    channels = values.shape[1]
    out = np.zeros_like(values)
    for i in numba.prange(count):
        row = hit_pixels[i] // width
        col = hit_pixels[i] - row * width
        nx, ny, nz = normals[i, 0], normals[i, 1], normals[i, 2]
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        entity = column[i]
        limit = tolerance[i]
        total = np.float32(0.0)
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
                aligned = normals[j, 0] * nx + normals[j, 1] * ny + normals[j, 2] * nz
                if abs(plane) > limit or aligned <= 0.8:
                    continue
                weight = np.float32((2 - abs(dy)) * (2 - abs(dx)))
                total += weight
                for k in range(channels):
                    out[i, k] += weight * values[j, k]
        scale = np.float32(1.0) / max(total, np.float32(1e-12))
        for k in range(channels):
            out[i, k] *= scale
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _highlight_factor(cos_l, cos_v, view_dot_light, roughness):  # pragma: no cover - compiled
    """GGX D G1 G1 / (4 n.v) with Fresnel 1 (``renderers.lighting.brdf.highlight_radiance_factor``)."""
    if cos_l <= 0 or cos_v <= 0:
        return np.float32(0.0)
    alpha = max(roughness * roughness, MIN_ALPHA)
    alpha2 = alpha * alpha
    cos_h = (cos_v + cos_l) / math.sqrt(max(np.float32(2.0) + np.float32(2.0) * view_dot_light, 1e-12))
    cos_h = min(max(cos_h, np.float32(0.0)), np.float32(1.0))
    denominator = (alpha2 - np.float32(1.0)) * cos_h * cos_h + np.float32(1.0)
    distribution = alpha2 / (np.float32(math.pi) * denominator * denominator)
    value = distribution * _smith_g1(cos_l, alpha2) * _smith_g1(cos_v, alpha2)
    return value / (np.float32(4.0) * max(cos_v, np.float32(1e-4)))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _smith_g1(cosine, alpha2):  # pragma: no cover - compiled
    cosine = min(max(cosine, np.float32(1e-6)), np.float32(1.0))
    cos2 = cosine * cosine
    return np.float32(2.0) / (np.float32(1.0) + math.sqrt(np.float32(1.0) + alpha2 * (1.0 - cos2) / cos2))


@_compiled
def add_direct_light(
    irradiance, highlight, shading, geometric, view, roughness, points, position, to_light, arriving,
    fraction, want_specular,
):  # pragma: no cover - compiled  # fmt: skip
    """Add one light's ``arriving`` irradiance (W/m^2 facing it) times the receiver cosine and
    ``fraction`` (N,) to ``irradiance`` (N, 3), and its GGX highlight to ``highlight`` (N, 3).

    A point light (``position`` (3,) finite): to_light and arriving from I / r^2 with I =
    ``arriving[0]``. Else to_light (M, 3) unit and arriving (M, 3), M = 1 (a sun) or N (per hit).
    """
    count = shading.shape[0]
    point_light = np.isfinite(position[0])
    stride = 1 if to_light.shape[0] > 1 else 0
    for i in numba.prange(count):
        f = fraction[i]
        if f <= 0:
            continue
        if point_light:
            lx = np.float32(position[0]) - points[i, 0]
            ly = np.float32(position[1]) - points[i, 1]
            lz = np.float32(position[2]) - points[i, 2]
            distance2 = max(lx * lx + ly * ly + lz * lz, np.float32(1e-12))
            inverse = np.float32(1.0) / math.sqrt(distance2)
            lx, ly, lz = lx * inverse, ly * inverse, lz * inverse
            e0 = arriving[0, 0] / distance2
            e1 = arriving[0, 1] / distance2
            e2 = arriving[0, 2] / distance2
        else:
            row = i * stride
            lx, ly, lz = to_light[row, 0], to_light[row, 1], to_light[row, 2]
            e0, e1, e2 = arriving[row, 0], arriving[row, 1], arriving[row, 2]
        if geometric[i, 0] * lx + geometric[i, 1] * ly + geometric[i, 2] * lz <= 0:
            continue
        cos_l = shading[i, 0] * lx + shading[i, 1] * ly + shading[i, 2] * lz
        if cos_l <= 0:
            continue
        weight = cos_l * f
        irradiance[i, 0] += e0 * weight
        irradiance[i, 1] += e1 * weight
        irradiance[i, 2] += e2 * weight
        if want_specular:
            cos_v = shading[i, 0] * view[i, 0] + shading[i, 1] * view[i, 1] + shading[i, 2] * view[i, 2]
            view_dot_light = view[i, 0] * lx + view[i, 1] * ly + view[i, 2] * lz
            factor = _highlight_factor(cos_l, cos_v, view_dot_light, roughness[i]) * f
            highlight[i, 0] += e0 * factor
            highlight[i, 1] += e1 * factor
            highlight[i, 2] += e2 * factor


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


@_compiled
def add_environment(
    irradiance, highlight, shading, view, roughness, occlusion, convolved, levels, level_start, level_rows,
    level_roughness, rotation_rad, want_specular,
):  # pragma: no cover - compiled  # fmt: skip
    """Add one environment: its SH irradiance at the shading normal x ``occlusion`` (N,) to
    ``irradiance`` (N, 3) (``convolved`` (9, 3) float32: coefficients x A_l, clamped at 0), and
    its prefiltered radiance along the reflected view ray x split-sum (A + B) x occlusion to
    ``highlight`` (N, 3). levels: the prefiltered lat-long maps flattened one after the other,
    level j from ``level_start[j]`` with ``level_rows[j]`` rows, for ``level_roughness`` (L,)
    ascending; rotation_rad: the map's turn about world Z."""
    count = shading.shape[0]
    top_level = level_roughness.shape[0] - 1
    rotation = np.float32(rotation_rad)
    for i in numba.prange(count):
        x, y, z = shading[i, 0], shading[i, 1], shading[i, 2]
        basis = (
            np.float32(0.282094791773878),
            np.float32(0.488602511902920) * y,
            np.float32(0.488602511902920) * z,
            np.float32(0.488602511902920) * x,
            np.float32(1.092548430592079) * x * y,
            np.float32(1.092548430592079) * y * z,
            np.float32(0.315391565252520) * (np.float32(3.0) * z * z - np.float32(1.0)),
            np.float32(1.092548430592079) * x * z,
            np.float32(0.546274215296040) * (x * x - y * y),
        )
        ao = occlusion[i]
        for k in range(3):
            value = np.float32(0.0)
            for term in range(9):
                value += basis[term] * convolved[term, k]
            irradiance[i, k] += max(value, np.float32(0.0)) * ao
        if not want_specular:
            continue
        cos_view = min(
            max(x * view[i, 0] + y * view[i, 1] + z * view[i, 2], np.float32(0.0)), np.float32(1.0)
        )
        rx = np.float32(2.0) * cos_view * x - view[i, 0]
        ry = np.float32(2.0) * cos_view * y - view[i, 1]
        rz = np.float32(2.0) * cos_view * z - view[i, 2]
        r = min(max(roughness[i], np.float32(0.0)), np.float32(1.0))
        # Split-sum scale and bias (Karis 2014 fit, ``brdf.split_sum_scale_bias``), float32.
        c0 = np.float32(1.0) - r
        c1 = np.float32(-0.0275) * r + np.float32(0.0425)
        c2 = np.float32(-0.572) * r + np.float32(1.04)
        c3 = np.float32(0.022) * r - np.float32(0.04)
        a004 = min(c0 * c0, math.exp(np.float32(-9.28 * math.log(2.0)) * cos_view)) * c0 + c1
        scale_bias = (a004 * np.float32(-1.04) + c2) + (a004 * np.float32(1.04) + c3)
        # Lat-long coordinates (``worldsim.camera.conventions.direction_to_equirect``), float32.
        phi = _atan2(ry, rx) - rotation
        u = np.float32(0.5) - phi * np.float32(0.5 / math.pi)
        u -= math.floor(u)
        v = np.float32(0.5) - _atan2(rz, math.sqrt(rx * rx + ry * ry)) * np.float32(1.0 / math.pi)
        upper = 1
        while upper < top_level and level_roughness[upper] <= r:
            upper += 1
        lower = upper - 1
        blend = np.float32((r - level_roughness[lower]) / (level_roughness[upper] - level_roughness[lower]))
        r0, g0, b0 = np.float32(0.0), np.float32(0.0), np.float32(0.0)
        if blend < 1:
            r0, g0, b0 = _bilinear(levels, level_start[lower], level_rows[lower], u, v)
            keep = np.float32(1.0) - blend
            r0, g0, b0 = r0 * keep, g0 * keep, b0 * keep
        if blend > 0:
            r1, g1, b1 = _bilinear(levels, level_start[upper], level_rows[upper], u, v)
            r0, g0, b0 = r0 + r1 * blend, g0 + g1 * blend, b0 + b1 * blend
        weight = scale_bias * ao
        highlight[i, 0] += r0 * weight
        highlight[i, 1] += g0 * weight
        highlight[i, 2] += b0 * weight
