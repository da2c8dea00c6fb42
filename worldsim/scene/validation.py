"""Semantic checks of a scene: every problem collected, then one SceneError listing them all."""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

from worldsim.camera.lens import TONEMAP_NAMES
from worldsim.camera.spec import MOVE_TYPES, CameraKeyframe, CameraSpec
from worldsim.clip.layout import GUIDANCE_MAPS
from worldsim.errors import AssetError, SceneError
from worldsim.scene.hdri import load_hdri, resolve_hdri
from worldsim.scene.limits import LIMITS_FILE, LIMITS_FILE_NAME, Limits, load_limits, over_limit
from worldsim.scene.material_presets import MATERIAL_PRESETS
from worldsim.scene.model import (
    LIGHT_TYPES,
    MESH_TYPES,
    MOTION_TYPES,
    PHYSICS_MODES,
    PRIMITIVE_TYPES,
    TEXTURE_TYPES,
    EntitySpec,
    Keyframe,
    LightSpec,
    MaterialSpec,
    SceneSpec,
)
from worldsim.scene.schema import join_path

LOGGER = logging.getLogger(__name__)
POSITION_INTERPOLATIONS = ("linear", "cubic")
ROTATION_INTERPOLATIONS = ("slerp", "spline")
CAMERA_POSITION_INTERPOLATIONS = ("linear", "catmull_rom", "cubic")
UP_AXES = ("x", "y", "z", "-x", "-y", "-z")
COLLISION_MODES = ("auto", "primitive", "convex_hull")
SKY_TYPES = ("uniform", "procedural")
MAX_EXPOSURE_EV = 20.0
"""Largest exposure a camera may ask for, in stops either way."""
CAMERA_TIMINGS = ("keys", "constant_speed")
SEGMENT_TRANSITIONS = ("cut", "blend")
EASINGS = ("linear", "ease_in", "ease_out", "ease_in_out", "smoothstep")
MAX_ENTITY_ID = 65535
MAX_CLASS_ID = 65535
"""Semantic maps are uint16, 0 = background."""
LOOK_AT_TOLERANCE_M = 1e-6
"""Distance under which a look-at point counts as the camera position."""
TARGET_MOVES = ("follow", "chase")
"""Camera moves that need a ``target`` entity."""
EVALUATION_POSE_BUDGET = 2_000_000
"""Entity poses (frames x entities) the evaluation check computes; longer clips are checked at
evenly spaced frames (first and last included)."""

QUANTITIES: dict[str, str] = {
    **dict.fromkeys(
        ("position", "look_at", "center", "points", "offset", "radius", "distance", "height", "up", "axis",
         "direction", "amplitude_m", "minor_radius", "LightSpec.size"),
        "length",
    ),
    **dict.fromkeys(("MeshSpec.size", "MeshSpec.radius", "MeshSpec.height", "MeshSpec.minor_radius"), "size"),
    "MeshSpec.scale": "scale",
    "linear_velocity": "speed",
    "speed": "speed",
    "angular_velocity_deg": "angular_speed",
    "gravity": "acceleration",
    "mass": "mass",
    "friction": "friction",
    **dict.fromkeys(("period", "duration", "blend_duration"), "duration"),
    **dict.fromkeys(
        ("t", "spawn_time", "despawn_time", "start_time", "end_time", "hold", "smoothing"), "time"
    ),
}  # fmt: skip
"""Field (``Class.field`` first, then ``field``) -> the physical quantity whose range it must keep."""
UNRANGED_FIELDS = frozenset(
    {"id", "next_entity_id", "seed", "subdivisions", "semantic_classes", "renderer_options"}
)
UNRANGED = "unranged"
"""Fields whose numbers have checks of their own (ids, seeds) or belong to someone else (renderer options)."""

__all__ = ["LIMITS_FILE", "Limits", "collect_issues", "load_limits", "validate_scene"]


class _Issues:
    """Collects ``(key_path, reason)`` pairs."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, reason: str) -> None:
        self.items.append((path, reason))

    def choice(self, path: str, value: Any, allowed: tuple[str, ...], what: str) -> None:
        if value in allowed:
            return
        close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.add(path, f"unknown {what} '{value}'{hint}; expected one of {', '.join(allowed)}")

    def positive(self, path: str, value: float | None, what: str) -> None:
        if value is not None and not value > 0:
            self.add(path, f"{what} must be positive, got {value}")

    def unit_interval(self, path: str, value: float, what: str) -> None:
        if not 0.0 <= value <= 1.0:
            self.add(path, f"{what} must be in [0, 1], got {value}")

    def color(self, path: str, value: list[float] | None) -> None:
        if value is not None and any(channel < 0 for channel in value):
            self.add(path, f"colour channels must not be negative, got {value}")

    def rotation(self, path: str, euler: list[float] | None, quat: list[float] | None) -> None:
        if euler is not None and quat is not None:
            self.add(path, "give either euler_deg or quat_xyzw, not both")
        if quat is not None and math.sqrt(sum(q * q for q in quat)) < 1e-12:
            self.add(f"{path}.quat_xyzw" if path else "quat_xyzw", "quaternion must not be zero")

    def look_at(self, path: str, position: list[float] | None, look_at: list[float] | None) -> None:
        if position is None or look_at is None or len(position) != len(look_at):
            return
        if math.dist(position, look_at) < LOOK_AT_TOLERANCE_M:
            self.add(
                f"{path}.look_at",
                f"look_at {list(look_at)} is the camera position: the camera has no view direction",
            )

    def entity_ref(self, path: str, name: str | None, names: set[str], what: str) -> None:
        if name is None or name in names:
            return
        close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.add(path, f"{what} refers to unknown entity '{name}'{hint}")


LIGHTING_MODES = ("given", "auto")
"""``SceneSpec.lighting``: the scene's lights as given, or chosen by the prompt's words."""


def validate_scene(
    scene: SceneSpec, *, file: str | None = None, limits: Limits | None = None, evaluate: bool = True
) -> None:
    """Raise one SceneError listing every problem of ``scene`` (nothing when it is valid).

    Checks everything that can be known without rendering: the semantic checks of
    ``collect_issues`` (mesh files opened and parsed included) and, with ``evaluate`` and when
    those pass, every motion and camera path evaluated over the clip's frames (physics bodies held
    at their initial pose; nothing simulated or rendered). ``file`` names the scene file in
    messages (default: ``scene.source_file`` where present).
    """
    issues = collect_issues(scene, limits=limits)
    if not issues and evaluate:
        issues = evaluation_issues(scene)
    if issues:
        source = file if file is not None else getattr(scene, "source_file", None)
        raise SceneError(issues[0][1], issues=[(source, path, reason) for path, reason in issues])


def collect_issues(scene: SceneSpec, *, limits: Limits | None = None) -> list[tuple[str, str]]:
    """Every problem of ``scene`` found without evaluating it, as ``(key_path, reason)``."""
    limits = limits or load_limits()
    issues = _Issues()
    _check_timing(scene, issues, limits)
    _check_values(scene, issues, limits)
    names = {entity.name for entity in scene.entities}
    _check_entities(scene, issues, names, limits)
    for name, material in scene.materials.items():
        _check_material(join_path("materials", name), material, issues)
    _warn_shadowed_presets(scene)
    _check_lights(scene, issues)
    _check_cameras(scene, issues, names)
    _check_exposure("exposure_ev", scene.exposure_ev, issues)
    if scene.lighting not in LIGHTING_MODES:
        issues.add("lighting", f"must be one of {', '.join(LIGHTING_MODES)}, got {scene.lighting!r}")
    _check_render(scene, issues)
    seen_class_ids: dict[int, str] = {}
    for name, class_id in scene.semantic_classes.items():
        if class_id < 1:
            issues.add(join_path("semantic_classes", name), f"class ids must be >= 1, got {class_id}")
        elif class_id > MAX_CLASS_ID:
            issues.add(
                join_path("semantic_classes", name),
                f"class ids must be <= {MAX_CLASS_ID} (semantic maps are uint16), got {class_id}",
            )
        elif class_id in seen_class_ids:
            issues.add(
                join_path("semantic_classes", name),
                f"duplicate class id {class_id} (also used by '{seen_class_ids[class_id]}')",
            )
        seen_class_ids.setdefault(class_id, name)
    return issues.items


def evaluation_issues(scene: SceneSpec) -> list[tuple[str, str]]:
    """The first problem met evaluating ``scene``'s motions, colliders and cameras, as
    ``[(key_path, reason)]`` (empty when there is none); call on a scene ``collect_issues`` passes.

    Physics is not simulated: dynamic entities stay at their initial pose, which is enough to
    evaluate everything that depends on them (attachments, orbit and camera targets).
    """
    from worldsim.world.world import World

    try:
        World(scene)  # type: ignore[arg-type]
        _evaluate(scene)
    except (SceneError, AssetError) as error:
        return [(error.key_path, error.reason)]
    return []


def _evaluate(scene: Any) -> None:
    import numpy as np

    from worldsim.camera.evaluate import evaluate_camera
    from worldsim.world.colliders import collision_shapes
    from worldsim.world.kinematics import evaluate_motions
    from worldsim.world.rotations import pose_matrix

    entities = sorted(scene.entities, key=lambda entity: int(entity.id))
    key_paths = {entity.name: f"entities[{index}]" for index, entity in enumerate(scene.entities)}
    base_dir = _base_dir(scene)
    count = scene.frame_count
    times = np.arange(count) / float(scene.fps)
    if count * max(1, len(entities)) > EVALUATION_POSE_BUDGET:
        sampled = max(2, EVALUATION_POSE_BUDGET // max(1, len(entities)))
        times = times[np.unique(np.linspace(0, count - 1, sampled).round().astype(int))]
    simulated = [
        entity for entity in entities if entity.physics.mode == "dynamic" and entity.physics.collides
    ]
    held = {
        entity.name: np.broadcast_to(
            pose_matrix(entity.pose, key_path=f"{key_paths[entity.name]}.pose"), (len(times), 4, 4)
        )
        for entity in simulated
    }
    kinematic = [entity.name for entity in entities if entity.name not in held]
    poses = {**held, **evaluate_motions(entities, times, names=kinematic, known=held)}
    for entity in entities:
        if entity.physics.collides:
            collision_shapes(entity, base_dir, key_paths[entity.name])

    def entity_position(name: str, frames: np.ndarray) -> np.ndarray:
        if name not in poses:
            raise SceneError(f"camera target {name!r} is not an entity", key_path="cameras")
        return poses[name][np.asarray(frames), :3, 3]

    resolution = (int(scene.resolution[0]), int(scene.resolution[1]))
    for index, spec in enumerate(scene.cameras):
        evaluate_camera(
            spec,
            times,
            resolution,
            entity_position=entity_position,
            scene_seed=int(scene.seed),
            scene_exposure_ev=float(scene.exposure_ev),
            key_path=f"cameras[{index}]",
        )


def _base_dir(scene: Any) -> Path | None:
    source = getattr(scene, "source_file", None)
    return Path(source).resolve().parent if source else None


QUANTITY_LIMITS: dict[str, tuple[str | None, str, str]] = {
    "length": (None, "max_length_m", " m"),
    "size": ("min_size_m", "max_length_m", " m"),
    "scale": ("min_size_m", "max_length_m", ""),
    "speed": (None, "max_speed_m_s", " m/s"),
    "angular_speed": (None, "max_angular_speed_deg_s", " deg/s"),
    "acceleration": (None, "max_acceleration_m_s2", " m/s^2"),
    "mass": ("min_mass_kg", "max_mass_kg", " kg"),
    "friction": (None, "max_friction", ""),
    "duration": ("min_duration_s", "max_time_s", " s"),
    "time": (None, "max_time_s", " s"),
    "": (None, "max_magnitude", ""),
}
"""Quantity -> (the ``Limits`` field of its smallest non-zero magnitude, of its largest, unit)."""


@cache
def _field_kinds(cls: type) -> tuple[tuple[str, str], ...]:
    """``(field name, quantity)`` of a scene dataclass's fields to walk."""
    return tuple(
        (
            item.name,
            UNRANGED
            if item.name in UNRANGED_FIELDS
            else QUANTITIES.get(f"{cls.__name__}.{item.name}", QUANTITIES.get(item.name, "")),
        )
        for item in dataclasses.fields(cls)
        if item.name != "source_file"
    )


def _path_text(parts: tuple[str | int, ...]) -> str:
    path = ""
    for part in parts:
        path = join_path(path, part)
    return path


def _check_values(scene: SceneSpec, issues: _Issues, limits: Limits) -> None:
    """One walk over every value of the scene (a Python-built scene too): strings over
    ``max_string_length``; numbers outside the physical range of their quantity (``QUANTITIES``:
    a camera 1e308 m away overflows, a 1e-308 kg body or a gravity of 1e308 makes the physics
    blow up). Paths are only spelled out for a problem."""
    string_limit = limits.max_string_length
    ranges = {
        kind: (getattr(limits, low) if low is not None else 0.0, getattr(limits, high))
        for kind, (low, high, _) in QUANTITY_LIMITS.items()
    }

    def report_number(value: float, kind: str, parts: tuple[str | int, ...]) -> None:
        low_key, high_key, unit = QUANTITY_LIMITS[kind]
        smallest, largest = ranges[kind]
        if abs(value) > largest:
            bound, key, word = largest, high_key, "most"
        else:
            bound, key, word = smallest, low_key, "least"
        issues.add(
            _path_text(parts),
            f"{value:g}{unit} is out of range: at {word} {bound:g}{unit} in magnitude "
            f"({key} in {LIMITS_FILE_NAME})",
        )

    def scalar(value: Any, kind: str, parts: tuple[str | int, ...], key: str | int) -> bool:
        """Check ``value`` if it is a number or string (True), else leave it to ``walk``."""
        kind_of = type(value)
        if kind_of is float or kind_of is int:
            if kind != UNRANGED:
                smallest, largest = ranges[kind]
                magnitude = abs(value)
                if (magnitude > largest or 0 < magnitude < smallest) and math.isfinite(magnitude):
                    report_number(float(value), kind, (*parts, key))
            return True
        if kind_of is str:
            if len(value) > string_limit:
                length = len(value)
                reason = over_limit("a string of", length, string_limit, "max_string_length", " characters")
                issues.add(_path_text((*parts, key)), reason)
            return True
        return value is None or kind_of is bool

    def walk(value: Any, kind: str, parts: tuple[str | int, ...]) -> None:
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if not scalar(item, kind, parts, index):
                    walk(item, kind, (*parts, index))
        elif isinstance(value, dict):
            for key, item in value.items():
                name = str(key)[:200]
                scalar(key, UNRANGED, parts, name)
                if not scalar(item, kind, parts, name):
                    walk(item, kind, (*parts, name))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for name, field_kind in _field_kinds(type(value)):
                item = getattr(value, name)
                if not scalar(item, field_kind, parts, name):
                    walk(item, field_kind, (*parts, name))

    walk(scene, "", ())


def _check_render(scene: SceneSpec, issues: _Issues) -> None:
    for index, name in enumerate(scene.render.guidance):
        issues.choice(f"render.guidance[{index}]", name, GUIDANCE_MAPS, "guidance map")


def _check_timing(scene: SceneSpec, issues: _Issues, limits: Limits) -> None:
    issues.positive("fps", scene.fps, "fps")
    if scene.num_frames is not None and scene.duration is not None:
        issues.add("num_frames", "give either num_frames or duration, not both")
    issues.positive("num_frames", scene.num_frames, "num_frames")
    issues.positive("duration", scene.duration, "duration")
    if scene.fps > 0:
        frames = scene.num_frames
        if frames is None and scene.duration is not None and scene.duration > 0:
            frames = math.floor(scene.duration * scene.fps + 0.5)
        elif frames is None:
            frames = round(scene.fps)  # one second: Scene.frame_count's default
        key = "num_frames" if scene.num_frames is not None else "duration" if scene.duration else "fps"
        if frames is not None and frames > limits.max_frames:
            issues.add(
                key,
                f"{frames} frames is over the configured limit of {limits.max_frames} "
                f"(max_frames in configs/limits.yaml)",
            )
        elif frames is not None and frames > 0:
            _check_physics_steps(scene, frames, issues, limits)
        timestep = scene.world.physics_timestep
        if timestep > 1.0 / scene.fps:
            issues.add(
                "world.physics_timestep",
                f"physics_timestep {timestep} s is longer than one frame (1/fps = {1.0 / scene.fps:.6g} s)",
            )
    issues.positive("world.physics_timestep", scene.world.physics_timestep, "physics_timestep")
    width, height = scene.resolution
    for index, (value, limit, what) in enumerate(
        ((width, limits.max_width, "width"), (height, limits.max_height, "height"))
    ):
        if value <= 0:
            issues.add(f"resolution[{index}]", f"{what} must be positive, got {value}")
        elif value > limit:
            issues.add(
                f"resolution[{index}]",
                f"{what} {value} is over the configured limit of {limit} (max_{what} in configs/limits.yaml)",
            )


def _check_physics_steps(scene: SceneSpec, frames: int, issues: _Issues, limits: Limits) -> None:
    """Physics steps the clip needs (simulated scenes only): a tiny fps or timestep can ask for
    more steps than anyone could wait for."""
    timestep = scene.world.physics_timestep
    simulated = any(e.physics.mode == "dynamic" and e.physics.collides for e in scene.entities)
    if not simulated or not timestep > 0:
        return
    steps = (frames - 1) / scene.fps / timestep
    if steps > limits.max_physics_steps:
        issues.add(
            "world.physics_timestep",
            f"the clip lasts {(frames - 1) / scene.fps:.6g} s: {steps:.3g} physics steps of {timestep:g} s "
            f"are over the configured limit of {limits.max_physics_steps} "
            f"(max_physics_steps in {LIMITS_FILE_NAME})",
        )


def _check_entities(scene: SceneSpec, issues: _Issues, names: set[str], limits: Limits) -> None:
    base_dir = _base_dir(scene)
    if len(scene.entities) > limits.max_entities:
        issues.add(
            "entities",
            f"{len(scene.entities)} entities is over the configured limit of "
            f"{limits.max_entities} (max_entities in configs/limits.yaml)",
        )
    seen_names: dict[str, int] = {}
    seen_ids: dict[int, int] = {}
    for index, entity in enumerate(scene.entities):
        path = f"entities[{index}]"
        if not entity.name:
            issues.add(f"{path}.name", "entity name must not be empty")
        elif entity.name in seen_names:
            issues.add(
                f"{path}.name",
                f"duplicate entity name '{entity.name}' (also entities[{seen_names[entity.name]}])",
            )
        seen_names.setdefault(entity.name, index)
        if entity.id is not None:
            if not 1 <= entity.id < MAX_ENTITY_ID:
                issues.add(f"{path}.id", f"entity ids must be in [1, {MAX_ENTITY_ID - 1}], got {entity.id}")
            elif entity.id in seen_ids:
                issues.add(
                    f"{path}.id", f"duplicate entity id {entity.id} (also entities[{seen_ids[entity.id]}])"
                )
            seen_ids.setdefault(entity.id, index)
            if entity.id >= scene.next_entity_id:
                issues.add(
                    "next_entity_id",
                    f"next_entity_id {scene.next_entity_id} must be greater "
                    f"than every entity id (entities[{index}].id = {entity.id})",
                )
        _check_mesh(f"{path}.mesh", entity, issues, base_dir, limits)
        if isinstance(entity.material, str):
            if entity.material not in scene.materials and entity.material not in MATERIAL_PRESETS:
                known = [*scene.materials, *MATERIAL_PRESETS]
                close = difflib.get_close_matches(entity.material, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                issues.add(f"{path}.material", f"unknown material '{entity.material}'{hint}")
        else:
            _check_material(f"{path}.material", entity.material, issues)
        issues.rotation(f"{path}.pose", entity.pose.euler_deg, entity.pose.quat_xyzw)
        _check_motion(f"{path}.motion", entity, issues, names)
        _check_physics(f"{path}.physics", entity, issues)
        spawn, despawn = entity.spawn_time, entity.despawn_time
        if spawn is not None and despawn is not None and spawn >= despawn:
            issues.add(f"{path}.despawn_time", f"despawn_time {despawn} must be after spawn_time {spawn}")
    _check_attach_cycles(scene, issues)


def primitive_triangles(kind: str, subdivisions: int) -> float:
    """About how many triangles ``load_mesh`` builds for a primitive of ``subdivisions``
    (icosphere levels for a sphere, segments for round shapes, cells per side for a plane)."""
    if kind == "sphere":
        return 20.0 * 4.0 ** min(subdivisions, 64)
    if kind in ("capsule", "torus"):
        return 2.0 * subdivisions * max(subdivisions // 2, 4)
    if kind == "plane":
        return 2.0 * subdivisions * subdivisions
    if kind in ("cylinder", "cone"):
        return 4.0 * subdivisions
    return 12.0


def _check_mesh(
    path: str, entity: EntitySpec, issues: _Issues, base_dir: Path | None, limits: Limits
) -> None:
    mesh = entity.mesh
    issues_before = len(issues.items)
    issues.choice(f"{path}.type", mesh.type, MESH_TYPES, "mesh type")
    issues.choice(f"{path}.up_axis", mesh.up_axis, UP_AXES, "up_axis")
    for key in ("radius", "height", "minor_radius"):
        issues.positive(f"{path}.{key}", getattr(mesh, key), key)
    if mesh.subdivisions is not None and mesh.subdivisions < 0:
        issues.add(f"{path}.subdivisions", f"subdivisions must not be negative, got {mesh.subdivisions}")
    elif mesh.subdivisions is not None and mesh.type in PRIMITIVE_TYPES:
        triangles = primitive_triangles(mesh.type, mesh.subdivisions)
        if triangles > limits.max_primitive_triangles:
            issues.add(
                f"{path}.subdivisions",
                f"subdivisions {mesh.subdivisions} make a {mesh.type} of about {triangles:.3g} triangles, "
                f"over the configured limit of {limits.max_primitive_triangles} "
                f"(max_primitive_triangles in {LIMITS_FILE_NAME})",
            )
    if mesh.size is not None:
        if mesh.type == "box" and len(mesh.size) != 3:
            issues.add(f"{path}.size", f"a box size is [x, y, z], got {len(mesh.size)} numbers")
        elif mesh.type == "plane" and len(mesh.size) not in (2, 3):
            issues.add(f"{path}.size", f"a plane size is [x, y], got {len(mesh.size)} numbers")
        for axis, value in enumerate(mesh.size):
            if not value > 0:
                issues.add(f"{path}.size[{axis}]", f"size must be positive, got {value}")
    if mesh.scale is not None:
        for axis, value in enumerate(mesh.scale):
            if value == 0:
                issues.add(f"{path}.scale[{axis}]", "scale must not be zero")
    if mesh.type == "file":
        if not mesh.file:
            issues.add(f"{path}.file", "a mesh of type 'file' needs a file")
        else:
            file = Path(mesh.file).expanduser()
            if base_dir is not None and not file.is_absolute():
                file = base_dir / file
            if not file.is_file():
                issues.add(f"{path}.file", f"mesh file not found: {file}")
            elif not os.access(file, os.R_OK):
                issues.add(f"{path}.file", f"mesh file is not readable: {file}")
    elif mesh.file is not None and mesh.type in PRIMITIVE_TYPES:
        issues.add(f"{path}.file", f"a file is only used with type 'file', not '{mesh.type}'")
    if len(issues.items) == issues_before:
        _check_mesh_loads(path, entity, issues, base_dir)


def _check_mesh_loads(path: str, entity: EntitySpec, issues: _Issues, base_dir: Path | None) -> None:
    """Open and parse the mesh (files: corrupt, empty, unsupported type...), as rendering will."""
    from worldsim.scene.meshes import load_mesh

    try:
        load_mesh(entity.mesh, base_dir, key_path=path)
    except AssetError as error:
        where = f" ({error.file})" if error.file and error.file not in error.reason else ""
        issues.add(error.key_path or path, f"{error.reason}{where}")


def _check_material(path: str, material: MaterialSpec, issues: _Issues) -> None:
    issues.color(f"{path}.base_color", material.base_color)
    issues.color(f"{path}.emission", material.emission)
    issues.unit_interval(f"{path}.roughness", material.roughness, "roughness")
    issues.unit_interval(f"{path}.metallic", material.metallic, "metallic")
    if material.emission_strength < 0:
        issues.add(
            f"{path}.emission_strength",
            f"emission_strength must not be negative, got {material.emission_strength}",
        )
    _check_bump(path, material, issues)
    texture = material.texture
    if texture is not None:
        issues.choice(f"{path}.texture.type", texture.type, TEXTURE_TYPES, "texture type")
        issues.color(f"{path}.texture.color_a", texture.color_a)
        issues.color(f"{path}.texture.color_b", texture.color_b)
        issues.positive(f"{path}.texture.scale", texture.scale, "texture scale")
        if texture.octaves < 1:
            issues.add(f"{path}.texture.octaves", f"octaves must be >= 1, got {texture.octaves}")


def _check_bump(path: str, material: MaterialSpec, issues: _Issues) -> None:
    if not (math.isfinite(material.bump_height) and material.bump_height >= 0.0):
        issues.add(f"{path}.bump_height", f"bump_height must be >= 0 metres, got {material.bump_height}")
    issues.positive(f"{path}.bump_scale", material.bump_scale, "bump_scale")


def _check_keyframe_times(
    path: str, keyframes: list[Keyframe] | list[CameraKeyframe], issues: _Issues
) -> None:
    for index in range(1, len(keyframes)):
        previous, current = keyframes[index - 1].t, keyframes[index].t
        if not current > previous:
            issues.add(
                f"{path}[{index}].t",
                f"keyframe times must be strictly increasing: {current} follows {previous}",
            )


def _check_motion(path: str, entity: EntitySpec, issues: _Issues, names: set[str]) -> None:
    motion = entity.motion
    issues.choice(f"{path}.type", motion.type, MOTION_TYPES, "motion type")
    issues.choice(
        f"{path}.position_interpolation",
        motion.position_interpolation,
        POSITION_INTERPOLATIONS,
        "interpolation",
    )
    issues.choice(
        f"{path}.rotation_interpolation",
        motion.rotation_interpolation,
        ROTATION_INTERPOLATIONS,
        "interpolation",
    )
    issues.choice(f"{path}.interpolation", motion.interpolation, POSITION_INTERPOLATIONS, "interpolation")
    _check_keyframe_times(f"{path}.keyframes", motion.keyframes, issues)
    for index, key in enumerate(motion.keyframes):
        issues.rotation(f"{path}.keyframes[{index}]", key.euler_deg, key.quat_xyzw)
    if motion.type == "keyframes" and not motion.keyframes:
        issues.add(f"{path}.keyframes", "a keyframes motion needs at least one keyframe")
    if motion.type == "orbit":
        issues.positive(f"{path}.radius", motion.radius, "orbit radius")
        issues.positive(f"{path}.period", motion.period, "orbit period")
        if math.sqrt(sum(a * a for a in motion.axis)) < 1e-12:
            issues.add(f"{path}.axis", "orbit axis must not be zero")
    issues.entity_ref(f"{path}.target", motion.target, names, "orbit target")
    if motion.target is not None and motion.target == entity.name:
        issues.add(f"{path}.target", "an entity cannot orbit itself")
    if motion.type == "path":
        if len(motion.points) < 2:
            issues.add(f"{path}.points", f"a path needs at least 2 points, got {len(motion.points)}")
        if motion.speed is None and motion.duration is None:
            issues.add(f"{path}.speed", "a path motion needs speed or duration")
        elif motion.speed is not None and motion.duration is not None:
            issues.add(f"{path}.speed", "give either speed or duration, not both")
    issues.positive(f"{path}.speed", motion.speed, "speed")
    issues.positive(f"{path}.duration", motion.duration, "duration")
    if motion.type == "attach" and motion.parent is None:
        issues.add(f"{path}.parent", "an attach motion needs a parent entity")
    issues.entity_ref(f"{path}.parent", motion.parent, names, "attach parent")


def _check_attach_cycles(scene: SceneSpec, issues: _Issues) -> None:
    parents = {
        entity.name: entity.motion.parent
        for entity in scene.entities
        if entity.motion.type == "attach" and entity.motion.parent is not None
    }
    index_of = {entity.name: index for index, entity in enumerate(scene.entities)}
    reported: set[str] = set()
    for start in parents:
        chain = [start]
        node = parents.get(start)
        while node is not None and node not in chain:
            chain.append(node)
            node = parents.get(node)
        if node is not None and node == start and start not in reported:
            reported.update(chain)
            issues.add(
                f"entities[{index_of[start]}].motion.parent", f"attach cycle: {' -> '.join([*chain, start])}"
            )


def _check_physics(path: str, entity: EntitySpec, issues: _Issues) -> None:
    physics = entity.physics
    issues.choice(f"{path}.mode", physics.mode, PHYSICS_MODES, "physics mode")
    issues.choice(f"{path}.collision", physics.collision, COLLISION_MODES, "collision mode")
    issues.positive(f"{path}.mass", physics.mass, "mass")
    if physics.friction < 0:
        issues.add(f"{path}.friction", f"friction must not be negative, got {physics.friction}")
    issues.unit_interval(f"{path}.restitution", physics.restitution, "restitution")


def _check_lights(scene: SceneSpec, issues: _Issues) -> None:
    for index, light in enumerate(scene.lights):
        path = f"lights[{index}]"
        issues.choice(f"{path}.type", light.type, LIGHT_TYPES, "light type")
        issues.color(f"{path}.color", light.color)
        if light.intensity < 0:
            issues.add(f"{path}.intensity", f"intensity must not be negative, got {light.intensity}")
        if light.type == "environment":
            issues.choice(f"{path}.sky", light.sky, SKY_TYPES, "sky")
        _check_hdri(path, light, getattr(scene, "source_file", None), issues)
        if light.type == "area":
            for axis, value in enumerate(light.size):
                issues.positive(f"{path}.size[{axis}]", value, "area light size")
        if light.type == "sun" and math.sqrt(sum(d * d for d in light.direction)) < 1e-12:
            issues.add(f"{path}.direction", "sun direction must not be zero")


def shadowed_presets(scene: SceneSpec) -> list[str]:
    """Names of the scene's ``materials`` that hide a preset of the same name."""
    return [name for name in scene.materials if name in MATERIAL_PRESETS]


def _warn_shadowed_presets(scene: SceneSpec) -> None:
    for name in shadowed_presets(scene):
        LOGGER.warning(
            "%smaterials.%s: the scene's own material %r shadows the preset of the same name",
            f"{scene.source_file}: " if getattr(scene, "source_file", None) else "",
            name,
            name,
        )


def _check_hdri(path: str, light: LightSpec, scene_file: str | None, issues: _Issues) -> None:
    """An environment's captured map: a known name or a readable 2:1 ``.exr`` / ``.hdr``; a finite
    rotation; ``hdri`` and ``rotation_deg`` only on environment lights."""
    if not math.isfinite(light.intensity):
        issues.add(f"{path}.intensity", f"intensity must be finite, got {light.intensity}")
    if not math.isfinite(light.rotation_deg):
        issues.add(f"{path}.rotation_deg", f"rotation_deg must be finite, got {light.rotation_deg}")
    if not light.hdri:
        return
    if light.type != "environment":
        issues.add(f"{path}.hdri", f"hdri applies to environment lights only (this light is {light.type!r})")
        return
    try:
        load_hdri(resolve_hdri(light.hdri, scene_file, key_path=f"{path}.hdri"), key_path=f"{path}.hdri")
    except AssetError as error:
        issues.add(
            f"{path}.hdri",
            error.reason
            if error.file is None or error.file == scene_file
            else f"{error.file}: {error.reason}",
        )


def _check_exposure(path: str, exposure_ev: float | None, issues: _Issues) -> None:
    """An exposure in stops (None: not set) must be a finite number within +-MAX_EXPOSURE_EV."""
    if exposure_ev is None:
        return
    if isinstance(exposure_ev, bool) or not isinstance(exposure_ev, int | float):
        issues.add(path, f"exposure_ev must be a number of stops, got {exposure_ev!r}")
    elif not math.isfinite(exposure_ev) or abs(exposure_ev) > MAX_EXPOSURE_EV:
        issues.add(path, f"exposure_ev must be within +-{MAX_EXPOSURE_EV:g} stops, got {exposure_ev}")


def _check_lens(path: str, camera: CameraSpec, issues: _Issues, names: set[str]) -> None:
    """Exposure, tone map, aperture and focus of a camera."""
    _check_exposure(f"{path}.exposure_ev", camera.exposure_ev, issues)
    issues.choice(f"{path}.tonemap", camera.tonemap, TONEMAP_NAMES, "tonemap")
    issues.positive(f"{path}.aperture_f", camera.aperture_f, "aperture_f (an f-number)")
    issues.positive(f"{path}.focus_distance", camera.focus_distance, "focus_distance")
    issues.entity_ref(f"{path}.focus_entity", camera.focus_entity, names, "focus_entity")


def _check_cameras(scene: SceneSpec, issues: _Issues, names: set[str]) -> None:
    seen: dict[str, int] = {}
    for index, camera in enumerate(scene.cameras):
        path = f"cameras[{index}]"
        if camera.name in seen:
            issues.add(
                f"{path}.name", f"duplicate camera name '{camera.name}' (also cameras[{seen[camera.name]}])"
            )
        seen.setdefault(camera.name, index)
        _check_camera(path, camera, issues, names)
        _check_lens(path, camera, issues, names)


def _check_camera(path: str, camera: CameraSpec, issues: _Issues, names: set[str]) -> None:
    if not 0 < camera.fov_deg < 180:
        issues.add(f"{path}.fov_deg", f"fov_deg must be in (0, 180), got {camera.fov_deg}")
    for key in ("fx", "fy", "focal_length_35mm"):
        issues.positive(f"{path}.{key}", getattr(camera, key), key)
    issues.choice(
        f"{path}.position_interpolation",
        camera.position_interpolation,
        CAMERA_POSITION_INTERPOLATIONS,
        "interpolation",
    )
    issues.choice(
        f"{path}.rotation_interpolation",
        camera.rotation_interpolation,
        ROTATION_INTERPOLATIONS,
        "interpolation",
    )
    issues.choice(f"{path}.timing", camera.timing, CAMERA_TIMINGS, "timing")
    issues.choice(f"{path}.easing", camera.easing, EASINGS, "easing")
    issues.entity_ref(f"{path}.target", camera.target, names, "camera target")
    if math.sqrt(sum(u * u for u in camera.up)) < 1e-12:
        issues.add(f"{path}.up", "up must not be zero")
    if not camera.keyframes and camera.target is None:
        issues.look_at(path, camera.position, camera.look_at)
    _check_camera_keys(f"{path}.keyframes", camera.keyframes, issues, names)
    _check_moves(f"{path}.moves", camera.moves, issues, names)
    if camera.start_time is not None and camera.end_time is not None and camera.start_time >= camera.end_time:
        issues.add(
            f"{path}.end_time", f"end_time {camera.end_time} must be after start_time {camera.start_time}"
        )
    for index, segment in enumerate(camera.segments):
        segment_path = f"{path}.segments[{index}]"
        issues.choice(f"{segment_path}.transition", segment.transition, SEGMENT_TRANSITIONS, "transition")
        issues.entity_ref(f"{segment_path}.target", segment.target, names, "camera target")
        if not segment.keyframes and segment.target is None and (segment.position or segment.look_at):
            position = segment.position if segment.position is not None else camera.position
            look_at = segment.look_at if segment.look_at is not None else camera.look_at
            issues.look_at(segment_path, position, look_at)
        _check_camera_keys(f"{segment_path}.keyframes", segment.keyframes, issues, names)
        _check_moves(f"{segment_path}.moves", segment.moves, issues, names)
        if index > 0 and not segment.start_time > camera.segments[index - 1].start_time:
            issues.add(f"{segment_path}.start_time", "segment start times must be strictly increasing")
    if camera.shake is not None:
        if camera.shake.amplitude_m < 0 or camera.shake.amplitude_deg < 0:
            issues.add(f"{path}.shake", "shake amplitudes must not be negative")
        issues.positive(f"{path}.shake.frequency_hz", camera.shake.frequency_hz, "frequency_hz")


def _check_camera_keys(path: str, keyframes: list[CameraKeyframe], issues: _Issues, names: set[str]) -> None:
    _check_keyframe_times(path, keyframes, issues)
    for index, key in enumerate(keyframes):
        issues.rotation(f"{path}[{index}]", key.euler_deg, key.quat_xyzw)
        issues.entity_ref(f"{path}[{index}].target", key.target, names, "camera target")
        if key.fov_deg is not None and not 0 < key.fov_deg < 180:
            issues.add(f"{path}[{index}].fov_deg", f"fov_deg must be in (0, 180), got {key.fov_deg}")
        if key.hold < 0:
            issues.add(f"{path}[{index}].hold", f"hold must not be negative, got {key.hold}")
        if key.target is None:
            issues.look_at(f"{path}[{index}]", key.position, key.look_at)


def _check_moves(path: str, moves: list, issues: _Issues, names: set[str]) -> None:
    for index, move in enumerate(moves):
        issues.choice(f"{path}[{index}].type", move.type, MOVE_TYPES, "camera move")
        issues.choice(f"{path}[{index}].easing", move.easing, EASINGS, "easing")
        issues.entity_ref(f"{path}[{index}].target", move.target, names, "camera target")
        if move.type in TARGET_MOVES and move.target is None:
            issues.add(f"{path}[{index}].target", f"a {move.type} move needs a 'target' entity")
        issues.positive(f"{path}[{index}].duration", move.duration, "duration")
