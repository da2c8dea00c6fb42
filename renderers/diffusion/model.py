"""``VideoUNet``: a small (2+1)D U-Net predicting rectified-flow velocity from guidance.

The input (x_t concatenated with the 27-channel condition) is folded into ``patch_size`` x
``patch_size`` pixel patches (space to depth) so the network runs at a lower resolution on the
CPU, and unfolded again at the output. Each residual block runs a spatial 3x3 convolution per
frame, a timestep FiLM, a second spatial convolution and a temporal convolution (kernel 3 over
frames, zero padded so any T >= 1 works), with GroupNorm + SiLU before each. The condition is
also fed, area-downsampled to each resolution level, into that level's first encoder and decoder
block: concatenated to the block input through a 1x1 convolution whose output is added (the same
linear map as a concatenation in front of the block's first layer, at a fraction of its cost).

With ``prediction = "x0"`` the network predicts the clean clip as a residual over a base image
read off the condition (``base_image``: context frames where given, else the sRGB-encoded albedo
in G-buffer mode, else the remembered entity colour, else grey), and ``forward`` converts it to
the velocity the sampler integrates. Predicting the clean image (not the velocity, which is
mostly noise at high t) suits a small network, and the base makes G-buffer mode start from the
known materials: the network only adds the light transport.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional

from renderers.diffusion.conditioning import (
    ALBEDO,
    CONDITION_CHANNELS,
    CONTEXT_MASK,
    CONTEXT_RGB,
    FOREGROUND,
    GBUFFER_MASK,
    MEMORY_MASK,
    MEMORY_RGB,
)
from renderers.tonemap import srgb_encode_curve

PREDICTIONS = ("velocity", "x0")
MIN_VELOCITY_T = 0.02
"""``forward`` divides by ``max(t, MIN_VELOCITY_T)`` when converting an x0 prediction."""


@dataclass
class ModelConfig:
    """Architecture of ``VideoUNet``; saved with the weights."""

    channels: list[int] = field(default_factory=lambda: [32, 64, 96, 96])
    """Feature channels per resolution level (after patch folding), ``len(channels) - 1`` 2x
    downsamplings between them."""
    patch_size: int = 2
    """Space-to-depth folding of the input (a power of two; 1 = none)."""
    blocks_per_level: int = 1
    """Residual blocks per level in the encoder (the decoder has the same number)."""
    middle_blocks: int = 1
    """Residual blocks at the lowest resolution."""
    time_dim: int = 128
    """Width of the timestep embedding."""
    groups: int = 8
    """GroupNorm groups (must divide every entry of ``channels``)."""
    image_channels: int = 3
    condition_channels: int = CONDITION_CHANNELS
    code_channels: int = 0
    """The last ``code_channels`` of the condition are a per-frame code, constant over the image
    (``conditioning.CODE``): pooled and applied through FiLM beside the timestep, not convolved."""
    shading_channels: int = 0
    """Extra output channels after the image: the shading residual of the neural deferred
    renderer (``compose``), read with ``predict``."""
    entity_noise_share: float = 0.0
    """Fraction of the initial noise's variance shared by all pixels of an entity
    (``renderers/diffusion/entity_noise.py``); the sampler must draw noise the same way."""
    prediction: str = "velocity"
    """What the network outputs: ``velocity`` (``noise - x0``) or ``x0`` (a residual over
    ``base_image``; ``forward`` still returns the velocity)."""

    @property
    def spatial_channels(self) -> int:
        """Condition channels convolved per pixel (all but the code)."""
        return self.condition_channels - self.code_channels

    @property
    def levels(self) -> int:
        """Total number of 2x downsamplings (patch folding included): H and W must be divisible
        by ``2 ** levels``."""
        return int(math.log2(self.patch_size)) + len(self.channels) - 1


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) t in [0, 1] -> (B, dim) sinusoidal features of ``1000 * t``."""
    half = dim // 2
    frequencies = torch.exp(
        -math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half
    )
    angles = 1000.0 * t.float()[:, None] * frequencies[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class SpatialConv(nn.Module):
    """A 3x3 convolution applied to every frame of (B, C, T, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            in_channels, out_channels, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class TemporalConv(nn.Module):
    """A kernel-3 convolution over frames of (B, C, T, H, W), zero padded."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class ResBlock(nn.Module):
    """GN-SiLU-spatial conv, FiLM(t), GN-SiLU-spatial conv, then a residual temporal conv."""

    def __init__(self, in_channels: int, out_channels: int, time_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_channels, groups), in_channels)
        self.conv1 = SpatialConv(in_channels, out_channels)
        self.film = nn.Linear(time_dim, 2 * out_channels)
        self.norm2 = nn.GroupNorm(_groups(out_channels, groups), out_channels)
        self.conv2 = SpatialConv(out_channels, out_channels)
        self.norm3 = nn.GroupNorm(_groups(out_channels, groups), out_channels)
        self.temporal = TemporalConv(out_channels)
        self.skip = nn.Conv3d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        nn.init.zeros_(self.temporal.conv.weight)
        nn.init.zeros_(self.temporal.conv.bias)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """``embedding``: (B, time_dim) per clip or (B, T, time_dim) per frame."""
        h = self.conv1(functional.silu(self.norm1(x)))
        film = self.film(embedding)
        film = film[:, :, None, None, None] if film.ndim == 2 else film.permute(0, 2, 1)[..., None, None]
        scale, shift = film.chunk(2, dim=1)
        h = self.conv2(functional.silu(self.norm2(h) * (1 + scale) + shift))
        h = self.skip(x) + h
        return h + self.temporal(functional.silu(self.norm3(h)))


class VideoUNet(nn.Module):
    """``forward(x_t (B, 3, T, H, W), t (B,) in [0, 1], cond (B, 27, T, H, W)) -> velocity``."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or ModelConfig()
        if config.prediction not in PREDICTIONS:
            raise ValueError(f"VideoUNet: prediction must be one of {PREDICTIONS}, got {config.prediction!r}")
        channels, groups, time_dim = config.channels, config.groups, config.time_dim
        patch_area = config.patch_size**2
        cond_channels = config.spatial_channels * patch_area
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.code_mlp = (
            nn.Sequential(nn.Linear(config.code_channels, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
            if config.code_channels
            else None
        )
        self.stem = nn.Conv3d((config.image_channels + config.spatial_channels) * patch_area, channels[0], 1)
        self.encoder = nn.ModuleList()
        self.encoder_conditions = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        previous = channels[0]
        for level, width in enumerate(channels):
            self.encoder_conditions.append(nn.Conv3d(cond_channels, previous, 1))
            blocks = nn.ModuleList()
            for _ in range(config.blocks_per_level):
                blocks.append(ResBlock(previous, width, time_dim, groups))
                previous = width
            self.encoder.append(blocks)
            if level < len(channels) - 1:
                self.downsamples.append(SpatialConv(width, width, stride=2))
        self.middle = nn.ModuleList(
            ResBlock(previous, previous, time_dim, groups) for _ in range(config.middle_blocks)
        )
        self.decoder = nn.ModuleList()
        self.decoder_conditions = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for level in reversed(range(len(channels))):
            width = channels[level]
            self.decoder_conditions.append(nn.Conv3d(cond_channels, previous + width, 1))
            blocks = nn.ModuleList()
            for index in range(config.blocks_per_level):
                blocks.append(ResBlock(previous + (width if index == 0 else 0), width, time_dim, groups))
                previous = width
            self.decoder.append(blocks)
            if level > 0:
                self.upsamples.append(SpatialConv(width, channels[level - 1]))
                previous = channels[level - 1]
        self.out_norm = nn.GroupNorm(_groups(previous, groups), previous)
        self.out = SpatialConv(previous, (config.image_channels + config.shading_channels) * patch_area)
        nn.init.zeros_(self.out.conv.weight)
        nn.init.zeros_(self.out.conv.bias)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Velocity (B, 3, T, H, W); H and W must be divisible by ``2 ** config.levels``."""
        if t.ndim == 0:
            t = t.expand(x_t.shape[0])
        if self.config.prediction == "velocity":
            return self.network(x_t, t, cond)[:, : self.config.image_channels]
        x0 = self.predict_x0(x_t, t, cond)
        return (x_t - x0) / t.clamp(min=MIN_VELOCITY_T).view(-1, 1, 1, 1, 1)

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """The clean clip (B, 3, T, H, W) in model space (``prediction == "x0"`` only)."""
        if self.config.prediction != "x0":
            raise ValueError("VideoUNet.predict_x0: the model predicts velocity")
        return self.predict(x_t, t, cond)[0]

    def predict(
        self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(clean clip (B, 3, T, H, W) in model space, shading residual (B, shading_channels, T, H,
        W)) from one network pass (``prediction == "x0"``)."""
        if self.config.prediction != "x0":
            raise ValueError("VideoUNet.predict: the model predicts velocity")
        if t.ndim == 0:
            t = t.expand(x_t.shape[0])
        out = self.network(x_t, t, cond)
        image = self.config.image_channels
        return base_image(cond) + out[:, :image], out[:, image:]

    def network(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """The raw U-Net output (velocity or x0 residual, by ``config.prediction``)."""
        config = self.config
        height, width = x_t.shape[-2:]
        if height % (2**config.levels) or width % (2**config.levels):
            raise ValueError(f"VideoUNet: H, W = {height}, {width} must be divisible by {2**config.levels}")
        embedding = self.time_mlp(timestep_embedding(t, config.time_dim))
        spatial = config.spatial_channels
        if self.code_mlp is not None:
            code = cond[:, spatial:].mean(dim=(-2, -1)).permute(0, 2, 1)  # (B, T, code)
            embedding = embedding[:, None, :] + self.code_mlp(code)
        folded_cond = _fold(cond[:, :spatial], config.patch_size)
        conditions = [folded_cond]
        for _ in range(len(config.channels) - 1):
            conditions.append(functional.avg_pool3d(conditions[-1], (1, 2, 2)))
        h = self.stem(torch.cat([_fold(x_t, config.patch_size), folded_cond], dim=1))
        skips = []
        for level, blocks in enumerate(self.encoder):
            h = h + self.encoder_conditions[level](conditions[level])
            for block in blocks:
                h = block(h, embedding)
            skips.append(h)
            if level < len(self.downsamples):
                h = self.downsamples[level](h)
        for block in self.middle:
            h = block(h, embedding)
        for position, blocks in enumerate(self.decoder):
            level = len(config.channels) - 1 - position
            h = torch.cat([h, skips[level]], dim=1) + self.decoder_conditions[position](conditions[level])
            for block in blocks:
                h = block(h, embedding)
            if level > 0:
                h = functional.interpolate(h, scale_factor=(1, 2, 2), mode="nearest")
                h = self.upsamples[position](h)
        return _unfold(self.out(functional.silu(self.out_norm(h))), config.patch_size)


def base_image(cond: torch.Tensor) -> torch.Tensor:
    """(B, 3, T, H, W) model-space base an x0 prediction is a residual over, per pixel: the
    context colour on context frames, else the sRGB-encoded albedo on the foreground in G-buffer
    mode, else the remembered entity colour, else 0 (mid grey)."""
    srgb = srgb_encode_curve(cond[:, ALBEDO].clamp(0.0, 1.0))
    gbuffer = cond[:, GBUFFER_MASK] * cond[:, FOREGROUND]
    base = cond[:, MEMORY_RGB] * cond[:, MEMORY_MASK]
    base = torch.lerp(base, 2.0 * srgb - 1.0, gbuffer)
    return torch.lerp(base, cond[:, CONTEXT_RGB], cond[:, CONTEXT_MASK])


def _fold(x: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C * patch**2, T, H / patch, W / patch) (space to depth)."""
    if patch == 1:
        return x
    b, c, t, h, w = x.shape
    x = x.reshape(b, c, t, h // patch, patch, w // patch, patch)
    return x.permute(0, 1, 4, 6, 2, 3, 5).reshape(b, c * patch * patch, t, h // patch, w // patch)


def _unfold(x: torch.Tensor, patch: int) -> torch.Tensor:
    """Inverse of ``_fold``."""
    if patch == 1:
        return x
    b, c, t, h, w = x.shape
    c = c // (patch * patch)
    x = x.reshape(b, c, patch, patch, t, h, w)
    return x.permute(0, 1, 4, 5, 2, 6, 3).reshape(b, c, t, h * patch, w * patch)


def parameter_count(model: nn.Module) -> int:
    """Number of parameters, frozen ones included (an EMA copy or a loaded model counts fully)."""
    return sum(p.numel() for p in model.parameters())


def _groups(channels: int, groups: int) -> int:
    """The largest divisor of ``channels`` not above ``groups``."""
    return next(g for g in range(min(groups, channels), 0, -1) if channels % g == 0)
