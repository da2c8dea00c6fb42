"""The diffusion renderer's inference machinery with a tiny randomly initialised model: windows,
context, memory, anchored noise, upsampling, determinism, resume, bounded memory, option errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderers.base import create
from renderers.diffusion.lighting_code import CODE_DIM
from renderers.diffusion.model import ModelConfig, VideoUNet
from renderers.diffusion.weights import save_weights
from renderers.diffusion.windows import blend_weights, final_frames, plan_windows, support_frames
from renderers.guidance import render_guidance
from renderers.guidance.source import ClipGuidance
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.errors import RenderError
from worldsim.scene.model import MeshSpec

FRAMES = 11


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    config = ModelConfig(
        channels=[8, 16], patch_size=2, blocks_per_level=1, middle_blocks=1, time_dim=16, groups=4,
        prediction="x0", code_channels=CODE_DIM, shading_channels=3,
    )  # fmt: skip
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    model = VideoUNet(config)
    with torch.no_grad():  # the output layer starts at zero; make every input matter
        for parameter in model.parameters():
            if not parameter.any():
                parameter.normal_(0.0, 0.05)
    save_weights(model, config, path, {"purpose": "test"})
    return str(path)


@pytest.fixture(scope="module")
def trajectory():
    poses = np.stack(
        [np.stack([translation(0, 0, 0), translation(-1.0 + 0.2 * t, 0.0, 0.3)]) for t in range(FRAMES)]
    )
    cameras = np.stack([looking_at(np.array([-3.0, -1.0, 1.5]), np.array([0.0, 0.0, 0.3]))] * FRAMES)
    return make_trajectory(
        [MeshSpec(type="plane", size=[8.0, 8.0]), MeshSpec(type="box", size=[0.6, 0.6, 0.6])],
        poses,
        cameras,
        Intrinsics.from_fov(50.0, 48, 32),
    )


def render(trajectory, weights, frames=range(FRAMES), **options):
    """Frames of the diffusion renderer; structure mode (where the sampler and its consistency
    mechanisms run) unless ``mode`` is given."""
    options = {"weights": weights, "native_size": 32, "steps": 2, "window": 4, "mode": "structure", **options}
    renderer = create("diffusion", options)
    guidance = ClipGuidance(trajectory, "main", lighting=renderer.guidance_maps)
    return dict(renderer.render_frames(trajectory, "main", list(frames), guidance)), renderer


def test_window_plan_covers_every_frame_once_as_final():
    windows = plan_windows(11, 4, 1)
    assert [(w.start, w.stop, w.context) for w in windows] == [(0, 4, 0), (3, 7, 1), (6, 10, 1), (9, 11, 1)]
    finals = [
        f
        for i, w in enumerate(windows)
        for f in final_frames(w, windows[i + 1] if i + 1 < len(windows) else None)
    ]
    assert finals == list(range(11))
    np.testing.assert_allclose(blend_weights(2), [1 / 3, 2 / 3])
    # sampled with one frame more on each side, the clip's first and last frames repeated
    assert support_frames(windows[0], 1, 11) == [0, 0, 1, 2, 3, 4]
    assert support_frames(windows[1], 2, 11) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert support_frames(windows[-1], 1, 11) == [8, 9, 10, 10]
    assert support_frames(windows[1], 0, 11) == list(windows[1].frames)
    with pytest.raises(ValueError, match="overlap"):
        plan_windows(10, 4, 4)


def test_frames_are_deterministic_and_a_resume_matches(trajectory, weights):
    first, renderer = render(trajectory, weights)
    again, _ = render(trajectory, weights)
    alone, _ = render(trajectory, weights, frames=[9])
    assert renderer.native_size(48, 32) == (32, 20)  # multiples of the stride (4)
    assert sorted(first) == list(range(FRAMES))
    for frame, image in first.items():
        assert image.shape == (32, 48, 3) and image.dtype == np.uint8
        np.testing.assert_array_equal(image, again[frame])
    np.testing.assert_array_equal(alone[9], first[9])


def test_each_mechanism_changes_the_output(trajectory, weights):
    base, _ = render(trajectory, weights, overlap=1)
    for option, value in (
        ("anchored_noise", False),
        ("context", True),
        ("memory", False),
        ("upsample", False),
        ("margin", 0),
    ):
        other, _ = render(trajectory, weights, overlap=1, **{option: value})
        changed = [frame for frame in range(FRAMES) if not np.array_equal(base[frame], other[frame])]
        assert changed, option
        if option == "context":
            assert min(changed) >= 3, changed  # the first window has no context
        if option == "memory":
            assert 0 in changed  # the first window is redrawn with its entities' colours painted


@pytest.mark.parametrize("method", ["channel", "replace", "surface"])
def test_context_and_memory_reach_the_model(trajectory, weights, monkeypatch, method):
    import renderers.diffusion.flow_matching as flow_matching

    seen = []
    original = flow_matching.sample

    outputs = []

    def spy(model, cond, noise, **kwargs):
        seen.append((cond.clone(), kwargs))
        outputs.append(original(model, cond, noise, **kwargs))
        return outputs[-1]

    monkeypatch.setattr(flow_matching, "sample", spy)
    render(trajectory, weights, overlap=1, context=True, context_method=method)
    # every entity appears in the first window, which is drawn twice: to fill the memory, then
    # again with the remembered colours painted (as every later window is)
    assert len(seen) == len(plan_windows(FRAMES, 4, 1)) + 1
    (first, first_kwargs), (redrawn, _), (second, second_kwargs) = [(c[0], k) for c, k in seen[:3]]
    assert first[22].abs().sum() == 0 and first[26].abs().sum() == 0  # no context, no memory yet
    assert first_kwargs.get("known") is None
    assert redrawn[22].abs().sum() == 0 and redrawn[26].sum() > 0
    torch.testing.assert_close(redrawn[:23], first[:23])  # only the memory channels differ
    # the second window (frames 3-6) is sampled over frames 1-8 (margin 2): the margin frames 1, 2
    # and the overlap frame 3 were made by the first window and are its context
    assert second.shape[1] == 8
    assert second[26].sum() > 0  # remembered entities painted
    if method == "channel":
        assert torch.all(second[22, :3] == 1) and torch.all(second[22, 3:] == 0)
        assert second_kwargs.get("known") is None
    elif method == "surface":
        assert second[22].abs().sum() == 0
        mask, known = second_kwargs["known_frames"].numpy(), second_kwargs["known"][0].numpy()
        assert mask.shape == second.shape[1:] and mask.dtype == bool
        # on every frame: the pixels whose surface point the first window's final frames (0-2)
        # showed, coloured as made there; never the background
        foreground = second[18].numpy() > 0
        assert not mask[~foreground].any()
        assert mask[0][foreground[0]].mean() > 0.8 and mask[3][foreground[3]].mean() > 0.8
        # the redrawn first window, sampled over frames 0, 0, 0, 1, 2, 3, 4, 5: frames 0-2 at 2-4
        made = np.clip((outputs[1][0, :, 2:5].numpy() + 1) / 2, 0, 1).reshape(3, -1).T
        cached = (known[:, 3][:, mask[3]].T + 1) / 2
        gaps = np.abs(cached[:, None, :] - made[None, :, :]).max(axis=-1).min(axis=1)
        assert gaps.max() < 1e-5
    else:
        assert second[22].abs().sum() == 0
        assert second_kwargs["known_frames"].tolist() == [True] * 3 + [False] * 5
        # the pinned frames are the first window's native outputs (frame 1 is final there)
        known_frame_1 = (second_kwargs["known"][0, :, 0].permute(1, 2, 0).numpy() + 1) / 2
        assert known_frame_1.min() >= 0 and known_frame_1.max() <= 1 and known_frame_1.std() > 0


def test_surface_context_needs_no_overlap(trajectory, weights, monkeypatch):
    import renderers.diffusion.flow_matching as flow_matching

    pinned = []
    original = flow_matching.sample

    def spy(model, cond, noise, **kwargs):
        pinned.append(kwargs.get("known_frames"))
        return original(model, cond, noise, **kwargs)

    monkeypatch.setattr(flow_matching, "sample", spy)
    render(trajectory, weights, overlap=0, context=True)
    # windows 0-3, 4-7, 8-10; the first is drawn twice (memory redraw) with nothing cached yet
    assert len(pinned) == 4 and pinned[0] is None and pinned[1] is None
    assert all(mask is not None and mask.float().mean() > 0.3 for mask in pinned[2:])


def test_memory_stays_flat_as_the_clip_grows(weights):
    import tracemalloc

    def peak(frames: int) -> int:
        poses = np.stack([np.stack([translation(0, 0, 0), translation(0.0, 0.0, 0.3)])] * frames)
        cameras = np.stack([looking_at(np.array([-3.0, -1.0, 1.5]), np.zeros(3))] * frames)
        trajectory = make_trajectory(
            [MeshSpec(type="plane"), MeshSpec(type="box")], poses, cameras, Intrinsics.from_fov(50.0, 32, 32)
        )
        renderer = create(
            "diffusion",
            {"weights": weights, "native_size": 32, "steps": 1, "window": 4, "anchored_noise": False},
        )
        guidance = ClipGuidance(trajectory, "main", lighting=renderer.guidance_maps)
        tracemalloc.start()
        for _ in renderer.render_frames(trajectory, "main", range(frames), guidance):
            pass
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    short, long = peak(8), peak(32)
    assert long < 1.25 * short, (short, long)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"mode": "paint"}, "'mode'"),
        ({"overlap": 8}, "'overlap'"),
        ({"margin": -1}, "'margin'"),
        ({"steps": 0}, "'steps'"),
        ({"sampler": "ddim"}, "'sampler'"),
        ({"context_method": "concat"}, "'context_method'"),
        ({"window_size": 3}, "window_size"),
    ],
)
def test_bad_options_name_the_key(weights, options, fragment):
    with pytest.raises(RenderError, match="diffusion") as error:
        create("diffusion", {"weights": weights, **options})
    assert fragment in str(error.value)


def test_missing_weights_name_the_file(tmp_path):
    with pytest.raises(RenderError, match=r"nowhere\.safetensors"):
        create("diffusion", {"weights": str(tmp_path / "nowhere.safetensors")})


def test_missing_default_weights_say_how_to_train(tmp_path, monkeypatch):
    import renderers.diffusion.renderer as module

    monkeypatch.setattr(module, "DEFAULT_WEIGHTS", tmp_path / "absent.safetensors")
    with pytest.raises(RenderError, match=r"train_renderer\.py"):
        create("diffusion", {})


def test_entity_noise_share_from_the_weights_reaches_the_sampler(trajectory, tmp_path, monkeypatch):
    """A model trained with entity-correlated noise gets it at inference: with a share near 1 the
    initial noise is (nearly) one vector per entity, the same in every frame while anchored, and
    fresh per frame with anchoring off."""
    import renderers.diffusion.flow_matching as flow_matching

    config = ModelConfig(
        channels=[8], patch_size=2, time_dim=16, groups=4, entity_noise_share=0.9999,
        prediction="x0", code_channels=CODE_DIM, shading_channels=3,
    )  # fmt: skip
    path = tmp_path / "shared.safetensors"
    save_weights(VideoUNet(config), config, path, {"purpose": "test"})
    seen = []
    original = flow_matching.sample
    monkeypatch.setattr(
        flow_matching,
        "sample",
        lambda model, cond, noise, **kw: seen.append(noise) or original(model, cond, noise, **kw),
    )
    for anchored in (True, False):
        seen.clear()
        _, renderer = render(
            trajectory, str(path), frames=[3], anchored_noise=anchored, window=4, overlap=0, margin=0
        )
        native = trajectory.with_resolution(*renderer.native_size(48, 32))
        noise, instance = seen[0][0].numpy(), np.stack([g.instance for g in render_guidance(native)])
        for frame in range(4):  # one vector per entity and frame (the pixel part is 1% of the std)
            for entity in (1, 2):
                assert noise[:, frame][:, instance[frame] == entity].std(axis=1).max() < 0.05
        per_entity = [noise[:, 0][:, instance[0] == entity] for entity in (1, 2)]
        frame_to_frame = np.abs(
            noise[:, 0][:, instance[0] == 2].mean(1) - noise[:, 3][:, instance[3] == 2].mean(1)
        )
        assert frame_to_frame.max() < 0.01 if anchored else frame_to_frame.max() > 0.1
        assert np.abs(per_entity[0].mean(1) - per_entity[1].mean(1)).max() > 0.1  # entities differ


def test_gbuffer_mode_composes_the_exact_buffers(trajectory, tmp_path, monkeypatch):
    """G-buffer mode samples nothing (one network pass per window); with a network whose output
    is zero (an untrained model's output layer) every frame is exactly the ``direct`` baseline
    through the path tracer's pixel filter and the camera's tone map, at the output resolution."""
    import renderers.diffusion.flow_matching as flow_matching
    from renderers.diffusion.compose import pixel_filter
    from renderers.direct.renderer import shade
    from renderers.tonemap import tonemap_uint8

    config = ModelConfig(
        channels=[8, 16], patch_size=2, time_dim=16, groups=4,
        prediction="x0", code_channels=CODE_DIM, shading_channels=3,
    )  # fmt: skip
    path = tmp_path / "zero.safetensors"
    save_weights(VideoUNet(config), config, path, {"purpose": "test"})
    monkeypatch.setattr(flow_matching, "sample", lambda *a, **k: pytest.fail("G-buffer mode sampled"))
    frames, renderer = render(trajectory, str(path), frames=[0, 5], mode="gbuffer")
    guidance = ClipGuidance(trajectory, "main", lighting=renderer.guidance_maps)
    lens = trajectory.cameras["main"].lens
    for frame, image in frames.items():
        expected = pixel_filter(shade(guidance(frame), trajectory, "main"))
        expected = tonemap_uint8(expected, exposure_ev=lens.exposure_ev, curve=lens.tonemap)
        np.testing.assert_array_equal(image, expected)


def test_v1_weights_are_refused_with_the_reason(tmp_path):
    config = ModelConfig(channels=[8], patch_size=2, time_dim=16, groups=4, condition_channels=27)
    path = tmp_path / "v1.safetensors"
    save_weights(VideoUNet(config), config, path, {"purpose": "test"})
    with pytest.raises(RenderError, match=r"v1\.safetensors.*not a renderer v2 model"):
        create("diffusion", {"weights": str(path)})
