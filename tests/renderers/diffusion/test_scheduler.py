"""The scheduler (``set_timesteps`` / ``step``) reproduces the fused sampler it replaced bit for bit
with the shipped weights, for both step rules, classifier-free guidance and pinned frames/pixels."""

from __future__ import annotations

import pytest
import torch

from renderers.diffusion.flow_matching import _pin_weight, guided_velocity, sample
from renderers.diffusion.options import DEFAULT_WEIGHTS
from renderers.diffusion.scheduler import FlowMatchScheduler
from renderers.diffusion.weights import load_weights


def fused_sample(model, cond, noise, steps, method, guidance_scale, uncond, known, known_frames):
    """``flow_matching.sample`` as it was before the scheduler (timesteps, step rule, CFG and pins
    in one loop), kept here as the reference the new pipeline must match exactly."""
    x = noise.clone()
    times = torch.linspace(1.0, 0.0, steps + 1, dtype=x.dtype, device=x.device)
    batch = x.shape[0]
    for index in range(steps):
        t, t_next = times[index], times[index + 1]
        velocity = guided_velocity(model, x, t.expand(batch), cond, guidance_scale, uncond)
        step = t_next - t
        if method == "heun" and index < steps - 1:
            predicted = x + step * velocity
            velocity_next = guided_velocity(
                model, predicted, t_next.expand(batch), cond, guidance_scale, uncond
            )
            velocity = 0.5 * (velocity + velocity_next)
        x = x + step * velocity
        if known is not None and known_frames is not None:
            pinned = (1 - t_next) * known + t_next * noise
            x = torch.lerp(x, pinned, _pin_weight(known_frames, x))
    return x


@pytest.fixture(scope="module")
def shipped():
    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("no shipped weights")
    model, config, _ = load_weights(DEFAULT_WEIGHTS)
    generator = torch.Generator().manual_seed(3)
    cond = torch.rand(1, config.condition_channels, 2, 16, 16, generator=generator)
    noise = torch.randn(1, 3, 2, 16, 16, generator=generator)
    known = torch.rand(1, 3, 2, 16, 16, generator=generator) * 2 - 1
    return model, cond, noise, known


@pytest.mark.parametrize(
    ("method", "steps", "guidance_scale", "pins"),
    [
        ("euler", 3, 1.0, None),
        ("heun", 3, 1.0, "pixels"),
        ("euler", 2, 2.5, "frames"),
        ("heun", 1, 1.0, "frames"),
    ],
)
def test_scheduler_pipeline_matches_the_fused_sampler_bit_for_bit(
    shipped, method, steps, guidance_scale, pins
):
    model, cond, noise, known = shipped
    known_frames = None
    if pins == "frames":
        known_frames = torch.tensor([True, False])
    elif pins == "pixels":
        known_frames = torch.rand(2, 16, 16, generator=torch.Generator().manual_seed(1)) > 0.5
    uncond = torch.zeros_like(cond) if guidance_scale != 1.0 else None
    with torch.no_grad():
        expected = fused_sample(
            model, cond, noise, steps, method, guidance_scale, uncond, known if pins else None, known_frames
        )
        got = sample(
            model,
            cond,
            noise,
            steps=steps,
            method=method,
            guidance_scale=guidance_scale,
            uncond=uncond,
            known=known if pins else None,
            known_frames=known_frames,
        )
    assert torch.equal(got, expected)
    if pins == "frames":  # pinned frames come out equal to what was known
        torch.testing.assert_close(got[:, :, 0], known[:, :, 0], atol=1e-6, rtol=0)


def test_heun_evaluates_twice_per_step_but_not_on_the_last():
    scheduler = FlowMatchScheduler("heun")
    scheduler.set_timesteps(3)
    assert [round(float(t), 4) for t in scheduler.timesteps] == [1.0, 0.6667, 0.6667, 0.3333, 0.3333]
    euler = FlowMatchScheduler("euler")
    euler.set_timesteps(4)
    assert [float(t) for t in euler.timesteps] == [1.0, 0.75, 0.5, 0.25]
    x = torch.zeros(2)
    for _time in euler.timesteps:  # constant velocity 1 over t in [1, 0] moves x by -1
        x = euler.step(torch.ones(2), x)
        assert euler.step_completed
    assert torch.equal(x, torch.full((2,), -1.0)) and float(euler.time) == 0.0
    with pytest.raises(RuntimeError, match="set_timesteps"):
        euler.step(torch.ones(2), x)
    with pytest.raises(ValueError, match="unknown method"):
        FlowMatchScheduler("ddim")
