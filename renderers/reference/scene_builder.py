"""One Mitsuba scene per clip and camera, updated in place frame by frame.

Geometry, vertex colours, materials and lights are built once. Per frame only what changed is
written through ``mi.traverse`` parameters: the world-space vertex positions of entities whose
pose or presence changed since the last frame (an absent entity collapses to a point, which no
ray hits), and the sensor's pose, field of view and principal point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from renderers.reference.hit_material import (
    OBJECT_EDGE_ATTRIBUTES,
    OBJECT_POSITION_ATTRIBUTE,
    bump_normal_texture,
    hit_texture,
    needs_hit_evaluation,
)
from renderers.reference.hit_material import object_edges as face_edges
from renderers.reference.lights import light_dicts
from renderers.reference.surfaces import Surface, entity_surface
from worldsim.camera.conventions import mitsuba_principal_point_offset, to_mitsuba
from worldsim.camera.lens import CameraLens, aperture_radius_m
from worldsim.errors import RenderError
from worldsim.scene.bump import has_bump
from worldsim.scene.model import LightSpec, MaterialSpec
from worldsim.state import Trajectory

LOGGER = logging.getLogger(__name__)
DEFAULT_LIGHTS = [
    LightSpec(type="sun", name="default_sun", direction=[-0.4, -0.3, -1.0], intensity=3.0, angle_deg=2.0),
    LightSpec(type="environment", name="default_sky", sky="uniform", color=[0.8, 0.85, 1.0], intensity=0.4),
]
"""Lighting of a scene that has no lights and no emissive entity (with a warning)."""
DEFAULT_SAMPLER = {"type": "multijitter", "sample_count": 1}
"""Correlated multi-jittered samples: about half the squared error of independent samples at 16 spp
(turntable scene, against 1024 spp); ``mi.render(spp=...)`` sets the count."""
SQUARE_PIXEL_TOLERANCE = 1e-6
"""Mitsuba's perspective sensor has square pixels: |fx - fy| / fx above this is refused."""


@dataclass
class ShapeSlot:
    """One entity's Mitsuba mesh: its parameter key and object-frame vertices."""

    entity_id: int
    column: int
    key: str
    vertices: np.ndarray
    """(V, 3) float64 object frame."""
    last_pose: np.ndarray | None = None
    last_present: bool | None = None
    updates: int = 0
    """How many times the vertex buffer was rewritten (once for a static entity)."""


@dataclass
class MitsubaClip:
    """A loaded Mitsuba scene for one camera of a trajectory; ``set_frame`` moves it in time."""

    mi: ModuleType
    trajectory: Trajectory
    camera: str
    scene: Any
    params: Any
    slots: list[ShapeSlot]
    shape_entity_ids: np.ndarray
    """Entity id of each of ``scene.shapes()`` (0 for light shapes); indexes shape_index AOVs."""
    triangles: int
    lens: CameraLens = field(default_factory=CameraLens)
    current_frame: int | None = field(default=None)

    def set_frame(self, frame: int) -> None:
        """Pose entities and the sensor as at ``frame``; one accelerator rebuild if anything moved."""
        if frame == self.current_frame:
            return
        trajectory = self.trajectory
        for slot in self.slots:
            pose = trajectory.object_to_world[frame, slot.column]
            present = bool(trajectory.present[frame, slot.column])
            if slot.last_present == present and (not present or np.array_equal(slot.last_pose, pose)):
                continue
            if present:
                world = slot.vertices @ pose[:3, :3].T + pose[:3, 3]
            else:
                world = np.zeros_like(slot.vertices)
            self.params[f"{slot.key}.vertex_positions"] = _buffer(
                self.params, f"{slot.key}.vertex_positions", world
            )
            slot.last_pose, slot.last_present = pose.copy(), present
            slot.updates += 1
        sensor = sensor_parameters(self.trajectory, self.camera, frame)
        self.params["sensor.to_world"] = self.mi.ScalarTransform4f(sensor["to_world"].tolist())
        self.params["sensor.x_fov"] = sensor["x_fov"]
        if self.lens.pinhole:
            self.params["sensor.principal_point_offset_x"] = sensor["principal_point_offset_x"]
            self.params["sensor.principal_point_offset_y"] = sensor["principal_point_offset_y"]
        else:
            self.params["sensor.aperture_radius"] = sensor["aperture_radius"]
        self.params.update()
        if not self.lens.pinhole:
            # focus after the geometry update: autofocus traces the posed scene
            self.params["sensor.focus_distance"] = focus_distance(self, frame)
            self.params.update()
        self.current_frame = frame


def build_clip_scene(
    mi: ModuleType,
    trajectory: Trajectory,
    camera: str,
    integrator: dict[str, Any],
    *,
    reconstruction_filter: str = "gaussian",
    near_clip: float = 1e-3,
    max_triangles_per_entity: int | None = None,
    sampler: dict[str, Any] | None = None,
    warn_soft_textures: bool = True,
    thin_lens: bool = True,
    per_hit_materials: bool = True,
) -> MitsubaClip:
    """Build the Mitsuba scene of ``trajectory`` seen by ``camera`` (posed at frame 0).

    ``thin_lens``: honour the camera lens's aperture (depth of field); False keeps a pinhole (AOVs
    that are compared with the pinhole guidance). ``per_hit_materials``: textured entities evaluate
    their material at every hit (``hit_material``); False refines their meshes and colours vertices.
    """
    if camera not in trajectory.cameras:
        raise RenderError(f"no camera named {camera!r} in the trajectory ({', '.join(trajectory.cameras)})")
    track = trajectory.cameras[camera]
    sensor = sensor_parameters(trajectory, camera, 0)
    lens = (
        track.lens
        if thin_lens
        else CameraLens(exposure_ev=track.lens.exposure_ev, tonemap=track.lens.tonemap)
    )
    if lens.pinhole:
        projection: dict[str, Any] = {
            "type": "perspective",
            "principal_point_offset_x": sensor["principal_point_offset_x"],
            "principal_point_offset_y": sensor["principal_point_offset_y"],
        }
    else:
        _check_centred(trajectory, camera)
        projection = {
            "type": "thinlens",
            "aperture_radius": sensor["aperture_radius"],
            "focus_distance": 1.0,
        }
    scene_dict: dict[str, Any] = {
        "type": "scene",
        "integrator": integrator,
        "sensor": {
            **projection,
            "fov_axis": "x",
            "fov": sensor["x_fov"],
            "near_clip": near_clip,
            "to_world": mi.ScalarTransform4f(sensor["to_world"].tolist()),
            "film": {
                "type": "hdrfilm",
                "width": int(track.width),
                "height": int(track.height),
                "pixel_format": "rgb",
                "rfilter": {"type": reconstruction_filter},
            },
            "sampler": sampler or dict(DEFAULT_SAMPLER),
        },
    }
    lights = trajectory.lights
    if not lights and not any(info.material.emission_strength > 0 for info in trajectory.entities):
        LOGGER.warning(
            "scene %r has no lights: the reference renderer uses a default sun and sky (add 'lights')",
            trajectory.scene_name,
        )
        lights = DEFAULT_LIGHTS
    scene_dict.update(light_dicts(lights))
    slots: list[ShapeSlot] = []
    bsdfs: dict[tuple[float, float], Any] = {}
    triangles = 0
    surface_options: dict[str, Any] = {"warn": warn_soft_textures}
    if max_triangles_per_entity is not None:
        surface_options["max_triangles"] = max_triangles_per_entity
    for column, info in enumerate(trajectory.entities):
        per_hit = per_hit_materials and needs_hit_evaluation(info.material)
        bumped = has_bump(info.material)
        surface = entity_surface(info, trajectory.seed, refine_texture=not per_hit, **surface_options)
        key = f"entity_{info.id}"
        if per_hit:
            bsdf = _bsdf(mi, info.material, {}, hit_texture(mi, info.material, trajectory.seed, info.id))
        else:
            bsdf = _bsdf(mi, info.material, {} if bumped else bsdfs)
        if bumped:
            normals = bump_normal_texture(mi, info.material, trajectory.seed, info.id)
            bsdf = mi.load_dict({"type": "normalmap", "normalmap": normals, "bsdf": bsdf})
        scene_dict[key] = _mesh(
            mi, key, surface, info.material, bsdf, object_positions=per_hit or bumped, object_edges=bumped
        )
        slots.append(ShapeSlot(entity_id=info.id, column=column, key=key, vertices=surface.vertices))
        triangles += len(surface.faces)
    scene = mi.load_dict(scene_dict)
    ids_by_key = {slot.key: slot.entity_id for slot in slots}
    shape_entity_ids = np.array([ids_by_key.get(shape.id(), 0) for shape in scene.shapes()], dtype=np.int64)
    clip = MitsubaClip(
        mi=mi,
        trajectory=trajectory,
        camera=camera,
        scene=scene,
        params=mi.traverse(scene),
        slots=slots,
        shape_entity_ids=shape_entity_ids,
        triangles=triangles,
        lens=lens,
    )
    clip.set_frame(0)
    return clip


def sensor_parameters(trajectory: Trajectory, camera: str, frame: int) -> dict[str, Any]:
    """Mitsuba perspective-sensor values of ``camera`` at ``frame``."""
    track = trajectory.cameras[camera]
    fx, fy = float(track.fx[frame]), float(track.fy[frame])
    if abs(fx - fy) > SQUARE_PIXEL_TOLERANCE * fx:
        raise RenderError(
            f"camera {camera!r} frame {frame}: fx={fx:g} differs from fy={fy:g}; the reference renderer "
            "supports square pixels only"
        )
    offset_x, offset_y = mitsuba_principal_point_offset(
        float(track.cx[frame]), float(track.cy[frame]), track.width, track.height
    )
    return {
        "to_world": to_mitsuba(track.cam_to_world[frame]),
        "x_fov": float(np.degrees(2.0 * np.arctan(track.width / (2.0 * fx)))),
        "principal_point_offset_x": offset_x,
        "principal_point_offset_y": offset_y,
        "aperture_radius": aperture_radius_m(track.lens, fx, track.width, track.height),
    }


AUTOFOCUS_FALLBACK_M = 10.0
"""Autofocus distance when the image centre sees only the environment."""
MIN_FOCUS_DISTANCE_M = 1e-3


def focus_distance(clip: MitsubaClip, frame: int) -> float:
    """Metres along the optical axis to the plane in focus at ``frame``: the lens's focus entity's
    origin, its fixed ``focus_distance``, else the surface hit through the image centre."""
    lens = clip.lens
    track = clip.trajectory.cameras[clip.camera]
    world_to_cam = np.linalg.inv(track.cam_to_world[frame])
    if lens.focus_entity is not None:
        names = [info.name for info in clip.trajectory.entities]
        if lens.focus_entity not in names:
            raise RenderError(f"camera {clip.camera!r}: focus_entity {lens.focus_entity!r} is not an entity")
        origin = clip.trajectory.object_to_world[frame, names.index(lens.focus_entity)][:, 3]
        depth = float((world_to_cam @ origin)[2])
    elif lens.focus_distance is not None:
        depth = float(lens.focus_distance)
    else:
        mi = clip.mi
        origin, axis = track.cam_to_world[frame][:3, 3], track.cam_to_world[frame][:3, 2]
        ray = mi.Ray3f(mi.Point3f(*(float(c) for c in origin)), mi.Vector3f(*(float(c) for c in axis)))
        hit = clip.scene.ray_intersect(ray)
        distance = float(np.asarray(hit.t).ravel()[0])
        depth = distance if np.isfinite(distance) else AUTOFOCUS_FALLBACK_M
    return max(depth, MIN_FOCUS_DISTANCE_M)


def _check_centred(trajectory: Trajectory, camera: str) -> None:
    """Mitsuba's thin-lens sensor has no principal-point offset: refuse an off-centre one."""
    track = trajectory.cameras[camera]
    off = np.maximum(np.abs(track.cx - track.width / 2.0), np.abs(track.cy - track.height / 2.0))
    if np.any(off > 1e-3):
        raise RenderError(
            f"camera {camera!r}: depth of field (aperture_f) needs a centred principal point "
            f"(cx = width / 2, cy = height / 2); this one is off by up to {float(off.max()):.3g} px"
        )


def _bsdf(
    mi: ModuleType, material: MaterialSpec, shared: dict[tuple[float, float], Any], base_color: Any = None
) -> Any:
    """One principled BSDF per (roughness, metallic), shared by every mesh with those values.

    The base colour is each mesh's own ``vertex_color`` attribute, so sharing is exact; it keeps
    the traced kernel small (a crowd of 200 entities otherwise compiles 200 BSDF variants). A
    ``base_color`` texture (per-hit material) makes a BSDF of the entity's own.
    """
    key = (float(np.clip(material.roughness, 0.0, 1.0)), float(np.clip(material.metallic, 0.0, 1.0)))
    if key not in shared:
        shared[key] = mi.load_dict(
            {
                "type": "principled",
                "base_color": base_color
                if base_color is not None
                else {"type": "mesh_attribute", "name": "vertex_color"},
                "roughness": key[0],
                "metallic": key[1],
            }
        )
    return shared[key]


def _mesh(
    mi: ModuleType,
    key: str,
    surface: Surface,
    material: MaterialSpec,
    bsdf: Any,
    object_positions: bool = False,
    object_edges: bool = False,
) -> Any:
    """A Mitsuba mesh of ``surface`` (object frame; ``set_frame`` poses it); ``object_positions``
    adds the object-frame vertex positions as an attribute (what per-hit materials read),
    ``object_edges`` each face's object-frame edges (what bump relief reads)."""
    properties = mi.Properties()
    properties["bsdf"] = bsdf
    if material.emission_strength > 0:
        radiance = np.asarray(material.emission, dtype=np.float64) * float(material.emission_strength)
        properties["emitter"] = mi.load_dict(
            {"type": "area", "radiance": {"type": "rgb", "value": radiance.tolist()}}
        )
    mesh = mi.Mesh(key, len(surface.vertices), len(surface.faces), props=properties, has_vertex_normals=True)
    params = mi.traverse(mesh)
    params["vertex_positions"] = _buffer(params, "vertex_positions", surface.vertices)
    params["faces"] = _buffer(params, "faces", surface.faces)
    params["vertex_normals"] = _buffer(params, "vertex_normals", surface.normals)
    params.update()
    mesh.add_attribute("vertex_color", 3, _buffer(params, "vertex_normals", surface.albedo))
    if object_positions:
        mesh.add_attribute(OBJECT_POSITION_ATTRIBUTE, 3, _buffer(params, "vertex_normals", surface.vertices))
    if object_edges:
        for name, edges in zip(
            OBJECT_EDGE_ATTRIBUTES, face_edges(surface.vertices, surface.faces), strict=True
        ):
            mesh.add_attribute(name, 3, _buffer(params, "vertex_normals", edges))
    return mesh


def _buffer(params: Any, key: str, values: np.ndarray) -> Any:
    """``values`` flattened into the array type Mitsuba uses for ``params[key]`` (any variant)."""
    kind = type(params[key])
    flat = np.ascontiguousarray(values).ravel()
    dtype = np.uint32 if "UInt" in kind.__name__ else np.float32
    return kind(flat.astype(dtype))
