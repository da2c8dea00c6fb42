"""``wan_vace``: Wan2.1 VACE (diffusers ``WanVACEPipeline``) driven by the guidance.

VACE takes one video and one mask per window: where the mask is 1 the model generates and the
video is a control signal; where it is 0 the video's frames are kept. Each window gets:

- the control video (``control``: normalised depth by default) on the frames it generates, mask 1;
- the previous window's last ``overlap`` frames as kept frames, mask 0 (VACE's video extension),
  so windows continue each other; ``overlap`` = 4m + 1 fills whole latent frames;
- the crops of the entities seen in earlier windows as ``reference_images`` (each entity on white,
  VACE's subject-reference format), so an entity looks the same in later windows;
- initial latents anchored to the surfaces at the latent grid (``latents``): shape
  (16, references + (frames - 1) / 4 + 1, h / 8, w / 8), reference frames first, as the pipeline
  lays them out.

Wan's VAE runs in float32 (``vae_dtype``) while the transformer runs in ``dtype``, as in
diffusers' own Wan examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from renderers.adapters.options import load_adapter_options
from renderers.adapters.references import pad_to_multiple
from renderers.adapters.weights import PipelineSpec, read_component_config
from renderers.adapters.windowed import LatentGeometry, WindowedAdapter, WindowInputs, to_uint8


class WanVaceRenderer(WindowedAdapter):
    """Guidance -> frames with a local Wan VACE pipeline, window by window."""

    name = "wan_vace"
    spec = PipelineSpec(
        pipeline_class="WanVACEPipeline",
        components=("tokenizer", "text_encoder", "vae", "scheduler", "transformer"),
        example="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
    )
    supports_references = True

    def geometry_of(self, folder: Path) -> LatentGeometry:
        vae = read_component_config(folder, "vae")
        transformer = read_component_config(folder, "transformer")
        downsample = vae.get("temperal_downsample", [False, True, True])
        spatial = 2 ** len(downsample)
        patch = transformer.get("patch_size", [1, 2, 2])
        return LatentGeometry(
            temporal=2 ** sum(bool(step) for step in downsample),
            spatial=spatial,
            channels=int(transformer.get("in_channels", vae.get("z_dim", 16))),
            size_step=spatial * int(patch[1]),
            temporal_patch=int(patch[0]),
        )

    def generate_window(self, inputs: WindowInputs, size: tuple[int, int]) -> np.ndarray:
        import torch
        from PIL import Image

        width, height = size
        count = len(inputs.control)
        video = inputs.control.copy()
        mask = np.ones((count, height, width, 1), dtype=np.float32)
        if inputs.context is not None:
            known = len(inputs.context)
            video[:known], mask[:known] = inputs.context, 0.0
        spatial = self.geometry.spatial
        references = [Image.fromarray(to_uint8(pad_to_multiple(crop, spatial))) for crop in inputs.references]
        latents = np.concatenate([inputs.reference_latents, inputs.latents], axis=1)[None]
        output = self.pipeline(
            video=_frames_tensor(video),
            mask=_frames_tensor(mask),
            reference_images=references or None,
            conditioning_scale=self.options.control_scale,
            height=height,
            width=width,
            num_frames=count,
            num_inference_steps=self.options.steps,
            guidance_scale=self.options.guidance_scale,
            generator=torch.Generator("cpu").manual_seed(inputs.seed),
            latents=torch.from_numpy(latents),
            prompt_embeds=inputs.prompt_embeds,
            negative_prompt_embeds=inputs.negative_prompt_embeds,
            output_type="np",
        )
        return np.asarray(output.frames[0], dtype=np.float32)


def _frames_tensor(frames: np.ndarray) -> Any:
    """(T, H, W, C) float [0, 1] -> (1, T, C, H, W) torch, the 5D video form diffusers accepts."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)).permute(0, 3, 1, 2)[None]


def create_wan_vace_renderer(options: dict[str, Any]) -> WanVaceRenderer:
    """Factory registered as ``wan_vace``; options in ``renderers/adapters/options.py``, defaults
    in ``configs/adapters/wan_vace.yaml``."""
    return WanVaceRenderer(load_adapter_options("wan_vace", options))
