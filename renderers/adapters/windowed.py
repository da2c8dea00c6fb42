"""What every adapter shares: weights checks, the model's resolution and frame counts, and the
window loop that streams a clip of any length through a model made for a few seconds.

A clip is cut into overlapping windows of the model's own frame count and streamed through
``renderers.diffusion.windows.WindowStream``, the window loop the diffusion renderer uses too. For
each window the adapter renders the guidance at the model's resolution, turns it into the control
video (``control``), hands the tail of the previous window as context, the entity
crops remembered so far as references (``references``) and surface-anchored initial latents
(``latents``) to the model (``generate_window``, one per family), cross-fades the overlap and
yields the frames no later window touches. Only one window's frames, the overlap and at most
``max_references`` crops are held, so memory does not grow with the clip.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from renderers.adapters.control import DepthNormaliser, control_frames
from renderers.adapters.latents import latent_count, reference_latents, slice_frames, window_latents
from renderers.adapters.options import AdapterOptions
from renderers.adapters.references import EntityReferences
from renderers.adapters.weights import (
    PipelineSpec,
    check_pipeline_folder,
    load_pipeline,
    place_pipeline,
    resolve_device,
)
from renderers.base import FrameGuidance, GuidanceSource
from renderers.diffusion.windows import Window, WindowStream, plan_windows, plan_windows_to_sample
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.randomness import derive_seed
from worldsim.state import Trajectory

LOGGER = logging.getLogger(__name__)
GENERATOR_PURPOSE = "adapter_generator"


@dataclass(frozen=True)
class LatentGeometry:
    """How a model's VAE and transformer shape its latents.

    temporal / spatial: VAE compression in time and space (Wan, CogVideoX: 4 and 8).
    channels: latent channels the transformer denoises.
    size_step: width and height must be multiples of it (spatial x transformer patch size).
    temporal_patch: latent frames must be a multiple of it (CogVideoX 1.5: 2; else 1).
    """

    temporal: int
    spatial: int
    channels: int
    size_step: int
    temporal_patch: int = 1

    def frame_count(self, frames: int) -> int:
        """The smallest frame count >= ``frames`` the model accepts (4k + 1, whole temporal patches)."""
        count = max(frames, 1)
        while (count - 1) % self.temporal or latent_count(count, self.temporal) % self.temporal_patch:
            count += 1
        return count


@dataclass
class WindowInputs:
    """Everything one model call gets; arrays at the model's resolution (h, w).

    control: (T, h, w, 3) float32 [0, 1] control video, T the model's frame count (the last real
      frame repeated to pad a short final window).
    context: (C, h, w, 3) float32 [0, 1] frames already made by the previous window, or None.
    references: (h_i, w_i, 3) float32 [0, 1] entity crops on white, in order of first appearance.
    latents: (channels, latent frames, h / spatial, w / spatial) float32 initial noise.
    reference_latents: (channels, len(references), h / spatial, w / spatial) their noise.
    prompt_embeds / negative_prompt_embeds: the encoded prompts (torch tensors).
    seed: for the torch generator of this window.
    """

    control: np.ndarray
    context: np.ndarray | None
    references: list[np.ndarray]
    latents: np.ndarray
    reference_latents: np.ndarray
    prompt_embeds: Any
    negative_prompt_embeds: Any
    seed: int


class WindowedAdapter:
    """Base of the diffusers adapters; subclasses set ``name``, ``spec`` and implement
    ``geometry_of`` and ``generate_window``."""

    name = "adapter"
    needs_guidance = True
    generative = True
    """Frames come from a pretrained video model (provenance: trained algorithmic media)."""
    spec: PipelineSpec
    supports_references = False

    def __init__(self, options: AdapterOptions) -> None:
        self.options = options
        folder = check_pipeline_folder(self.name, options.weights_path, self.spec)
        self.weights_source = folder
        self.geometry = self.geometry_of(folder)
        self._check_geometry()
        self.device = resolve_device(self.name, options.device)
        vae_dtype = options.vae_dtype or options.dtype
        self.pipeline = load_pipeline(self.name, folder, self.spec, options.dtype, vae_dtype)
        place_pipeline(
            self.name,
            self.pipeline,
            self.device,
            options.offload,
            options.vae_tiling,
            options.vae_slicing,
            options.attention_backend,
        )
        self._prompts: dict[tuple[str, str], tuple[Any, Any]] = {}

    # --- per family ------------------------------------------------------------------------
    def geometry_of(self, folder: Path) -> LatentGeometry:
        """The latent geometry, read from the folder's configs (before loading any weights)."""
        raise NotImplementedError

    def generate_window(self, inputs: WindowInputs, size: tuple[int, int]) -> np.ndarray:
        """(T, h, w, 3) float32 [0, 1] frames of one window; ``size`` = (width, height)."""
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------
    def _check_geometry(self) -> None:
        options, geometry = self.options, self.geometry

        def fail(key: str, reason: str) -> None:
            raise RenderError(f"renderer {self.name!r}: option {key!r} {reason}")

        if geometry.frame_count(options.window) != options.window:
            fail(
                "window",
                f"must be a frame count the model accepts ({geometry.temporal}k + 1"
                + (
                    f" with a multiple of {geometry.temporal_patch} latent frames"
                    if geometry.temporal_patch > 1
                    else ""
                )
                + f"), got {options.window}; e.g. {geometry.frame_count(options.window)}",
            )
        if options.overlap and (options.overlap - 1) % geometry.temporal:
            fail(
                "overlap",
                f"must be 0 or {geometry.temporal}m + 1 (context fills whole latent frames), "
                f"got {options.overlap}",
            )
        if options.noise_factor > geometry.spatial:
            fail("noise_factor", f"must be at most the VAE's spatial factor {geometry.spatial}")
        if options.resolution is not None and any(side % geometry.size_step for side in options.resolution):
            fail("resolution", f"sides must be multiples of {geometry.size_step}, got {options.resolution}")
        if options.references and options.max_references and not self.supports_references:
            fail(
                "references", "is not supported by this model (it has no reference-image input); set it false"
            )

    def model_size(self, width: int, height: int) -> tuple[int, int]:
        """The (width, height) the model runs at for a clip of ``width x height``."""
        if self.options.resolution is not None:
            return int(self.options.resolution[0]), int(self.options.resolution[1])
        step = self.geometry.size_step
        scale = (self.options.pixels / (width * height)) ** 0.5
        return (
            max(step, round(width * scale / step) * step),
            max(step, round(height * scale / step) * step),
        )

    def prompt_embeddings(self, trajectory: Trajectory) -> tuple[Any, Any]:
        """(prompt, negative prompt) embeddings, encoded once per prompt and kept."""
        prompt = self.options.prompt if self.options.prompt is not None else default_prompt(trajectory)
        key = (prompt, self.options.negative_prompt)
        if key not in self._prompts:
            embeds, negative = self.pipeline.encode_prompt(
                prompt=prompt,
                negative_prompt=self.options.negative_prompt,
                do_classifier_free_guidance=self.options.guidance_scale > 1.0,
                max_sequence_length=self.options.max_sequence_length,
                device=self.pipeline._execution_device,
            )
            self._prompts[key] = (embeds, negative)
        return self._prompts[key]

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame, (H, W, 3) uint8 sRGB) for each requested frame, in order.

        Windows chain from frame 0, so a resumed render regenerates the chain up to the last
        missing frame (deterministically for a seed on one machine); later windows are skipped.
        ``guidance``: the clip's guidance; the model and noise resolutions come from ``guidance.at``.
        """
        if guidance is None:
            raise RenderError(f"renderer {self.name!r} needs guidance maps; none were given")
        wanted = sorted({int(frame) for frame in frames})
        if not wanted:
            return
        track = trajectory.cameras[camera]
        for frame, rgb in self.generate(trajectory, camera, guidance, wanted):
            if frame in wanted:
                yield frame, to_uint8(resize(rgb, track.width, track.height))

    def generate(
        self,
        trajectory: Trajectory,
        camera: str,
        source: GuidanceSource,
        frames: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame, (h, w, 3) float32 [0, 1] at the model's resolution) in order, window by
        window, for ``frames`` (default: the whole clip) and the other final frames of the windows
        sampled to make them. With ``context`` or entity references every window reads what the
        windows before it made, so the chain starts at frame 0; without, only the windows the
        frames need are sampled (the depth range, fixed on the first window with depth, is fitted
        from the guidance of the windows skipped). Guidance at the model's resolution (and the
        noise's, if finer) comes from ``source.at``."""
        options, geometry = self.options, self.geometry
        if camera not in trajectory.cameras:
            raise RenderError(f"no camera named {camera!r} in the trajectory")
        track = trajectory.cameras[camera]
        width, height = self.model_size(track.width, track.height)
        latent_size = (height // geometry.spatial, width // geometry.spatial)
        guidance = source.at(width, height)
        fine = None
        if options.anchored_noise and options.noise_factor != geometry.spatial:
            factor = options.noise_factor
            fine = source.at(latent_size[1] * factor, latent_size[0] * factor)
        seed = trajectory.seed if options.seed is None else options.seed
        prompt_embeds, negative_embeds = self.prompt_embeddings(trajectory)
        depth = DepthNormaliser()
        references = EntityReferences(options.max_references if options.references else 0)
        windows = plan_windows(trajectory.num_frames, options.window, options.overlap)
        wanted = range(trajectory.num_frames) if frames is None else frames
        chained = options.context or references.limit > 0
        stream = WindowStream(windows)
        carried: dict[int, GuidanceFrame] = {}  # guidance of the frames the next window shares
        window_maps: list[GuidanceFrame] = []
        last = trajectory.num_frames - 1
        unfitted = 0  # the first window whose depth the range has not seen

        def sample(window: Window) -> np.ndarray:
            """The window's (len(window.frames), h, w, 3) frames before the overlap cross-fade."""
            nonlocal carried, window_maps, unfitted
            if options.control == "depth":
                for skipped in windows[unfitted : window.index]:
                    if depth.near is not None:
                        break
                    depth.fit([guidance(frame).depth for frame in skipped.frames])
                unfitted = window.index + 1
            maps = [carried.get(frame) or guidance(frame) for frame in window.frames]
            carried, window_maps = {}, maps
            count = geometry.frame_count(len(maps))
            control = control_frames(options.control, maps, depth)
            if count > len(maps):
                control = np.concatenate([control, np.repeat(control[-1:], count - len(maps), axis=0)])
            context = self._context(window, stream.previous) if options.context else None
            inputs = WindowInputs(
                control=control,
                context=context,
                references=references.images(),
                latents=self._latents(window, maps, count, seed, latent_size, guidance, fine, last),
                reference_latents=reference_latents(
                    list(references.crops), geometry.channels, latent_size, seed
                ),
                prompt_embeds=prompt_embeds,
                negative_prompt_embeds=negative_embeds,
                seed=derive_seed(seed, GENERATOR_PURPOSE, window.index),
            )
            return np.asarray(self.generate_window(inputs, (width, height)), dtype=np.float32)[: len(maps)]

        for made in stream.run(sample, plan_windows_to_sample(windows, wanted, chained=chained)):
            window = made.window
            instance = np.stack([frame_maps.instance for frame_maps in window_maps])
            references.remember(list(window.frames), made.outputs, instance)
            for frame in made.final:
                yield frame, made.output(frame)
            following = windows[window.index + 1] if window.index + 1 < len(windows) else None
            if following is not None:
                shared = [frame for frame in window.frames if frame >= following.start]
                carried = {frame: window_maps[frame - window.start] for frame in shared}

    def _latents(
        self,
        window: Window,
        maps: list[GuidanceFrame],
        count: int,
        seed: int,
        latent_size: tuple[int, int],
        guidance: FrameGuidance,
        fine: FrameGuidance | None,
        last: int,
    ) -> np.ndarray:
        """The window's initial latents (see ``latents``): anchored with the model-resolution
        guidance when ``noise_factor`` equals the VAE's spatial factor, else with ``fine``."""
        geometry = self.geometry
        frames = slice_frames(window.start, latent_count(count, geometry.temporal), geometry.temporal, last)
        if not self.options.anchored_noise:
            return window_latents(frames, geometry.channels, latent_size, seed, None, None, 1)
        if fine is None:
            return window_latents(
                frames,
                geometry.channels,
                latent_size,
                seed,
                lambda frame: maps[frame - window.start],
                guidance.track,
                geometry.spatial,
            )
        return window_latents(
            frames, geometry.channels, latent_size, seed, fine, fine.track, self.options.noise_factor
        )

    @staticmethod
    def _context(window: Window, previous: dict[int, np.ndarray]) -> np.ndarray | None:
        frames = [frame for frame in list(window.frames)[: window.context] if frame in previous]
        if not frames:
            return None
        return np.stack([previous[frame] for frame in frames])


def default_prompt(trajectory: Trajectory) -> str:
    """The scene's prompt, else one naming its semantic classes."""
    if trajectory.prompt:
        return trajectory.prompt
    classes = list(dict.fromkeys(entity.semantic_class for entity in trajectory.entities))
    return f"A realistic video of a scene with {', '.join(classes)}." if classes else "A realistic video."


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """(h, w, 3) float -> (height, width, 3), bilinear (antialiased when shrinking)."""
    if rgb.shape[:2] == (height, width):
        return rgb
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
    shrink = height < rgb.shape[0] or width < rgb.shape[1]
    resized = torch.nn.functional.interpolate(
        tensor, size=(height, width), mode="bilinear", align_corners=False, antialias=shrink
    )
    return resized[0].permute(1, 2, 0).numpy()


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """[0, 1] float sRGB-encoded -> uint8 (the models' outputs are display-referred already)."""
    return np.round(np.clip(np.nan_to_num(rgb), 0.0, 1.0) * 255.0).astype(np.uint8)
