"""``diffusion``: the guided video diffusion renderer (trained here, weights shipped).

Frames are made at a small native resolution, window by window (``windows``), each window
conditioned on the guidance stack (``conditioning``), optionally on what earlier windows made
(context: each surface point's first look from a ``surface_cache``, or the previous window's
frames) and on each entity's remembered look (``memory``); the initial noise is anchored to the
surfaces (``noise``). Native frames are then upsampled to the output resolution with the
full-resolution guidance (``upsample``). Every mechanism is an option, so its effect can be
measured with ``worldsim experiment``."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from renderers.base import GuidanceSource
from renderers.diffusion.conditioning import guidance_condition, srgb_decode, with_context, with_memory
from renderers.diffusion.entity_noise import entity_vectors, mix
from renderers.diffusion.memory import AppearanceMemory
from renderers.diffusion.noise import anchored_noise, frame_noise_inputs, white_noise
from renderers.diffusion.options import DEFAULT_WEIGHTS, DiffusionOptions, load_diffusion_options
from renderers.diffusion.surface_cache import SurfaceCache
from renderers.diffusion.upsample import UpsampleGuide, guided_upsample
from renderers.diffusion.windows import blend_weights, final_frames, plan_windows, support_frames
from renderers.guidance.frame import GuidanceFrame
from renderers.guidance.render import GuidanceRenderer
from renderers.tonemap import linear_to_srgb_uint8
from worldsim.errors import RenderError
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

        Windows chain from frame 0, so a resumed render regenerates the chain up to the last
        missing frame (deterministically: the frames it yields match the first run's); windows
        after it are not computed.
        """
        wanted = sorted({int(frame) for frame in frames})
        if not wanted:
            return
        track = trajectory.cameras[camera]
        full_size = (track.width, track.height)
        for frame, srgb, native in self.generate_native(trajectory, camera):
            if frame in wanted:
                full = guidance(frame) if guidance is not None else None
                yield frame, linear_to_srgb_uint8(self.upsample(srgb_decode(srgb), native, full, full_size))
            if frame >= wanted[-1]:
                return

    def generate_native(
        self, trajectory: Trajectory, camera: str
    ) -> Iterator[tuple[int, np.ndarray, GuidanceFrame]]:
        """Yield (frame, native (h, w, 3) sRGB-encoded in [0, 1], native guidance) for every frame
        of the clip in order, window by window (stop iterating to skip the remaining windows)."""
        import torch

        options = self.options
        if camera not in trajectory.cameras:
            raise RenderError(f"no camera named {camera!r} in the trajectory")
        track = trajectory.cameras[camera]
        width, height = self.native_size(track.width, track.height)
        native = GuidanceRenderer(trajectory.with_resolution(width, height), camera)
        fine = None
        if options.anchored_noise:
            factor = options.noise_factor
            fine = GuidanceRenderer(trajectory.with_resolution(width * factor, height * factor), camera)
        seed = trajectory.seed if options.seed is None else options.seed
        windows = plan_windows(trajectory.num_frames, options.window, options.overlap)
        margin = options.margin
        memory = AppearanceMemory()
        surface_context = options.context and options.context_method == "surface"
        cache = SurfaceCache()  # filled with every final frame when surface_context
        # outputs of the previous window the next one reuses (overlap blend, context)
        previous: dict[int, np.ndarray] = {}
        # native guidance and noise of frames the next window samples again
        carried: dict[int, tuple[GuidanceFrame, np.ndarray]] = {}
        for position, window in enumerate(windows):
            support = support_frames(window, margin, trajectory.num_frames)
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
                known = self._context_frames(support, end, previous, cond.shape[-2:])
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
            srgb = srgb[own]
            for index, weight in enumerate(blend_weights(window.context)):
                frame = window.start + index
                if frame in previous:
                    srgb[index] = (1.0 - weight) * previous[frame] + weight * srgb[index]
            following = windows[position + 1] if position + 1 < len(windows) else None
            for frame in final_frames(window, following):
                made, frame_maps = srgb[frame - window.start], maps[margin + frame - window.start]
                if surface_context:
                    cache.add(made, frame_maps)
                yield frame, made, frame_maps
            if following is None:
                return
            reused = set(support_frames(following, margin, trajectory.num_frames))
            previous = {frame: srgb[frame - window.start] for frame in window.frames if frame in reused}
            carried = {frame: carried[frame] for frame in reused if frame in carried}

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
        self, native: GuidanceRenderer, fine: GuidanceRenderer | None, frame: int, seed: int
    ) -> tuple[GuidanceFrame, np.ndarray]:
        """(native guidance, (3, h, w) initial noise) of ``frame``. The noise is surface-anchored
        (``fine`` guidance given) or white per frame, mixed with the entity vectors the model was
        trained with (keyed by entity, and by frame too when anchoring is off)."""
        maps = native.render(frame)
        if fine is None:
            noise = white_noise((3, *maps.instance.shape), derive_seed(seed, NOISE_PURPOSE, frame))
            entity_seed = derive_seed(seed, ENTITY_NOISE_PURPOSE, frame)
        else:
            inputs = frame_noise_inputs(fine.render(frame), fine.track)
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
