"""The renderer v2's training objective: image loss through the composition, flow on albedo.

G-buffer items (materials given, ``t = 0``): the shading residual the network predicts is
composed with the exact buffers (``compose``: ``pixel_filter(direct + albedo x residual)``),
tone mapped like the camera (``display_torch``) and compared with the tone-mapped path tracer:
the mean squared error of display values, what PSNR measures. Structure-only items: rectified
flow on the albedo (``x_t = (1 - t) x0 + t noise``; the x0 prediction's error weighted by
``1 / max(t, MIN_LOSS_T)^2``, the velocity loss), which is how that mode invents each look.
"""

from __future__ import annotations

import torch

from renderers.diffusion.compose import display_torch, pixel_filter_torch
from renderers.diffusion.flow_matching import MIN_LOSS_T, sample_timesteps
from renderers.diffusion.model import VideoUNet

IMAGE_WEIGHT = 100.0
"""Display-space MSE is about 0.003 at 25 dB; this brings it to the flow loss's scale."""


def compose_torch(direct: torch.Tensor, albedo: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """(B, 3, T, H, W) ``pixel_filter(direct + albedo x residual)``."""
    radiance = direct + albedo * residual
    b, c, t, h, w = radiance.shape
    frames = radiance.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    return pixel_filter_torch(frames).reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)


def render_display(model: VideoUNet, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B, 3, T, H, W) display sRGB of G-buffer mode: one pass at t = 0 on the given albedo."""
    zero = torch.zeros(batch["x0"].shape[0])
    _, residual = model.predict(batch["x0"], zero, batch["cond"])
    return display_torch(compose_torch(batch["direct"], batch["albedo"], residual), batch["filmic"] > 0.5)


def training_loss(
    model: VideoUNet, batch: dict[str, torch.Tensor], noise: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, dict[str, float]]:
    """(loss, {"image": display MSE of G-buffer items, "albedo": flow loss of structure items})."""
    x0, cond, gbuffer = batch["x0"], batch["cond"], batch["gbuffer"] > 0.5
    t = torch.where(gbuffer, torch.zeros(x0.shape[0]), sample_timesteps(x0.shape[0], generator))
    expanded = t.view(-1, 1, 1, 1, 1)
    x_t = (1 - expanded) * x0 + expanded * noise
    x0_hat, residual = model.predict(x_t, t, cond)
    parts = {"image": 0.0, "albedo": 0.0}
    loss = x0.new_zeros(())
    if gbuffer.any():
        made = display_torch(compose_torch(batch["direct"], batch["albedo"], residual), batch["filmic"] > 0.5)
        image = ((made - batch["target"]) ** 2)[gbuffer].mean()
        loss = loss + IMAGE_WEIGHT * image
        parts["image"] = float(image.detach())
    if (~gbuffer).any():
        weight = expanded.clamp(min=MIN_LOSS_T) ** -2
        albedo = (weight * (x0_hat - x0) ** 2)[~gbuffer].mean()
        loss = loss + albedo
        parts["albedo"] = float(albedo.detach())
    return loss, parts
