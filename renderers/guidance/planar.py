"""Camera rays on flat meshes (floors, walls, quads) by a compiled plane intersection, not Embree.

A mesh of at most ``PLANAR_TRIANGLE_LIMIT`` triangles whose vertices all lie on one plane is cast
as: the ray's parameter on the plane (one division), its hit point in the plane's 2D frame, and
each triangle's barycentric coordinates there (a precomputed affine map per triangle, no division).
A 256^2 window of camera rays costs about 10 ns a pixel on one core (a batch of object-frame rays
15-25 ns), where open3d's ``cast_rays`` costs about 50 ns a ray (most of a 256^2 frame's cast
when a floor fills the view), and it releases the GIL, which open3d holds for the whole cast.
Hits within ``BARYCENTRIC_SLACK`` outside a triangle count, so no ray slips between two triangles
of the mesh through rounding.

The results are open3d's ``t_hit``, ``primitive_ids`` and ``primitive_uvs``: the ray parameter
(in units of the direction's length), the face index and (u, v) with the hit at
``(1 - u - v) corner0 + u corner1 + v corner2``, computed in float64 from the float32 vertices
open3d would take; they agree with Embree's to float32 rounding. ``PlanarMesh.cast`` takes ray
batches like open3d; ``FlatMeshes.window_hits`` casts pixel windows straight from the camera rays
(the guidance backend's path: no object-frame ray buffer, no float32 rounding of the rays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from renderers.guidance.kernels import split, window_rows

PLANAR_TRIANGLE_LIMIT = 64
"""Meshes with more triangles go to Embree (each ray tests every triangle here)."""
PLANAR_TOLERANCE = 1e-6
"""A mesh is flat when every vertex lies within this fraction of its extent of one plane."""
BARYCENTRIC_SLACK = 1e-9
"""A hit this far outside a triangle (in barycentric terms) still counts."""
NO_PRIMITIVE = np.uint32(0xFFFFFFFF)
"""``primitive`` of a ray that hits nothing (open3d's ``RaycastingScene.INVALID_ID``)."""

_compiled = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")


@dataclass(frozen=True)
class PlanarMesh:
    """A flat mesh's plane and its triangles' barycentric maps in the plane's frame."""

    plane: np.ndarray
    """(4, 3) float64: a point on the plane, the unit normal, and two unit in-plane axes."""
    maps: np.ndarray
    """(F, 6) float64 per triangle: corner 0 in plane coordinates (x0, y0), then the matrix
    (a, b, c, d) with u = a (x - x0) + b (y - y0), v = c (x - x0) + d (y - y0)."""
    faces: np.ndarray
    """(F,) uint32: the face index of each row of ``maps`` (degenerate faces are left out)."""

    def cast(self, rays: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``t`` (R,) float32 (inf for a miss), ``primitive`` (R,) uint32 and ``barycentric``
        (R, 2) float32 of the rays (R, 6) float32 (origin, direction) on this mesh."""
        count = len(rays)
        t = np.empty(count, dtype=np.float32)
        primitive = np.empty(count, dtype=np.uint32)
        barycentric = np.empty((count, 2), dtype=np.float32)
        args = (rays, self.plane, self.maps, self.faces, t, primitive, barycentric)
        split(_cast_part, args, count, "rays")
        return t, primitive, barycentric


def planar_mesh(vertices: np.ndarray, faces: np.ndarray) -> PlanarMesh | None:
    """The ``PlanarMesh`` of a small flat mesh, or None (too many triangles, or not flat)."""
    faces = np.asarray(faces, dtype=np.int64)
    if not 0 < len(faces) <= PLANAR_TRIANGLE_LIMIT:
        return None
    # The float32 corners open3d would cast against, in float64 from here on.
    points = np.asarray(vertices, dtype=np.float32).astype(np.float64)
    corners = points[faces]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    largest = int(np.argmax(np.linalg.norm(cross, axis=1)))
    length = float(np.linalg.norm(cross[largest]))
    if not length > 0.0:
        return None
    normal = cross[largest] / length
    origin = corners.reshape(-1, 3).mean(axis=0)
    used = points[np.unique(faces)]
    extent = float(np.max(np.ptp(used, axis=0)))
    if np.max(np.abs((used - origin) @ normal)) > PLANAR_TOLERANCE * extent:
        return None
    helper = np.eye(3)[int(np.argmin(np.abs(normal)))]
    axis_x = np.cross(normal, helper)
    axis_x /= np.linalg.norm(axis_x)
    axis_y = np.cross(normal, axis_x)
    flat = np.stack([(corners - origin) @ axis_x, (corners - origin) @ axis_y], axis=-1)  # (F, 3, 2)
    edges = np.stack([flat[:, 1] - flat[:, 0], flat[:, 2] - flat[:, 0]], axis=-1)  # (F, 2, 2) columns
    determinant = edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0]
    keep = np.abs(determinant) > 1e-12 * extent * extent
    inverse = (
        np.stack([edges[:, 1, 1], -edges[:, 0, 1], -edges[:, 1, 0], edges[:, 0, 0]], axis=-1)
        / np.where(keep, determinant, 1.0)[:, None]
    )
    maps = np.concatenate([flat[:, 0], inverse], axis=1)[keep]
    return PlanarMesh(
        plane=np.stack([origin, normal, axis_x, axis_y]),
        maps=np.ascontiguousarray(maps),
        faces=np.flatnonzero(keep).astype(np.uint32),
    )


@dataclass(frozen=True)
class FlatMeshes:
    """Several ``PlanarMesh`` packed for one compiled pass over pixel windows."""

    planes: np.ndarray
    """(P, 4, 3) float64 each mesh's ``plane``."""
    maps: np.ndarray
    """(K, 6) float64 every mesh's triangle maps, mesh after mesh."""
    map_start: np.ndarray
    """(P + 1,) int64: mesh ``p``'s maps are rows ``map_start[p] .. map_start[p + 1]``."""
    faces: np.ndarray
    """(K,) uint32 the face index of each map row."""

    @classmethod
    def of(cls, meshes: list[PlanarMesh]) -> FlatMeshes:
        counts = [len(mesh.maps) for mesh in meshes]
        return cls(
            planes=np.stack([mesh.plane for mesh in meshes]) if meshes else np.zeros((0, 4, 3)),
            maps=np.concatenate([mesh.maps for mesh in meshes]) if meshes else np.zeros((0, 6)),
            map_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            faces=np.concatenate([mesh.faces for mesh in meshes]) if meshes else np.zeros(0, np.uint32),
        )

    def window_hits(
        self,
        ray_axes: np.ndarray,
        rotation: np.ndarray,
        rects: np.ndarray,
        to_object: np.ndarray,
        starts: np.ndarray,
        mesh: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``PlanarMesh.cast``'s (t, primitive, barycentric) of each job's pixel window, windows
        one after the other (rows in order): ray_axes (3, H, W) float64 unit camera rays, rotation
        (3, 3) ``cam_to_world[:3, :3]``, rects (J, 4) int64 (y0, y1, x0, x1), to_object (J, 3, 3)
        and starts (J, 3) float64 each job's world-to-object rotation and camera centre in its
        object frame, mesh (J,) int64 each job's mesh (index into this pack).

        The plane's normal and in-plane axes are carried into the camera frame once per job, so a
        pixel costs three dot products with its camera ray and one division."""
        rows = window_rows(rects)
        count = int(((rects[:, 1] - rects[:, 0]) * (rects[:, 3] - rects[:, 2])).sum()) if len(rects) else 0
        t = np.empty(count, dtype=np.float32)
        primitive = np.empty(count, dtype=np.uint32)
        barycentric = np.empty((count, 2), dtype=np.float32)
        planes = self.planes[mesh]  # (J, 4, 3): point, normal, axis x, axis y (object frame)
        camera_to_object = to_object @ rotation  # (J, 3, 3): camera ray -> object-frame direction
        axes_camera = np.einsum("jvc,jck->jvk", planes[:, 1:], camera_to_object)  # (J, 3, 3)
        from_plane = starts - planes[:, 0]
        offsets = np.stack(
            [
                -np.einsum("jk,jk->j", planes[:, 1], from_plane),
                np.einsum("jk,jk->j", planes[:, 2], from_plane),
                np.einsum("jk,jk->j", planes[:, 3], from_plane),
            ],
            axis=1,
        )
        jobs = np.ascontiguousarray(np.concatenate([axes_camera.reshape(-1, 9), offsets], axis=1))
        args = (
            ray_axes,
            rects,
            jobs,
            mesh,
            self.maps,
            self.map_start,
            self.faces,
            t,
            primitive,
            barycentric,
            rows,
        )
        split(_window_part, args, len(rows), "rows")
        return t, primitive, barycentric


@_compiled
def _window_part(
    ray_axes,
    rects,
    jobs,
    mesh,
    maps,
    map_start,
    faces,
    t_out,
    primitive_out,
    barycentric_out,
    rows,
    first,
    stop,
):  # pragma: no cover - compiled
    """``FlatMeshes.window_hits`` for the window rows ``rows[first:stop]``; jobs (J, 12): the
    normal and in-plane axes as camera-frame covectors (3 x 3), then n . (point - origin) and
    the axes . (origin - point)."""
    for item in range(first, stop):
        job, row, ray = rows[item, 0], rows[item, 1], rows[item, 2]
        q = jobs[job]
        p = mesh[job]
        for col in range(rects[job, 2], rects[job, 3]):
            r0, r1, r2 = ray_axes[0, row, col], ray_axes[1, row, col], ray_axes[2, row, col]
            denominator = q[0] * r0 + q[1] * r1 + q[2] * r2
            along_x = q[3] * r0 + q[4] * r1 + q[5] * r2
            along_y = q[6] * r0 + q[7] * r1 + q[8] * r2
            _plane_hit(
                denominator, q[9], q[10], along_x, q[11], along_y, maps, map_start[p], map_start[p + 1],
                faces, t_out, primitive_out, barycentric_out, ray,
            )  # fmt: skip
            ray += 1


@numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _plane_hit(
    denominator, offset, x0, along_x, y0, along_y, maps, first_map, stop_map, faces, t_out, primitive_out,
    barycentric_out, r,
):  # pragma: no cover - compiled  # fmt: skip
    """Write ray ``r``'s hit on one flat mesh: t = offset / denominator (n . (point - origin)
    over n . direction), the hit at plane coordinates (x0 + t along_x, y0 + t along_y)."""
    t_out[r] = np.inf
    primitive_out[r] = NO_PRIMITIVE
    barycentric_out[r, 0] = 0.0
    barycentric_out[r, 1] = 0.0
    if denominator == 0.0:
        return
    t = offset / denominator
    if not (t > 0.0 and t < np.inf):
        return
    x = x0 + t * along_x
    y = y0 + t * along_y
    for k in range(first_map, stop_map):
        sx, sy = x - maps[k, 0], y - maps[k, 1]
        u = maps[k, 2] * sx + maps[k, 3] * sy
        v = maps[k, 4] * sx + maps[k, 5] * sy
        if u >= -BARYCENTRIC_SLACK and v >= -BARYCENTRIC_SLACK and u + v <= 1.0 + BARYCENTRIC_SLACK:
            u = min(max(u, 0.0), 1.0)
            t_out[r] = t
            primitive_out[r] = faces[k]
            barycentric_out[r, 0] = u
            barycentric_out[r, 1] = min(max(v, 0.0), 1.0 - u)
            return


@_compiled
def _cast_part(
    rays, plane, maps, faces, t_out, primitive_out, barycentric_out, first, stop
):  # pragma: no cover - compiled
    """``PlanarMesh.cast`` of rays ``first .. stop``."""
    px, py, pz = plane[0, 0], plane[0, 1], plane[0, 2]
    for r in range(first, stop):
        ox, oy, oz = np.float64(rays[r, 0]) - px, np.float64(rays[r, 1]) - py, np.float64(rays[r, 2]) - pz
        dx, dy, dz = np.float64(rays[r, 3]), np.float64(rays[r, 4]), np.float64(rays[r, 5])
        _plane_hit(
            plane[1, 0] * dx + plane[1, 1] * dy + plane[1, 2] * dz,
            -(plane[1, 0] * ox + plane[1, 1] * oy + plane[1, 2] * oz),
            plane[2, 0] * ox + plane[2, 1] * oy + plane[2, 2] * oz,
            plane[2, 0] * dx + plane[2, 1] * dy + plane[2, 2] * dz,
            plane[3, 0] * ox + plane[3, 1] * oy + plane[3, 2] * oz,
            plane[3, 0] * dx + plane[3, 1] * dy + plane[3, 2] * dz,
            maps, 0, maps.shape[0], faces, t_out, primitive_out, barycentric_out, r,
        )  # fmt: skip
