"""VideoUNet shapes and the rectified-flow loss, dropout and sampler (tiny sizes)."""

from __future__ import annotations

import pytest
import torch

from renderers.diffusion.conditioning import CONDITION_CHANNELS
from renderers.diffusion.flow_matching import drop_condition, sample, training_loss
from renderers.diffusion.model import ModelConfig, VideoUNet

TINY = ModelConfig(channels=[8, 16], patch_size=2, time_dim=16, groups=4)


@pytest.mark.parametrize("frames", [1, 3])
def test_forward_shapes(frames: int) -> None:
    torch.manual_seed(0)
    model = VideoUNet(TINY)
    x = torch.randn(2, 3, frames, 16, 8)
    out = model(x, torch.rand(2), torch.randn(2, CONDITION_CHANNELS, frames, 16, 8))
    assert out.shape == x.shape
    with pytest.raises(ValueError, match="divisible"):
        model(torch.randn(1, 3, 1, 6, 8), torch.rand(1), torch.randn(1, CONDITION_CHANNELS, 1, 6, 8))


def test_loss_backward_and_sampler_determinism() -> None:
    torch.manual_seed(0)
    model = VideoUNet(TINY)
    x0, cond = torch.randn(1, 3, 2, 8, 8), torch.randn(1, CONDITION_CHANNELS, 2, 8, 8)
    loss = training_loss(model, x0, cond, generator=torch.Generator().manual_seed(1))
    loss.backward()
    assert torch.isfinite(loss)
    noise = torch.randn(1, 3, 2, 8, 8)
    for method in ("euler", "heun"):
        first = sample(model, cond, noise, steps=2, method=method, guidance_scale=2.0)
        second = sample(model, cond, noise, steps=2, method=method, guidance_scale=2.0)
        torch.testing.assert_close(first, second, rtol=0, atol=0)
    # an untrained model has zero-initialised output: velocity 0, the sample is the noise itself
    torch.testing.assert_close(sample(VideoUNet(TINY), cond, noise, steps=3), noise)


def test_drop_condition_modes() -> None:
    cond = torch.ones(2, CONDITION_CHANNELS, 1, 2, 2)
    assert drop_condition(cond, "all").abs().sum() == 0
    gbuffer = drop_condition(cond, "gbuffer")
    assert gbuffer[:, 4:10].abs().sum() == 0 and gbuffer[:, :4].min() == 1 and gbuffer[:, 10:].min() == 1
    assert drop_condition(cond[0], "context")[19:23].abs().sum() == 0
    assert drop_condition(cond, "memory")[:, 23:].abs().sum() == 0 and cond.min() == 1
    with pytest.raises(ValueError):
        drop_condition(cond, "nope")
