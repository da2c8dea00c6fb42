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
    hold: float = 0.0
    """Seconds the camera rests at this key before moving on (later keys are delayed by it)."""


MOVE_TYPES = (
    "orbit", "dolly", "truck", "pedestal", "pan", "tilt", "roll", "crane", "zoom", "dolly_zoom",
    "flyover", "follow", "chase",
)  # fmt: skip


@dataclass
class CameraMove:
    """A parametric camera move (preset) applied on top of the camera's pose from ``start_time``
    for ``duration`` seconds (default: to the end of the clip), then held at its end state.

    Moves are applied in list order, so they chain continuously: each starts where the previous
    one left the camera. Types and the parameters they read:

    - ``orbit``: around ``center`` / ``target`` (default: the camera's look-at subject) at
      ``radius`` (default: current distance) and ``elevation_deg`` (default: current), from
      ``start_angle_deg`` (default: current azimuth) through ``sweep_deg``; looks at the centre.
    - ``dolly`` (+``distance`` metres forward, negative backs out), ``truck`` (right),
      ``pedestal`` (world up): translate, orientation kept.
    - ``crane``: rise ``distance`` metres (world up) while moving ``radius`` metres towards the
      subject (optional), still looking at the subject.
    - ``pan`` (about world up), ``tilt`` (about camera x, positive = up), ``roll`` (about the
      optical axis): rotate by ``angle_deg``.
    - ``zoom``: vertical field of view to ``end_fov_deg``.
    - ``dolly_zoom``: move ``distance`` metres towards the subject while the field of view
      changes so the subject keeps its image size.
    - ``flyover``: a straight pass of length ``distance`` at ``height`` over ``center`` along
      ``heading_deg``, looking ahead and ``angle_deg`` down.
    - ``follow``: stay at ``offset`` (world frame) from entity ``target``, looking at it.
    - ``chase``: stay ``distance`` metres behind entity ``target`` (along its direction of
      travel) and ``height`` above it, looking at it.
    """

    type: str = "orbit"
    start_time: float = 0.0
    duration: float | None = None
    easing: str = "ease_in_out"
    """linear | ease_in | ease_out | ease_in_out | smoothstep."""
    center: list[float] | None = None
    target: str | None = None
    radius: float | None = None
    elevation_deg: float | None = None
    start_angle_deg: float | None = None
    sweep_deg: float = 360.0
    distance: float = 1.0
    angle_deg: float = 30.0
    end_fov_deg: float | None = None
    offset: list[float] | None = None
    height: float = 2.0
    heading_deg: float = 0.0
    smoothing: float = 0.0
    """chase: time constant (s) over which the camera swings round to a new direction of travel."""


@dataclass
class CameraShake:
    """Handheld shake added last: smooth, seeded, zero-mean (no drift)."""

    amplitude_m: float = 0.01
    """Typical positional displacement, metres (per axis)."""
    amplitude_deg: float = 0.4
    """Typical angular displacement, degrees (per axis)."""
    frequency_hz: float = 1.2
    """Centre frequency of the wobble."""
    seed: int | None = None
    """Overrides the scene seed; draws come from ``rng_for(seed, "camera_shake")``."""


@dataclass
class CameraSegment:
    """One piece of a chained camera: from ``start_time`` it takes over from the previous segment,
    with a ``cut`` or a ``blend`` of ``blend_duration`` seconds. Unset fields inherit the camera's."""

    start_time: float = 0.0
    transition: str = "cut"
    """cut | blend."""
    blend_duration: float = 0.5
    position: list[float] | None = None
    look_at: list[float] | None = None
    target: str | None = None
    keyframes: list[CameraKeyframe] = field(default_factory=list)
    moves: list[CameraMove] = field(default_factory=list)
    fov_deg: float | None = None


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
    orient_along_path: bool = False
    """Keyframes: look along the direction of travel instead of at look-at points or rotations."""
    timing: str = "keys"
    """keys (reach each key at its time) | constant_speed (same path, equal arc length per second)."""
    easing: str = "linear"
    """Easing of the whole keyframed path: linear | ease_in | ease_out | ease_in_out | smoothstep."""
    roll_deg: float = 0.0
    """Roll about the optical axis, added to every key's roll (positive turns the image clockwise)."""
    focal_length_35mm: float | None = None
    """35 mm-equivalent focal length; overrides ``fov_deg`` where given."""
    moves: list[CameraMove] = field(default_factory=list)
    shake: CameraShake | None = None
    segments: list[CameraSegment] = field(default_factory=list)
    start_time: float | None = None
    """This camera's shot starts here (seconds); it is still evaluated over the whole clip."""
    end_time: float | None = None
    """This camera's shot ends here (seconds)."""
    exposure_ev: float | None = None
    """Exposure in stops applied to radiance before the tone curve (+1 = twice as bright); None:
    the scene's ``exposure_ev`` (0 by default)."""
    tonemap: str = "filmic"
    """Tone curve from radiance to display sRGB: ``filmic`` (an ACES fit) or ``standard`` (clip)."""
    aperture_f: float | None = None
    """f-number of the lens for depth of field in the reference renderer (None = pinhole)."""
    focus_distance: float | None = None
    """Metres along the optical axis to the plane in focus (default: autofocus on the image centre)."""
    focus_entity: str | None = None
    """An entity kept in focus (its origin's depth, per frame); overrides ``focus_distance``."""
