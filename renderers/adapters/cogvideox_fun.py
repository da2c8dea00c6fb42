"""``cogvideox_fun``: CogVideoX-Fun control models (diffusers ``CogVideoXFunControlPipeline``).

The pipeline encodes the control video with the VAE and concatenates it to the latents along
the channels, so the control follows the guidance frame for frame (CogVideoX-Fun-V1.1-*-Control
was trained on depth, canny, pose and MLSD videos: ``control: depth`` or ``edges``).

The model has no input for known frames, so context is imposed in latent space: the previous
window's last ``overlap`` frames are encoded with the VAE (``overlap`` = 4m + 1 frames are exactly
m + 1 latent frames of the causal VAE) and, after every denoising step, those latent frames are
replaced by the encoded context noised to the next step's level (``scheduler.add_noise`` with
the window's own initial noise), and by the clean context after the last step. The mask is thus
per latent frame: the first m + 1 are known, the rest generated. The model has no reference-image
input, so entity identity across windows rests on the context alone.

Latents are laid out (1, frames, channels, h / 8, w / 8) as the pipeline expects; CogVideoX runs
its VAE in the transformer's dtype.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from renderers.adapters.latents import latent_count
from renderers.adapters.options import AdapterOptions, load_adapter_options
from renderers.adapters.weights import PipelineSpec, read_component_config
from renderers.adapters.windowed import LatentGeometry, WindowedAdapter, WindowInputs
from worldsim.errors import RenderError


class CogVideoXFunRenderer(WindowedAdapter):
    """Guidance -> frames with a local CogVideoX-Fun control pipeline, window by window."""

    name = "cogvideox_fun"
    spec = PipelineSpec(
        pipeline_class="CogVideoXFunControlPipeline",
        components=("tokenizer", "text_encoder", "vae", "scheduler", "transformer"),
        example="alibaba-pai/CogVideoX-Fun-V1.1-5b-Control",
        also_named=("CogVideoXPipeline",),  # what alibaba-pai's Control folders declare
    )
    supports_references = False

    def __init__(self, options: AdapterOptions) -> None:
        vae_dtype = options.vae_dtype or options.dtype
        if vae_dtype != options.dtype:
            raise RenderError(
                f"renderer {self.name!r}: option 'vae_dtype' must equal 'dtype' ({options.dtype}) for "
                f"CogVideoX, whose pipeline feeds the VAE in the transformer's dtype; got {vae_dtype}"
            )
        super().__init__(options)
        if options.context and options.overlap and not hasattr(self.pipeline.scheduler, "add_noise"):
            raise RenderError(
                f"renderer {self.name!r}: the folder's scheduler "
                f"{type(self.pipeline.scheduler).__name__} cannot noise the context (no add_noise); "
                "set context: false or use a DDIM / DPM scheduler"
            )

    def geometry_of(self, folder: Path) -> LatentGeometry:
        vae = read_component_config(folder, "vae")
        transformer = read_component_config(folder, "transformer")
        spatial = 2 ** (len(vae.get("block_out_channels", [128, 256, 256, 512])) - 1)
        in_channels = int(transformer.get("in_channels", 32))
        out_channels = int(transformer.get("out_channels", 16))
        if in_channels != 2 * out_channels:
            raise RenderError(
                f"renderer {self.name!r}: {folder} is not a CogVideoX-Fun control model: its transformer "
                f"takes {in_channels} input channels, expected twice its {out_channels} output channels "
                "(latents + control video latents)"
            )
        return LatentGeometry(
            temporal=int(vae.get("temporal_compression_ratio", 4)),
            spatial=spatial,
            channels=out_channels,
            size_step=spatial * int(transformer.get("patch_size", 2)),
            temporal_patch=int(transformer.get("patch_size_t") or 1),
        )

    def generate_window(self, inputs: WindowInputs, size: tuple[int, int]) -> np.ndarray:
        import torch

        width, height = size
        pipeline = self.pipeline
        dtype = inputs.prompt_embeds.dtype
        latents = torch.from_numpy(np.ascontiguousarray(inputs.latents.transpose(1, 0, 2, 3)))[None]
        latents = latents.to(dtype)
        callback = None
        if inputs.context is not None:
            callback = ContextReplacement(self._encode_context(inputs.context, size, dtype), latents)
        output = pipeline(
            control_video=torch.from_numpy(inputs.control).permute(0, 3, 1, 2)[None],
            height=height,
            width=width,
            num_inference_steps=self.options.steps,
            guidance_scale=self.options.guidance_scale,
            generator=torch.Generator("cpu").manual_seed(inputs.seed),
            latents=latents,
            prompt_embeds=inputs.prompt_embeds,
            negative_prompt_embeds=inputs.negative_prompt_embeds,
            output_type="np",
            callback_on_step_end=callback,
            callback_on_step_end_tensor_inputs=["latents"],
            max_sequence_length=self.options.max_sequence_length,
        )
        return np.asarray(output.frames[0], dtype=np.float32)

    def _encode_context(self, context: np.ndarray, size: tuple[int, int], dtype: Any) -> Any:
        """(C, h, w, 3) frames -> (1, k, channels, h / 8, w / 8) scaled latents of their first
        4(k - 1) + 1 frames (the whole latent frames they fill)."""
        import torch

        width, height = size
        temporal = self.geometry.temporal
        known = latent_count(len(context), temporal)
        frames = torch.from_numpy(np.ascontiguousarray(context[: (known - 1) * temporal + 1]))
        pipeline = self.pipeline
        video = pipeline.video_processor.preprocess_video(frames.permute(0, 3, 1, 2)[None], height, width)
        video = video.to(device=pipeline._execution_device, dtype=pipeline.vae.dtype)
        with torch.no_grad():
            encoded = pipeline.vae.encode(video).latent_dist.mode() * pipeline.vae.config.scaling_factor
        return encoded.permute(0, 2, 1, 3, 4).to(dtype)


class ContextReplacement:
    """``callback_on_step_end`` that pins the first latent frames to the encoded context, noised
    to the level of the next step (clean after the last one)."""

    def __init__(self, known: Any, initial: Any) -> None:
        self.known = known
        self.noise = initial[:, : known.shape[1]]

    def __call__(self, pipeline: Any, step: int, timestep: Any, values: dict[str, Any]) -> dict[str, Any]:
        latents = values["latents"]
        timesteps = pipeline.scheduler.timesteps
        known = self.known.to(latents.device)
        if step + 1 < len(timesteps):
            noise = self.noise.to(device=latents.device, dtype=known.dtype)
            known = pipeline.scheduler.add_noise(known, noise, timesteps[step + 1 : step + 2])
        latents = latents.clone()
        latents[:, : known.shape[1]] = known.to(latents.dtype)
        return {"latents": latents}


def create_cogvideox_fun_renderer(options: dict[str, Any]) -> CogVideoXFunRenderer:
    """Factory registered as ``cogvideox_fun``; options in ``renderers/adapters/options.py``,
    defaults in ``configs/adapters/cogvideox_fun.yaml``."""
    return CogVideoXFunRenderer(load_adapter_options("cogvideox_fun", options))
