"""``render_guidance``: stream every guidance map of a trajectory, frame by frame.

Frames are cast in order with a window of three frames (t-1, t, t+1), so each frame is cast once
when rendering a contiguous range and memory stays flat however long the clip is. Rendering in
order, frames t+1 and t+2 are cast on worker threads while frame t's maps are computed, the
flows run beside the other maps, the forward flow as soon as t+1's cast is done, and the lighting
maps of t+1 and t+2 (with their material maps) run on two lighting threads (the compiled
kernels and ``renderers.guidance.embree``'s casts and occlusion queries release the GIL; open3d's,
its fallback, hold it); results do not depend on the threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache

import numpy as np

from renderers.guidance.backend import GuidanceBackend, RayHits, create_backend
from renderers.guidance.bump import bumped_shading_normal_map
from renderers.guidance.flow import correspondence_flow
from renderers.guidance.lighting import LIGHTING_MAPS, LightingContext, lighting_context, lighting_maps
from renderers.guidance.maps import (
    camera_normal_map,
    depth_map,
    instance_map,
    material_maps,
    ray_distance_map,
    semantic_map,
    shading_normal_map,
    surface_coords_map,
)
from renderers.guidance.switching import short_switch_interval
from renderers.guidance.visibility import entity_visibility
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.memory import keep_freed_memory
from worldsim.state import Trajectory

LIGHTING_AHEAD = 2
"""Rendering in order, the lighting maps of this many frames after t are under way while t's other
maps are computed, each on its own lighting thread: two jobs in flight fill the gaps one leaves
(its serial parts, the tail of its split loops) with the other's work (at 256^2 on two cores,
0.37 -> 0.42 of the unlit frame rate in an interleaved A/B)."""


class GuidanceRenderer:
    """Guidance maps of one camera of one clip; build once, then ``render(frame)`` in any order.

    ``supersample`` > 1 averages depth and normals over ``supersample``² sub-pixel rays (ids,
    surface coordinates, materials and flow always come from the single pixel-centre ray).
    ``threads``: overlap the next frames' ray casting and the flow with the other maps.
    ``backend``: a backend name (one is built for this renderer) or a backend already built for the
    clip (``renderers.guidance.source.ClipGuidance`` hands one backend to every resolution).
    ``lighting``: the lighting maps to compute (of ``LIGHTING_MAPS``; none by default).
    """

    def __init__(
        self,
        trajectory: Trajectory,
        camera: str | None = None,
        *,
        backend: str | GuidanceBackend = "open3d",
        supersample: int = 1,
        visibility: bool = True,
        threads: bool = True,
        lighting: Sequence[str] = (),
    ) -> None:
        camera = trajectory.primary_camera if camera is None else camera
        if camera not in trajectory.cameras:
            known = ", ".join(trajectory.cameras)
            raise RenderError(f"guidance: unknown camera {camera!r}; the trajectory has: {known}")
        if not isinstance(supersample, int) or supersample < 1:
            raise RenderError(f"guidance: supersample must be a positive integer, got {supersample!r}")
        keep_freed_memory()  # each frame reuses the last frames' memory (no page faults)
        self.trajectory = trajectory
        self.camera = camera
        self.track = trajectory.cameras[camera]
        self.supersample = supersample
        self.visibility = visibility
        self.threads = threads
        unknown = [name for name in lighting if name not in LIGHTING_MAPS]
        if unknown:
            raise RenderError(
                f"guidance: unknown lighting map {unknown[0]!r}; known: {', '.join(LIGHTING_MAPS)}"
            )
        self.lighting = tuple(dict.fromkeys(lighting))
        self._lighting: LightingContext | None = None
        self._lighting_lock = threading.Lock()
        self.backend = create_backend(backend, trajectory) if isinstance(backend, str) else backend
        self._window: dict[int, tuple[RayHits, np.ndarray]] = {}
        self._pending: dict[int, Future] = {}
        self._ahead: dict[int, tuple[Future, Future]] = {}
        """Frame -> (its material maps, its lighting maps) computed ahead (``_lighting_ahead``)."""
        self._last_frame: int | None = None

    def _cast(self, frame: int) -> tuple[RayHits, np.ndarray]:
        hits = self.backend.cast(frame, self.track.cam_to_world[frame], self.track.intrinsics(frame))
        return hits, depth_map(hits)

    def _settle(self) -> None:
        """Wait for the casts in flight (if any) and keep them."""
        for frame in list(self._pending):
            self._window[frame] = self._pending.pop(frame).result()

    def _hits(self, frame: int) -> tuple[RayHits, np.ndarray]:
        """The hits and depth of ``frame``, from the window, its cast in flight or freshly cast."""
        if frame in self._pending:
            self._window[frame] = self._pending.pop(frame).result()
        cached = self._window.get(frame)
        if cached is None:
            cached = self._window[frame] = self._cast(frame)
        return cached

    def hits(self, frame: int) -> RayHits:
        """The ray hits of ``frame`` alone (no maps): the one cast of that frame, kept with the
        frames the renderer holds, so asking for its maps after costs no second cast."""
        self._check_frame(frame)
        self._settle()
        self._drop_far_from(frame)
        return self._hits(frame)[0]

    def _check_frame(self, frame: int) -> None:
        count = len(self.trajectory)
        if not 0 <= frame < count:
            raise RenderError(f"guidance: frame {frame} out of range for a clip of {count} frames")

    def _drop_far_from(self, frame: int) -> None:
        """Forget the hits of frames more than one away from ``frame`` (memory stays flat)."""
        for old in [f for f in self._window if abs(f - frame) > 1]:
            del self._window[old]

    def _future_hits(self, frame: int) -> Future:
        """A future of ``_hits(frame)``: the cast in flight, or done here."""
        if frame in self._pending:
            return self._pending[frame]
        future: Future = Future()
        future.set_result(self._hits(frame))
        return future

    def _prefetch(self, frame: int) -> None:
        """Start casting ``frame`` on a worker thread (when in range and not held or in flight)."""
        if (
            self.threads
            and frame < len(self.trajectory)
            and frame not in self._window
            and frame not in self._pending
        ):
            self._pending[frame] = _worker_pool().submit(self._cast, frame)

    def render(self, frame: int) -> GuidanceFrame:
        """Every map of ``frame`` (flow to the neighbouring frames of the clip)."""
        with short_switch_interval():  # the renderer's threads take turns at the GIL quickly
            return self._render(frame)

    def _render(self, frame: int) -> GuidanceFrame:
        self._check_frame(frame)
        count = len(self.trajectory)
        in_order = self._last_frame == frame - 1
        if not in_order:
            self._settle()
        self._drop_far_from(frame)
        trajectory = self.trajectory
        hits, depth = self._hits(frame)
        previous = self._hits(frame - 1) if frame > 0 else None
        self._prefetch(frame + 1)
        if in_order:
            self._prefetch(frame + 2)
        following = self._future_hits(frame + 1) if frame + 1 < count else None
        self._last_frame = frame
        # Nothing is continuous across a camera cut: no flow is computed there, all of it invalid.
        cut_after = following is not None and self.track.crosses_cut(frame, frame + 1)
        cut_before = previous is not None and self.track.crosses_cut(frame - 1, frame)
        if cut_before:
            previous = None
        # Both flows go to workers (the forward one waits for t+1's cast, submitted before it, so
        # it never waits on work queued behind it) while this thread does the other maps.
        forward = self._run(_flow_to, hits, following, trajectory) if following and not cut_after else None
        backward = self._run(correspondence_flow, hits, *previous, trajectory) if previous else None
        # The lighting maps (the longest job: Embree and compiled loops, GIL released) run on the
        # lighting threads beside the other maps; rendering in order, those of t+1 .. t+
        # LIGHTING_AHEAD are under way (with their material maps, which they read), so the
        # lighting of one frame overlaps the other maps of the next and the lighting of another.
        ahead = self._ahead.pop(frame, None) if in_order else None
        if not in_order:
            self._ahead.clear()  # a jump: what was computed ahead is dropped
        if ahead is not None:
            materials, lighting_future = ahead
            albedo, roughness, metallic = materials.result()
        else:
            albedo, roughness, metallic = material_maps(hits, trajectory)
            lighting_future = (
                self._run_lighting(self._lighting_maps, hits, roughness) if self.lighting else None
            )
        if self.lighting and self.threads and following is not None:
            for later in range(frame + 1, frame + 1 + LIGHTING_AHEAD):
                if later in self._ahead or later >= count:
                    continue
                if later > frame + 1 and later not in self._pending and later not in self._window:
                    break
                self._ahead[later] = self._lighting_ahead(self._future_hits(later))
        normal = camera_normal_map(hits)
        ray_distance = ray_distance_map(hits)
        if self.supersample > 1:
            depth, normal, ray_distance = self._supersampled(hits, depth, normal, ray_distance)
        instance = instance_map(hits, trajectory)
        semantic = semantic_map(hits, trajectory)
        surface_coords = surface_coords_map(hits)
        shading_normal = bumped_shading_normal_map(
            shading_normal_map(hits, self.backend.meshes, trajectory), hits, trajectory
        )
        visibility = entity_visibility(hits, trajectory) if self.visibility else None
        lighting = lighting_future.result() if lighting_future is not None else {}
        no_flow = _no_flow(depth.shape)
        flow_forward, flow_forward_valid = (
            forward.result() if forward is not None else no_flow if cut_after else (None, None)
        )
        flow_backward, flow_backward_valid = (
            backward.result() if backward is not None else no_flow if cut_before else (None, None)
        )
        return GuidanceFrame(
            frame=frame,
            camera=self.camera,
            depth=depth,
            ray_distance=ray_distance,
            instance=instance,
            semantic=semantic,
            normal=normal,
            surface_coords=surface_coords,
            albedo=albedo,
            roughness=roughness,
            metallic=metallic,
            flow_forward=flow_forward,
            flow_forward_valid=flow_forward_valid,
            flow_backward=flow_backward,
            flow_backward_valid=flow_backward_valid,
            shading_normal=shading_normal,
            visibility=visibility,
            **lighting,
        )

    def _lighting_maps(self, hits: RayHits, roughness: np.ndarray) -> dict[str, object]:
        """The lighting maps of ``hits`` and the ``shadow`` channels' names (context built once,
        by whichever lighting thread comes first)."""
        with self._lighting_lock:
            if self._lighting is None:
                self._lighting = lighting_context(self.trajectory, self.backend.meshes)
        lighting: dict[str, object] = dict(lighting_maps(hits, self._lighting, roughness, self.lighting))
        lighting["shadow_lights"] = tuple(self._lighting.shadow_names)
        return lighting

    def _lighting_ahead(self, hits: Future) -> tuple[Future, Future]:
        """Futures of (the material maps, the lighting maps) of the frame whose cast is ``hits``
        (a future of ``_hits``), both computed on a lighting thread."""
        materials: Future = Future()

        def job() -> dict[str, object]:
            try:
                frame_hits = hits.result()[0]
                maps = material_maps(frame_hits, self.trajectory)
            except BaseException as error:  # the renderer waits on ``materials``: always settle it
                materials.set_exception(error)
                raise
            materials.set_result(maps)
            return self._lighting_maps(frame_hits, maps[1])

        return materials, _lighting_thread().submit(job)

    def _run_lighting(self, function, *args) -> Future:
        """``function(*args)`` on a lighting thread, or here without threads."""
        if self.threads:
            return _lighting_thread().submit(function, *args)
        return self._run(function, *args)

    def _run(self, function, *args) -> Future:
        """``function(*args)`` on a worker thread, or here (as a done future) without threads."""
        if self.threads:
            return _worker_pool().submit(function, *args)
        future: Future = Future()
        future.set_result(function(*args))
        return future

    def _supersampled(
        self, hits: RayHits, depth: np.ndarray, normal: np.ndarray, ray_distance: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Depth, normals and ray distance averaged over the sub-pixel rays that hit something.

        Background (+inf) where the pixel-centre ray misses, so the maps agree with the ids.
        """
        factor = self.supersample
        self._settle()  # let the casts in flight finish before the large sub-pixel cast
        base = hits.intrinsics
        fine_intrinsics = base.resize(base.width * factor, base.height * factor)
        fine = self.backend.cast(hits.frame, hits.cam_to_world, fine_intrinsics)
        shape = (base.height, factor, base.width, factor)
        fine_hit = fine.hit.reshape(shape)
        samples = np.maximum(fine_hit.sum(axis=(1, 3)), 1)

        def average(values: np.ndarray) -> np.ndarray:
            values = np.where(fine.hit, values, 0.0).reshape(shape)
            return values.sum(axis=(1, 3)) / samples

        fine_depth = depth_map(fine).astype(np.float64)
        fine_normal = camera_normal_map(fine).astype(np.float64).reshape(*shape, 3)
        summed = fine_normal.sum(axis=(1, 3))
        length = np.linalg.norm(summed, axis=-1, keepdims=True)
        normal_out = np.divide(summed, length, out=np.zeros_like(summed), where=length > 0)
        keep = hits.hit & (fine_hit.sum(axis=(1, 3)) > 0)
        depth_out = np.where(keep, average(fine_depth), np.inf).astype(np.float32)
        ray_out = np.where(keep, average(fine.ray_distance.astype(np.float64)), np.inf).astype(np.float32)
        normal_out = np.where(keep[..., None], normal_out, normal).astype(np.float32)
        # Pixels whose centre hit but no sub-sample did keep their centre values.
        depth_out = np.where(hits.hit & ~keep, depth, depth_out)
        ray_out = np.where(hits.hit & ~keep, ray_distance, ray_out)
        return depth_out, normal_out, ray_out


def _flow_to(hits: RayHits, target: Future, trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """``correspondence_flow`` from ``hits`` to the frame whose cast ``target`` delivers."""
    return correspondence_flow(hits, *target.result(), trajectory)


def _no_flow(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Flow across a cut: (H, W, 2) float32 zeros, (H, W) all invalid."""
    return np.zeros((*shape, 2), dtype=np.float32), np.zeros(shape, dtype=bool)


@cache
def _worker_pool() -> ThreadPoolExecutor:
    """Five workers shared by all renderers: two cast ahead (t+1, t+2), two compute the flows,
    one spare.

    Tasks that wait (the forward flow) only wait on casts submitted before them, so the FIFO
    queue never deadlocks.
    """
    return ThreadPoolExecutor(max_workers=5, thread_name_prefix="guidance")


@cache
def _lighting_thread() -> ThreadPoolExecutor:
    """The ``LIGHTING_AHEAD`` threads every renderer's lighting maps run on, started in order of
    submission. A job waits only on a cast (``_worker_pool``), which never waits on lighting, so
    it never deadlocks."""
    return ThreadPoolExecutor(max_workers=LIGHTING_AHEAD, thread_name_prefix="guidance-lighting")


def render_guidance(
    trajectory: Trajectory,
    camera: str | None = None,
    *,
    backend: str = "open3d",
    frames: Sequence[int] | None = None,
    batch_size: int = 8,
    supersample: int = 1,
    lighting: Sequence[str] = (),
) -> Iterator[GuidanceFrame]:
    """Yield the ``GuidanceFrame`` of each of ``frames`` (default: all) of ``camera`` in order.

    Streams: at most three frames' ray hits are held at once, so memory does not grow with the
    clip. ``batch_size`` is the number of frames a batching backend may cast per call (the
    open3d backend casts frame by frame). ``lighting``: lighting maps to add (``LIGHTING_MAPS``).
    Raises ``RenderError`` for an unknown camera, backend or frame.
    """
    if batch_size < 1:
        raise RenderError(f"guidance: batch_size must be >= 1, got {batch_size}")
    renderer = GuidanceRenderer(
        trajectory, camera, backend=backend, supersample=supersample, lighting=lighting
    )
    selected = range(len(trajectory)) if frames is None else [int(f) for f in frames]
    for frame in selected:
        yield renderer.render(frame)
