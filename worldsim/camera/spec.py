"""The camera section of a scene: intrinsics and a pose over time (authoring data)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CameraKeyframe:
    """A camera key at time ``t`` (seconds). Orientation by ``look_at`` point, ``target`` entity,
    or explicit rotation (``euler_deg`` / ``quat_xyzw`` of the OpenCV camera frame in the world)."""

    t: float = 0.0
    position: list[float] | None = None
    look_at: list[float] | None = None
    target: str | None = None
    euler_deg: list[float] | None = None
    quat_xyzw: list[float] | None = None
    roll_deg: float = 0.0
    fov_deg: float | None = None
    """Vertical field of view at this key (zoom); defaults to the camera's."""


@dataclass
class CameraSpec:
    """A camera: intrinsics plus a pose over time.

    Pose: fixed ``position`` looking at ``look_at`` (a point) or ``target`` (an entity name,
    tracked as it moves), or ``keyframes``. ``up`` is the world direction that appears up in the
    image (default +Z).
    """

    name: str = "main"
    fov_deg: float = 50.0
    """Vertical field of view in degrees (ignored where ``fx`` is given)."""
    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None
    position: list[float] = field(default_factory=lambda: [4.0, -4.0, 3.0])
    look_at: list[float] | None = field(default_factory=lambda: [0.0, 0.0, 0.5])
    target: str | None = None
    up: list[float] = field(default_factory=lambda: [0.0, 0.0, 1.0])
    keyframes: list[CameraKeyframe] = field(default_factory=list)
    position_interpolation: str = "linear"
    """linear | catmull_rom | cubic."""
    rotation_interpolation: str = "slerp"
    """slerp | spline (for keyframes with explicit rotations)."""
