"""Optional guidance backend: pytorch3d's ``MeshRasterizer`` (CUDA when available, else CPU).

Every frame the present entities' vertices are moved into the world and rasterised as one mesh
by a ``PerspectiveCameras`` built from our OpenCV camera (``worldsim.camera.conventions``). The
fragments (face index, perspective-correct barycentrics) go through the same completion as the
open3d backend, so both produce identical ``RayHits`` up to rasterisation precision. No
per-entity silhouettes are produced (visibility is then empty).
"""

from __future__ import annotations

import numpy as np

from renderers.guidance.backend import RayHits
from renderers.guidance.geometry import clip_meshes
from renderers.guidance.hits import hits_from_nearest
from worldsim.camera.conventions import to_pytorch3d
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.projection import pixel_rays
from worldsim.errors import MissingExtraError
from worldsim.state import Trajectory

NEAR_CLIP = 1e-3
"""Metres: pytorch3d clips faces at this camera depth (the ray caster has no near plane)."""


def _import_pytorch3d():
    try:
        import torch
        from pytorch3d.renderer import MeshRasterizer, PerspectiveCameras, RasterizationSettings
        from pytorch3d.structures import Meshes
    except ImportError as error:
        raise MissingExtraError("pytorch3d", "pytorch3d", error) from error
    return torch, MeshRasterizer, PerspectiveCameras, RasterizationSettings, Meshes


def pytorch3d_camera_parameters(cam_to_world: np.ndarray, intrinsics: Intrinsics) -> dict[str, np.ndarray]:
    """``PerspectiveCameras`` arguments (NDC form) for our OpenCV camera, batch of one.

    pytorch3d's NDC scales by the shorter image side and has +x left, +y up; pixel centres at
    +0.5 map to pytorch3d's pixel centres.
    """
    rotation, translation = to_pytorch3d(np.asarray(cam_to_world, dtype=np.float64))
    size = np.array([intrinsics.width, intrinsics.height], dtype=np.float64)
    scale = size.min() / 2.0
    focal = np.array([intrinsics.fx, intrinsics.fy]) / scale
    principal = -(np.array([intrinsics.cx, intrinsics.cy]) - size / 2.0) / scale
    return {
        "R": rotation[None],
        "T": translation[None],
        "focal_length": focal[None],
        "principal_point": principal[None],
        "image_size": np.array([[intrinsics.height, intrinsics.width]]),
    }


class PyTorch3DBackend:
    """Per-frame world-space rasterisation with pytorch3d."""

    def __init__(self, trajectory: Trajectory, device: str | None = None) -> None:
        (
            self._torch,
            self._rasterizer_class,
            self._cameras_class,
            self._settings_class,
            self._meshes_class,
        ) = _import_pytorch3d()
        torch = self._torch
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.trajectory = trajectory
        self.meshes = clip_meshes(trajectory)

    def cast(
        self,
        frame: int,
        cam_to_world: np.ndarray,
        intrinsics: Intrinsics,
        rays_camera: np.ndarray | None = None,
    ) -> RayHits:
        """Rasterise ``frame``; ``rays_camera`` is not supported (pixel centres only)."""
        if rays_camera is not None:
            raise NotImplementedError("the pytorch3d backend samples pixel centres only")
        torch = self._torch
        height, width = intrinsics.height, intrinsics.width
        columns = np.flatnonzero(self.trajectory.present[frame])
        vertices, faces, face_start = [], [], [0]
        vertex_count = 0
        for col in columns:
            entry = self.meshes.entries[self.meshes.column_entry[col]]
            pose = self.trajectory.object_to_world[frame, col]
            vertices.append(entry.vertices @ pose[:3, :3].T + pose[:3, 3])
            faces.append(entry.faces + vertex_count)
            vertex_count += len(entry.vertices)
            face_start.append(face_start[-1] + len(entry.faces))
        column = np.full((height, width), -1, dtype=np.int32)
        primitive = np.full((height, width), -1, dtype=np.int64)
        barycentric = np.zeros((height, width, 2), dtype=np.float32)
        rays = pixel_rays(intrinsics)
        depth = np.full((height, width), np.inf, dtype=np.float64)
        if len(columns):
            params = pytorch3d_camera_parameters(cam_to_world, intrinsics)
            cameras = self._cameras_class(
                device=self.device,
                **{key: torch.as_tensor(value, dtype=torch.float32) for key, value in params.items()},
            )
            mesh = self._meshes_class(
                verts=[torch.as_tensor(np.concatenate(vertices), dtype=torch.float32, device=self.device)],
                faces=[torch.as_tensor(np.concatenate(faces), dtype=torch.int64, device=self.device)],
            )
            settings = self._settings_class(
                image_size=(height, width),
                blur_radius=0.0,
                faces_per_pixel=1,
                bin_size=0 if self.device.type == "cpu" else None,
                cull_backfaces=False,
                # Triangles reaching behind the camera (large ground planes) must be clipped.
                z_clip_value=NEAR_CLIP,
            )
            fragments = self._rasterizer_class(cameras=cameras, raster_settings=settings)(mesh)
            face = fragments.pix_to_face[0, ..., 0].cpu().numpy()
            bary = fragments.bary_coords[0, ..., 0, :].cpu().numpy()
            zbuf = fragments.zbuf[0, ..., 0].cpu().numpy()
            hit = face >= 0
            starts = np.asarray(face_start)
            slot = np.searchsorted(starts, face[hit], side="right") - 1
            column[hit] = columns[slot]
            primitive[hit] = face[hit] - starts[slot]
            barycentric[hit] = bary[hit][:, 1:3]
            depth[hit] = zbuf[hit]
        ray_distance = (depth / rays[..., 2]).astype(np.float32)
        return hits_from_nearest(
            self.trajectory,
            self.meshes,
            frame,
            intrinsics,
            np.asarray(cam_to_world, dtype=np.float64),
            ray_distance,
            rays,
            column,
            primitive,
            barycentric,
            [],
        )
