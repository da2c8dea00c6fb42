"""``diffusion``: the guided video diffusion renderer (trained here, weights shipped).

Frames are made at a small native resolution, window by window (``windows``), each window
conditioned on the guidance stack (``conditioning``), optionally on what earlier windows made
(context: each surface point's first look from a ``surface_cache``, or the previous window's
frames) and on each entity's remembered look (``memory``); the initial noise is anchored to the
surfaces (``noise``). Native frames are then upsampled to the output resolution with the
full-resolution guidance (``upsample``). Every mechanism is an option, so its effect can be
measured with ``worldsim experiment``."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from renderers.base import FrameGuidance, GuidanceSource
from renderers.diffusion.conditioning import guidance_condition, srgb_decode, with_context, with_memory
from renderers.diffusion.entity_noise import entity_vectors, mix
from renderers.diffusion.memory import AppearanceMemory
from renderers.diffusion.noise import anchored_noise, frame_noise_inputs, white_noise
from renderers.diffusion.options import DEFAULT_WEIGHTS, DiffusionOptions, load_diffusion_options
from renderers.diffusion.surface_cache import SurfaceCache
from renderers.diffusion.upsample import UpsampleGuide, guided_upsample
from renderers.diffusion.windows import (
    Window,
    WindowStream,
    plan_windows,
    plan_windows_to_sample,
    support_frames,
)
from renderers.tonemap import linear_to_srgb_uint8
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.randomness import derive_seed
from worldsim.state import Trajectory

if TYPE_CHECKING:
    import torch

LOGGER = logging.getLogger(__name__)
NOISE_PURPOSE = "diffusion_noise"
ENTITY_NOISE_PURPOSE = "diffusion_entity_noise"


class DiffusionRenderer:
    """Guidance -> frames with a small video diffusion model; deterministic for a seed."""

    name = "diffusion"
    needs_guidance = True
    generative = True
    """Frames come from a trained model (provenance: trained algorithmic media)."""
    # Persistent identity (``memory_io``, ``worldsim render --appearance-from``): the memory and
    # surface cache a render starts from (None: empty), and those it ended with.
    initial_memory: AppearanceMemory | None = None
    initial_surface_cache: SurfaceCache | None = None
    final_memory: AppearanceMemory | None = None
    final_surface_cache: SurfaceCache | None = None

    def __init__(self, options: DiffusionOptions) -> None:
        from renderers.diffusion.weights import load_weights

        self.options = options
        if options.weights is None and not DEFAULT_WEIGHTS.is_file():
            raise RenderError(
                f"no trained diffusion weights at {DEFAULT_WEIGHTS}: train them with "
                "`python tools/train_renderer.py --config configs/diffusion/train.yaml` (about an hour on "
                "2 CPU cores) or pass --option weights=PATH"
            )
        self.weights_source = options.weights_path
        self.model, self.config, self.metadata = load_weights(options.weights_path)
        self.stride = 2**self.config.levels

    def native_size(self, width: int, height: int) -> tuple[int, int]:
        """The model's (width, height) for an output of ``width x height``: longer side
        ``native_size``, both multiples of the model's stride."""
        scale = self.options.native_size / max(width, height)
        return (
            max(self.stride, round(width * scale / self.stride) * self.stride),
            max(self.stride, round(height * scale / self.stride) * self.stride),
        )

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame, (H, W, 3) uint8 sRGB) for each requested frame, in order.

        Only the windows ``frames`` need are sampled (``windows.plan_windows_to_sample``), so a
        resumed render costs about the missing frames' windows and matches an uninterrupted one
        byte for byte. With ``context`` on every window reads all earlier ones: the chain is
        regenerated from frame 0 up to the last requested frame. ``guidance`` gives the
        output-resolution frames (for the upsampler) and, through ``guidance.at``, the native and
        anchored-noise resolutions.
        """
        if guidance is None:
            raise RenderError(f"renderer {self.name!r} needs guidance maps; none were given")
        wanted = sorted({int(frame) for frame in frames})
        if not wanted:
            return
        track = trajectory.cameras[camera]
        full_size = (track.width, track.height)
        made = set()
        for frame, srgb, native in self.generate_native(trajectory, camera, guidance, wanted):
            if frame in wanted:
                made.add(frame)
                full = guidance(frame) if self._needs_full(native, full_size) else None
                yield frame, linear_to_srgb_uint8(self.upsample(srgb_decode(srgb), native, full, full_size))
        if len(made) < len(wanted):
            missing = sorted(set(wanted) - made)
            raise RenderError(f"renderer 'diffusion': the window plan did not make frames {missing}")

    def generate_native(
        self,
        trajectory: Trajectory,
        camera: str,
        guidance: GuidanceSource,
        frames: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, np.ndarray, GuidanceFrame]]:
        """Yield (frame, native (h, w, 3) sRGB-encoded in [0, 1], native guidance) in order for
        ``frames`` (default: every frame of the clip) and for the other final frames of the
        windows sampled to make them (see ``render_frames``).

        The native frames come from ``guidance.at(native size)``, the anchored noise's from
        ``guidance.at(noise_factor x native size)``: each frame is cast once per resolution."""
        options = self.options
        if camera not in trajectory.cameras:
            raise RenderError(f"no camera named {camera!r} in the trajectory")
        track = trajectory.cameras[camera]
        width, height = self.native_size(track.width, track.height)
        native = guidance.at(width, height)
        fine = None
        if options.anchored_noise:
            factor = options.noise_factor
            fine = guidance.at(width * factor, height * factor)
        seed = trajectory.seed if options.seed is None else options.seed
        count = trajectory.num_frames
        windows = plan_windows(count, options.window, options.overlap)
        wanted = range(count) if frames is None else frames
        order = plan_windows_to_sample(windows, wanted, chained=options.context)
        if options.memory and not options.context and order != list(range(len(order))):
            learns = self._memory_windows(windows[: order[-1]], native)
            order = plan_windows_to_sample(windows, wanted, chained=False, state_windows=learns)
        margin = options.margin
        memory = copy.deepcopy(self.initial_memory) if self.initial_memory else AppearanceMemory()
        surface_context = options.context and options.context_method == "surface"
        # filled with every final frame when surface_context
        cache = copy.deepcopy(self.initial_surface_cache) if self.initial_surface_cache else SurfaceCache()
        self.final_memory, self.final_surface_cache = memory, cache
        stream = WindowStream(windows)
        # native guidance and noise of the frames the window being sampled (and the next) needs
        carried: dict[int, tuple[GuidanceFrame, np.ndarray]] = {}

        def sample(window: Window) -> np.ndarray:
            """The window's sRGB (len(window.frames), h, w, 3) before the overlap cross-fade."""
            nonlocal carried
            import torch

            support = support_frames(window, margin, count)
            carried = {frame: carried[frame] for frame in support if frame in carried}
            for frame in support:
                if frame not in carried:
                    carried[frame] = self._frame_inputs(native, fine, frame, seed)
            inputs = [carried[frame] for frame in support]
            maps = [frame_maps for frame_maps, _ in inputs]
            instance = np.stack([frame.instance for frame in maps])
            cond = guidance_condition(maps, gbuffer=options.mode == "gbuffer")
            known = None
            if surface_context:
                # needs no overlap: every earlier final frame is in the cache
                known = self._surface_context(maps, cache) if len(cache) else None
            elif options.context and window.context:
                end = window.start + window.context
                known = self._context_frames(support, end, stream.previous, cond.shape[-2:])
                if options.context_method == "channel":
                    cond, known = with_context(cond, *known), None
            noise = torch.from_numpy(np.stack([frame_noise for _, frame_noise in inputs], 1))[None]
            own = slice(margin, margin + len(window.frames))
            painted = options.memory and len(memory) > 0
            window_cond = with_memory(cond, instance, memory.colours) if painted else cond
            srgb = self._sample(window_cond, noise, known)
            if options.memory and memory.remember(list(window.frames), srgb[own], instance[own]):
                # Entities first seen here: draw the window again with their colours painted, so
                # their first frames are made under the same condition as every later window.
                srgb = self._sample(with_memory(cond, instance, memory.colours), noise, known)
            return srgb[own]

        for made in stream.run(sample, order):
            for frame in made.final:
                frame_maps = carried[frame][0]
                if surface_context:
                    cache.add(made.output(frame), frame_maps)
                yield frame, made.output(frame), frame_maps

    def _memory_windows(self, windows: list[Window], native: FrameGuidance) -> list[int]:
        """The windows of ``windows`` where the appearance memory learns an entity: its choice
        depends on the instance maps only (``AppearanceMemory.remember``), so a dry run with
        blank colours finds them without sampling."""
        dry_run = copy.deepcopy(self.initial_memory) if self.initial_memory else AppearanceMemory()
        learns = []
        for window in windows:
            instance = np.stack([native(frame).instance for frame in window.frames])
            blank = np.zeros((*instance.shape, 3), dtype=np.float32)
            if dry_run.remember(list(window.frames), blank, instance):
                learns.append(window.index)
        return learns

    def _sample(
        self, cond: np.ndarray, noise: torch.Tensor, known: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """One window: condition (27, T, h, w), noise (1, 3, T, h, w) -> (T, h, w, 3) sRGB in [0, 1];
        ``known`` = (sRGB (T, h, w, 3), (T,) frames or (T, h, w) pixels) pinned in the sampler."""
        import torch

        from renderers.diffusion.flow_matching import drop_condition, sample

        options = self.options
        cond_tensor = torch.from_numpy(cond)[None]
        pinned = {}
        if known is not None:
            rgb, mask = known
            pinned = {
                "known": torch.from_numpy(np.ascontiguousarray(2.0 * rgb - 1.0)).permute(3, 0, 1, 2)[None],
                "known_frames": torch.from_numpy(mask),
            }
        with torch.no_grad():
            x0 = sample(
                self.model,
                cond_tensor,
                noise,
                steps=options.steps,
                method=options.sampler,
                guidance_scale=options.guidance_scale,
                uncond=drop_condition(cond_tensor, "all") if options.guidance_scale != 1.0 else None,
                **pinned,
            )
        return np.clip((x0[0].permute(1, 2, 3, 0).numpy() + 1.0) / 2.0, 0.0, 1.0)

    def _needs_full(self, native: GuidanceFrame, size: tuple[int, int]) -> bool:
        """Whether ``upsample`` reads the output-resolution guidance (only the guided upsampler does)."""
        return self.options.upsample and native.instance.shape != (size[1], size[0])

    def upsample(
        self, linear: np.ndarray, native: GuidanceFrame, full: GuidanceFrame | None, size: tuple[int, int]
    ) -> np.ndarray:
        """Native linear RGB -> (H, W, 3) at the output ``size`` (width, height)."""
        width, height = size
        if linear.shape[:2] == (height, width):
            return linear
        if self.options.upsample and full is not None:
            guide = UpsampleGuide(instance=native.instance, normal=native.normal, depth=native.depth)
            target = UpsampleGuide(instance=full.instance, normal=full.normal, depth=full.depth)
            return guided_upsample(linear, guide, target)
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(linear)).permute(2, 0, 1)[None]
        resized = torch.nn.functional.interpolate(
            tensor, size=(height, width), mode="bilinear", align_corners=False
        )
        return resized[0].permute(1, 2, 0).numpy()

    def _frame_inputs(
        self, native: FrameGuidance, fine: FrameGuidance | None, frame: int, seed: int
    ) -> tuple[GuidanceFrame, np.ndarray]:
        """(native guidance, (3, h, w) initial noise) of ``frame``. The noise is surface-anchored
        (``fine`` guidance given) or white per frame, mixed with the entity vectors the model was
        trained with (keyed by entity, and by frame too when anchoring is off)."""
        maps = native(frame)
        if fine is None:
            noise = white_noise((3, *maps.instance.shape), derive_seed(seed, NOISE_PURPOSE, frame))
            entity_seed = derive_seed(seed, ENTITY_NOISE_PURPOSE, frame)
        else:
            inputs = frame_noise_inputs(fine(frame), fine.track)
            noise = anchored_noise(
                inputs, self.options.noise_factor, derive_seed(seed, NOISE_PURPOSE) % 2**63
            )
            entity_seed = derive_seed(seed, ENTITY_NOISE_PURPOSE)
        share = self.config.entity_noise_share
        if share > 0.0:
            noise = mix(noise, entity_vectors(maps.instance, entity_seed), share)
        return maps, noise

    @staticmethod
    def _surface_context(maps: list[GuidanceFrame], cache: SurfaceCache) -> tuple[np.ndarray, np.ndarray]:
        """(sRGB (T, h, w, 3), (T, h, w) bool): on every frame of the window, the pixels whose
        surface point the cache holds, with the colour it was first made with."""
        looked_up = [cache.lookup(frame_maps) for frame_maps in maps]
        return np.stack([rgb for rgb, _ in looked_up]), np.stack([covered for _, covered in looked_up])

    @staticmethod
    def _context_frames(
        support: list[int], end: int, previous: dict[int, np.ndarray], size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(sRGB (T, h, w, 3), (T,) bool): the previous window's outputs on the sampled frames
        before ``end`` (the margin and overlap frames that window already made)."""
        rgb = np.zeros((len(support), *size, 3), dtype=np.float32)
        mask = np.zeros(len(support), dtype=bool)
        for index, frame in enumerate(support):
            if frame < end and frame in previous:
                rgb[index], mask[index] = previous[frame], True
        return rgb, mask


def create_diffusion_renderer(options: dict[str, Any]) -> DiffusionRenderer:
    """Factory registered as ``diffusion``; options in ``renderers/diffusion/options.py``."""
    return DiffusionRenderer(load_diffusion_options(options))
