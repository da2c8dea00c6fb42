"""``ClipGuidance``: the guidance of one camera of one clip, composed once by the orchestrator.

One backend (one acceleration structure per unique mesh) serves every resolution: geometry does
not depend on the image size, only the rays do. Per resolution a ``GuidanceRenderer`` keeps the
ray hits of t-1, t, t+1, so frames asked for in order cost one cast each, and a few finished
frames are kept so two consumers (the clip writer and the appearance renderer) get the same
object. At the output resolution the orchestrator's hooks read a frame back from the clip folder
(``stored``) or write it there once computed (``computed``). Implements
``renderers.base.GuidanceSource``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from renderers.guidance.backend import GuidanceBackend, RayHits, create_backend
from renderers.guidance.render import GuidanceRenderer
from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.track import CameraTrack
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.state import Trajectory

KEPT_FRAMES = 4
"""Finished guidance frames kept per resolution (most recently used first out)."""


class SerialBackend:
    """A backend shared by several resolutions whose renderers cast on worker threads: one cast
    at a time (open3d builds its Embree scenes on the first cast)."""

    def __init__(self, backend: GuidanceBackend) -> None:
        self.inner = backend
        self.meshes = backend.meshes
        self._lock = threading.Lock()

    def cast(
        self,
        frame: int,
        cam_to_world: np.ndarray,
        intrinsics: Intrinsics,
        rays_camera: np.ndarray | None = None,
    ) -> RayHits:
        with self._lock:
            return self.inner.cast(frame, cam_to_world, intrinsics, rays_camera)


class ResolutionGuidance:
    """Guidance frames of one camera at one image size; ``guidance(frame)`` in any order.

    trajectory: the clip seen at this size (``Trajectory.with_resolution``); track: its camera.
    """

    def __init__(
        self,
        trajectory: Trajectory,
        camera: str,
        backend: GuidanceBackend,
        *,
        supersample: int = 1,
        visibility: bool = True,
        lighting: Sequence[str] = (),
        stored: Callable[[int], GuidanceFrame | None] | None = None,
        computed: Callable[[GuidanceFrame], None] | None = None,
    ) -> None:
        self.trajectory = trajectory
        self.camera = camera
        self.lighting = tuple(lighting)
        self.track: CameraTrack = trajectory.cameras[camera]
        self._renderer = GuidanceRenderer(
            trajectory,
            camera,
            backend=backend,
            supersample=supersample,
            visibility=visibility,
            lighting=lighting,
        )
        self._stored = stored
        self._computed = computed
        self._kept: OrderedDict[int, GuidanceFrame] = OrderedDict()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames."""
        return self.track.width, self.track.height

    def __call__(self, frame: int) -> GuidanceFrame:
        """The ``GuidanceFrame`` of ``frame``: kept, read back, or computed (then handed to ``computed``)."""
        frame = int(frame)
        kept = self._kept.get(frame)
        if kept is not None:
            self._kept.move_to_end(frame)
            return kept
        result = self._stored(frame) if self._stored is not None else None
        if result is None:
            result = self._renderer.render(frame)
            if self._computed is not None:
                self._computed(result)
        self._kept[frame] = result
        while len(self._kept) > KEPT_FRAMES:
            self._kept.popitem(last=False)
        return result

    def hits(self, frame: int) -> RayHits:
        """The ray hits of ``frame`` at this size, for a consumer that needs a map or two of
        them only (``renderers.guidance.maps``), not the whole frame."""
        return self._renderer.hits(int(frame))

    def render(self, frame: int) -> GuidanceFrame:
        """Same as calling it (the ``GuidanceRenderer`` spelling)."""
        return self(frame)


class ClipGuidance:
    """The guidance of ``camera`` for a whole clip: one backend, one ``ResolutionGuidance`` per size.

    Called with a frame it gives the output-resolution frame (``supersample``d like the clip's
    maps); ``at(width, height)`` gives another resolution (e.g. a model's native size), built on
    first use and kept. ``backend``: a name of ``BACKENDS`` or a built backend.
    ``batch_size``: frames a batching backend may cast per call (recorded; the shipped backends
    cast frame by frame). ``lighting``: the lighting maps (``LIGHTING_MAPS``) the output frames
    carry. ``stored`` / ``computed``: the orchestrator's read-back and write hooks at the output
    resolution.
    """

    def __init__(
        self,
        trajectory: Trajectory,
        camera: str | None = None,
        *,
        backend: str | GuidanceBackend = "open3d",
        supersample: int = 1,
        batch_size: int = 8,
        lighting: Sequence[str] = (),
        stored: Callable[[int], GuidanceFrame | None] | None = None,
        computed: Callable[[GuidanceFrame], None] | None = None,
    ) -> None:
        camera = trajectory.primary_camera if camera is None else camera
        if camera not in trajectory.cameras:
            known = ", ".join(trajectory.cameras)
            raise RenderError(f"guidance: unknown camera {camera!r}; the trajectory has: {known}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise RenderError(f"guidance: batch_size must be >= 1, got {batch_size!r}")
        built = create_backend(backend, trajectory) if isinstance(backend, str) else backend
        self.backend_name = backend if isinstance(backend, str) else type(backend).__name__
        self.backend = SerialBackend(built)
        self.batch_size = batch_size
        self.supersample = supersample
        self.trajectory = trajectory
        self.camera = camera
        self.output = ResolutionGuidance(
            trajectory,
            camera,
            self.backend,
            supersample=supersample,
            lighting=lighting,
            stored=stored,
            computed=computed,
        )
        self.track = self.output.track
        self._sizes: dict[tuple[int, int], ResolutionGuidance] = {self.output.size: self.output}

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the output frames."""
        return self.output.size

    def __call__(self, frame: int) -> GuidanceFrame:
        """The output-resolution ``GuidanceFrame`` of ``frame``."""
        return self.output(frame)

    def at(self, width: int, height: int, lighting: Sequence[str] = ()) -> ResolutionGuidance:
        """The guidance at ``width x height`` carrying at least the ``lighting`` maps (the
        output's own source at the output size when it carries them)."""
        size = (int(width), int(height))
        source = self._sizes.get(size)
        if source is None or not set(lighting) <= set(source.lighting):
            trajectory = self.trajectory.with_resolution(*size)
            # Per-entity visibility is a clip output: other sizes serve models, which do not read it.
            source = ResolutionGuidance(
                trajectory, self.camera, self.backend, visibility=False, lighting=tuple(lighting)
            )
            self._sizes[size] = source
        return source
