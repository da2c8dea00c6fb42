"""Per-clip mesh table shared by the backends: unique meshes, bounding spheres, ray windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.meshes import load_mesh, mesh_bounds, mesh_fingerprint
from worldsim.state import Trajectory


@dataclass
class MeshEntry:
    """One unique mesh of a clip (entities with the same geometry share it)."""

    key: str
    mesh: trimesh.Trimesh
    vertices: np.ndarray
    """(V, 3) float64 object frame, metres."""
    faces: np.ndarray
    """(F, 3) int64."""
    face_normals: np.ndarray
    """(F, 3) float64 unit geometric normals (as wound)."""
    center: np.ndarray
    """(3,) bounding-sphere centre, object frame."""
    radius: float


@dataclass
class ClipMeshes:
    """The mesh of every entity column of a trajectory, deduplicated by geometry."""

    entries: list[MeshEntry]
    column_entry: list[int]
    """Entity column -> index into ``entries``."""
    column_face_offset: np.ndarray
    """(E,) int64: global face index of an entity's triangle ``i`` is offset + i."""
    column_face_count: np.ndarray
    """(E,) int64 triangles of each entity's mesh."""
    column_flat_shading: np.ndarray
    """(E,) bool: the mesh's vertex normals are equal at the three corners of every triangle, so
    its shading normal is constant per triangle (``corner_normal_edges`` rows 1, 2 are 0)."""
    triangle_edges: np.ndarray
    """(F_total, 3, 3) float32 per triangle of every unique mesh: object-frame corner 0 and the
    edges corner 1 - corner 0, corner 2 - corner 0 (see ``barycentric_interpolate``)."""
    face_normals: np.ndarray
    """(F_total, 3) float32 unit geometric normals."""
    corner_normal_edges: np.ndarray
    """(F_total, 3, 3) float32 vertex normals at corner 0 and their differences, as above."""


def clip_meshes(trajectory: Trajectory) -> ClipMeshes:
    """Load every entity's mesh once; identical geometry (same fingerprint) shares one entry."""
    entries: list[MeshEntry] = []
    by_key: dict[str, int] = {}
    column_entry: list[int] = []
    for info in trajectory.entities:
        key_path = f"entities[{info.name}].mesh"
        key = mesh_fingerprint(info.mesh, key_path=key_path)
        if key not in by_key:
            mesh = load_mesh(info.mesh, key_path=key_path)
            center, radius = mesh_bounds(mesh)
            by_key[key] = len(entries)
            entries.append(
                MeshEntry(
                    key=key,
                    mesh=mesh,
                    vertices=np.asarray(mesh.vertices, dtype=np.float64),
                    faces=np.asarray(mesh.faces, dtype=np.int64),
                    face_normals=np.asarray(mesh.face_normals, dtype=np.float64),
                    center=center,
                    radius=radius,
                )
            )
        column_entry.append(by_key[key])
    face_count = np.array([len(entry.faces) for entry in entries], dtype=np.int64)
    entry_offset = np.cumsum(np.r_[0, face_count])[:-1]
    corner_normal_edges = _edges(
        _stack(
            [np.asarray(entry.mesh.vertex_normals, dtype=np.float64)[entry.faces] for entry in entries],
            (0, 3, 3),
        )
    )
    flat = np.array(
        [
            not corner_normal_edges[offset : offset + count, 1:].any()
            for offset, count in zip(entry_offset, face_count, strict=True)
        ],
        dtype=bool,
    )
    column_entry_index = np.asarray(column_entry, dtype=np.int64)
    return ClipMeshes(
        entries=entries,
        column_entry=column_entry,
        column_face_offset=entry_offset[column_entry_index].astype(np.int64),
        column_face_count=face_count[column_entry_index],
        column_flat_shading=flat[column_entry_index],
        triangle_edges=_edges(_stack([entry.vertices[entry.faces] for entry in entries], (0, 3, 3))),
        face_normals=_stack([entry.face_normals for entry in entries], (0, 3)),
        corner_normal_edges=corner_normal_edges,
    )


def _edges(corners: np.ndarray) -> np.ndarray:
    """(F, 3, 3) corner values -> corner 0 and the float32 differences corner 1, 2 - corner 0."""
    edges = corners.copy()
    edges[:, 1:] -= corners[:, :1]
    return edges


def _stack(parts: list[np.ndarray], empty_shape: tuple[int, ...]) -> np.ndarray:
    if not parts:
        return np.zeros(empty_shape, dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def screen_rect(
    center_world: np.ndarray, radius: float, world_to_cam: np.ndarray, intrinsics: Intrinsics
) -> tuple[int, int, int, int] | None:
    """Conservative pixel window ``(y0, y1, x0, x1)`` whose pixel centres cover a sphere's image.

    None when the sphere is entirely behind the camera or off the image. A sphere that reaches
    the camera plane gets the whole image. One sphere of ``screen_rects``.
    """
    rects, seen = screen_rects(np.asarray(center_world)[None], np.array([radius]), world_to_cam, intrinsics)
    return tuple(int(value) for value in rects[0]) if seen[0] else None


def screen_rects(
    centers_world: np.ndarray, radii: np.ndarray, world_to_cam: np.ndarray, intrinsics: Intrinsics
) -> tuple[np.ndarray, np.ndarray]:
    """``screen_rect`` of many spheres at once: (S, 4) int64 windows and (S,) bool "on screen"
    (rows of spheres that are not are undefined) for centres (S, 3) and radii (S,)."""
    width, height = intrinsics.width, intrinsics.height
    rotation, shift = world_to_cam[:3, :3], world_to_cam[:3, 3]
    c = np.asarray(centers_world, dtype=np.float64)
    radii = np.asarray(radii, dtype=np.float64)
    cam = [
        c[:, 0] * rotation[k, 0] + c[:, 1] * rotation[k, 1] + c[:, 2] * rotation[k, 2] + shift[k]
        for k in range(3)
    ]
    in_front = cam[2] + radii > 0.0
    near = cam[2] - radii
    whole = near <= 1e-6 * np.maximum(1.0, np.abs(cam[2]))
    # x / z is monotone in x and in z (z > 0), so the extremes sit at the corners of the box.
    zs = np.where(whole, 1.0, np.stack([near, cam[2] + radii]))  # (2, S); whole-image rows unused
    xs = np.stack([cam[0] - radii, cam[0] + radii])
    ys = np.stack([cam[1] - radii, cam[1] + radii])
    u = intrinsics.fx * (xs[:, None] / zs[None, :]) + intrinsics.cx  # (2, 2, S)
    v = intrinsics.fy * (ys[:, None] / zs[None, :]) + intrinsics.cy
    u, v = u.reshape(4, -1), v.reshape(4, -1)
    x0 = np.maximum(0, np.ceil(u.min(axis=0) - 0.5))
    x1 = np.minimum(width, np.floor(u.max(axis=0) - 0.5) + 1)
    y0 = np.maximum(0, np.ceil(v.min(axis=0) - 0.5))
    y1 = np.minimum(height, np.floor(v.max(axis=0) - 0.5) + 1)
    rects = np.stack([y0, y1, x0, x1], axis=1)
    rects[whole] = (0, height, 0, width)
    seen = in_front & (whole | ((x0 < x1) & (y0 < y1)))
    return rects.astype(np.int64), seen


def linear_scale(object_to_world: np.ndarray) -> float:
    """Largest stretch of a pose's linear part (scales a bounding-sphere radius)."""
    return float(linear_scales(object_to_world[None])[0])


def linear_scales(object_to_world: np.ndarray) -> np.ndarray:
    """(S,) largest stretch of each pose (S, 4, 4)'s linear part."""
    return np.linalg.svd(object_to_world[:, :3, :3], compute_uv=False)[:, 0]


def segment_array(segments: list[tuple[int, int, int]]) -> np.ndarray:
    """(S, 3) int64 rows (column, start, stop) of ``segments`` (for the compiled kernels)."""
    return np.array(segments, dtype=np.int64).reshape(-1, 3)


def column_segments(column: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Stable order grouping ``column`` (N,) by value, and the (column, start, stop) runs of it."""
    small = column.size > 0 and column.max() < np.iinfo(np.int16).max
    order = np.argsort(column.astype(np.int16) if small else column, kind="stable")
    grouped = column[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if len(grouped) else np.zeros(0, int)
    stops = np.r_[starts[1:], len(grouped)]
    return order, [(int(grouped[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


# Array helpers of the lighting maps (renderers.guidance.lighting); the primary guidance uses the
# compiled loops of renderers.guidance.kernels instead.
SEGMENT_LOOP_LIMIT = 64
"""Up to this many entity segments, per-entity transforms loop over dense slices; beyond it
(many small entities) they gather each row's matrix instead, which costs the same for any count."""


def per_segment_matmul(
    values: np.ndarray,
    matrices: np.ndarray,
    segments: list[tuple[int, int, int]],
    column: np.ndarray,
    offsets: np.ndarray | None = None,
) -> np.ndarray:
    """Row vectors ``values`` (N, 3) times their entity's matrix ``matrices[column]`` (E, 3, K),
    plus ``offsets[column]`` (E, K) if given.

    ``segments``: (column, start, stop) runs of rows sharing one entity (``RayHits.hit_segments``);
    ``column`` (N,) the entity of each row. Returns (N, K) in the dtype of values x matrices.
    """
    values = np.asarray(values)
    out = np.empty((len(values), matrices.shape[-1]), dtype=np.result_type(values, matrices))
    if len(segments) <= SEGMENT_LOOP_LIMIT:
        for col, start, stop in segments:
            rows_times(values[start:stop], matrices[col], out=out[start:stop])
            if offsets is not None:
                for k in range(out.shape[1]):
                    out[start:stop, k] += offsets[col, k]
        return out
    return gathered_matmul(values, matrices, column, offsets)


def gathered_matmul(
    values: np.ndarray, matrices: np.ndarray, column: np.ndarray, offsets: np.ndarray | None = None
) -> np.ndarray:
    """``per_segment_matmul`` without segments: each row's matrix entries are gathered (np.take),
    so the cost does not grow with the number of entities."""
    out = np.empty((len(values), matrices.shape[-1]), dtype=np.result_type(values, matrices))
    columns = np.ascontiguousarray(values.T)
    for k in range(matrices.shape[-1]):
        row = columns[0] * np.take(matrices[:, 0, k], column)
        row += columns[1] * np.take(matrices[:, 1, k], column)
        row += columns[2] * np.take(matrices[:, 2, k], column)
        if offsets is not None:
            row += np.take(offsets[:, k], column)
        out[:, k] = row
    return out


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows of ``vectors`` (N, 3) scaled to unit length in place; zero rows stay zero."""
    x, y, z = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    length = np.sqrt(x * x + y * y + z * z)
    nonzero = length > 0
    for k in range(3):
        np.divide(vectors[:, k], length, out=vectors[:, k], where=nonzero)
    return vectors


def rows_times(values: np.ndarray, matrix: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row vectors ``values`` (..., 3) times ``matrix`` (3, K) -> (..., K), without BLAS.

    numpy hands ``@`` to a multi-threaded BLAS whose thread start-up and spinning costs more than
    these 3-term products (and collapses when the cores are busy); elementwise passes do not.
    """
    if out is None:
        out = np.empty((*values.shape[:-1], matrix.shape[1]), dtype=np.result_type(values, matrix))
    x, y, z = values[..., 0], values[..., 1], values[..., 2]
    for k in range(matrix.shape[1]):
        column = out[..., k]
        np.multiply(x, matrix[0, k], out=column)
        column += y * matrix[1, k]
        column += z * matrix[2, k]
    return out


def barycentric_interpolate(edges: np.ndarray, barycentric: np.ndarray) -> np.ndarray:
    """``c0 + u (c1 - c0) + v (c2 - c0)`` at (u, v) (N, 2) -> (N, 3), from ``edges`` (N, 3, 3):
    rows c0, c1 - c0, c2 - c0 (``ClipMeshes.triangle_edges`` rows)."""
    u, v = barycentric[:, 0], barycentric[:, 1]
    out = np.empty((len(edges), edges.shape[2]), dtype=np.result_type(edges, barycentric))
    for k in range(edges.shape[2]):
        row = out[:, k]
        np.multiply(u, edges[:, 1, k], out=row)
        row += edges[:, 0, k]
        row += v * edges[:, 2, k]
    return out
