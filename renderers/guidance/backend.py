"""The guidance backend protocol: per-clip geometry, per-frame ray casting into ``RayHits``.

A backend is built once per clip from the trajectory's entity table (one acceleration structure
per unique mesh) and casts one camera ray per pixel centre for a frame. Every map (depth,
instance, normals, flow, ...) is derived from the returned ``RayHits`` by small functions in
``renderers.guidance.maps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from renderers.guidance import kernels
from renderers.guidance.geometry import ClipMeshes
from worldsim.camera.intrinsics import Intrinsics
from worldsim.errors import RenderError
from worldsim.state import Trajectory


@dataclass
class EntitySilhouette:
    """One entity rendered alone, inside its projected bounding rectangle.

    rect: (y0, y1, x0, x1) pixel window (half-open) of the image.
    hit: (y1 - y0, x1 - x0) bool, the entity's own silhouette inside ``rect``.
    """

    column: int
    rect: tuple[int, int, int, int]
    hit: np.ndarray


@dataclass
class RayHits:
    """The nearest hit of every pixel-centre ray of one frame. H x W is the image size; N hits.

    ray_distance: (H, W) float32 metres along the unit world ray, +inf on background.
    rays_camera: (H, W, 3) float64 unit ray directions in the camera frame (OpenCV axes).
    column: (H, W) int32 entity column in the trajectory's tables, -1 on background.
    hit_pixels: (N,) int64 flat indices (row * W + col) of the pixels that hit, grouped by entity
      (see ``hit_segments``) and ascending within each group.
    hit_segments: (column, start, stop) per entity hit: ``hit_*[start:stop]`` are that entity's
      hits, so per-entity transforms run over dense slices.
    hit_column: (N,) int32 entity column of each hit.
    hit_primitive: (N,) int64 triangle index of each hit in the entity's mesh.
    hit_face: (N,) int64 triangle index in the clip's stacked tables (``ClipMeshes``).
    hit_barycentric: (N, 2) float32 (u, v): hit = (1-u-v) v0 + u v1 + v v2 of the triangle.
    hit_object_point: (N, 3) float32 hit point in the entity's object frame.
    hit_normal_camera: (N, 3) float32 unit geometric normal (as wound) in the camera frame.
    silhouettes: each cast entity alone (for visibility), if the backend produced them.
    """

    frame: int
    intrinsics: Intrinsics
    cam_to_world: np.ndarray
    ray_distance: np.ndarray
    rays_camera: np.ndarray
    column: np.ndarray
    hit_pixels: np.ndarray
    hit_segments: list[tuple[int, int, int]]
    hit_column: np.ndarray
    hit_primitive: np.ndarray
    hit_face: np.ndarray
    hit_barycentric: np.ndarray
    hit_object_point: np.ndarray
    hit_normal_camera: np.ndarray
    silhouettes: list[EntitySilhouette] = field(default_factory=list)

    @property
    def hit(self) -> np.ndarray:
        """(H, W) bool, a surface was hit."""
        return self.column >= 0

    @property
    def shape(self) -> tuple[int, int]:
        return self.column.shape

    @cached_property
    def pixel_hit(self) -> np.ndarray:
        """(H * W,) intp index of each pixel's hit in the per-hit arrays, N on background."""
        return kernels.pixel_hit(self.hit_pixels, self.column.size)

    def scatter(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Per-hit ``values`` (N, ...) as an image (H, W, ...) with ``fill`` on background."""
        # A gather through ``pixel_hit`` (np.take) is several times faster than a fancy scatter.
        padded = np.empty((len(values) + 1, *values.shape[1:]), dtype=values.dtype)
        padded[:-1] = values
        padded[-1] = fill
        return np.take(padded, self.pixel_hit, axis=0).reshape(*self.column.shape, *values.shape[1:])

    @cached_property
    def hit_index(self) -> np.ndarray:
        """(H, W) intp index of each pixel's hit in the per-hit arrays, -1 on background."""
        index = self.pixel_hit.copy()
        index[index == len(self.hit_pixels)] = -1
        return index.reshape(self.column.shape)

    @cached_property
    def hit_rays(self) -> np.ndarray:
        """(N, 3) float32 unit camera-frame ray of each hit."""
        return np.take(self.rays_camera.reshape(-1, 3), self.hit_pixels, axis=0).astype(np.float32)

    @cached_property
    def hit_object_axes(self) -> np.ndarray:
        """(3, N) float64 object-frame hit points, one contiguous row per axis."""
        return self.hit_object_point.T.astype(np.float64)

    @cached_property
    def hit_pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Column and row pixel-centre coordinates ``(x + 0.5, y + 0.5)`` of each hit, float64."""
        width = self.column.shape[1]
        rows = self.hit_pixels // width
        cols = self.hit_pixels - rows * width
        return cols + 0.5, rows + 0.5

    @property
    def primitive(self) -> np.ndarray:
        """(H, W) int64 triangle index in the entity's mesh, -1 on background."""
        return self.scatter(self.hit_primitive, fill=-1)

    @property
    def barycentric(self) -> np.ndarray:
        """(H, W, 2) float32 barycentrics, 0 on background."""
        return self.scatter(self.hit_barycentric)

    @property
    def object_point(self) -> np.ndarray:
        """(H, W, 3) float32 object-frame hit points, 0 on background."""
        return self.scatter(self.hit_object_point)

    @property
    def normal_camera(self) -> np.ndarray:
        """(H, W, 3) float32 camera-frame geometric normals (as wound), 0 on background."""
        return self.scatter(self.hit_normal_camera)


class GuidanceBackend(Protocol):
    """Casts the rays of one frame of one camera against the clip's entities.

    meshes: the clip's deduplicated mesh table (``renderers.guidance.geometry.clip_meshes``).
    """

    meshes: ClipMeshes

    def cast(
        self,
        frame: int,
        cam_to_world: np.ndarray,
        intrinsics: Intrinsics,
        rays_camera: np.ndarray | None = None,
    ) -> RayHits:
        """The nearest hits at ``frame`` (entity poses of that frame) for this camera.

        ``rays_camera``: optional (H, W, 3) unit camera-frame rays replacing the pixel centres.
        """
        ...


BACKENDS = ("open3d", "pytorch3d")


def create_backend(name: str, trajectory: Trajectory) -> GuidanceBackend:
    """Build backend ``name`` (one of ``BACKENDS``) for ``trajectory``; heavy imports are lazy."""
    if name == "open3d":
        from renderers.guidance.open3d_backend import Open3DBackend

        return Open3DBackend(trajectory)
    if name == "pytorch3d":
        from renderers.guidance.pytorch3d_backend import PyTorch3DBackend

        return PyTorch3DBackend(trajectory)
    raise RenderError(f"unknown guidance backend {name!r}; known: {', '.join(BACKENDS)}")
