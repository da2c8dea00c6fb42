"""Pose helpers: scene ``Pose`` / ``Keyframe`` rotations to scipy ``Rotation`` and 4x4 matrices.

Conventions (model.py): ``euler_deg`` are extrinsic x, y, z angles (scipy ``"xyz"``), quaternions
are scalar last. Matrices are ``object_to_world`` (column vectors, translation in the last column).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from worldsim.errors import SceneError
from worldsim.scene.model import Pose

WORLD_UP = np.array([0.0, 0.0, 1.0])


def rotation_from(
    euler_deg: Sequence[float] | None, quat_xyzw: Sequence[float] | None, *, key_path: str = ""
) -> Rotation | None:
    """The rotation given by ``euler_deg`` or ``quat_xyzw`` (None when neither is given)."""
    if euler_deg is not None and quat_xyzw is not None:
        raise SceneError("give euler_deg or quat_xyzw, not both", key_path=key_path)
    try:
        if quat_xyzw is not None:
            quat = np.asarray(quat_xyzw, dtype=float)
            if quat.shape != (4,) or not np.all(np.isfinite(quat)) or np.linalg.norm(quat) < 1e-12:
                raise ValueError("quat_xyzw must be 4 finite numbers with a non-zero norm")
            return Rotation.from_quat(quat)
        if euler_deg is not None:
            angles = np.asarray(euler_deg, dtype=float)
            if angles.shape != (3,) or not np.all(np.isfinite(angles)):
                raise ValueError("euler_deg must be 3 finite numbers")
            return Rotation.from_euler("xyz", angles, degrees=True)
    except ValueError as error:
        raise SceneError(str(error), key_path=key_path) from None
    return None


def pose_rotation(pose: Pose, *, key_path: str = "") -> Rotation:
    """The rotation of ``pose`` (identity when it has none)."""
    rotation = rotation_from(pose.euler_deg, pose.quat_xyzw, key_path=key_path)
    return rotation if rotation is not None else Rotation.identity()


def pose_position(pose: Pose, *, key_path: str = "") -> np.ndarray:
    """(3,) float64 position of ``pose`` in metres."""
    position = np.asarray(pose.position, dtype=float)
    if position.shape != (3,) or not np.all(np.isfinite(position)):
        raise SceneError("position must be 3 finite numbers", key_path=f"{key_path}.position")
    return position


def pose_matrix(pose: Pose, *, key_path: str = "") -> np.ndarray:
    """(4, 4) float64 ``object_to_world`` of ``pose``."""
    matrix = np.eye(4)
    matrix[:3, :3] = pose_rotation(pose, key_path=key_path).as_matrix()
    matrix[:3, 3] = pose_position(pose, key_path=key_path)
    return matrix


def rotations_from(
    eulers: Sequence[Sequence[float] | None],
    quats: Sequence[Sequence[float] | None],
    key_paths: Sequence[str],
) -> tuple[Rotation, np.ndarray]:
    """M rotations given by ``eulers[i]`` or ``quats[i]`` (as ``rotation_from``, in one scipy call
    each) and an (M,) bool mask of those given; identity where neither is."""
    count = len(eulers)
    quat_rows = np.zeros((count, 4))
    quat_rows[:, 3] = 1.0
    by_euler = [i for i, value in enumerate(eulers) if value is not None]
    by_quat = [i for i, value in enumerate(quats) if value is not None]
    for i in set(by_euler) & set(by_quat):
        raise SceneError("give euler_deg or quat_xyzw, not both", key_path=key_paths[i])
    if by_euler:
        angles = _finite_rows([eulers[i] for i in by_euler], 3)
        if angles is None:
            for i in by_euler:
                rotation_from(eulers[i], None, key_path=key_paths[i])
        quat_rows[by_euler] = Rotation.from_euler("xyz", angles, degrees=True).as_quat()
    if by_quat:
        values = _finite_rows([quats[i] for i in by_quat], 4)
        if values is None or np.any(np.linalg.norm(values, axis=1) < 1e-12):
            for i in by_quat:
                rotation_from(None, quats[i], key_path=key_paths[i])
        quat_rows[by_quat] = Rotation.from_quat(values).as_quat()
    given = np.zeros(count, dtype=bool)
    given[by_euler + by_quat] = True
    # The quaternions are scipy's own (already unit): keep them bit for bit.
    return Rotation(quat_rows, normalize=False), given


def _finite_rows(values: Sequence[object], size: int) -> np.ndarray | None:
    """(M, size) float64 of ``values`` when each is ``size`` finite numbers, else None."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    if array.shape != (len(values), size) or not np.all(np.isfinite(array)):
        return None
    return array


def pose_rotations(poses: Sequence[Pose], key_paths: Sequence[str]) -> Rotation:
    """N rotations of ``poses`` (identity where a pose has none), as ``pose_rotation`` each."""
    rotations, _ = rotations_from([p.euler_deg for p in poses], [p.quat_xyzw for p in poses], key_paths)
    return rotations


def pose_positions(poses: Sequence[Pose], key_paths: Sequence[str]) -> np.ndarray:
    """(N, 3) float64 positions of ``poses`` in metres."""
    positions = _finite_rows([pose.position for pose in poses], 3)
    if positions is None:
        for pose, key_path in zip(poses, key_paths):
            pose_position(pose, key_path=key_path)
    return positions


def transforms(positions: np.ndarray, rotations: Rotation) -> np.ndarray:
    """(T, 4, 4) float64 matrices from (T, 3) positions and T rotations (or one, broadcast)."""
    positions = np.asarray(positions, dtype=float)
    count = len(positions)
    matrices = np.zeros((count, 4, 4))
    rotation_matrices = rotations.as_matrix()
    matrices[:, :3, :3] = rotation_matrices if rotation_matrices.ndim == 3 else rotation_matrices[None]
    matrices[:, :3, 3] = positions
    matrices[:, 3, 3] = 1.0
    return matrices


def frame_along(forward: np.ndarray, up: np.ndarray = WORLD_UP) -> np.ndarray:
    """(T, 3, 3) rotations whose +X is ``forward`` (T, 3) and whose +Z stays as close to ``up``.

    Where ``forward`` is parallel to ``up`` the frame falls back to world +Y as the side axis.
    """
    forward = np.asarray(forward, dtype=float)
    x_axis = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    y_axis = np.cross(up, x_axis)
    norms = np.linalg.norm(y_axis, axis=-1, keepdims=True)
    degenerate = norms[:, 0] < 1e-9
    y_axis[degenerate] = np.cross(x_axis[degenerate], np.array([1.0, 0.0, 0.0]))
    y_axis[degenerate] = np.where(
        np.linalg.norm(y_axis[degenerate], axis=-1, keepdims=True) < 1e-9,
        np.array([0.0, 1.0, 0.0]),
        y_axis[degenerate],
    )
    y_axis /= np.linalg.norm(y_axis, axis=-1, keepdims=True)
    z_axis = np.cross(x_axis, y_axis)
    return np.stack([x_axis, y_axis, z_axis], axis=-1)


def quat_slerp(quat_a: np.ndarray, quat_b: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """(N, 4) spherical interpolation of unit quaternions (any order) along the shorter arc."""
    fraction = np.asarray(fraction, dtype=float)[..., None]
    dot = np.sum(quat_a * quat_b, axis=-1, keepdims=True)
    quat_b = np.where(dot < 0.0, -quat_b, quat_b)
    dot = np.abs(dot)
    angle = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_angle = np.sin(angle)
    near = sin_angle < 1e-9
    safe = np.where(near, 1.0, sin_angle)
    weight_a = np.where(near, 1.0 - fraction, np.sin((1.0 - fraction) * angle) / safe)
    weight_b = np.where(near, fraction, np.sin(fraction * angle) / safe)
    result = weight_a * quat_a + weight_b * quat_b
    return result / np.linalg.norm(result, axis=-1, keepdims=True)


def compose_quats(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(N, 4) scalar-last quaternions of ``first * second`` (apply ``second``, then ``first``).

    scipy's composition formula, vectorised over components (scipy's ``Rotation.__mul__`` costs
    about 1 us per rotation); agrees with it to 1 ulp.
    """
    px, py, pz, pw = np.ascontiguousarray(first.T)
    qx, qy, qz, qw = np.ascontiguousarray(second.T)
    result = np.empty((4, len(first)))
    result[0] = pw * qx + qw * px + (py * qz - pz * qy)
    result[1] = pw * qy + qw * py + (pz * qx - px * qz)
    result[2] = pw * qz + qw * pz + (px * qy - py * qx)
    result[3] = pw * qw - (px * qx + py * qy + pz * qz)
    return result.T


def quat_matrices(quats: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotation matrices of (N, 4) unit scalar-last quaternions (scipy's ``as_matrix``
    formula term for term: bit-identical to it). The result is a view of a component-major array."""
    x, y, z, w = np.ascontiguousarray(quats.T)
    x2, y2, z2, w2 = x * x, y * y, z * z, w * w
    xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
    entries = np.empty((9, len(quats)))
    entries[0] = x2 - y2 - z2 + w2
    entries[1] = 2 * (xy - zw)
    entries[2] = 2 * (xz + yw)
    entries[3] = 2 * (xy + zw)
    entries[4] = -x2 + y2 - z2 + w2
    entries[5] = 2 * (yz - xw)
    entries[6] = 2 * (xz - yw)
    entries[7] = 2 * (yz + xw)
    entries[8] = -x2 - y2 + z2 + w2
    return entries.T.reshape(len(quats), 3, 3)
