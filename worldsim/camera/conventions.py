"""Camera conventions, declared once, with explicit conversions to other libraries.

Ours (``worldsim``): world right-handed, Z up, metres. Camera axes are OpenCV's (x right, y down,
z forward) and a pose is stored as ``cam_to_world`` (4, 4): column vectors,
``X_world = cam_to_world @ X_cam``. Pixel centres lie at +0.5 (see ``intrinsics.py``).

Others:
- OpenGL / Blender / nerfstudio: camera x right, y up, looking down -z; ``cam_to_world`` form.
- pytorch3d: camera x left, y up, z forward; row vectors, ``X_cam = X_world @ R + T``.
- open3d: OpenCV axes, ``extrinsic`` = ``world_to_cam`` (4, 4).

Every function takes one pose (4, 4) or a stack (..., 4, 4) and returns float64 arrays.
"""

from __future__ import annotations

import numpy as np

from worldsim.errors import SceneError

WORLD_FRAME = {"world_up": "+z", "units": "m", "camera_convention": "opencv"}
"""The world frame and units recorded in every file that stores camera poses."""

OPENCV_TO_OPENGL_AXES = np.diag([1.0, -1.0, -1.0, 1.0])
"""Flips camera y and z; its own inverse."""

OPENCV_TO_PYTORCH3D_AXES = np.diag([-1.0, -1.0, 1.0])
"""Camera-frame change from OpenCV (x right, y down) to pytorch3d (x left, y up); its own inverse."""

OPENCV_TO_MITSUBA_AXES = np.diag([-1.0, -1.0, 1.0, 1.0])
"""Camera-frame change from OpenCV to Mitsuba's sensor frame (x left, y up, z forward)."""

DEGENERATE_TOLERANCE = 1e-9
"""Squared length under which a look-at direction or right vector counts as zero."""


def _as_poses(cam_to_world: np.ndarray) -> np.ndarray:
    poses = np.asarray(cam_to_world, dtype=np.float64)
    if poses.shape[-2:] != (4, 4):
        raise ValueError(f"expected (..., 4, 4) poses, got shape {poses.shape}")
    return poses


def invert_pose(pose: np.ndarray) -> np.ndarray:
    """Inverse of rigid transforms (..., 4, 4) without a general matrix inverse."""
    pose = _as_poses(pose)
    rotation_t = np.swapaxes(pose[..., :3, :3], -1, -2)
    inverse = np.zeros_like(pose)
    inverse[..., :3, :3] = rotation_t
    inverse[..., :3, 3] = -np.einsum("...ij,...j->...i", rotation_t, pose[..., :3, 3])
    inverse[..., 3, 3] = 1.0
    return inverse


def opencv_to_opengl(cam_to_world: np.ndarray) -> np.ndarray:
    """Our ``cam_to_world`` (OpenCV axes) -> OpenGL/Blender/nerfstudio ``cam_to_world`` (y up, -z fwd)."""
    return _as_poses(cam_to_world) @ OPENCV_TO_OPENGL_AXES


def opengl_to_opencv(cam_to_world_gl: np.ndarray) -> np.ndarray:
    """OpenGL/Blender/nerfstudio ``cam_to_world`` -> ours (OpenCV axes)."""
    return _as_poses(cam_to_world_gl) @ OPENCV_TO_OPENGL_AXES


def to_open3d_extrinsic(cam_to_world: np.ndarray) -> np.ndarray:
    """Our ``cam_to_world`` -> open3d ``extrinsic`` (``world_to_cam``, OpenCV axes)."""
    return invert_pose(cam_to_world)


def from_open3d_extrinsic(extrinsic: np.ndarray) -> np.ndarray:
    """open3d ``extrinsic`` (``world_to_cam``) -> our ``cam_to_world``."""
    return invert_pose(extrinsic)


def to_mitsuba(cam_to_world: np.ndarray) -> np.ndarray:
    """Our ``cam_to_world`` -> Mitsuba's sensor ``to_world`` (camera x left, y up, z forward)."""
    return _as_poses(cam_to_world) @ OPENCV_TO_MITSUBA_AXES


def from_mitsuba(to_world: np.ndarray) -> np.ndarray:
    """Mitsuba's sensor ``to_world`` -> our ``cam_to_world``."""
    return _as_poses(to_world) @ OPENCV_TO_MITSUBA_AXES


def mitsuba_principal_point_offset(cx: float, cy: float, width: int, height: int) -> tuple[float, float]:
    """Mitsuba's ``principal_point_offset_x/y`` (fractions of the film, positive moves the image
    content left/up) for our principal point ``(cx, cy)`` in pixels."""
    return (width / 2.0 - cx) / width, (height / 2.0 - cy) / height


def to_pytorch3d(cam_to_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Our ``cam_to_world`` -> pytorch3d ``(R (..., 3, 3), T (..., 3))``.

    pytorch3d maps row vectors ``X_cam = X_world @ R + T`` into its camera frame (x left, y up,
    z forward). With ``world_to_cam = [Rc | t]`` (OpenCV) and ``F = diag(-1, -1, 1)``:
    ``R = Rc^T F`` and ``T = F t``.
    """
    world_to_cam = invert_pose(cam_to_world)
    rotation = np.swapaxes(world_to_cam[..., :3, :3], -1, -2) @ OPENCV_TO_PYTORCH3D_AXES
    translation = world_to_cam[..., :3, 3] * np.diag(OPENCV_TO_PYTORCH3D_AXES)
    return rotation, translation


def from_pytorch3d(R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """pytorch3d ``(R, T)`` (row-vector convention) -> our ``cam_to_world`` (..., 4, 4)."""
    R = np.asarray(R, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    world_to_cam = np.zeros((*R.shape[:-2], 4, 4))
    world_to_cam[..., :3, :3] = OPENCV_TO_PYTORCH3D_AXES @ np.swapaxes(R, -1, -2)
    world_to_cam[..., :3, 3] = T * np.diag(OPENCV_TO_PYTORCH3D_AXES)
    world_to_cam[..., 3, 3] = 1.0
    return invert_pose(world_to_cam)


def look_at_rotation(
    eye: np.ndarray, target: np.ndarray, up: np.ndarray | list[float] = (0.0, 0.0, 1.0), *, key_path: str = ""
) -> np.ndarray:
    """Rotation (..., 3, 3) whose columns are the camera x (right), y (down), z (forward) in the world.

    ``eye`` and ``target`` are (..., 3) world points; ``up`` (3,) or (..., 3) is the world direction
    shown up in the image. Raises SceneError for a target at the eye or ``up`` parallel to the view.
    """
    eye = np.asarray(eye, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    up = np.asarray(up, dtype=np.float64)
    forward = target - eye
    forward_sq = np.einsum("...i,...i->...", forward, forward)
    if np.any(~np.isfinite(forward_sq)):
        raise SceneError("camera position or look-at target is not finite", key_path=key_path)
    if np.any(forward_sq < DEGENERATE_TOLERANCE):
        frame = int(np.argmax(np.atleast_1d(forward_sq < DEGENERATE_TOLERANCE)))
        raise SceneError(
            f"degenerate look-at: the target is at the camera position (frame {frame})", key_path=key_path
        )
    forward = forward / np.sqrt(forward_sq)[..., None]
    right = np.cross(forward, np.broadcast_to(up, forward.shape))
    right_sq = np.einsum("...i,...i->...", right, right)
    if np.any(right_sq < DEGENERATE_TOLERANCE):
        frame = int(np.argmax(np.atleast_1d(right_sq < DEGENERATE_TOLERANCE)))
        raise SceneError(
            f"degenerate look-at: the view direction is parallel to up {up.tolist()} (frame {frame}); "
            "move the camera or set another 'up'",
            key_path=key_path,
        )
    right = right / np.sqrt(right_sq)[..., None]
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=-1)


def look_at(
    eye: np.ndarray, target: np.ndarray, up: np.ndarray | list[float] = (0.0, 0.0, 1.0), *, key_path: str = ""
) -> np.ndarray:
    """``cam_to_world`` (..., 4, 4), OpenCV axes, of a camera at ``eye`` looking at ``target``."""
    rotation = look_at_rotation(eye, target, up, key_path=key_path)
    pose = np.zeros((*rotation.shape[:-2], 4, 4))
    pose[..., :3, :3] = rotation
    pose[..., :3, 3] = np.asarray(eye, dtype=np.float64)
    pose[..., 3, 3] = 1.0
    return pose


def compose_pose(rotation: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(..., 4, 4) from rotations (..., 3, 3) and positions (..., 3)."""
    rotation = np.asarray(rotation, dtype=np.float64)
    pose = np.zeros((*rotation.shape[:-2], 4, 4))
    pose[..., :3, :3] = rotation
    pose[..., :3, 3] = position
    pose[..., 3, 3] = 1.0
    return pose


# --- Environment maps (equirectangular, world Z up) ------------------------------------------------
# Declared once: pixel (u, v) in [0, 1)^2 of an equirectangular map, u left -> right, v top -> bottom
# (row 0 is the zenith). The world direction of (u, v), world Z up, azimuth phi = atan2(y, x):
#   phi = (0.5 - u) * 2 pi        (u = 0.5 looks along +X, u = 0.25 along +Y: Blender's convention)
#   elevation = (0.5 - v) * pi    (v = 0 is +Z, v = 0.5 the horizon, v = 1 is -Z)
# An environment's ``rotation_deg`` turns the map about world +Z (counter-clockwise seen from above):
# what the unrotated map shows at azimuth phi appears at phi + rotation.

EQUIRECT_TO_MITSUBA_ENVMAP = np.array(
    [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)
"""``to_world`` of a Mitsuba ``envmap`` (Y-up local frame, u = atan2(x, -z) / 2 pi) that shows a map
in our convention; compose with ``environment_rotation`` for a rotated map. Maps local (x, y, z) to
world (z, x, y)."""


def equirect_direction(u: np.ndarray, v: np.ndarray, rotation_deg: float = 0.0) -> np.ndarray:
    """World unit directions (..., 3) of equirectangular coordinates ``u``, ``v`` (..., in [0, 1])."""
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    phi = (0.5 - u) * 2.0 * np.pi + np.deg2rad(rotation_deg)
    elevation = (0.5 - v) * np.pi
    cos_elevation = np.cos(elevation)
    return np.stack([cos_elevation * np.cos(phi), cos_elevation * np.sin(phi), np.sin(elevation)], axis=-1)


def direction_to_equirect(direction: np.ndarray, rotation_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) in [0, 1) x [0, 1] of world directions (..., 3) (need not be unit length)."""
    direction = np.asarray(direction, dtype=np.float64)
    x, y, z = direction[..., 0], direction[..., 1], direction[..., 2]
    phi = np.arctan2(y, x) - np.deg2rad(rotation_deg)
    u = np.mod(0.5 - phi / (2.0 * np.pi), 1.0)
    elevation = np.arctan2(z, np.hypot(x, y))
    return u, 0.5 - elevation / np.pi


def environment_rotation(rotation_deg: float) -> np.ndarray:
    """(4, 4) rotation about world +Z by ``rotation_deg`` (an environment's ``rotation_deg``)."""
    angle = np.deg2rad(rotation_deg)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.eye(4)
    rotation[:2, :2] = [[cos, -sin], [sin, cos]]
    return rotation
