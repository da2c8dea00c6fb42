"""VideoUNet shapes and the rectified-flow loss, dropout and sampler (tiny sizes)."""

from __future__ import annotations

import pytest
import torch

from renderers.diffusion.conditioning import CONDITION_CHANNELS
from renderers.diffusion.flow_matching import drop_condition, sample, training_loss
from renderers.diffusion.model import ModelConfig, VideoUNet, base_image

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
    assert gbuffer[:, 4:10].abs().sum() == 0 and gbuffer[:, :4].min() == 1 and gbuffer[:, 10:27].min() == 1
    # what depends on the materials goes with them: specular, and direct light on the foreground
    assert gbuffer[:, 27:30].abs().sum() == 0 and gbuffer[:, 33:36].abs().sum() == 0
    assert gbuffer[:, 30:33].min() == 1 and gbuffer[:, 36:].min() == 1
    background = cond.clone()
    background[:, 18] = 0
    assert drop_condition(background, "gbuffer")[:, 27:30].min() == 1
    assert drop_condition(cond[0], "context")[19:23].abs().sum() == 0
    assert drop_condition(cond, "memory")[:, 23:27].abs().sum() == 0 and cond.min() == 1
    assert drop_condition(cond, "memory")[:, 27:].min() == 1
    with pytest.raises(ValueError):
        drop_condition(cond, "nope")


def test_base_image_precedence() -> None:
    """Context colour > sRGB-encoded albedo (G-buffer, foreground) > memory colour > grey."""
    cond = torch.zeros(1, CONDITION_CHANNELS, 2, 1, 4)
    cond[:, 4:7, :, :, 1:] = 0.5  # sRGB(0.5) = 0.7354 -> model space 0.4708
    cond[:, 9, :, :, 1:3] = 1.0  # G-buffer given on pixels 1 and 2
    cond[:, 18, :, :, :3] = 1.0  # foreground: pixels 0..2
    cond[:, 23:26, :, :, 2:] = -0.5  # memory colour on pixels 2 and 3
    cond[:, 26, :, :, 2:] = 1.0
    cond[:, 19:22, 1] = 0.9  # frame 1 is a context frame
    cond[:, 22, 1] = 1.0
    base = base_image(cond)
    expected = torch.tensor([0.0, 2 * 0.7354 - 1, 2 * 0.7354 - 1, -0.5])
    torch.testing.assert_close(base[0, :, 0, 0], expected.expand(3, 4), atol=2e-4, rtol=0)
    torch.testing.assert_close(base[0, :, 1], torch.full((3, 1, 4), 0.9))


def test_x0_prediction_starts_at_the_base_and_converts_to_velocity() -> None:
    torch.manual_seed(0)
    config = ModelConfig(channels=[8, 16], patch_size=2, time_dim=16, groups=4, prediction="x0")
    model = VideoUNet(config)
    cond = torch.zeros(1, CONDITION_CHANNELS, 2, 8, 8)
    cond[:, 19:22] = torch.rand(1, 3, 2, 8, 8) * 2 - 1
    cond[:, 22] = 1.0
    x_t, t = torch.randn(1, 3, 2, 8, 8), torch.tensor([0.5])
    # zero-initialised output: x0_hat is the base (here the context colours), v = (x_t - x0) / t
    torch.testing.assert_close(model.predict_x0(x_t, t, cond), cond[:, 19:22])
    torch.testing.assert_close(model(x_t, t, cond), (x_t - cond[:, 19:22]) / 0.5)
    # the Euler sampler then lands exactly on the base from any noise
    torch.testing.assert_close(sample(model, cond, x_t, steps=4), cond[:, 19:22], atol=1e-5, rtol=0)
    # the loss is the t-weighted x0 error: finite, and exactly 0 when the target is the base
    zero = training_loss(model, cond[:, 19:22], cond, generator=torch.Generator().manual_seed(1))
    assert float(zero.detach()) == pytest.approx(0.0, abs=1e-10)
    with pytest.raises(ValueError, match="prediction"):
        VideoUNet(ModelConfig(channels=[8], prediction="epsilon"))


def mixing_model(seed: int) -> VideoUNet:
    """A tiny x0 model whose zero-initialised layers (the output layer, the temporal convolutions)
    are randomised, so every input, across frames too, reaches the output."""
    torch.manual_seed(seed)
    model = VideoUNet(ModelConfig(channels=[8, 16], time_dim=16, groups=4, prediction="x0")).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if not parameter.any():
                parameter.normal_(0.0, 0.1)
    return model


def test_known_frames_stay_on_their_straight_path_and_steer_the_rest() -> None:
    """Replacement sampling: each step the model sees pinned frames at (1 - t) * known + t * noise,
    they end equal to ``known``, and other frames change with what is pinned (temporal mixing)."""
    model = mixing_model(seed=0)
    cond = torch.randn(1, CONDITION_CHANNELS, 5, 16, 16)
    noise = torch.randn(1, 3, 5, 16, 16)
    known = torch.rand(1, 3, 5, 16, 16) * 2 - 1
    frames = torch.tensor([True, True, False, False, False])
    seen = []
    original = model.forward

    def spy(x_t, t, c):
        seen.append((x_t.clone(), float(t[0])))
        return original(x_t, t, c)

    model.forward = spy
    out = sample(model, cond, noise, steps=4, known=known, known_frames=frames)
    torch.testing.assert_close(out[:, :, :2], known[:, :, :2])
    for x_t, t in seen:
        torch.testing.assert_close(x_t[:, :, :2], ((1 - t) * known + t * noise)[:, :, :2])
    other = sample(model, cond, noise, steps=4, known=-known, known_frames=frames)
    assert (other[:, :, 2:] - out[:, :, 2:]).abs().mean() > 1e-3
    free = sample(model, cond, noise, steps=4)
    assert (free[:, :, :2] - known[:, :, :2]).abs().mean() > 0.1


def test_known_pixels_are_pinned_per_pixel() -> None:
    """A (T, H, W) mask pins single pixels: they end equal to ``known``; the others stay free
    (not equal to ``known``) and are steered by the pinned ones (differ from an unpinned run)."""
    model = mixing_model(seed=1)
    cond = torch.randn(1, CONDITION_CHANNELS, 4, 16, 16)
    noise = torch.randn(1, 3, 4, 16, 16)
    known = torch.rand(1, 3, 4, 16, 16) * 2 - 1
    mask = torch.zeros(4, 16, 16, dtype=torch.bool)
    mask[1:, 4:12, 2:9] = True
    out = sample(model, cond, noise, steps=3, known=known, known_frames=mask)
    pinned = mask[None, None].expand_as(out)
    torch.testing.assert_close(out[pinned], known[pinned])
    assert (out[~pinned] - known[~pinned]).abs().mean() > 0.1
    free = sample(model, cond, noise, steps=3)
    assert (free[~pinned] - out[~pinned]).abs().mean() > 1e-3  # the rest is steered by them
    with pytest.raises(ValueError, match=r"\(T,\) or \(T, H, W\)"):
        sample(model, cond, noise, steps=1, known=known, known_frames=mask[None])
