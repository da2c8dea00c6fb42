"""Embree 4 through its C API: triangle scenes, nearest-hit casts and segment occlusion tests
whose ray loops are compiled and release the GIL.

open3d's ``RaycastingScene`` holds the GIL for the whole of every cast, so while Embree runs no
other thread of the renderer can do Python work; on two cores that serialised most of a guidance
frame. The ``embreex`` wheel ships Embree 4's shared library: this module loads it (llvmlite, so
the compiled loops link ``rtcIntersect16`` / ``rtcOccluded16`` by name and stay cached on disk),
builds scenes through ``ctypes`` and casts ray batches in numba loops shared with the guidance
kernels' helper threads (``kernels.split``).

Scenes are built as open3d builds them (``RTC_SCENE_FLAG_ROBUST``), so the results are open3d's
``cast_rays`` / ``test_occlusions`` results: the same faces are hit and ``t`` / ``(u, v)`` agree to
float32 rounding (the two libraries are different builds of Embree 4). Without the library (no
``embreex``, or ``WORLDSIM_EMBREE=open3d`` in the environment) ``scene`` returns open3d's scene
behind the same two methods.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numba
import numpy as np
from numba import types

from renderers.guidance import kernels

ENVIRONMENT_SWITCH = "WORLDSIM_EMBREE"
"""Environment variable: ``open3d`` makes ``scene`` use open3d's Embree even when the library
loads (for comparisons)."""

INVALID_ID = 0xFFFFFFFF
"""``primitive`` of a ray that hits nothing (Embree's ``RTC_INVALID_GEOMETRY_ID``, open3d's
``RaycastingScene.INVALID_ID``)."""

# Embree 4 constants (rtcore_common.h, rtcore_geometry.h, rtcore_scene.h).
_GEOMETRY_TRIANGLE = 0
_BUFFER_INDEX, _BUFFER_VERTEX = 0, 1
_FORMAT_UINT3, _FORMAT_FLOAT3 = 0x5003, 0x9003
_SCENE_FLAG_ROBUST = 1 << 2
# RTCOccludedArguments (rtcore_ray.h): flags, feature mask (32 bits each), then three pointers
# (context, filter, occluded callback: none) and room for minWidthDistanceFactor.
_QUERY_FLAG_COHERENT = 1 << 16
_FEATURE_FLAG_ALL = 0xFFFFFFFF
_OCCLUDED_ARGUMENT_WORDS = 6

# RTCRayHit16 (rtcore_ray.h) as planes of 16 32-bit words, one word per ray of the packet: the
# ray (org xyz, tnear, dir xyz, time, tfar, mask, id, flags), then the hit (Ng xyz, u, v, primID,
# geomID, instID[0]); 64-byte aligned. Packets of 16 neighbouring rays traverse together: about
# 20 % (camera rays) to 40 % (shadow segments) less time than one ray at a time, same results.
_LANES = 16
_ORIGIN, _TNEAR, _DIRECTION, _TIME, _TFAR, _MASK, _ID, _FLAGS = 0, 3, 4, 7, 8, 9, 10, 11
_U, _V, _PRIM, _GEOM, _INST = 15, 16, 17, 18, 19
_PACKET_PLANES = 22  # 20 used, room for instPrimID[0] when built with instance arrays

_intersect16 = types.ExternalFunction(
    "rtcIntersect16", types.void(types.uintp, types.uintp, types.uintp, types.uintp)
)
_occluded16 = types.ExternalFunction(
    "rtcOccluded16", types.void(types.uintp, types.uintp, types.uintp, types.uintp)
)


def library_path() -> Path | None:
    """Embree 4's shared library as the ``embreex`` wheel ships it, or None."""
    spec = importlib.util.find_spec("embreex")
    if spec is None or spec.origin is None:
        return None
    package = Path(spec.origin).parent
    for folder in (package.parent / "embreex.libs", package / ".dylibs", package):
        found = sorted(folder.glob("libembree4*.so*")) + sorted(folder.glob("libembree4*.dylib"))
        if found:
            return found[0]
    return None


class _Library:
    """The loaded library's scene functions (``ctypes``) and one Embree device."""

    def __init__(self, path: Path) -> None:
        import llvmlite.binding as llvm

        llvm.load_library_permanently(str(path))  # the compiled loops resolve rtc* here
        lib = ctypes.CDLL(str(path))
        pointer, unsigned, size = ctypes.c_void_p, ctypes.c_uint, ctypes.c_size_t

        def function(name: str, result, *arguments):
            found = getattr(lib, name)
            found.restype, found.argtypes = result, list(arguments)
            return found

        self.new_device = function("rtcNewDevice", pointer, ctypes.c_char_p)
        self.device_error = function("rtcGetDeviceError", unsigned, pointer)
        self.new_scene = function("rtcNewScene", pointer, pointer)
        self.set_scene_flags = function("rtcSetSceneFlags", None, pointer, unsigned)
        self.new_geometry = function("rtcNewGeometry", pointer, pointer, unsigned)
        buffer_arguments = (pointer, unsigned, unsigned, unsigned, pointer, size, size, size)
        self.set_shared_buffer = function("rtcSetSharedGeometryBuffer", None, *buffer_arguments)
        self.commit_geometry = function("rtcCommitGeometry", None, pointer)
        self.attach_geometry = function("rtcAttachGeometry", unsigned, pointer, pointer)
        self.release_geometry = function("rtcReleaseGeometry", None, pointer)
        self.commit_scene = function("rtcCommitScene", None, pointer)
        self.release_scene = function("rtcReleaseScene", None, pointer)
        # Scene builds run on Embree's own threads: as many as the loading thread's numba budget
        # (``numba.get_num_threads()``, which a dataset worker sets to its share of the cores).
        self.device = self.new_device(f"threads={numba.get_num_threads()}".encode())
        if not self.device:
            raise OSError(f"Embree: rtcNewDevice failed with {path}")


_LOCK = threading.Lock()
_LOADED: list[_Library | None] = []


def _library() -> _Library | None:
    """The library, loaded once; None when absent or switched off (``ENVIRONMENT_SWITCH``)."""
    if os.environ.get(ENVIRONMENT_SWITCH, "").strip().lower() == "open3d":
        return None
    with _LOCK:
        if not _LOADED:
            path = library_path()
            loaded = None
            if path is not None:
                try:
                    loaded = _Library(path)
                except (OSError, AttributeError):  # a wheel without the expected library
                    loaded = None
            _LOADED.append(loaded)
        return _LOADED[0]


def available() -> bool:
    """Whether ``scene`` casts through Embree's C API (else through open3d)."""
    return _library() is not None


class EmbreeScene:
    """A committed Embree scene of triangle meshes, cast from compiled loops (GIL released)."""

    def __init__(
        self, library: _Library, meshes: Sequence[tuple[np.ndarray, np.ndarray]], robust: bool = True
    ) -> None:
        self._library = library
        self._buffers: list[np.ndarray] = []  # shared with Embree: kept alive with the scene
        self.handle = library.new_scene(library.device)
        if robust:
            library.set_scene_flags(self.handle, _SCENE_FLAG_ROBUST)
        for vertices, faces in meshes:
            # One float of padding after the last vertex: Embree reads vertices 16 bytes at a time.
            padded = np.zeros((len(vertices) * 3 + 1,), dtype=np.float32)
            padded[:-1] = np.asarray(vertices, dtype=np.float32).reshape(-1)
            faces = np.asarray(faces)
            if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
                # Embree does not check indices: it would read outside the vertex buffer.
                raise ValueError(f"Embree scene: face indices outside the {len(vertices)} vertices")
            indices = np.ascontiguousarray(faces, dtype=np.uint32)
            geometry = library.new_geometry(library.device, _GEOMETRY_TRIANGLE)
            library.set_shared_buffer(
                geometry, _BUFFER_VERTEX, 0, _FORMAT_FLOAT3, padded.ctypes.data, 0, 12, len(vertices)
            )
            library.set_shared_buffer(
                geometry, _BUFFER_INDEX, 0, _FORMAT_UINT3, indices.ctypes.data, 0, 12, len(indices)
            )
            library.commit_geometry(geometry)
            library.attach_geometry(self.handle, geometry)
            library.release_geometry(geometry)
            self._buffers += [padded, indices]
        library.commit_scene(self.handle)
        error = library.device_error(library.device)
        if error:
            raise RuntimeError(f"Embree: building a scene failed (RTCError {error})")

    def __del__(self) -> None:
        handle, self.handle = getattr(self, "handle", None), None
        if handle:
            self._library.release_scene(handle)

    def cast(self, rays: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest hits of ``rays`` (R, 6) float32 (origin, direction; t in [0, inf)): open3d's
        ``t_hit`` (R,) float32 (inf on a miss), ``primitive_ids`` (R,) uint32 (``INVALID_ID``)
        and ``primitive_uvs`` (R, 2) float32 (zero on a miss)."""
        return cast_batches([self], np.array([0, len(rays)], dtype=np.int64), rays)

    def occluded(self, rays: np.ndarray, tnear: float = 0.0, tfar: float = 1.0) -> np.ndarray:
        """(R,) bool: a triangle lies at ``o + t d`` for t in (``tnear``, ``tfar``) of ``rays``
        (R, 6) float32 (open3d's ``test_occlusions``). A ray whose ``d`` is zero covers nothing:
        False without a query (callers mark rays whose answer they do not need that way)."""
        rays = np.ascontiguousarray(rays, dtype=np.float32)
        blocked = np.empty(len(rays), dtype=np.bool_)
        arguments = (self.handle, rays, np.float32(tnear), np.float32(tfar), blocked)
        kernels.split(_occluded_part, arguments, len(rays), "rays")
        return blocked


def cast_batches(
    scenes: Sequence[EmbreeScene], bounds: np.ndarray, rays: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``EmbreeScene.cast`` of several scenes in one pass: ``rays[bounds[m]:bounds[m + 1]]``
    against ``scenes[m]`` (``bounds`` (M + 1,) int64 ascending), as one loop shared with the
    helper threads (one hand-over for the whole frame instead of one per mesh)."""
    rays = np.ascontiguousarray(rays, dtype=np.float32)
    count = len(rays)
    t = np.empty(count, dtype=np.float32)
    primitive = np.empty(count, dtype=np.uint32)
    uv = np.empty((count, 2), dtype=np.float32)
    handles = np.array([scene.handle for scene in scenes], dtype=np.uint64)
    bounds = np.ascontiguousarray(bounds, dtype=np.int64)
    kernels.split(_intersect_batches_part, (handles, bounds, rays, t, primitive, uv), count, "rays")
    return t, primitive, uv


class Open3DScene:
    """open3d's ``RaycastingScene`` behind ``EmbreeScene``'s two methods (holds the GIL)."""

    def __init__(self, meshes: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        import open3d as o3d

        self._o3d = o3d
        self.scene = o3d.t.geometry.RaycastingScene()
        for vertices, faces in meshes:
            self.scene.add_triangles(
                o3d.core.Tensor(np.asarray(vertices, dtype=np.float32)),
                o3d.core.Tensor(np.asarray(faces, dtype=np.uint32)),
            )
        # open3d builds (commits) a scene on its first cast: do it here, so that casts of two
        # frames on two threads never both build the same scene.
        self.scene.cast_rays(o3d.core.Tensor(np.array([[0, 0, 0, 0, 0, 1]], dtype=np.float32)))

    def cast(self, rays: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As ``EmbreeScene.cast``."""
        tensor = self._o3d.core.Tensor.from_numpy(np.ascontiguousarray(rays, dtype=np.float32))
        result = self.scene.cast_rays(tensor)
        return result["t_hit"].numpy(), result["primitive_ids"].numpy(), result["primitive_uvs"].numpy()

    def occluded(self, rays: np.ndarray, tnear: float = 0.0, tfar: float = 1.0) -> np.ndarray:
        """As ``EmbreeScene.occluded``."""
        if len(rays) == 0:
            return np.zeros(0, dtype=bool)
        rays = np.ascontiguousarray(rays, dtype=np.float32)
        tensor = self._o3d.core.Tensor.from_numpy(rays)
        blocked = self.scene.test_occlusions(tensor, tnear=tnear, tfar=tfar).numpy().astype(bool)
        return blocked & np.any(rays[:, 3:] != 0, axis=1)


def scene(meshes: Sequence[tuple[np.ndarray, np.ndarray]], robust: bool = True) -> EmbreeScene | Open3DScene:
    """A committed scene of ``meshes`` ((vertices (V, 3), faces (F, 3)) each, in one frame):
    Embree's C API when the library loads, else open3d's (always robust).

    ``robust``: Embree's watertight mode (``RTC_SCENE_FLAG_ROBUST``, as open3d builds scenes):
    needed for camera rays to match open3d's hits exactly; shadow and occlusion scenes leave it
    off (about 20 % faster queries: a segment slipping through a shared edge of an occluder would
    have to slip through its other side too)."""
    library = _library()
    return EmbreeScene(library, meshes, robust) if library is not None else Open3DScene(meshes)


@numba.njit(cache=True, nogil=True)
def _packet() -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """A 64-byte aligned RTCRayHit16 as (planes, 16) float32 and uint32 views of the same words,
    and its valid mask (16,) int32 (-1: lane in use, 0: not)."""
    buffer = np.zeros((_PACKET_PLANES + 2) * _LANES, dtype=np.float32)
    offset = ((64 - buffer.ctypes.data % 64) % 64) // 4
    planes = buffer[offset : offset + _PACKET_PLANES * _LANES].reshape(_PACKET_PLANES, _LANES)
    valid = np.zeros(_LANES + 16, dtype=np.int32)
    valid_offset = ((64 - valid.ctypes.data % 64) % 64) // 4
    return planes, planes.view(np.uint32), valid[valid_offset : valid_offset + _LANES]


@numba.njit(cache=True, nogil=True)
def _load_packet(planes, words, valid, rays, base, stop, tnear, tfar):  # pragma: no cover - compiled
    """Rays ``base`` .. min(base + 16, stop) of ``rays`` (R, 6) into the packet; returns how many."""
    count = min(_LANES, stop - base)
    for lane in range(_LANES):
        if lane < count:
            ray = base + lane
            for axis in range(3):
                planes[_ORIGIN + axis, lane] = rays[ray, axis]
                planes[_DIRECTION + axis, lane] = rays[ray, 3 + axis]
            planes[_TNEAR, lane] = tnear
            planes[_TIME, lane] = 0.0
            planes[_TFAR, lane] = tfar
            words[_MASK, lane] = 0xFFFFFFFF
            words[_ID, lane] = 0
            words[_FLAGS, lane] = 0
            words[_GEOM, lane] = INVALID_ID
            words[_INST, lane] = INVALID_ID
            valid[lane] = -1
        else:
            valid[lane] = 0
    return count


@numba.njit(cache=True, nogil=True)
def _intersect_part(scene, rays, t, primitive, uv, first, stop):  # pragma: no cover - compiled
    planes, words, valid = _packet()
    for base in range(first, stop, _LANES):
        count = _load_packet(planes, words, valid, rays, base, stop, np.float32(0.0), np.float32(np.inf))
        _intersect16(valid.ctypes.data, scene, planes.ctypes.data, 0)
        for lane in range(count):
            ray = base + lane
            if words[_GEOM, lane] != INVALID_ID:
                t[ray] = planes[_TFAR, lane]
                primitive[ray] = words[_PRIM, lane]
                uv[ray, 0] = planes[_U, lane]
                uv[ray, 1] = planes[_V, lane]
            else:
                t[ray] = np.inf
                primitive[ray] = INVALID_ID
                uv[ray, 0] = 0.0
                uv[ray, 1] = 0.0


@numba.njit(cache=True, nogil=True)
def _intersect_batches_part(handles, bounds, rays, t, primitive, uv, first, stop):  # pragma: no cover
    for mesh in range(handles.shape[0]):
        low, high = max(bounds[mesh], first), min(bounds[mesh + 1], stop)
        if low < high:
            _intersect_part(handles[mesh], rays, t, primitive, uv, low, high)


@numba.njit(cache=True, nogil=True)
def _occluded_part(scene, rays, tnear, tfar, blocked, first, stop):  # pragma: no cover - compiled
    """``blocked[first:stop]``; packets as coherent queries (about 15 % faster than incoherent
    on shadow segments of neighbouring pixels, same answers); zero segments stay out."""
    planes, words, valid = _packet()
    arguments = np.zeros(_OCCLUDED_ARGUMENT_WORDS, dtype=np.uint64)
    arguments[0] = np.uint64(_QUERY_FLAG_COHERENT) | (np.uint64(_FEATURE_FLAG_ALL) << np.uint64(32))
    for base in range(first, stop, _LANES):
        count = _load_packet(planes, words, valid, rays, base, stop, tnear, tfar)
        active = 0
        for lane in range(count):
            ray = base + lane
            if rays[ray, 3] == 0 and rays[ray, 4] == 0 and rays[ray, 5] == 0:
                valid[lane] = 0
            else:
                active += 1
        if active:
            _occluded16(valid.ctypes.data, scene, planes.ctypes.data, arguments.ctypes.data)
        for lane in range(count):
            blocked[base + lane] = valid[lane] != 0 and planes[_TFAR, lane] == -np.inf
