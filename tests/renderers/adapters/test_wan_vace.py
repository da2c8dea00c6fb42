"""The Wan VACE adapter on a tiny random WanVACEPipeline: shapes, determinism, and that the
control video, context frames, reference images and anchored latents really reach the model."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")

import torch

from renderers.adapters import windowed
from renderers.adapters.control import DepthNormaliser, control_frames
from renderers.guidance import render_guidance

FRAMES = 13
"""Two windows of 9 frames with 5 frames of overlap: (0..8) and (4..12)."""


def test_frames_are_resized_to_the_clip_resolution(render, make_adapter, box_trajectory):
    trajectory = box_trajectory(5, size=(40, 30))
    adapter = make_adapter("wan_vace", resolution=None, pixels=48 * 32, window=5, overlap=0)
    assert adapter.model_size(40, 30) == (48, 32)  # multiples of 16 near the clip's aspect ratio
    frames = render(adapter, trajectory, frames=range(5))
    assert {image.shape for image in frames.values()} == {(30, 40, 3)}


def denoised_latents(adapter) -> list:
    """Record the latents the pipeline hands its VAE decoder (what the transformer made)."""
    seen = []
    decode = adapter.pipeline.vae.decode

    def recording(latents, *args, **kwargs):
        seen.append(latents.detach().clone())
        return decode(latents, *args, **kwargs)

    adapter.pipeline.vae.decode = recording
    return seen


def test_the_depth_video_is_the_control_and_changes_the_output(
    render, make_adapter, box_trajectory, spy_on, monkeypatch
):
    trajectory = box_trajectory(9)
    adapter = make_adapter("wan_vace")
    spy = spy_on(adapter)
    base_latents = denoised_latents(adapter)
    render(adapter, trajectory, frames=range(9))
    ((kwargs, base),) = spy.calls
    guidance = list(render_guidance(trajectory.with_resolution(48, 32)))
    expected = control_frames("depth", guidance, DepthNormaliser())
    video = kwargs["video"][0].permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(video, expected, atol=1e-6)
    assert torch.all(kwargs["mask"] == 1)  # nothing known in the first window
    assert expected.std() > 0.05  # a real depth video, not a blank one

    def flattened(kind, frames, depth):
        return np.full_like(control_frames(kind, frames, depth), 0.5)

    monkeypatch.setattr(windowed, "control_frames", flattened)
    other = make_adapter("wan_vace")
    flat_spy = spy_on(other)
    flat_latents = denoised_latents(other)
    render(other, trajectory, frames=range(9))
    # The same seed gives bit-identical runs, so any difference is the control's doing. The tiny
    # random VAE decoder squashes what the transformer made, so compare before it as well.
    assert (base_latents[0] - flat_latents[0]).abs().max() > 1e-3
    flat = flat_spy.calls[0][1]
    assert all(not np.array_equal(base[frame], flat[frame]) for frame in range(9))


def test_window_two_gets_window_one_tail_as_known_frames(render, make_adapter, box_trajectory, spy_on):
    adapter = make_adapter("wan_vace")
    spy = spy_on(adapter)
    render(adapter, box_trajectory(FRAMES))
    (first, first_frames), (second, _) = spy.calls
    video, mask = second["video"][0].permute(0, 2, 3, 1).numpy(), second["mask"][0, :, 0].numpy()
    np.testing.assert_array_equal(video[:5], first_frames[4:9])  # frames 4..8, as window one made them
    assert np.all(mask[:5] == 0) and np.all(mask[5:] == 1)
    assert first["mask"].min() == 1  # window one had no context

    spy_off = spy_on(off := make_adapter("wan_vace", context=False))
    render(off, box_trajectory(FRAMES))
    assert spy_off.calls[1][0]["mask"].min() == 1


def test_entities_seen_in_window_one_are_reference_images_later(render, make_adapter, box_trajectory, spy_on):
    adapter = make_adapter("wan_vace")
    spy = spy_on(adapter)
    render(adapter, box_trajectory(FRAMES))
    (first, _), (second, _) = spy.calls
    assert first["reference_images"] is None
    (reference,) = second["reference_images"]  # the box; the floor plane is scenery (too large)
    pixels = np.asarray(reference)
    assert 4 <= pixels.shape[0] < 32 and 4 <= pixels.shape[1] < 48
    assert (pixels == 255).all(axis=-1).any()  # off-entity pixels are white
    # One latent frame per reference image, before the window's (9 - 1) / 4 + 1 = 3 latent frames.
    assert tuple(first["latents"].shape) == (1, 16, 3, 4, 6)
    assert tuple(second["latents"].shape) == (1, 16, 4, 4, 6)

    spy_off = spy_on(off := make_adapter("wan_vace", references=False))
    render(off, box_trajectory(FRAMES))
    assert spy_off.calls[1][0]["reference_images"] is None


def test_latents_are_anchored_to_the_surfaces(render, make_adapter, box_trajectory, spy_on):
    def latents(**options):
        adapter = make_adapter("wan_vace", **options)
        spy = spy_on(adapter)
        render(adapter, box_trajectory(FRAMES))
        return [call["latents"][0].numpy() for call, _ in spy.calls]

    anchored, white = latents(), latents(anchored_noise=False)
    for first, second in (anchored, white):
        # Window two's first latent frame is frame 4, window one's second: the same noise.
        np.testing.assert_array_equal(second[:, 1], first[:, 1])  # second[:, 0] is the reference
        assert abs(float(first.std()) - 1.0) < 0.2
    # Frames 0 and 4 see the same static floor and camera: anchored noise repeats there, white does not.
    assert np.mean(anchored[0][:, 0] == anchored[0][:, 1]) > 0.5
    assert np.mean(white[0][:, 0] == white[0][:, 1]) == 0.0
    # The anchored noise of the model-resolution guidance and of a separate finer cast agree in law.
    coarse = latents(noise_factor=4)
    assert coarse[0].shape == anchored[0].shape and not np.array_equal(coarse[0], anchored[0])


def test_long_clips_stream_with_flat_memory(make_adapter, box_trajectory, monkeypatch):
    import tracemalloc

    from renderers.guidance.render import GuidanceRenderer
    from renderers.guidance.source import ClipGuidance

    requested: list[int] = []
    original = GuidanceRenderer.render

    def recording(self, frame):
        requested.append(frame)
        return original(self, frame)

    monkeypatch.setattr(GuidanceRenderer, "render", recording)

    def peak(frames: int, traced: bool = True) -> int:
        adapter = make_adapter("wan_vace", steps=1, guidance_scale=1.0)
        trajectory = box_trajectory(frames, box_x=0.02)
        requested.clear()
        if traced:
            tracemalloc.start()
        guidance = ClipGuidance(trajectory, "main")
        for frame, _ in adapter.render_frames(trajectory, "main", range(frames), guidance):
            # Guidance is rendered one window ahead at most: nothing is precomputed for the clip.
            assert max(requested) - frame < 9, (frame, max(requested))
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    peak(25, traced=False)  # first-use allocations (torch and numpy caches, worker threads) out of the way
    short, long = peak(21), peak(53)  # 5 windows, 13 windows
    assert long < 1.1 * short, (short, long)


def test_memory_knobs_reach_the_pipeline(render, make_adapter, box_trajectory):
    from worldsim.errors import RenderError

    adapter = make_adapter("wan_vace", attention_backend="native", vae_tiling=True, vae_slicing=True)
    assert adapter.pipeline.vae.use_tiling and adapter.pipeline.vae.use_slicing
    backends = [
        getattr(module.processor, "_attention_backend", None)
        for module in adapter.pipeline.transformer.modules()
        if hasattr(module, "processor")
    ]
    assert backends and all(backend == "native" for backend in backends), backends
    frames = render(adapter, box_trajectory(5), frames=range(5))
    assert len(frames) == 5
    assert adapter.pipeline.transformer.dtype == torch.float32
    with pytest.raises(RenderError, match=r"'offload'.*GPU"):
        make_adapter("wan_vace", offload="model")
    bf16 = make_adapter("wan_vace", dtype="bfloat16", vae_dtype="float32")
    assert bf16.pipeline.transformer.dtype == torch.bfloat16 and bf16.pipeline.vae.dtype == torch.float32
