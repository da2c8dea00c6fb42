"""Compiled per-pixel loops of the guidance hot path (numba, compiled once and cached on disk).

Each kernel does in one pass what the numpy formulation did in several whole-array passes with
temporaries, and releases the GIL, so the renderer's worker threads run them side by side with
Embree. Every kernel performs the same IEEE operations in the same order and precision as the
whole-array numpy formulation it replaced (written out in its docstring; no fast-math, no fused
multiply-add), so its results are bit-identical to it; ``tests/renderers/test_guidance_kernels.py``
keeps those numpy formulations as references and checks every kernel against them.

Conventions: H x W image, pixels flat row-major (``row * W + col``); N hits; E entity columns;
(y0, y1, x0, x1) half-open pixel windows.
"""

from __future__ import annotations

import numba
import numpy as np

# error_model="numpy": a float division by zero gives inf/nan like numpy instead of raising.
_compiled = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")


@_compiled
def object_rays(ray_axes, rotation, rects, to_object, starts, out):  # pragma: no cover - compiled
    """Fill ``out`` (R, 6) float32 with each window's object-frame rays (origin, direction).

    ray_axes (3, H, W) float64 unit camera rays; rotation (3, 3) float64 ``cam_to_world[:3, :3]``;
    rects (J, 4) int64 windows; to_object (J, 3, 3) float32 and starts (J, 3) float64: each job's
    world-to-object rotation and the camera centre in its object frame. World directions are
    rounded to float32 once (as open3d casts them); the rotation into the object frame runs in
    float32: ``((x a) + (y b)) + (z c)``.
    """
    ray = 0
    for job in range(rects.shape[0]):
        y0, y1, x0, x1 = rects[job, 0], rects[job, 1], rects[job, 2], rects[job, 3]
        s0, s1, s2 = np.float32(starts[job, 0]), np.float32(starts[job, 1]), np.float32(starts[job, 2])
        m = to_object[job]
        for row in range(y0, y1):
            for col in range(x0, x1):
                r0, r1, r2 = ray_axes[0, row, col], ray_axes[1, row, col], ray_axes[2, row, col]
                w0 = np.float32(r0 * rotation[0, 0] + r1 * rotation[0, 1] + r2 * rotation[0, 2])
                w1 = np.float32(r0 * rotation[1, 0] + r1 * rotation[1, 1] + r2 * rotation[1, 2])
                w2 = np.float32(r0 * rotation[2, 0] + r1 * rotation[2, 1] + r2 * rotation[2, 2])
                out[ray, 0] = s0
                out[ray, 1] = s1
                out[ray, 2] = s2
                out[ray, 3] = w0 * m[0, 0] + w1 * m[0, 1] + w2 * m[0, 2]
                out[ray, 4] = w0 * m[1, 0] + w1 * m[1, 1] + w2 * m[1, 2]
                out[ray, 5] = w0 * m[2, 0] + w1 * m[2, 1] + w2 * m[2, 2]
                ray += 1


@_compiled
def merge_nearest(t_hit, rects, columns, best_t, column, silhouette):  # pragma: no cover - compiled
    """Merge one cast's ``t_hit`` (R,) float32 (the jobs' windows one after the other) into the
    nearest-hit images ``best_t`` (H, W) float32 and ``column`` (H, W) int32, in job order, strictly
    nearer wins; ``silhouette`` (R,) bool gets ``isfinite(t_hit)``."""
    ray = 0
    for job in range(rects.shape[0]):
        y0, y1, x0, x1 = rects[job, 0], rects[job, 1], rects[job, 2], rects[job, 3]
        entity = columns[job]
        for row in range(y0, y1):
            for col in range(x0, x1):
                t = t_hit[ray]
                silhouette[ray] = np.isfinite(t)
                if t < best_t[row, col]:
                    best_t[row, col] = t
                    column[row, col] = entity
                ray += 1


@_compiled
def group_hits(
    column, columns, rects, first_rays, primitive, barycentric, hit_pixels, hit_primitive, hit_barycentric
):  # pragma: no cover - compiled
    """Each job's final pixels (``column == its entity``) in window row-major order, jobs in the
    given order: writes ``hit_pixels`` (int64 flat pixels), ``hit_primitive`` (int64) and
    ``hit_barycentric`` (float32, 2) gathered from the cast's ``primitive`` / ``barycentric`` at
    the pixel's ray (``first_rays[job]`` + index in the window). Returns (J,) hit counts."""
    width = column.shape[1]
    counts = np.zeros(rects.shape[0], dtype=np.int64)
    hit = 0
    for job in range(rects.shape[0]):
        y0, y1, x0, x1 = rects[job, 0], rects[job, 1], rects[job, 2], rects[job, 3]
        entity = columns[job]
        ray = first_rays[job]
        start = hit
        for row in range(y0, y1):
            for col in range(x0, x1):
                if column[row, col] == entity:
                    hit_pixels[hit] = row * width + col
                    hit_primitive[hit] = primitive[ray]
                    hit_barycentric[hit, 0] = barycentric[ray, 0]
                    hit_barycentric[hit, 1] = barycentric[ray, 1]
                    hit += 1
                ray += 1
        counts[job] = hit - start
    return counts


@_compiled
def complete_hits(
    segments,
    column_face_offset,
    column_face_count,
    hit_primitive,
    hit_barycentric,
    triangle_edges,
    face_normals,
    normal_matrices,
    hit_column,
    hit_face,
    object_point,
    normal_camera,
):  # pragma: no cover - compiled
    """Per hit: entity column, stacked face index, object-frame point and unit camera normal.

    segments (S, 3) int64 (column, start, stop); object_point = ``(u e1 + e0) + v e2`` on the
    float32 triangle edges (``ClipMeshes.triangle_edges``); normal_camera = the float32 face normal
    times ``normal_matrices[column]`` (``_times``), then normalised (``_unit``). An entity with
    fewer triangles than hits (a ground plane) has its triangles' normals transformed once and
    looked up: the same operations on the same numbers.
    """
    table = np.empty((0, 3), dtype=np.float32)
    for segment in range(segments.shape[0]):
        entity, start, stop = segments[segment, 0], segments[segment, 1], segments[segment, 2]
        offset = column_face_offset[entity]
        m = normal_matrices[entity]
        triangles = column_face_count[entity]
        use_table = triangles < stop - start
        if use_table:
            if table.shape[0] < triangles:
                table = np.empty((triangles, 3), dtype=np.float32)
            for f in range(triangles):
                _transform_unit(table, f, face_normals[offset + f], m)
        for i in range(start, stop):
            primitive = hit_primitive[i]
            face = offset + primitive
            hit_column[i] = entity
            hit_face[i] = face
            u, v = hit_barycentric[i, 0], hit_barycentric[i, 1]
            for k in range(3):
                object_point[i, k] = (
                    u * triangle_edges[face, 1, k]
                    + triangle_edges[face, 0, k]
                    + (v * triangle_edges[face, 2, k])
                )
            if use_table:
                for k in range(3):
                    normal_camera[i, k] = table[primitive, k]
            else:
                _transform_unit(normal_camera, i, face_normals[face], m)


@_compiled
def _transform_unit(out, i, n, m):  # pragma: no cover - compiled
    """``out[i]`` = row ``n`` (3,) times ``m`` (3, 3), normalised."""
    x, y, z = _unit(*_times(n[0], n[1], n[2], m))
    out[i, 0] = x
    out[i, 1] = y
    out[i, 2] = z


@_compiled
def _times(n0, n1, n2, m):  # pragma: no cover - compiled
    """Row ``(n0, n1, n2)`` times ``m`` (3, 3), each component ``((n0 m0k) + (n1 m1k)) + (n2 m2k)``."""
    return (
        n0 * m[0, 0] + n1 * m[1, 0] + n2 * m[2, 0],
        n0 * m[0, 1] + n1 * m[1, 1] + n2 * m[2, 1],
        n0 * m[0, 2] + n1 * m[1, 2] + n2 * m[2, 2],
    )


@_compiled
def _unit(x, y, z):  # pragma: no cover - compiled
    """``(x, y, z) / length``, ``length = sqrt((x x + y y) + z z)``, all float32; zero stays zero."""
    length = np.float32(np.sqrt(x * x + y * y + z * z))
    if length > 0:
        return x / length, y / length, z / length
    return x, y, z


@_compiled
def shading_normals(
    segments,
    use_corner_zero,
    column_face_offset,
    column_face_count,
    hit_primitive,
    hit_barycentric,
    corner_normal_edges,
    to_camera,
    hit_pixels,
    rays_camera,
    out,
):  # pragma: no cover - compiled
    """Write each hit's camera-frame shading normal, facing the camera, into ``out`` (H * W, 3).

    The vertex normals interpolated like ``complete_hits``' points, times ``to_camera[column]``
    float32, normalised, flipped like ``face_camera``. Where ``use_corner_zero[segment]``
    (flat-shaded meshes with fewer triangles than hits) each triangle's corner-0 normal is
    transformed once and looked up (the interpolation would give it exactly: zero edges).
    """
    table = np.empty((0, 3), dtype=np.float32)
    for segment in range(segments.shape[0]):
        entity, start, stop = segments[segment, 0], segments[segment, 1], segments[segment, 2]
        m = to_camera[entity]
        offset = column_face_offset[entity]
        corner_zero = use_corner_zero[segment]
        if corner_zero:
            triangles = column_face_count[entity]
            if table.shape[0] < triangles:
                table = np.empty((triangles, 3), dtype=np.float32)
            for f in range(triangles):
                _transform_unit(table, f, corner_normal_edges[offset + f, 0], m)
        for i in range(start, stop):
            primitive = hit_primitive[i]
            if corner_zero:
                x, y, z = table[primitive, 0], table[primitive, 1], table[primitive, 2]
            else:
                e = corner_normal_edges[offset + primitive]
                u, v = hit_barycentric[i, 0], hit_barycentric[i, 1]
                x, y, z = _unit(
                    *_times(
                        u * e[1, 0] + e[0, 0] + v * e[2, 0],
                        u * e[1, 1] + e[0, 1] + v * e[2, 1],
                        u * e[1, 2] + e[0, 2] + v * e[2, 2],
                        m,
                    )
                )
            _store_facing(out, hit_pixels[i], x, y, z, rays_camera)


@_compiled
def _store_facing(out, pixel, x, y, z, rays_camera):  # pragma: no cover - compiled
    """``out[pixel] = n``, negated where ``dot(n, ray) > 0`` in float32."""
    r0 = np.float32(rays_camera[pixel, 0])
    r1 = np.float32(rays_camera[pixel, 1])
    r2 = np.float32(rays_camera[pixel, 2])
    if x * r0 + y * r1 + z * r2 > 0:
        x, y, z = -x, -y, -z
    out[pixel, 0] = x
    out[pixel, 1] = y
    out[pixel, 2] = z


@_compiled
def face_camera(normal, hit_pixels, rays_camera, out):  # pragma: no cover - compiled
    """Scatter per-hit float32 normals (N, 3) into ``out`` (H * W, 3), each flipped to face its
    pixel's ray ``rays_camera`` (H * W, 3) float64."""
    for i in range(hit_pixels.shape[0]):
        _store_facing(out, hit_pixels[i], normal[i, 0], normal[i, 1], normal[i, 2], rays_camera)


@_compiled
def scatter_rows(values, hit_pixels, out):  # pragma: no cover - compiled
    """``out[hit_pixels[i]] = values[i]`` for (N, K) values into (H * W, K) ``out``."""
    for i in range(hit_pixels.shape[0]):
        pixel = hit_pixels[i]
        for k in range(values.shape[1]):
            out[pixel, k] = values[i, k]


@_compiled
def lookup_materials(
    albedo, roughness, metallic, column, albedo_out, roughness_out, metallic_out
):  # pragma: no cover - compiled
    """Per pixel ``p``, row ``column[p] + 1`` of the (E + 1,) tables (background is row 0)."""
    for p in range(column.shape[0]):
        row = column[p] + 1
        albedo_out[p, 0] = albedo[row, 0]
        albedo_out[p, 1] = albedo[row, 1]
        albedo_out[p, 2] = albedo[row, 2]
        roughness_out[p] = roughness[row]
        metallic_out[p] = metallic[row]


@_compiled
def lookup(table, column, out):  # pragma: no cover - compiled
    """``out[p] = table[column[p] + 1]`` for an (E + 1,) ``table`` and (H * W,) ``column``."""
    for p in range(column.shape[0]):
        out[p] = table[column[p] + 1]


@_compiled
def pixel_hit(hit_pixels, pixel_count):  # pragma: no cover - compiled
    """(H * W,) intp index of each pixel's hit, N (the hit count) on background."""
    count = hit_pixels.shape[0]
    index = np.full(pixel_count, count, dtype=np.intp)
    for i in range(count):
        index[hit_pixels[i]] = i
    return index


@_compiled
def depth(ray_distance, rays_camera, out):  # pragma: no cover - compiled
    """``out`` (H * W,) float32 = float32(ray_distance (float32) * rays_camera[:, 2] (float64))."""
    for p in range(out.shape[0]):
        out[p] = np.float32(np.float64(ray_distance[p]) * rays_camera[p, 2])


@_compiled
def correspondence_flow(
    hit_pixels,
    hit_column,
    object_point,
    segments,
    object_to_cam,
    present,
    fx,
    fy,
    cx,
    cy,
    width,
    height,
    target_column,
    target_depth,
    target_pixel_hit,
    target_rays,
    target_distance,
    target_normal,
    depth_tolerance,
    source_width,
    flow,
    valid,
):  # pragma: no cover - compiled
    """Write each hit's flow (float32 dx, dy) and validity into ``flow`` (H * W, 2), ``valid`` (H * W,).

    The float64 arithmetic of ``flow.correspondence_flow``, operation for operation: the point
    moved by ``object_to_cam[column]`` ``((p0 m0 + p1 m1) + p2 m2) + m3``, projected, tested
    against the target's entity at the destination pixel and its depth (then its tangent plane).
    """
    for segment in range(segments.shape[0]):
        entity, start, stop = segments[segment, 0], segments[segment, 1], segments[segment, 2]
        m = object_to_cam[entity]
        alive = present[entity]
        for i in range(start, stop):
            p0 = np.float64(object_point[i, 0])
            p1 = np.float64(object_point[i, 1])
            p2 = np.float64(object_point[i, 2])
            x = p0 * m[0, 0] + p1 * m[0, 1] + p2 * m[0, 2] + m[0, 3]
            y = p0 * m[1, 0] + p1 * m[1, 1] + p2 * m[1, 2] + m[1, 3]
            z = p0 * m[2, 0] + p1 * m[2, 1] + p2 * m[2, 2] + m[2, 3]
            u = fx * x / z + cx
            v = fy * y / z + cy
            pixel = hit_pixels[i]
            # floor of the float quotient is the exact row for any image below 2**26 pixels and
            # is several times faster than an integer division.
            row = np.int64(np.float64(pixel) / np.float64(source_width))
            flow[pixel, 0] = np.float32(u - (np.float64(pixel - row * source_width) + 0.5))
            flow[pixel, 1] = np.float32(v - (np.float64(row) + 0.5))
            if not (alive and z > 0 and u >= 0 and u < width and v >= 0 and v < height):
                continue
            dest = np.int64(v) * width + np.int64(u)
            if target_column[dest] != entity:
                continue
            tolerance = depth_tolerance * z
            if np.abs(np.float64(target_depth[dest]) - z) <= tolerance:
                valid[pixel] = True
                continue
            # Tangent plane of the target's hit at the destination pixel, at (u, v) exactly.
            index = target_pixel_hit[dest]
            distance = np.float64(target_distance[dest])
            q0 = target_rays[dest, 0] * distance
            q1 = target_rays[dest, 1] * distance
            q2 = target_rays[dest, 2] * distance
            n0 = np.float64(target_normal[index, 0])
            n1 = np.float64(target_normal[index, 1])
            n2 = np.float64(target_normal[index, 2])
            ray_x = (u - cx) / fx
            ray_y = (v - cy) / fy
            denominator = n0 * ray_x + n1 * ray_y + n2
            numerator = n0 * q0 + n1 * q1 + n2 * q2
            seen = q2
            if np.abs(denominator) > 1e-3 * np.sqrt(ray_x * ray_x + ray_y * ray_y + 1.0):
                plane = numerator / denominator
                if plane > 0:
                    seen = plane
            valid[pixel] = np.abs(seen - z) <= tolerance
