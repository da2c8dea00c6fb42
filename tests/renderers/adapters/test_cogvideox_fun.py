"""The CogVideoX-Fun control adapter on a tiny random CogVideoXFunControlPipeline: shapes,
determinism, the control video reaching the model, and context imposed in latent space."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")

import torch

from renderers.adapters import windowed
from renderers.adapters.cogvideox_fun import ContextReplacement
from renderers.adapters.control import control_frames
from worldsim.errors import RenderError

FRAMES = 13


def test_the_control_video_reaches_the_model(render, make_adapter, box_trajectory, spy_on, monkeypatch):
    trajectory = box_trajectory(9)
    adapter = make_adapter("cogvideox_fun", control="edges")
    spy = spy_on(adapter)
    render(adapter, trajectory, frames=range(9))
    ((kwargs, base),) = spy.calls
    control = kwargs["control_video"][0].permute(0, 2, 3, 1).numpy()
    assert control.shape == (9, 32, 48, 3) and set(np.unique(control)) == {0.0, 1.0}  # white outlines

    def blank(kind, frames, depth):
        return np.zeros_like(control_frames(kind, frames, depth))

    monkeypatch.setattr(windowed, "control_frames", blank)
    other = make_adapter("cogvideox_fun", control="edges")
    other_spy = spy_on(other)
    render(other, trajectory, frames=range(9))
    assert np.abs(other_spy.calls[0][1] - base).max() > 1e-3


def test_window_two_is_pinned_to_window_one_tail(render, make_adapter, box_trajectory, spy_on):
    adapter = make_adapter("cogvideox_fun")
    spy = spy_on(adapter)
    encoded = []
    encode = adapter.pipeline.vae.encode

    def recording(video, *args, **kwargs):
        encoded.append(video.detach().clone())
        return encode(video, *args, **kwargs)

    adapter.pipeline.vae.encode = recording
    with_context = render(adapter, box_trajectory(FRAMES))
    (first, first_frames), (second, _) = spy.calls
    assert first["callback_on_step_end"] is None  # nothing known in window one
    assert isinstance(second["callback_on_step_end"], ContextReplacement)
    # Encodes: window one's control; window two's context (frames 4..8 as window one made them),
    # then its control.
    context = encoded[1][0].permute(1, 2, 3, 0).numpy()
    np.testing.assert_allclose(context, first_frames[4:9] * 2.0 - 1.0, atol=1e-6)
    assert second["callback_on_step_end"].known.shape[1] == 2  # 5 frames = 2 latent frames

    without = render(make_adapter("cogvideox_fun", context=False), box_trajectory(FRAMES))
    changed = [frame for frame in range(FRAMES) if not np.array_equal(with_context[frame], without[frame])]
    assert changed and min(changed) >= 4, changed  # frames 0..3 are final before any context


def test_context_replacement_noises_to_the_next_step_and_ends_clean():
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler()
    scheduler.set_timesteps(3)
    generator = torch.Generator().manual_seed(0)
    known = torch.randn(1, 2, 4, 3, 5, generator=generator)
    initial = torch.randn(1, 4, 4, 3, 5, generator=generator)
    replace = ContextReplacement(known, initial)
    pipeline = type("Pipeline", (), {"scheduler": scheduler})()
    latents = torch.randn(1, 4, 4, 3, 5, generator=generator)
    middle = replace(pipeline, 0, scheduler.timesteps[0], {"latents": latents})["latents"]
    expected = scheduler.add_noise(known, initial[:, :2], scheduler.timesteps[1:2])
    torch.testing.assert_close(middle[:, :2], expected)
    torch.testing.assert_close(middle[:, 2:], latents[:, 2:])
    last = replace(pipeline, 2, scheduler.timesteps[2], {"latents": latents})["latents"]
    torch.testing.assert_close(last[:, :2], known)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"references": True, "max_references": 2}, "'references'"),
        ({"dtype": "float32", "vae_dtype": "bfloat16"}, "'vae_dtype'"),
        ({"window": 10}, "'window'"),
    ],
)
def test_unsupported_settings_are_refused(make_adapter, options, fragment):
    with pytest.raises(RenderError, match="cogvideox_fun") as error:
        make_adapter("cogvideox_fun", **options)
    assert fragment in str(error.value)


def test_published_folders_naming_cogvideox_pipeline_load(make_adapter, tmp_path):
    """alibaba-pai's Control folders declare ``CogVideoXPipeline`` in model_index.json."""
    import json
    import shutil

    make_adapter("cogvideox_fun")
    folder = tmp_path / "CogVideoX-Fun-tiny-Control"
    shutil.copytree(make_adapter.folders["cogvideox_fun"], folder)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "_class_name": "CogVideoXPipeline"}))
    adapter = make_adapter("cogvideox_fun", weights=str(folder))
    assert type(adapter.pipeline).__name__ == "CogVideoXFunControlPipeline"

    config = json.loads((folder / "transformer" / "config.json").read_text())
    (folder / "transformer" / "config.json").write_text(json.dumps({**config, "in_channels": 4}))
    with pytest.raises(RenderError, match="not a CogVideoX-Fun control model"):
        make_adapter("cogvideox_fun", weights=str(folder))
