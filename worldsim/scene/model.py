"""The scene authoring model: plain dataclasses, one to one with the YAML scene format.

Every field name here is the YAML key of the same name. Units: metres, seconds, degrees where a
name ends in ``_deg``, linear RGB in [0, 1]. World frame: right-handed, Z up (see docs/ARCHITECTURE.md).
Rotations are given either as ``euler_deg`` (extrinsic x, y, z in degrees, scipy's ``"xyz"``)
or as ``quat_xyzw`` (scalar last, scipy's order); at most one of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worldsim.camera.spec import CameraSpec

PRIMITIVE_TYPES = ("box", "sphere", "cylinder", "capsule", "cone", "plane", "torus")
MESH_TYPES = (*PRIMITIVE_TYPES, "file")
TEXTURE_TYPES = ("solid", "checker", "noise", "stripes", "marble")
LIGHT_TYPES = ("sun", "point", "area", "environment")
LIGHT_INTENSITY_DEFAULTS = {"sun": 3.0, "point": 3.0, "area": 3.0, "environment": 1.0}
"""A light's ``intensity`` when a scene leaves it out, by type: an environment at 1.0 shows its map's
pixel values as radiance; sun, point and area lights keep their historical 3.0."""
MOTION_TYPES = ("static", "keyframes", "velocity", "orbit", "path", "attach")
PHYSICS_MODES = ("static", "kinematic", "dynamic")


@dataclass
class Pose:
    """A rigid transform: position in metres plus an optional rotation."""

    position: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    euler_deg: list[float] | None = None
    """Extrinsic x, y, z rotation angles in degrees (scipy ``"xyz"``)."""
    quat_xyzw: list[float] | None = None
    """Unit quaternion, scalar last."""


@dataclass
class MeshSpec:
    """A mesh: a trimesh primitive (sizes in metres) or a file.

    Primitives are centred on the object origin; ``plane`` lies in the object's XY plane.
    """

    type: str = "box"
    """One of ``box, sphere, cylinder, capsule, cone, plane, torus, file``."""
    size: list[float] | None = None
    """Box extents ``[x, y, z]`` or plane extents ``[x, y]``."""
    radius: float | None = None
    """Sphere, cylinder, capsule, cone radius; torus major radius."""
    height: float | None = None
    """Cylinder, cone height; capsule height of the cylindrical part."""
    minor_radius: float | None = None
    """Torus tube radius."""
    subdivisions: int | None = None
    """Sphere icosphere subdivisions or segment count of round primitives (quality knob)."""
    file: str | None = None
    """Path of an OBJ, PLY, STL, GLB or GLTF file, relative to the scene file."""
    scale: list[float] | None = None
    """Per-axis scale applied to the mesh in its object frame."""
    up_axis: str = "z"
    """The file's up axis (``y`` for most GLTF/OBJ exports); converted to worldsim's Z up."""
    center: bool = False
    """Move the loaded file's bounding-box centre to the object origin."""


@dataclass
class TextureSpec:
    """A procedural texture evaluated at object-frame points (no UVs needed)."""

    type: str = "solid"
    """One of ``solid, checker, noise, stripes, marble``."""
    color_a: list[float] | None = None
    """First colour (defaults to the material's base colour)."""
    color_b: list[float] = field(default_factory=lambda: [0.1, 0.1, 0.1])
    """Second colour."""
    scale: float = 0.25
    """Feature size in metres (checker cell, stripe period, noise wavelength)."""
    axis: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0])
    """Stripe / marble direction in the object frame."""
    octaves: int = 4
    """Noise octaves (noise, marble)."""
    seed: int | None = None
    """Explicit seed; by default derived from (scene seed, entity id)."""


@dataclass
class MaterialSpec:
    """Surface appearance data; renderers interpret it."""

    base_color: list[float] = field(default_factory=lambda: [0.8, 0.8, 0.8])
    texture: TextureSpec | None = None
    roughness: float = 0.5
    metallic: float = 0.0
    emission: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    emission_strength: float = 0.0
    bump_height: float = 0.0
    """Relief amplitude in metres of a seeded noise height field that perturbs the shading normal
    (0 = smooth); ``worldsim.scene.bump``. The geometry and the ``normal`` guidance stay unbumped."""
    bump_scale: float = 0.01
    """Wavelength in metres of the relief's coarsest octave."""


@dataclass
class Keyframe:
    """A pose at a time (seconds)."""

    t: float = 0.0
    position: list[float] | None = None
    euler_deg: list[float] | None = None
    quat_xyzw: list[float] | None = None


@dataclass
class MotionSpec:
    """Kinematic motion of an entity. Fields apply by ``type``.

    - ``static``: stays at its pose.
    - ``keyframes``: ``keyframes`` interpolated with ``position_interpolation`` (linear | cubic)
      and ``rotation_interpolation`` (slerp | spline); held constant outside the keyframe range.
    - ``velocity``: ``linear_velocity`` (m/s) and ``angular_velocity_deg`` (deg/s, world axes).
    - ``orbit``: around ``center`` or entity ``target`` on a circle of ``radius`` about ``axis``,
      one turn per ``period`` seconds, starting at ``phase_deg``; ``face_center`` turns the
      entity's +X toward the centre.
    - ``path``: along ``points`` (world), at ``speed`` m/s or over ``duration`` s, optionally
      ``closed`` and ``orient_along_path`` (+X along the tangent).
    - ``attach``: rigidly follows ``parent``; the entity's pose is relative to the parent.
    """

    type: str = "static"
    keyframes: list[Keyframe] = field(default_factory=list)
    position_interpolation: str = "linear"
    rotation_interpolation: str = "slerp"
    linear_velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    angular_velocity_deg: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    center: list[float] | None = None
    target: str | None = None
    radius: float = 1.0
    axis: list[float] = field(default_factory=lambda: [0.0, 0.0, 1.0])
    period: float = 4.0
    phase_deg: float = 0.0
    face_center: bool = False
    points: list[list[float]] = field(default_factory=list)
    speed: float | None = None
    duration: float | None = None
    closed: bool = False
    orient_along_path: bool = True
    interpolation: str = "linear"
    """Path interpolation: linear | cubic."""
    parent: str | None = None


@dataclass
class PhysicsSpec:
    """How the entity takes part in rigid-body simulation.

    ``static``: immovable collider. ``kinematic``: follows its motion and pushes dynamic bodies.
    ``dynamic``: simulated under gravity and contacts (its ``motion`` is ignored).
    """

    mode: str = "static"
    mass: float = 1.0
    friction: float = 0.8
    restitution: float = 0.0
    """0 = no bounce, 1 = elastic."""
    collision: str = "auto"
    """auto | primitive | convex_hull."""
    collides: bool = True
    """False: the entity is ignored by physics entirely (pure decoration)."""
    linear_velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    """Initial linear velocity of a dynamic body (m/s)."""
    angular_velocity_deg: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    """Initial angular velocity of a dynamic body (deg/s)."""


@dataclass
class EntitySpec:
    """A persistent object with a stable id."""

    name: str = ""
    semantic_class: str = "object"
    mesh: MeshSpec = field(default_factory=MeshSpec)
    material: MaterialSpec | str = field(default_factory=MaterialSpec)
    """An inline material, or the name of an entry of ``Scene.materials``."""
    pose: Pose = field(default_factory=Pose)
    motion: MotionSpec = field(default_factory=MotionSpec)
    physics: PhysicsSpec = field(default_factory=PhysicsSpec)
    spawn_time: float | None = None
    """Seconds; the entity exists from then on (default: from the start)."""
    despawn_time: float | None = None
    """Seconds; the entity no longer exists from then on (default: never)."""
    id: int | None = None
    """Assigned by ``Scene.add`` (declaration order); kept through YAML round trips."""
    description: str = ""
    """Words for this entity's look (``"a glossy red crate"``), over the scene ``prompt`` for it;
    read by renderers that take words (``diffusion`` in structure mode)."""


@dataclass
class LightSpec:
    """A light. Fields apply by ``type``.

    - ``sun``: parallel light along ``direction`` (pointing from the sun to the scene),
      ``intensity`` = irradiance (W/m^2), ``angle_deg`` angular diameter (soft shadows).
    - ``point``: at ``position``, ``intensity`` = radiant intensity (W/sr).
    - ``area``: rectangle of ``size`` at ``position`` facing ``look_at``, ``intensity`` = radiance.
    - ``environment``: ``hdri`` = a captured equirectangular map (a shipped name or a file path,
      ``worldsim.scene.hdri``) turned ``rotation_deg`` about world Z; without ``hdri``, ``sky`` =
      ``uniform`` (``color``) or ``procedural`` (gradient sky with a sun disc along ``direction``).
      ``intensity`` scales it.

    ``intensity`` left out (None) takes ``LIGHT_INTENSITY_DEFAULTS[type]`` on construction.
    """

    type: str = "sun"
    name: str = ""
    color: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    intensity: float | None = None
    direction: list[float] = field(default_factory=lambda: [-0.4, -0.3, -1.0])
    angle_deg: float = 2.0
    position: list[float] = field(default_factory=lambda: [0.0, 0.0, 5.0])
    size: list[float] = field(default_factory=lambda: [1.0, 1.0])
    look_at: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    sky: str = "uniform"
    hdri: str = ""
    """Environment only: a shipped map name (``sunset``, ...) or a path to an ``.exr`` / ``.hdr`` file."""
    rotation_deg: float = 0.0
    """Environment only: rotation of the map about world +Z, degrees (counter-clockwise from above)."""

    def __post_init__(self) -> None:
        if self.intensity is None:
            self.intensity = LIGHT_INTENSITY_DEFAULTS.get(self.type, LIGHT_INTENSITY_DEFAULTS["sun"])


@dataclass
class WorldSettings:
    """Physics settings; substeps are independent of the video fps.

    There is no implicit ground: a ground is an entity (usually a ``plane`` with static physics),
    so it has an id, a class and a material like everything else.
    """

    gravity: list[float] = field(default_factory=lambda: [0.0, 0.0, -9.81])
    physics_timestep: float = 0.00016
    """Seconds per physics substep (small enough for stiff contacts: see ``CONTACT_TIME_CONSTANT``
    in ``worldsim/world/physics.py``)."""


@dataclass
class RenderSettings:
    """What to render and how; renderer-specific options live in ``renderer_options``."""

    renderer: str | None = None
    """A registered renderer name; None (or ``default``) = ``RenderConfig.renderer``."""
    guidance_backend: str | None = None
    """None = ``RenderConfig.guidance_backend`` (``configs/render.yaml``)."""
    guidance: list[str] = field(default_factory=lambda: ["depth", "instance", "semantic", "normal", "flow"])
    """Guidance maps written to the clip folder."""
    samples_per_pixel: int | None = None
    """Paths per pixel for renderers that sample (the reference renderer); None = theirs."""
    renderer_options: dict[str, object] = field(default_factory=dict)


class DefaultList(list):
    """A list of defaults the user did not give (a scene's lights or cameras when none were named).

    ``Scene.add`` replaces them with what is added instead of adding beside them; written out, they
    are ordinary entries (a resolved ``scene.yaml`` names them explicitly).
    """


def default_lights() -> DefaultList:
    """The lights of a scene that names none: one sun, ``LightSpec()``."""
    return DefaultList([LightSpec()])


def default_cameras() -> DefaultList:
    """The cameras of a scene that names none: one camera ``main``, ``CameraSpec()``."""
    return DefaultList([CameraSpec()])


@dataclass
class SceneSpec:
    """A whole scene: what the YAML file holds. ``worldsim.Scene`` wraps it with the API."""

    name: str = "scene"
    seed: int = 0
    fps: float = 24.0
    num_frames: int | None = None
    duration: float | None = None
    """Seconds; give ``num_frames`` or ``duration`` (num_frames = round(duration * fps))."""
    resolution: list[int] = field(default_factory=lambda: [256, 256])
    """``[width, height]`` in pixels."""
    prompt: str = ""
    """Words for the clip's look; renderers that take words read it (``worldsim.text``)."""
    lighting: str = "given"
    """``given``: the scene's ``lights`` (words may add an environment only where it has none);
    ``auto``: words in the ``prompt`` choose the lights (``lights`` stay where they name none)."""
    materials: dict[str, MaterialSpec] = field(default_factory=dict)
    """Named materials that entities reference by name."""
    semantic_classes: dict[str, int] = field(default_factory=dict)
    """Class name to class id (>= 1). Classes not listed get the next free id in order of use."""
    entities: list[EntitySpec] = field(default_factory=list)
    lights: list[LightSpec] = field(default_factory=lambda: default_lights())
    """Absent: ``default_lights()`` (one sun); ``[]``: no light at all (a dark scene)."""
    cameras: list[CameraSpec] = field(default_factory=lambda: default_cameras())
    """Absent: ``default_cameras()`` (one camera ``main``); a scene needs at least one."""
    world: WorldSettings = field(default_factory=WorldSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    exposure_ev: float = 0.0
    """Exposure in stops of every camera that sets none (a camera's own ``exposure_ev`` wins)."""
    next_entity_id: int = 1
    """The id the next added entity gets; ids are never reused."""
    includes: list[str] = field(default_factory=list)
    """YAML files (relative to this one) whose ``materials`` and ``entities`` are merged in."""
