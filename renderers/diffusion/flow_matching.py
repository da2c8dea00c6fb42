"""Rectified flow: the training loss, condition dropout and the deterministic ODE sampler (a
pipeline over ``scheduler.FlowMatchScheduler``: guided velocity, step, pin).

``x_t = (1 - t) * x0 + t * noise`` with t in [0, 1] (t = 1 is pure noise); the model predicts
the velocity ``v = noise - x0``. Sampling integrates ``dx/dt = v`` from t = 1 down to t = 0
starting at the caller's noise (e.g. surface-anchored noise), so it draws nothing itself.
"""

from __future__ import annotations

import torch
from torch import nn

from renderers.diffusion.conditioning import (
    CONDITION_CHANNELS,
    CONTEXT,
    DIRECT,
    FOREGROUND,
    GBUFFER,
    MEMORY,
    SPECULAR,
)
from renderers.diffusion.scheduler import FlowMatchScheduler

MIN_LOSS_T = 0.05
"""x0-prediction loss weight ``1 / max(t, MIN_LOSS_T)^2``."""
DROP_MODES = ("all", "gbuffer", "context", "memory")
_DROPPED = {"gbuffer": GBUFFER, "context": CONTEXT, "memory": MEMORY}


def drop_condition(cond: torch.Tensor, mode: str) -> torch.Tensor:
    """A copy of ``cond`` ((60, T, H, W) or (B, 60, T, H, W)) with channels zeroed by ``mode``:
    ``all`` everything, ``gbuffer`` the materials (4:10) and what depends on them (``SPECULAR``,
    and ``DIRECT`` on the foreground), as in structure mode, ``context`` 19:23, ``memory``
    23:27."""
    if mode not in DROP_MODES:
        raise ValueError(f"drop_condition: unknown mode {mode!r}; one of {', '.join(DROP_MODES)}")
    if cond.shape[-4] != CONDITION_CHANNELS:
        raise ValueError(
            f"drop_condition: expected {CONDITION_CHANNELS} channels at dim -4, got {cond.shape}"
        )
    if mode == "all":
        return torch.zeros_like(cond)
    dropped = cond.clone()
    channels = _DROPPED[mode]
    dropped[..., channels, :, :, :] = 0
    if mode == "gbuffer":
        dropped[..., SPECULAR, :, :, :] = 0
        background = 1.0 - cond[..., FOREGROUND, :, :, :]
        dropped[..., DIRECT, :, :, :] = cond[..., DIRECT, :, :, :] * background
    return dropped


def sample_timesteps(batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(batch,) training times: half uniform on [0, 1], half logit-normal(0, 1).

    The logit-normal puts weight on mid-range t; the uniform half keeps t near 1 trained, where
    sampling starts and the layout is decided (logit-normal alone gives t > 0.9 only 1.4% of
    the time).
    """
    uniform = torch.rand(batch, generator=generator)
    logit_normal = torch.sigmoid(torch.randn(batch, generator=generator))
    pick = torch.rand(batch, generator=generator) < 0.5
    return torch.where(pick, uniform, logit_normal)


def training_loss(
    model: nn.Module,
    x0: torch.Tensor,
    cond: torch.Tensor,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    t: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared error between the predicted and the true velocity ``noise - x0``.

    For an x0-predicting model this is ``|x0_hat - x0|^2 / t^2`` (t clamped at ``MIN_LOSS_T``):
    the velocity loss, without the division blowing up near t = 0.
    """
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    noise = noise.to(x0)
    if t is None:
        t = sample_timesteps(x0.shape[0], generator)
    t = t.to(x0)
    expanded = t.view(-1, 1, 1, 1, 1)
    x_t = (1 - expanded) * x0 + expanded * noise
    if getattr(getattr(model, "config", None), "prediction", "velocity") == "x0":
        weight = expanded.clamp(min=MIN_LOSS_T) ** -2
        return torch.mean(weight * (model.predict_x0(x_t, t, cond) - x0) ** 2)
    return torch.mean((model(x_t, t, cond) - (noise - x0)) ** 2)


def guided_velocity(
    model: nn.Module,
    x_t: torch.Tensor,
    t: torch.Tensor,
    cond: torch.Tensor,
    guidance_scale: float,
    uncond: torch.Tensor | None,
) -> torch.Tensor:
    """``v_uncond + s * (v_cond - v_uncond)``; one model call when ``s == 1``."""
    if guidance_scale == 1.0:
        return model(x_t, t, cond)
    uncond = drop_condition(cond, "all") if uncond is None else uncond
    velocity = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([cond, uncond]))
    conditional, unconditional = velocity.chunk(2)
    return unconditional + guidance_scale * (conditional - unconditional)


@torch.no_grad()
def sample(
    model: nn.Module,
    cond: torch.Tensor,
    noise: torch.Tensor,
    steps: int = 12,
    method: str = "euler",
    guidance_scale: float = 1.0,
    uncond: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
    known_frames: torch.Tensor | None = None,
) -> torch.Tensor:
    """x0 (B, 3, T, H, W) in model space, integrating from ``noise`` at t = 1 to t = 0 on a
    uniform grid of ``steps`` steps with ``euler`` or ``heun`` (``scheduler.FlowMatchScheduler``),
    each evaluation classifier-free guided (``guided_velocity``).

    ``known`` (B, 3, T, H, W) with ``known_frames`` (T,) per frame or (T, H, W) per pixel (bool, or
    weights in [0, 1]) pins those frames or pixels (``pin``) after every step."""
    scheduler = FlowMatchScheduler(method)
    scheduler.set_timesteps(steps, device=noise.device, dtype=noise.dtype)
    x = noise.clone()
    batch = x.shape[0]
    for t in scheduler.timesteps:
        velocity = guided_velocity(model, x, t.expand(batch), cond, guidance_scale, uncond)
        x = scheduler.step(velocity, x)
        if scheduler.step_completed and known is not None and known_frames is not None:
            x = pin(x, known, known_frames, noise, scheduler.time)
    return x


def pin(
    x: torch.Tensor, known: torch.Tensor, known_frames: torch.Tensor, noise: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """``x`` at time ``t`` with the known frames or pixels replaced by the point of their straight
    path, ``(1 - t) * known + t * noise``, so the rest is drawn consistent with them (the
    replacement method of inpainting) and they come out equal to ``known``."""
    pinned = (1 - t) * known + t * noise
    return torch.lerp(x, pinned, _pin_weight(known_frames, x))


def _pin_weight(known: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``known`` (T,) per frame or (T, H, W) per pixel, bool or weights in [0, 1] -> a weight
    broadcastable against ``x`` (B, 3, T, H, W)."""
    if known.ndim == 1:
        return known.to(x.dtype).view(1, 1, -1, 1, 1)
    if known.ndim == 3:
        return known.to(x.dtype)[None, None]
    raise ValueError(f"sample: known_frames must be (T,) or (T, H, W), got {tuple(known.shape)}")
