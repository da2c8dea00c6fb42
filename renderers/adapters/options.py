"""The adapters' options: ``configs/adapters/<name>.yaml`` merged over one dataclass.

Every adapter takes the same keys; each model's YAML file holds its own defaults (frame count,
resolution, steps, dtypes). Checks that need the model's latent geometry (window and overlap
against the VAE's time compression) are made by the renderer once it has read the weights folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldsim.config_io import config_path, load_structured
from worldsim.errors import RenderError

CONFIG_DIR = config_path("adapters")
CONTROLS = ("depth", "edges", "segmentation")
DTYPES = ("bfloat16", "float16", "float32")
OFFLOADS = ("none", "model", "sequential")


@dataclass
class AdapterOptions:
    """How an adapter runs a pretrained diffusers video pipeline over a clip."""

    weights: str | None = None
    """A local diffusers pipeline folder (``model_index.json`` + one subfolder per component).
    Nothing is downloaded: get the folder yourself, then name it here or with ``--weights``."""
    prompt: str | None = None
    """Text prompt; None = the scene's ``prompt``, else one made from its semantic classes."""
    negative_prompt: str = ""
    steps: int = 30
    """Denoising steps per window."""
    guidance_scale: float = 5.0
    """Classifier-free guidance on the prompt (1 = off, halves the work)."""
    control: str = "depth"
    """Control video made from the guidance: ``depth`` (normalised inverse depth, near = white),
    ``edges`` (white object and crease outlines on black) or ``segmentation`` (instance colours)."""
    control_scale: float = 1.0
    """Strength of the control branch (Wan VACE ``conditioning_scale``; CogVideoX-Fun: unused)."""
    resolution: list[int] | None = None
    """``[width, height]`` the model runs at (multiples of its size step); None = the clip's aspect
    ratio at about ``pixels`` pixels. Frames are resized to the clip's resolution afterwards."""
    pixels: int = 832 * 480
    window: int = 81
    """Frames per window; the model's own frame count (Wan and CogVideoX: 4k + 1)."""
    overlap: int = 17
    """Frames shared by consecutive windows (0 or 4m + 1, so context fills whole latent frames)."""
    context: bool = True
    """Give each window the previous window's last ``overlap`` frames as known frames."""
    references: bool = True
    """Give later windows each entity's crop from the window it first appeared in (Wan VACE)."""
    max_references: int = 3
    anchored_noise: bool = True
    """Initial latents anchored to the surfaces (``renderers/adapters/latents.py``)."""
    noise_factor: int = 8
    """Sub-samples per latent pixel and axis for the anchored noise (8 = the model-resolution
    guidance itself, no extra ray casting); at most the VAE's spatial factor."""
    seed: int | None = None
    """None = the scene seed."""
    device: str = "auto"
    """``auto`` (cuda when available, else cpu), ``cuda``, ``cuda:1``, ``cpu``, ..."""
    dtype: str = "bfloat16"
    """Weights dtype of the transformer and text encoder: bfloat16, float16 or float32."""
    vae_dtype: str | None = None
    """None = ``dtype``. Wan's VAE is best run in float32; CogVideoX needs the same as ``dtype``."""
    offload: str = "none"
    """``none`` (everything on the device), ``model`` (each component moves to the GPU only while
    it runs: about the largest component's memory) or ``sequential`` (layer by layer: least memory,
    slowest). Needs an accelerator device."""
    vae_tiling: bool = False
    """Encode and decode frames in spatial tiles (large resolutions on small GPUs)."""
    vae_slicing: bool = False
    """Decode the batch one video at a time."""
    attention_backend: str | None = None
    """diffusers attention backend of the transformer (``native``, ``flash``, ``_native_cudnn``,
    ``sage``, ...); None = diffusers' default. Backends fetched from the Hub (``*_hub``) are refused."""
    max_sequence_length: int = 512
    """Text tokens the prompt is padded or cut to (the model's own: Wan 512, CogVideoX 226)."""

    @property
    def weights_path(self) -> Path | None:
        return Path(self.weights).expanduser() if self.weights else None


def load_adapter_options(
    name: str, options: dict[str, Any] | None = None, path: str | Path | None = None
) -> AdapterOptions:
    """``AdapterOptions`` <- ``path`` (default ``configs/adapters/<name>.yaml``) <- ``options``;
    RenderError naming the key for unknown keys, wrong types and out-of-range values."""
    result = load_structured(
        AdapterOptions,
        CONFIG_DIR / f"{name}.yaml",
        path,
        options,
        error=RenderError,
        prefix=f"renderer {name!r}: ",
    )
    check_options(name, result)
    return result


def check_options(name: str, options: AdapterOptions) -> None:
    """RenderError naming the first option out of range (model-independent checks only)."""

    def fail(key: str, reason: str) -> None:
        raise RenderError(f"renderer {name!r}: option {key!r} {reason}")

    def one_of(key: str, allowed: tuple[str, ...]) -> None:
        value = getattr(options, key)
        if value not in allowed:
            fail(key, f"must be one of {', '.join(allowed)}, got {value!r}")

    one_of("control", CONTROLS)
    one_of("dtype", DTYPES)
    one_of("offload", OFFLOADS)
    if options.vae_dtype is not None:
        one_of("vae_dtype", DTYPES)
    if not 1 <= options.steps <= 1000:
        fail("steps", f"must be in [1, 1000], got {options.steps}")
    if options.guidance_scale < 0:
        fail("guidance_scale", f"must not be negative, got {options.guidance_scale}")
    if options.resolution is not None and (len(options.resolution) != 2 or min(options.resolution) < 16):
        fail("resolution", f"must be [width, height] of at least 16 pixels each, got {options.resolution}")
    if options.pixels < 256:
        fail("pixels", f"must be at least 256, got {options.pixels}")
    if options.window < 1:
        fail("window", f"must be at least 1, got {options.window}")
    if not 0 <= options.overlap < options.window:
        fail("overlap", f"must be in [0, window), got {options.overlap}")
    if options.max_references < 0:
        fail("max_references", f"must not be negative, got {options.max_references}")
    if options.noise_factor < 1:
        fail("noise_factor", f"must be at least 1, got {options.noise_factor}")
    if options.max_sequence_length < 1:
        fail("max_sequence_length", f"must be at least 1, got {options.max_sequence_length}")
    if options.attention_backend is not None and options.attention_backend.lower().endswith("_hub"):
        fail(
            "attention_backend",
            f"{options.attention_backend!r} downloads kernels from the Hub; choose a local one",
        )
