"""Compiled per-pixel loops of the guidance hot path (numba, compiled once and cached on disk).

Each kernel does in one pass what the numpy formulation did in several whole-array passes with
temporaries, and releases the GIL, so the renderer's worker threads run them side by side with
Embree. The larger ones are split into pieces that the calling thread and one helper thread per
further core work through together (``split``): every piece writes its own elements (no
reductions), so results do not depend on how the work was shared. Every kernel performs the same
IEEE operations in the same order and precision as the whole-array numpy formulation it replaced
(written out in its docstring; no fast-math, no fused multiply-add), so its results are
bit-identical to it; ``tests/renderers/test_guidance_kernels.py`` keeps those numpy formulations
as references and checks every kernel against them.

Conventions: H x W image, pixels flat row-major (``row * W + col``); N hits; E entity columns;
(y0, y1, x0, x1) half-open pixel windows.
"""

from __future__ import annotations

import os
import queue
import threading

import numba
import numpy as np

# error_model="numpy": a float division by zero gives inf/nan like numpy instead of raising.
_compiled = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")

# Hits per work item of the loops over hit segments (``_chunks``).
CHUNK = 2048
# Least work of one piece of a split loop, in its items; at most this many pieces per call.
MIN_PIECE = {"rows": 64, "chunks": 16, "elements": 65536, "rays": 2048, "hits": 4096}
MAX_PIECES = 4


class _Work:
    """One split loop: ``part(*args, first, stop)`` over pieces of ``range(count)``, claimed one at
    a time by whichever thread is free (a helper that starts late finds nothing left and the
    caller never waits for it; it only waits for pieces another thread is running)."""

    def __init__(self, part, args: tuple, bounds: list[int]) -> None:
        self.part, self.args, self.bounds = part, args, bounds
        self.next = 0
        self.running = 0
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.finished = threading.Condition(self.lock)

    def run(self) -> None:
        while True:
            with self.lock:
                if self.next >= len(self.bounds) - 1 or self.error is not None:
                    return
                piece = self.next
                self.next += 1
                self.running += 1
            try:
                self.part(*self.args, self.bounds[piece], self.bounds[piece + 1])
            except BaseException as error:  # re-raised in the calling thread
                self.error = error
            finally:
                with self.lock:
                    self.running -= 1
                    if self.running == 0:
                        self.finished.notify_all()

    def wait(self) -> None:
        with self.lock:
            while self.running:
                self.finished.wait()
        if self.error is not None:
            raise self.error


class _Helpers:
    """Daemon threads (one per core beyond the first, at most ``MAX_PIECES - 1``) that join in on
    split loops; made again in a forked child (threads do not survive a fork). A split loop is
    offered to at most ``numba.get_num_threads() - 1`` of them: the calling thread's budget
    (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``), so a dataset worker given one thread
    runs its loops on its own thread instead of waiting on a helper that shares the core with
    another worker."""

    def __init__(self) -> None:
        self.pid = -1
        self.count = 0
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()

    def offer(self, work: _Work) -> bool:
        """Hand ``work`` to the helpers; False when there are none (one core)."""
        if self.pid != os.getpid():
            with self.lock:
                if self.pid != os.getpid():
                    self.tasks = queue.SimpleQueue()
                    self.count = max(min(len(os.sched_getaffinity(0)), MAX_PIECES) - 1, 0)
                    for index in range(self.count):
                        name = f"guidance-kernels-{index}"
                        threading.Thread(
                            target=self._serve, args=(self.tasks,), name=name, daemon=True
                        ).start()
                    self.pid = os.getpid()
        helpers = min(self.count, numba.get_num_threads() - 1)
        for _ in range(helpers):
            self.tasks.put(work)
        return helpers > 0

    @staticmethod
    def _serve(tasks: queue.SimpleQueue) -> None:
        while True:
            tasks.get().run()


_HELPERS = _Helpers()


def split(part, args: tuple, count: int, unit: str) -> None:
    """Run ``part(*args, first, stop)`` over ``range(count)``: in one call when small, else in
    pieces (of at least ``MIN_PIECE[unit]`` items) shared with the helper threads."""
    pieces = min(MAX_PIECES, count // MIN_PIECE[unit])
    if pieces < 2:
        part(*args, 0, count)
        return
    work = _Work(part, args, [count * piece // pieces for piece in range(pieces + 1)])
    if not _HELPERS.offer(work):
        part(*args, 0, count)
        return
    work.run()
    work.wait()


@_compiled
def window_rows(rects):  # pragma: no cover - compiled
    """(K, 3) int64 (job, image row, index of the row's first ray) of every row of the (J, 4)
    windows ``rects``, windows one after the other (their rays row-major)."""
    total = 0
    for job in range(rects.shape[0]):
        total += max(rects[job, 1] - rects[job, 0], 0)
    rows = np.empty((total, 3), dtype=np.int64)
    item = 0
    ray = 0
    for job in range(rects.shape[0]):
        width = max(rects[job, 3] - rects[job, 2], 0)
        for row in range(rects[job, 0], rects[job, 1]):
            rows[item, 0] = job
            rows[item, 1] = row
            rows[item, 2] = ray
            item += 1
            ray += width
    return rows


@_compiled
def _chunks(segments):  # pragma: no cover - compiled
    """(K, 3) int64 (segment, start, stop): the (S, 3) (column, start, stop) segments cut into
    pieces of at most ``CHUNK`` hits, in order."""
    total = 0
    for segment in range(segments.shape[0]):
        length = segments[segment, 2] - segments[segment, 1]
        if length > 0:
            total += (length + CHUNK - 1) // CHUNK
    chunks = np.empty((total, 3), dtype=np.int64)
    item = 0
    for segment in range(segments.shape[0]):
        for start in range(segments[segment, 1], segments[segment, 2], CHUNK):
            chunks[item, 0] = segment
            chunks[item, 1] = start
            chunks[item, 2] = min(start + CHUNK, segments[segment, 2])
            item += 1
    return chunks


def object_rays(ray_axes, rotation, rects, to_object, starts, out) -> None:
    """Fill ``out`` (R, 6) float32 with each window's object-frame rays (origin, direction).

    ray_axes (3, H, W) float64 unit camera rays; rotation (3, 3) float64 ``cam_to_world[:3, :3]``;
    rects (J, 4) int64 windows; to_object (J, 3, 3) float32 and starts (J, 3) float64: each job's
    world-to-object rotation and the camera centre in its object frame. World directions are
    rounded to float32 once (as open3d casts them); the rotation into the object frame runs in
    float32: ``((x a) + (y b)) + (z c)``.
    """
    rows = window_rows(rects)
    split(_object_rays_part, (ray_axes, rotation, rects, to_object, starts, out, rows), len(rows), "rows")


@_compiled
def _object_rays_part(
    ray_axes, rotation, rects, to_object, starts, out, rows, first, stop
):  # pragma: no cover - compiled
    """``object_rays`` for the window rows ``rows[first:stop]`` (``window_rows``)."""
    for item in range(first, stop):
        job, row, ray = rows[item, 0], rows[item, 1], rows[item, 2]
        x0, x1 = rects[job, 2], rects[job, 3]
        s0, s1, s2 = np.float32(starts[job, 0]), np.float32(starts[job, 1]), np.float32(starts[job, 2])
        m = to_object[job]
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


def merge_nearest(t_hit, rects, columns, best_t, column, silhouette) -> None:
    """Merge one cast's ``t_hit`` (R,) float32 (the jobs' windows one after the other) into the
    nearest-hit images ``best_t`` (H, W) float32 and ``column`` (H, W) int32, in job order, strictly
    nearer wins; ``silhouette`` (R,) bool gets ``isfinite(t_hit)``. (Windows may overlap: the jobs
    are merged one after the other, the rows of each in pieces.)"""
    rows = window_rows(rects)
    if len(rows) < 2 * MIN_PIECE["rows"]:  # too small to split (one call for all jobs)
        _merge_nearest_part(t_hit, rects, columns, best_t, column, silhouette, rows, 0, 0, len(rows))
        return
    first = 0
    for y0, y1 in rects[:, :2].tolist():
        count = max(y1 - y0, 0)
        if count:
            args = (t_hit, rects, columns, best_t, column, silhouette, rows, first)
            split(_merge_nearest_part, args, count, "rows")
        first += count


@_compiled
def _merge_nearest_part(
    t_hit, rects, columns, best_t, column, silhouette, rows, base, first, stop
):  # pragma: no cover - compiled
    """``merge_nearest`` for the window rows ``rows[base + first:base + stop]`` (jobs in order)."""
    for item in range(base + first, base + stop):
        job, row, ray = rows[item, 0], rows[item, 1], rows[item, 2]
        entity = columns[job]
        for col in range(rects[job, 2], rects[job, 3]):
            t = t_hit[ray]
            silhouette[ray] = np.isfinite(t)
            if t < best_t[row, col]:
                best_t[row, col] = t
                column[row, col] = entity
            ray += 1


def group_hits(
    column, columns, rects, first_rays, primitive, barycentric, hit_pixels, hit_primitive, hit_barycentric
) -> np.ndarray:
    """Each job's final pixels (``column == its entity``) in window row-major order, jobs in the
    given order: writes ``hit_pixels`` (int64 flat pixels), ``hit_primitive`` (int64) and
    ``hit_barycentric`` (float32, 2) gathered from the cast's ``primitive`` / ``barycentric`` at
    the pixel's ray (``first_rays[job]`` + index in the window). Returns (J,) int64 hit counts.
    (Two passes over the window rows in pieces: count each row's hits, then write them from the
    rows' running totals.)"""
    rows = window_rows(rects)
    row_hits = np.empty(len(rows) + 1, dtype=np.int64)
    split(_count_row_hits, (column, columns, rects, rows, row_hits), len(rows), "rows")
    counts = _running_totals(rows, row_hits, len(rects))
    args = (column, columns, rects, first_rays, primitive, barycentric, hit_pixels, hit_primitive)
    split(_group_hits_part, (*args, hit_barycentric, rows, row_hits), len(rows), "rows")
    return counts


@_compiled
def _count_row_hits(column, columns, rects, rows, row_hits, first, stop):  # pragma: no cover - compiled
    """``row_hits[item + 1]`` = pixels of window row ``rows[item]`` whose column is the job's."""
    for item in range(first, stop):
        job, row = rows[item, 0], rows[item, 1]
        entity = columns[job]
        found = 0
        for col in range(rects[job, 2], rects[job, 3]):
            if column[row, col] == entity:
                found += 1
        row_hits[item + 1] = found


@_compiled
def _running_totals(rows, row_hits, jobs):  # pragma: no cover - compiled
    """Turn ``row_hits`` (K + 1,) into each row's first hit index (``row_hits[0] = 0``, running
    sums) and return the (jobs,) int64 hit counts per job."""
    counts = np.zeros(jobs, dtype=np.int64)
    row_hits[0] = 0
    for item in range(rows.shape[0]):
        counts[rows[item, 0]] += row_hits[item + 1]
        row_hits[item + 1] += row_hits[item]
    return counts


@_compiled
def _group_hits_part(
    column,
    columns,
    rects,
    first_rays,
    primitive,
    barycentric,
    hit_pixels,
    hit_primitive,
    hit_barycentric,
    rows,
    row_hits,
    first,
    stop,
):  # pragma: no cover - compiled
    """``group_hits`` for the window rows ``rows[first:stop]``, each from its first hit index."""
    width = column.shape[1]
    for item in range(first, stop):
        job, row = rows[item, 0], rows[item, 1]
        entity = columns[job]
        x0, x1 = rects[job, 2], rects[job, 3]
        ray = first_rays[job] + (row - rects[job, 0]) * (x1 - x0)
        hit = row_hits[item]
        for col in range(x0, x1):
            if column[row, col] == entity:
                hit_pixels[hit] = row * width + col
                hit_primitive[hit] = primitive[ray]
                hit_barycentric[hit, 0] = barycentric[ray, 0]
                hit_barycentric[hit, 1] = barycentric[ray, 1]
                hit += 1
            ray += 1


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
) -> None:
    """Per hit: entity column, stacked face index, object-frame point and unit camera normal.

    segments (S, 3) int64 (column, start, stop); object_point = ``(u e1 + e0) + v e2`` on the
    float32 triangle edges (``ClipMeshes.triangle_edges``); normal_camera = the float32 face normal
    times ``normal_matrices[column]`` (``_times``), then normalised (``_unit``). An entity with
    fewer triangles than hits (a ground plane) has its triangles' normals transformed once and
    looked up: the same operations on the same numbers.
    """
    table_offset, table = _normal_tables(
        segments, None, column_face_offset, column_face_count, face_normals, normal_matrices
    )
    args = (
        segments,
        column_face_offset,
        hit_primitive,
        hit_barycentric,
        triangle_edges,
        face_normals,
        normal_matrices,
        table_offset,
        table,
        hit_column,
        hit_face,
        object_point,
        normal_camera,
        chunks := _chunks(segments),
    )
    split(_complete_hits_part, args, len(chunks), "chunks")


@_compiled
def _normal_tables(
    segments, use, column_face_offset, column_face_count, normals, matrices
):  # pragma: no cover - compiled
    """The normals ``normals[offset + f]`` (F, 3) of every triangle of each segment's mesh times the
    segment's ``matrices[column]``, normalised, for the segments that look them up (fewer
    triangles than hits, and ``use[segment]`` when given): (S + 1,) int64 offsets of each
    segment's rows (none for the others) and the (T, 3) float32 table."""
    table_offset = np.zeros(segments.shape[0] + 1, dtype=np.int64)
    for segment in range(segments.shape[0]):
        triangles = column_face_count[segments[segment, 0]]
        wanted = triangles < segments[segment, 2] - segments[segment, 1]
        if use is not None:
            wanted = wanted and use[segment]
        table_offset[segment + 1] = table_offset[segment] + (triangles if wanted else 0)
    table = np.empty((table_offset[-1], 3), dtype=np.float32)
    for segment in range(segments.shape[0]):
        entity = segments[segment, 0]
        offset = column_face_offset[entity]
        for f in range(table_offset[segment + 1] - table_offset[segment]):
            _transform_unit(table, table_offset[segment] + f, normals[offset + f], matrices[entity])
    return table_offset, table


@_compiled
def _complete_hits_part(
    segments,
    column_face_offset,
    hit_primitive,
    hit_barycentric,
    triangle_edges,
    face_normals,
    normal_matrices,
    table_offset,
    table,
    hit_column,
    hit_face,
    object_point,
    normal_camera,
    chunks,
    first,
    stop,
):  # pragma: no cover - compiled
    """``complete_hits`` for the hits of ``chunks[first:stop]`` (``_chunks``)."""
    for item in range(first, stop):
        segment = chunks[item, 0]
        entity = segments[segment, 0]
        offset = column_face_offset[entity]
        m = normal_matrices[entity]
        use_table = table_offset[segment + 1] > table_offset[segment]
        row = table_offset[segment]
        for i in range(chunks[item, 1], chunks[item, 2]):
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
                    normal_camera[i, k] = table[row + primitive, k]
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
) -> None:
    """Write each hit's camera-frame shading normal, facing the camera, into ``out`` (H * W, 3).

    The vertex normals interpolated like ``complete_hits``' points, times ``to_camera[column]``
    float32, normalised, flipped like ``face_camera``. Where ``use_corner_zero[segment]``
    (flat-shaded meshes with fewer triangles than hits) each triangle's corner-0 normal is
    transformed once and looked up (the interpolation would give it exactly: zero edges).
    """
    corner_zero = corner_normal_edges[:, 0]
    table_offset, table = _normal_tables(
        segments, use_corner_zero, column_face_offset, column_face_count, corner_zero, to_camera
    )
    args = (
        segments,
        column_face_offset,
        hit_primitive,
        hit_barycentric,
        corner_normal_edges,
        to_camera,
        table_offset,
        table,
        hit_pixels,
        rays_camera,
        out,
        chunks := _chunks(segments),
    )
    split(_shading_normals_part, args, len(chunks), "chunks")


@_compiled
def _shading_normals_part(
    segments,
    column_face_offset,
    hit_primitive,
    hit_barycentric,
    corner_normal_edges,
    to_camera,
    table_offset,
    table,
    hit_pixels,
    rays_camera,
    out,
    chunks,
    first,
    stop,
):  # pragma: no cover - compiled
    """``shading_normals`` for the hits of ``chunks[first:stop]`` (``_chunks``)."""
    for item in range(first, stop):
        segment = chunks[item, 0]
        entity = segments[segment, 0]
        m = to_camera[entity]
        offset = column_face_offset[entity]
        corner_zero = table_offset[segment + 1] > table_offset[segment]
        row = table_offset[segment]
        for i in range(chunks[item, 1], chunks[item, 2]):
            primitive = hit_primitive[i]
            if corner_zero:
                x, y, z = table[row + primitive, 0], table[row + primitive, 1], table[row + primitive, 2]
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


def face_camera(normal, hit_pixels, rays_camera, out) -> None:
    """Scatter per-hit float32 normals (N, 3) into ``out`` (H * W, 3), each flipped to face its
    pixel's ray ``rays_camera`` (H * W, 3) float64."""
    split(_face_camera_part, (normal, hit_pixels, rays_camera, out), len(hit_pixels), "elements")


@_compiled
def _face_camera_part(normal, hit_pixels, rays_camera, out, first, stop):  # pragma: no cover - compiled
    """``face_camera`` for hits ``first:stop``."""
    for i in range(first, stop):
        _store_facing(out, hit_pixels[i], normal[i, 0], normal[i, 1], normal[i, 2], rays_camera)


def scatter_rows(values, hit_pixels, out) -> None:
    """``out[hit_pixels[i]] = values[i]`` for (N, K) values into (H * W, K) ``out``."""
    split(_scatter_rows_part, (values, hit_pixels, out), len(hit_pixels), "elements")


@_compiled
def _scatter_rows_part(values, hit_pixels, out, first, stop):  # pragma: no cover - compiled
    """``scatter_rows`` for hits ``first:stop``."""
    for i in range(first, stop):
        pixel = hit_pixels[i]
        for k in range(values.shape[1]):
            out[pixel, k] = values[i, k]


def lookup_materials(albedo, roughness, metallic, column, albedo_out, roughness_out, metallic_out) -> None:
    """Per pixel ``p``, row ``column[p] + 1`` of the (E + 1,) tables (background is row 0)."""
    args = (albedo, roughness, metallic, column, albedo_out, roughness_out, metallic_out)
    split(_lookup_materials_part, args, len(column), "elements")


@_compiled
def _lookup_materials_part(
    albedo, roughness, metallic, column, albedo_out, roughness_out, metallic_out, first, stop
):  # pragma: no cover - compiled
    """``lookup_materials`` for pixels ``first:stop``."""
    for p in range(first, stop):
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


def pixel_hit(hit_pixels, pixel_count) -> np.ndarray:
    """(H * W,) intp index of each pixel's hit (``hit_pixels`` distinct), N (the hit count) on
    background."""
    index = np.full(pixel_count, len(hit_pixels), dtype=np.intp)
    split(_pixel_hit_part, (hit_pixels, index), len(hit_pixels), "elements")
    return index


@_compiled
def _pixel_hit_part(hit_pixels, index, first, stop):  # pragma: no cover - compiled
    """``index[hit_pixels[i]] = i`` for hits ``first:stop``."""
    for i in range(first, stop):
        index[hit_pixels[i]] = i


def depth(ray_distance, rays_camera, out) -> None:
    """``out`` (H * W,) float32 = float32(ray_distance (float32) * rays_camera[:, 2] (float64))."""
    split(_depth_part, (ray_distance, rays_camera, out), len(out), "elements")


@_compiled
def _depth_part(ray_distance, rays_camera, out, first, stop):  # pragma: no cover - compiled
    """``depth`` for pixels ``first:stop``."""
    for p in range(first, stop):
        out[p] = np.float32(np.float64(ray_distance[p]) * rays_camera[p, 2])


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
) -> None:
    """Write each hit's flow (float32 dx, dy) and validity into ``flow`` (H * W, 2), ``valid`` (H * W,).

    The float64 arithmetic of ``flow.correspondence_flow``, operation for operation: the point
    moved by ``object_to_cam[column]`` ``((p0 m0 + p1 m1) + p2 m2) + m3``, projected, tested
    against the target's entity at the destination pixel and its depth (then its tangent plane).
    """
    chunks = _chunks(segments)
    args = (
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
        chunks,
    )
    split(_correspondence_flow_part, args, len(chunks), "chunks")


@_compiled
def _correspondence_flow_part(
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
    chunks,
    first,
    stop,
):  # pragma: no cover - compiled
    """``correspondence_flow`` for the hits of ``chunks[first:stop]`` (``_chunks``)."""
    for item in range(first, stop):
        entity = segments[chunks[item, 0], 0]
        m = object_to_cam[entity]
        alive = present[entity]
        for i in range(chunks[item, 1], chunks[item, 2]):
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


@_compiled
def window_visibility(column, y0, x0, hit, entity, occluding):  # pragma: no cover - compiled
    """One entity's visibility inside its window: ``hit`` (h, w) bool is its own silhouette at
    rows ``y0:y0 + h``, columns ``x0:x0 + w`` of ``column`` (H, W) int32.

    Returns (silhouette pixels, visible pixels (``column == entity``), and the visible pixels'
    bounding box x0, y0, x1, y1 half-open (x1 = y1 = -1 when none)); sets ``occluding[c]`` (E,)
    bool for every other entity ``c`` shown inside the silhouette.
    """
    total = 0
    visible = 0
    box_x0, box_y0, box_x1, box_y1 = column.shape[1], column.shape[0], -1, -1
    for row in range(hit.shape[0]):
        first, last = -1, -1  # the row's first and last visible pixel
        for col in range(hit.shape[1]):
            shown = column[y0 + row, x0 + col]
            inside = hit[row, col]
            total += inside
            if shown == entity:
                if first < 0:
                    first = col
                last = col
                visible += 1
            elif inside and shown >= 0:
                occluding[shown] = True
        if first >= 0:
            box_x0 = min(box_x0, x0 + first)
            box_x1 = max(box_x1, x0 + last + 1)
            box_y0 = min(box_y0, y0 + row)
            box_y1 = y0 + row + 1
    return total, visible, box_x0, box_y0, box_x1, box_y1
