"""Content addresses of each frame's inputs: what a renderer reads to make that frame.

A frame's inputs are the world state at that frame restricted to what can affect its image (the
camera, the lights, the settings, and the entities within the frame's *reach*), each hashed as a
*part*; the frame digest is the hash of its parts. Two renders of a frame with equal digests make
the same file, so an edited scene re-renders only the frames whose digest changed
(``worldsim.clip.invalidation``); the parts say why.

Reach kinds (``REACH_KINDS``), from the narrowest:

- ``view``: entities whose bounding sphere meets the view frustum (the renderer reads only what is
  on screen: guidance maps, ``flat``, the diffusion renderer's per-frame condition).
- ``shadow``: plus entities whose shadow volume (the sphere swept away from each light until it
  leaves the box of the scene's geometry) meets the frustum (renderers shading with shadow rays:
  ``direct``, lighting maps).
- ``global``: ``shadow`` with every sphere grown by its light reach (bounce light and soft
  reflections, ``light_reach``), every emissive entity, and every entity at all on frames where a
  glossy surface is in view (a mirror can show anything): path tracing (``reference``).
- ``clip``: every frame reads the whole clip (a renderer whose dependencies are unknown).

Lights are a part of every frame for rgb (a changed light re-renders every frame) and of guidance
frames only when lighting maps are written. ``APPROXIMATION`` states the approximation for the
clip's metadata.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.state import Trajectory

REACH_KINDS = ("view", "shadow", "global", "clip")
LIGHT_REACH_FACTOR = 2.0
"""``global`` reach: an entity's bounce light and reflections are taken to reach this many of its
bounding radii beyond its bounding sphere ..."""
LIGHT_REACH_MIN_M = 0.5
"""... and at least this many metres."""
GLOSSY_ROUGHNESS = 0.3
"""A surface with a roughness below this is glossy: on a frame where one is in view, every entity is
an input of that frame (``global`` reach)."""
ENVIRONMENT_SHADOW_ELEVATIONS_DEG = (30.0, 60.0, 90.0)
ENVIRONMENT_SHADOW_AZIMUTHS = 8
"""Environment lights cast shadows from the whole sky: swept along these elevations x azimuths."""
APPROXIMATION = (
    "frame inputs: an entity is an input of a frame when its bounding sphere meets the camera "
    "frustum (view); with shadows, also when the sphere swept away from a light (until it leaves the "
    "box of all the scene's geometry) meets it (sun and point lights along their direction, area "
    "lights widened by their size, "
    f"environments from {ENVIRONMENT_SHADOW_AZIMUTHS} azimuths at "
    f"{', '.join(f'{e:g}' for e in ENVIRONMENT_SHADOW_ELEVATIONS_DEG)} degrees elevation); with global "
    f"illumination the sphere is grown by its light reach (max({LIGHT_REACH_FACTOR:g} x radius, "
    f"{LIGHT_REACH_MIN_M:g} m)), emissive entities are inputs of every frame and every entity is an "
    f"input of a frame showing a glossy surface (roughness < {GLOSSY_ROUGHNESS:g}); any light change "
    "touches every frame. Bounce light beyond the reach is neglected."
)
DIGEST_SIZE = 12
"""Bytes of each blake2b digest (24 hex characters)."""


def digest_bytes(*chunks: bytes) -> str:
    """Hex blake2b of ``chunks`` (length-prefixed, so the split between chunks matters)."""
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    for chunk in chunks:
        hasher.update(len(chunk).to_bytes(8, "little"))
        hasher.update(chunk)
    return hasher.hexdigest()


def digest_json(value: Any) -> str:
    """Hex digest of a JSON-able value (sorted keys; non-JSON values by ``str``)."""
    return digest_bytes(json.dumps(value, sort_keys=True, default=str).encode())


def digest_array(array: np.ndarray) -> str:
    """Hex digest of an array's exact float64 values and shape."""
    array = np.ascontiguousarray(array, dtype=np.float64)
    return digest_bytes(str(array.shape).encode(), array.tobytes())


@dataclass(frozen=True)
class FrameInputs:
    """The content addresses of one product (``rgb`` or ``guidance``) of a clip.

    digests: (T,) hex digest per frame; parts: per frame, part name -> hex digest, where a part is
    ``settings``, ``camera``, ``lights`` or ``entity <id>`` (``... @+1`` for a neighbour frame's).
    """

    reach: str
    digests: list[str]
    parts: list[dict[str, str]]
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The settings hashed into the ``settings`` part (kept so a later run can recompute them)."""

    def to_json(self) -> dict[str, Any]:
        return {"reach": self.reach, "settings": self.settings, "digests": self.digests, "parts": self.parts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FrameInputs:
        return cls(
            reach=str(data["reach"]),
            digests=list(data["digests"]),
            parts=list(data["parts"]),
            settings=dict(data.get("settings") or {}),
        )


def frame_inputs(
    trajectory: Trajectory,
    camera: str,
    settings: dict[str, Any],
    *,
    reach: str,
    with_lights: bool = True,
    with_materials: bool = True,
    neighbours: Sequence[int] = (),
) -> FrameInputs:
    """The frame inputs of ``camera``'s frames of ``trajectory`` for a product made with ``settings``.

    reach: one of ``REACH_KINDS``; with_lights: whether the lights are an input (rgb: always);
    with_materials: whether the entities' materials are (guidance: only for the material maps).
    neighbours: frame offsets whose inputs a frame also reads (``+1`` for forward flow).
    """
    if reach not in REACH_KINDS:
        raise ValueError(f"reach must be one of {REACH_KINDS}, got {reach!r}")
    count = len(trajectory)
    base = {"settings": digest_json(settings)}
    if with_lights:
        base["lights"] = lights_digest(trajectory)
    statics = [
        entity_static_digest(trajectory, column, with_material=with_materials)
        for column in range(len(trajectory.entities))
    ]
    relevant = relevant_entities(trajectory, camera, reach)
    local: list[dict[str, str]] = []
    for frame in range(count):
        parts = {**base, "camera": camera_digest(trajectory, camera, frame)}
        for column in np.flatnonzero(relevant[frame]):
            info = trajectory.entities[column]
            pose = digest_array(trajectory.object_to_world[frame, column])
            parts[f"entity {info.id}"] = digest_bytes(statics[column].encode(), pose.encode())
        local.append(parts)
    if reach == "clip":
        whole = digest_json(local)
        local = [{**parts, "clip": whole} for parts in local]
    parts_per_frame = []
    for frame in range(count):
        parts = dict(local[frame])
        for offset in neighbours:
            other = frame + offset
            if offset == 0 or not 0 <= other < count:
                continue
            for name, value in local[other].items():
                if name.startswith("entity ") or name == "camera":
                    parts[f"{name} @{offset:+d}"] = value
        parts_per_frame.append(parts)
    digests = [digest_json(parts) for parts in parts_per_frame]
    return FrameInputs(reach=reach, digests=digests, parts=parts_per_frame, settings=settings)


def camera_digest(trajectory: Trajectory, camera: str, frame: int) -> str:
    """The camera at ``frame``: pose, intrinsics, image size, lens, and whether a cut starts there."""
    track = trajectory.cameras[camera]
    intrinsics = track.intrinsics(frame)
    lens = dataclasses.asdict(track.lens)
    return digest_json(
        {
            "cam_to_world": digest_array(track.cam_to_world[frame]),
            "K": [intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy, track.width, track.height],
            "lens": lens,
            "cut": frame in track.cuts,
        }
    )


def lights_digest(trajectory: Trajectory) -> str:
    """Every light of the clip (with the content of any HDR file it reads)."""
    rows = []
    for light in trajectory.lights:
        row = dataclasses.asdict(light)
        if light.hdri and Path(light.hdri).expanduser().is_file():
            row["hdri_content"] = file_digest(Path(light.hdri).expanduser())
        rows.append(row)
    return digest_json(rows)


_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """Digest of a file's bytes (cached per path, size and modification time)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        _FILE_DIGESTS[key] = digest_bytes(path.read_bytes())
    return _FILE_DIGESTS[key]


def entity_static_digest(trajectory: Trajectory, column: int, *, with_material: bool = True) -> str:
    """What of an entity does not change over time: id, class, geometry and (optionally) material."""
    info = trajectory.entities[column]
    mesh = dataclasses.asdict(info.mesh)
    if info.mesh.file and Path(info.mesh.file).is_file():
        mesh["file_content"] = file_digest(Path(info.mesh.file))
    return digest_json(
        {
            "id": info.id,
            "semantic_class": info.semantic_class,
            "semantic_id": info.semantic_id,
            "mesh": mesh,
            "material": dataclasses.asdict(info.material) if with_material else None,
        }
    )


def bounding_spheres(trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """World-frame bounding spheres: centres (T, E, 3) metres and radii (E,) metres."""
    from worldsim.scene.meshes import load_mesh, mesh_bounds

    entities = trajectory.object_to_world.shape[1]
    local = np.zeros((entities, 4))
    local[:, 3] = 1.0
    radii = np.zeros(entities)
    cache: dict[str, tuple[np.ndarray, float]] = {}
    for column, info in enumerate(trajectory.entities):
        key = repr(info.mesh)
        if key not in cache:
            cache[key] = mesh_bounds(load_mesh(info.mesh))
        local[column, :3], radii[column] = cache[key]
    centres = np.einsum("teij,ej->tei", trajectory.object_to_world, local)[..., :3]
    return centres, radii


def scene_box(trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """(3,) lowest and highest world corner of every entity's mesh box over the clip (metres):
    the region any shadow can fall on."""
    from worldsim.scene.meshes import load_mesh

    corners = np.zeros((len(trajectory.entities), 8, 4))
    corners[..., 3] = 1.0
    cache: dict[str, np.ndarray] = {}
    for column, info in enumerate(trajectory.entities):
        key = repr(info.mesh)
        if key not in cache:
            vertices = np.asarray(load_mesh(info.mesh).vertices, dtype=np.float64)
            low, high = (vertices.min(axis=0), vertices.max(axis=0)) if len(vertices) else (np.zeros(3),) * 2
            cache[key] = np.array(
                [[(low, high)[(i >> axis) & 1][axis] for axis in range(3)] for i in range(8)]
            )
        corners[column, :, :3] = cache[key]
    present = trajectory.present
    world = np.einsum("teij,ekj->teki", trajectory.object_to_world, corners)[..., :3][present]
    if not len(world):
        return np.zeros(3), np.zeros(3)
    return world.reshape(-1, 3).min(axis=0), world.reshape(-1, 3).max(axis=0)


def clip_to_box(start: np.ndarray, end: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The segments ``start -> end`` (T, E, 3) cut where they leave the box ``low``..``high``
    ((T, E, 3) or (3,)); a segment starting outside keeps its start (a zero-length sweep)."""
    direction = end - start
    with np.errstate(divide="ignore", invalid="ignore"):
        to_low, to_high = (low - start) / direction, (high - start) / direction
    leaving = np.where(direction > 0, to_high, np.where(direction < 0, to_low, np.inf))
    fraction = np.clip(np.nan_to_num(leaving.min(axis=-1), nan=0.0, posinf=1.0), 0.0, 1.0)
    return start + fraction[..., None] * direction


def frustum_planes(trajectory: Trajectory, camera: str) -> np.ndarray:
    """(T, 5, 4) inward planes ``(n, d)`` in world coordinates (``n . x + d >= 0`` inside): the four
    image edges through the camera centre and the plane of the centre itself (in front)."""
    track = trajectory.cameras[camera]
    count = len(track)
    planes = np.zeros((count, 5, 4))
    for frame in range(count):
        k = track.intrinsics(frame)
        corners = [(0.0, 0.0), (k.width, 0.0), (k.width, k.height), (0.0, k.height)]
        rays = np.array([[(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1.0] for u, v in corners])
        normals = [np.cross(rays[i], rays[(i + 1) % 4]) for i in range(4)]
        normals = [n / np.linalg.norm(n) for n in normals] + [np.array([0.0, 0.0, 1.0])]
        cam_to_world = track.cam_to_world[frame]
        rotation, origin = cam_to_world[:3, :3], cam_to_world[:3, 3]
        for index, normal in enumerate(normals):
            world_normal = rotation @ normal
            planes[frame, index, :3] = world_normal
            planes[frame, index, 3] = -world_normal @ origin
    # Orient every plane so the point one metre along the optical axis is inside.
    inside = np.stack([track.cam_to_world[frame] @ np.array([0.0, 0.0, 1.0, 1.0]) for frame in range(count)])[
        :, None, :
    ]
    flip = np.sum(planes * inside, axis=-1) < 0
    planes[flip] *= -1.0
    return planes


def segments_meet_frustum(
    planes: np.ndarray, start: np.ndarray, end: np.ndarray, radius: np.ndarray
) -> np.ndarray:
    """Does the capsule ``start -> end`` of ``radius`` meet the frustum (every plane moved out by
    the radius: a slightly larger region than the exact one, so the answer errs on True)?

    planes (T, P, 4); start, end (T, E, 3); radius (E,) or (T, E). Returns (T, E) bool: the segment
    clipped against each moved plane (Liang-Barsky) keeps a non-empty piece."""

    def signed(points: np.ndarray) -> np.ndarray:
        return np.einsum("tpk,tek->tep", planes[..., :3], points) + planes[:, None, :, 3]

    radius = np.broadcast_to(radius, start.shape[:2])[..., None]
    at_start = signed(start) + radius  # (T, E, P): >= 0 inside the moved plane
    slope = signed(end) + radius - at_start
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = -at_start / slope
    entering = np.where(slope > 0, crossing, -np.inf)
    leaving = np.where(slope < 0, crossing, np.inf)
    parallel_outside = (slope == 0) & (at_start < 0)
    low = np.maximum(entering.max(axis=-1), 0.0)
    high = np.minimum(leaving.min(axis=-1), 1.0)
    return (low <= high) & ~parallel_outside.any(axis=-1)


def shadow_sweeps(trajectory: Trajectory, centres: np.ndarray, radii: np.ndarray, length: float):
    """(end points (T, E, 3), radii (T, E)) of each entity's shadow capsule per light direction."""
    sweeps = []
    for light in trajectory.lights:
        if light.type == "sun":
            direction = np.asarray(light.direction, dtype=np.float64)
            direction = direction / max(np.linalg.norm(direction), 1e-12)
            sweeps.append((centres + length * direction, np.broadcast_to(radii, centres.shape[:2])))
        elif light.type in ("point", "area"):
            away = centres - np.asarray(light.position, dtype=np.float64)
            distance = np.maximum(np.linalg.norm(away, axis=-1, keepdims=True), 1e-6)
            widened = radii.copy() if light.type == "point" else None
            if light.type == "area":
                half = 0.5 * float(np.linalg.norm(light.size))
                widened = radii + length * half / distance[..., 0]
            sweeps.append((centres + length * away / distance, np.broadcast_to(widened, centres.shape[:2])))
        if light.type == "environment":
            for elevation in ENVIRONMENT_SHADOW_ELEVATIONS_DEG:
                for azimuth in np.linspace(0.0, 2.0 * np.pi, ENVIRONMENT_SHADOW_AZIMUTHS, endpoint=False):
                    e = np.radians(elevation)
                    towards_sky = np.array(
                        [np.cos(e) * np.cos(azimuth), np.cos(e) * np.sin(azimuth), np.sin(e)]
                    )
                    sweeps.append((centres - length * towards_sky, np.broadcast_to(radii, centres.shape[:2])))
                    if elevation == 90.0:
                        break
            if light.sky == "procedural":
                direction = np.asarray(light.direction, dtype=np.float64)
                direction = direction / max(np.linalg.norm(direction), 1e-12)
                sweeps.append((centres + length * direction, np.broadcast_to(radii, centres.shape[:2])))
    return sweeps


def light_reach(radii: np.ndarray) -> np.ndarray:
    """(E,) metres beyond its bounding sphere an entity's bounce light is taken to reach."""
    return np.maximum(LIGHT_REACH_FACTOR * radii, LIGHT_REACH_MIN_M)


def relevant_entities(trajectory: Trajectory, camera: str, reach: str) -> np.ndarray:
    """(T, E) bool: entity column e is an input of frame t under ``reach`` (present entities only)."""
    present = trajectory.present
    if reach == "clip":
        return present.copy()
    centres, radii = bounding_spheres(trajectory)
    planes = frustum_planes(trajectory, camera)
    in_view = segments_meet_frustum(planes, centres, centres, radii)
    if camera in trajectory.in_view:
        in_view |= trajectory.in_view[camera]
    relevant = in_view.copy()
    if reach in ("shadow", "global"):
        grown = radii + light_reach(radii) if reach == "global" else radii
        if reach == "global":
            relevant |= segments_meet_frustum(planes, centres, centres, grown)
        lows, highs = scene_box(trajectory)
        length = float(np.linalg.norm(highs - lows)) if centres.size else 0.0
        for ends, sweep_radii in shadow_sweeps(trajectory, centres, radii, length):
            widened = sweep_radii + (grown - radii)
            # a shadow falls on geometry: it ends where the sweep leaves the scene's box
            ends = clip_to_box(centres, ends, lows - widened[..., None], highs + widened[..., None])
            relevant |= segments_meet_frustum(planes, centres, ends, widened)
    if reach == "global":
        emissive = np.array([_is_emissive(info.material) for info in trajectory.entities], dtype=bool)
        glossy = np.array([info.material.roughness < GLOSSY_ROUGHNESS for info in trajectory.entities], bool)
        relevant |= emissive[None, :]
        glossy_in_view = np.any(in_view & present & glossy[None, :], axis=1)
        relevant[glossy_in_view] = True
    return relevant & present


def _is_emissive(material: Any) -> bool:
    return float(material.emission_strength) > 0.0 and any(float(c) > 0.0 for c in material.emission)
