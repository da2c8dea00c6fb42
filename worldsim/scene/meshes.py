"""Meshes from ``MeshSpec``: trimesh primitives and OBJ / PLY / STL / GLB / GLTF files.

Every mesh is returned in its object frame: Z up, metres. Processing order:
build the primitive or load the file -> ``up_axis`` rotation to Z up (files only; a primitive
must keep ``up_axis: z``) -> per-axis ``scale`` (3 values) -> ``center`` (files only; primitives
are centred on their bounding box by construction).

Results are cached by content: the key is the spec's geometry-relevant fields plus, for files, a
BLAKE2b hash of the file's bytes (and of a GLTF's external buffers), so 100 entities sharing a mesh
load and process it once, and a file changed on disk is loaded again. A file's hash is reused
while its size, modification time and inode are unchanged, so cache hits do not re-read it.

Cached meshes are shared and **immutable** (``mesh.mutable is False``): reading, ray casting,
``convex_hull`` etc. work, but ``apply_transform`` or writing ``vertices`` raises ``ValueError``.
Call ``mesh.copy()`` to get a private, mutable mesh.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from worldsim.errors import AssetError
from worldsim.scene.model import PRIMITIVE_TYPES, MeshSpec

MESH_FILE_EXTENSIONS = (".obj", ".ply", ".stl", ".glb", ".gltf")
"""File types ``load_mesh`` reads."""

CACHE_VERSION = 1
"""Bump when processing changes so fingerprints of old meshes no longer match."""

CACHE_MAX_ENTRIES = 256
"""Least recently used meshes beyond this many are dropped from the cache."""

DEFAULT_SECTIONS = 32
"""Segments around round primitives (cylinder, cone, capsule, torus) when ``subdivisions`` is None."""

DEFAULT_ICOSPHERE_SUBDIVISIONS = 3
"""Icosphere subdivisions of a sphere when ``subdivisions`` is None (1280 faces)."""

# Default sizes when a field is None: every primitive fits in a unit cube.
DEFAULT_BOX_SIZE = (1.0, 1.0, 1.0)
DEFAULT_PLANE_SIZE = (1.0, 1.0)
DEFAULT_RADIUS = 0.5
DEFAULT_HEIGHT = 1.0
DEFAULT_CAPSULE_RADIUS = 0.25
DEFAULT_CAPSULE_HEIGHT = 0.5
DEFAULT_TORUS_RADIUS = 0.375
DEFAULT_TORUS_MINOR_RADIUS = 0.125

# Rotation taking the file's up axis to +Z (right-handed, proper rotations only).
_UP_AXIS_ROTATIONS: dict[str, np.ndarray] = {
    "z": np.eye(3),
    "-z": np.diag([1.0, -1.0, -1.0]),  # 180 deg about X
    "y": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),  # +90 deg about X
    "-y": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]),  # -90 deg about X
    "x": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),  # -90 deg about Y
    "-x": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]),  # +90 deg about Y
}
UP_AXES = tuple(_UP_AXIS_ROTATIONS)


@dataclass(frozen=True)
class PrimitiveParams:
    """A primitive's resolved dimensions (defaults filled in), metres; see ``primitive_params``."""

    type: str
    size: tuple[float, ...] | None = None
    """Box ``(x, y, z)`` or plane ``(x, y)`` extents."""
    radius: float | None = None
    height: float | None = None
    minor_radius: float | None = None
    sections: int | None = None
    """Icosphere subdivisions for a sphere, segment count for round primitives, grid cells per
    side for a plane."""


def primitive_params(spec: MeshSpec, *, key_path: str = "mesh") -> PrimitiveParams:
    """The dimensions ``load_mesh`` builds a primitive with: the spec's values or the defaults.

    Physics and renderers that build native shapes use this so they match the mesh exactly
    (before ``scale`` and ``up_axis``). Raises ``AssetError`` for a non-positive or non-finite size.
    """
    kind = spec.type
    if kind not in PRIMITIVE_TYPES:
        raise AssetError(
            f"{kind!r} is not a primitive (one of {', '.join(PRIMITIVE_TYPES)})", key_path=f"{key_path}.type"
        )
    sub = spec.subdivisions
    if sub is not None and (isinstance(sub, bool) or int(sub) != sub or sub < 0):
        raise AssetError(
            f"subdivisions must be a non-negative integer, got {sub!r}", key_path=f"{key_path}.subdivisions"
        )

    def sections(default: int, minimum: int) -> int:
        value = default if sub is None else int(sub)
        if value < minimum:
            raise AssetError(
                f"a {kind} needs subdivisions >= {minimum}, got {value}", key_path=f"{key_path}.subdivisions"
            )
        return value

    def length(name: str, default: float) -> float:
        value = getattr(spec, name)
        value = default if value is None else value
        _check_positive(value, f"{key_path}.{name}")
        return float(value)

    def extents(count: int, default: tuple[float, ...]) -> tuple[float, ...]:
        values = default if spec.size is None else tuple(spec.size)
        if len(values) != count:
            raise AssetError(
                f"a {kind} size needs {count} values, got {len(values)}", key_path=f"{key_path}.size"
            )
        for index, value in enumerate(values):
            _check_positive(value, f"{key_path}.size[{index}]")
        return tuple(float(value) for value in values)

    if kind == "box":
        return PrimitiveParams(kind, size=extents(3, DEFAULT_BOX_SIZE))
    if kind == "plane":
        return PrimitiveParams(kind, size=extents(2, DEFAULT_PLANE_SIZE), sections=sections(1, 1))
    if kind == "sphere":
        return PrimitiveParams(
            kind,
            radius=length("radius", DEFAULT_RADIUS),
            sections=sections(DEFAULT_ICOSPHERE_SUBDIVISIONS, 0),
        )
    if kind in ("cylinder", "cone"):
        return PrimitiveParams(
            kind,
            radius=length("radius", DEFAULT_RADIUS),
            height=length("height", DEFAULT_HEIGHT),
            sections=sections(DEFAULT_SECTIONS, 3),
        )
    if kind == "capsule":
        return PrimitiveParams(
            kind,
            radius=length("radius", DEFAULT_CAPSULE_RADIUS),
            height=length("height", DEFAULT_CAPSULE_HEIGHT),
            sections=sections(DEFAULT_SECTIONS, 4),
        )
    return PrimitiveParams(
        kind,
        radius=length("radius", DEFAULT_TORUS_RADIUS),
        minor_radius=length("minor_radius", DEFAULT_TORUS_MINOR_RADIUS),
        sections=sections(DEFAULT_SECTIONS, 3),
    )


def load_mesh(
    spec: MeshSpec, base_dir: str | Path | None = None, *, key_path: str = "mesh"
) -> trimesh.Trimesh:
    """The mesh ``spec`` describes, Z up, metres, object frame; cached and immutable (see module doc).

    ``base_dir`` resolves a relative ``spec.file`` (the scene file's folder; default: the current
    directory). ``key_path`` prefixes the key path in error messages. Raises ``AssetError`` naming
    the file and reason for a missing, unreadable, unsupported, corrupt or empty mesh file.
    """
    key, path = _cache_key(spec, base_dir, key_path)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    mesh = _build(spec, path, key_path)
    mesh.mutable = False
    with _CACHE_LOCK:
        # Another thread may have built the same mesh meanwhile; keep one shared object.
        mesh = _CACHE.setdefault(key, mesh)
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return mesh


def mesh_fingerprint(spec: MeshSpec, base_dir: str | Path | None = None, *, key_path: str = "mesh") -> str:
    """A hex digest identifying the geometry ``load_mesh(spec, base_dir)`` returns.

    Equal for specs that build the same mesh (e.g. ``radius=None`` and the default radius, or the
    same file content under two paths); renderers key shared acceleration structures on it.
    """
    key, _ = _cache_key(spec, base_dir, key_path)
    return hashlib.blake2b(repr(key).encode("utf-8"), digest_size=16).hexdigest()


def mesh_bounds(mesh: trimesh.Trimesh) -> tuple[np.ndarray, float]:
    """A bounding sphere ``(center (3,), radius)`` in the mesh's frame (metres).

    The centre is the axis-aligned bounding box centre and the radius the farthest vertex from
    it: conservative (contains every vertex), close to minimal, and cheap.
    """
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    if len(vertices) == 0:
        return np.zeros(3), 0.0
    center = 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
    radius = float(np.sqrt(np.max(np.sum((vertices - center) ** 2, axis=1))))
    return center, radius


def is_watertight_volume(mesh: trimesh.Trimesh) -> bool:
    """True if the mesh is closed, consistently wound and encloses a positive volume.

    Such a mesh can be used directly as a physics body (mass, inertia); otherwise use its
    convex hull.
    """
    return bool(mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0.0)


def clear_mesh_cache() -> None:
    """Forget every cached mesh and file hash (tests; long sessions editing assets)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _FILE_HASHES.clear()


def mesh_cache_size() -> int:
    """Number of meshes currently cached."""
    with _CACHE_LOCK:
        return len(_CACHE)


# --- cache keys ------------------------------------------------------------------------------

_CACHE: OrderedDict[tuple[Any, ...], trimesh.Trimesh] = OrderedDict()
_CACHE_LOCK = threading.Lock()
# (path, size, mtime_ns, inode) -> content hash, so an unchanged file is not re-read per entity.
_FILE_HASHES: dict[tuple[str, int, int, int], str] = {}


def _cache_key(
    spec: MeshSpec, base_dir: str | Path | None, key_path: str
) -> tuple[tuple[Any, ...], Path | None]:
    if not isinstance(spec, MeshSpec):
        raise TypeError(f"expected a MeshSpec, got {type(spec).__name__}")
    up_axis = _normalise_up_axis(spec.up_axis, key_path)
    scale = _normalise_scale(spec.scale, key_path)
    if spec.type == "file":
        path = _resolve_file(spec, base_dir, key_path)
        content = _content_hash(path, key_path)
        key = (CACHE_VERSION, "file", path.suffix.lower(), content, up_axis, scale, bool(spec.center))
        return key, path
    if spec.type not in PRIMITIVE_TYPES:
        raise AssetError(
            f"unknown mesh type {spec.type!r} (one of {', '.join((*PRIMITIVE_TYPES, 'file'))})",
            key_path=f"{key_path}.type",
        )
    if up_axis != "z":
        # Primitives are built Z up; turning one is the entity pose's job. Rejecting this keeps
        # every consumer that builds native shapes from ``primitive_params`` consistent.
        raise AssetError(
            f"up_axis {spec.up_axis!r} applies to mesh files only; rotate a {spec.type} with the pose",
            key_path=f"{key_path}.up_axis",
        )
    params = primitive_params(spec, key_path=key_path)
    return (CACHE_VERSION, "primitive", params, scale), None


def _normalise_up_axis(up_axis: str, key_path: str) -> str:
    axis = str(up_axis).strip().lower().removeprefix("+")
    if axis not in _UP_AXIS_ROTATIONS:
        raise AssetError(
            f"unknown up_axis {up_axis!r} (one of {', '.join(UP_AXES)})", key_path=f"{key_path}.up_axis"
        )
    return axis


def mesh_scale(spec: MeshSpec, *, key_path: str = "mesh") -> np.ndarray:
    """The spec's per-axis scale, ``(3,)`` float64 (ones when None).

    Raises ``AssetError`` unless it is 3 positive finite numbers.
    """
    return np.array(_normalise_scale(spec.scale, key_path))


def _normalise_scale(scale: list[float] | None, key_path: str) -> tuple[float, float, float]:
    if scale is None:
        return (1.0, 1.0, 1.0)
    values = list(scale) if isinstance(scale, list | tuple) else [scale]
    if len(values) != 3:
        raise AssetError(f"scale needs 3 values [x, y, z], got {len(values)}", key_path=f"{key_path}.scale")
    for index, value in enumerate(values):
        _check_positive(value, f"{key_path}.scale[{index}]")
    return tuple(float(value) for value in values)  # type: ignore[return-value]


def _check_positive(value: object, key_path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise AssetError(f"expected a number, got {value!r}", key_path=key_path)
    if not math.isfinite(value) or value <= 0:
        raise AssetError(f"must be a positive finite number, got {value!r}", key_path=key_path)


def _resolve_file(spec: MeshSpec, base_dir: str | Path | None, key_path: str) -> Path:
    if not spec.file:
        raise AssetError("a mesh of type 'file' needs a 'file' path", key_path=f"{key_path}.file")
    path = Path(os.path.expanduser(spec.file))
    if not path.is_absolute():
        path = Path(base_dir if base_dir is not None else Path.cwd()) / path
    path = path.resolve()
    where = {"file": str(path), "key_path": f"{key_path}.file"}
    if path.suffix.lower() not in MESH_FILE_EXTENSIONS:
        raise AssetError(
            f"unsupported mesh file type {path.suffix or '(no extension)'!r} "
            f"(supported: {', '.join(MESH_FILE_EXTENSIONS)})",
            **where,
        )
    if not path.exists():
        raise AssetError("mesh file not found", **where)
    if not path.is_file():
        raise AssetError("mesh path is not a regular file", **where)
    return path


def _content_hash(path: Path, key_path: str) -> str:
    """BLAKE2b of the file's bytes (plus a GLTF's external buffers), memoised on its stat."""
    where = {"file": str(path), "key_path": f"{key_path}.file"}
    try:
        stat = path.stat()
        stat_key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        with _CACHE_LOCK:
            known = _FILE_HASHES.get(stat_key)
        if known is not None and path.suffix.lower() != ".gltf":
            return known
        data = path.read_bytes()
    except OSError as error:
        raise AssetError(f"cannot read mesh file: {error.strerror or error}", **where) from None
    if not data:
        raise AssetError("mesh file is empty (0 bytes)", **where)
    digest = hashlib.blake2b(data, digest_size=16)
    if path.suffix.lower() == ".gltf":
        for resource in _gltf_resources(data, path, key_path):
            digest.update(resource.name.encode("utf-8") + b"\0")
            try:
                digest.update(resource.read_bytes())
            except OSError as error:
                raise AssetError(
                    f"cannot read {resource.name!r}, referenced by the GLTF file: {error.strerror or error}",
                    **where,
                ) from None
    content = digest.hexdigest()
    with _CACHE_LOCK:
        if len(_FILE_HASHES) > 4 * CACHE_MAX_ENTRIES:
            _FILE_HASHES.clear()
        _FILE_HASHES[stat_key] = content
    return content


def _gltf_resources(data: bytes, path: Path, key_path: str) -> list[Path]:
    """External files (buffers, images) a ``.gltf`` references by relative URI."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AssetError(
            f"corrupt GLTF file (not JSON): {error}", file=str(path), key_path=f"{key_path}.file"
        ) from None
    if not isinstance(document, dict):
        raise AssetError(
            "corrupt GLTF file (top level is not an object)", file=str(path), key_path=f"{key_path}.file"
        )
    resources = []
    for section in ("buffers", "images"):
        for entry in document.get(section) or []:
            uri = entry.get("uri") if isinstance(entry, dict) else None
            if isinstance(uri, str) and uri and not uri.startswith("data:"):
                resources.append(path.parent / uri)
    return resources


# --- building ----------------------------------------------------------------------------------


def _build(spec: MeshSpec, path: Path | None, key_path: str) -> trimesh.Trimesh:
    if path is None:
        mesh = _build_primitive(primitive_params(spec, key_path=key_path))
    else:
        mesh = _load_file(path, key_path)
    rotation = _UP_AXIS_ROTATIONS[_normalise_up_axis(spec.up_axis, key_path)]
    scale = np.asarray(_normalise_scale(spec.scale, key_path))
    vertices = (np.asarray(mesh.vertices, dtype=np.float64) @ rotation.T) * scale
    if path is not None and spec.center:
        vertices = vertices - 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
    return trimesh.Trimesh(vertices=vertices, faces=np.asarray(mesh.faces, dtype=np.int64), process=False)


def _build_primitive(params: PrimitiveParams) -> trimesh.Trimesh:
    kind, sections = params.type, params.sections
    if kind == "box":
        return trimesh.creation.box(extents=params.size)
    if kind == "sphere":
        return trimesh.creation.icosphere(subdivisions=sections, radius=params.radius)
    if kind == "cylinder":
        return trimesh.creation.cylinder(radius=params.radius, height=params.height, sections=sections)
    if kind == "cone":
        cone = trimesh.creation.cone(radius=params.radius, height=params.height, sections=sections)
        cone.apply_translation([0.0, 0.0, -0.5 * params.height])  # trimesh puts the base at z = 0
        return cone
    if kind == "capsule":
        return trimesh.creation.capsule(
            height=params.height, radius=params.radius, count=[sections, max(sections // 2, 4)]
        )
    if kind == "torus":
        return trimesh.creation.torus(
            params.radius, params.minor_radius, major_sections=sections, minor_sections=max(sections // 2, 3)
        )
    return _plane(params.size, sections)


def _plane(size: tuple[float, ...], cells: int) -> trimesh.Trimesh:
    """A ``size[0] x size[1]`` grid of ``cells x cells`` quads in the XY plane, normal +Z."""
    xs = np.linspace(-0.5 * size[0], 0.5 * size[0], cells + 1)
    ys = np.linspace(-0.5 * size[1], 0.5 * size[1], cells + 1)
    grid_x, grid_y = np.meshgrid(xs, ys, indexing="xy")
    vertices = np.column_stack([grid_x.ravel(), grid_y.ravel(), np.zeros(grid_x.size)])
    row = cells + 1
    corner = (np.arange(cells)[None, :] + row * np.arange(cells)[:, None]).ravel()
    # Counter-clockwise seen from +Z: (i, i+1, i+row+1) and (i, i+row+1, i+row).
    faces = np.concatenate(
        [
            np.column_stack([corner, corner + 1, corner + row + 1]),
            np.column_stack([corner, corner + row + 1, corner + row]),
        ]
    )
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


def _load_file(path: Path, key_path: str) -> trimesh.Trimesh:
    """Load a mesh file as one triangle mesh, node transforms applied; AssetError on any failure."""
    where = {"file": str(path), "key_path": f"{key_path}.file"}
    kind = path.suffix.lower().lstrip(".")
    try:
        loaded = _trimesh_load(path, kind)
    except AssetError:
        raise
    except MemoryError:
        raise AssetError(f"corrupt {kind.upper()} file: out of memory while parsing", **where) from None
    except Exception as error:  # trimesh raises many types on corrupt input
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        reason = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        raise AssetError(f"corrupt or unreadable {kind.upper()} file ({reason[:200]})", **where) from None
    meshes = _triangle_meshes(loaded)
    if not meshes:
        raise AssetError(f"{kind.upper()} file contains no triangle mesh (zero faces)", **where)
    vertices = []
    faces = []
    offset = 0
    for mesh in meshes:
        vertices.append(np.asarray(mesh.vertices, dtype=np.float64))
        faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
        offset += len(mesh.vertices)
    vertices_all = np.concatenate(vertices) if vertices else np.zeros((0, 3))
    faces_all = np.concatenate(faces) if faces else np.zeros((0, 3), dtype=np.int64)
    if len(faces_all) == 0:
        raise AssetError("mesh has zero faces", **where)
    if not np.all(np.isfinite(vertices_all)):
        raise AssetError("mesh has non-finite (NaN or infinite) vertex coordinates", **where)
    if faces_all.min() < 0 or faces_all.max() >= len(vertices_all):
        raise AssetError("mesh has faces referencing missing vertices", **where)
    # Merge duplicated vertices (UV / normal seams) so the mesh is one connected surface.
    mesh = trimesh.Trimesh(vertices=vertices_all, faces=faces_all, process=True)
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.remove_unreferenced_vertices()
    if len(mesh.faces) == 0:
        raise AssetError("mesh has zero non-degenerate faces", **where)
    return mesh


def _trimesh_load(path: Path, kind: str) -> Any:
    """``trimesh.load`` seam, kept separate so tests can count file loads."""
    with open(path, "rb") as handle:
        resolver = trimesh.resolvers.FilePathResolver(str(path))
        # Materials are procedural (MaterialSpec): skip reading OBJ .mtl files and their images.
        options = {"skip_materials": True} if kind == "obj" else {}
        return trimesh.load(handle, file_type=kind, resolver=resolver, process=False, **options)


def _triangle_meshes(loaded: Any) -> list[trimesh.Trimesh]:
    """The triangle meshes in a loaded file, scene graph transforms applied."""
    if isinstance(loaded, trimesh.Trimesh):
        return [loaded] if len(loaded.faces) else []
    if isinstance(loaded, trimesh.Scene):
        dumped = loaded.dump(concatenate=False)
        return [
            geometry for geometry in dumped if isinstance(geometry, trimesh.Trimesh) and len(geometry.faces)
        ]
    return []
