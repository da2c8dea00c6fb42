"""Resuming a diffusion render samples only the windows the missing frames need (issue 18 item 13),
and the frames it makes are byte-identical to an uninterrupted render's, for every option set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderers.base import create
from renderers.diffusion.model import ModelConfig, VideoUNet
from renderers.diffusion.weights import save_weights
from renderers.diffusion.windows import blend_sources, plan_windows, plan_windows_to_sample
from renderers.guidance.source import ClipGuidance
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.model import MeshSpec

FRAMES = 32
SPHERE_APPEARS = 8
"""The sphere is absent before this frame: the appearance memory learns it in a later window."""


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    config = ModelConfig(
        channels=[8, 16], patch_size=2, blocks_per_level=1, middle_blocks=1, time_dim=16, groups=4,
        prediction="x0", code_channels=22, shading_channels=3,
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
        [
            np.stack(
                [translation(0, 0, 0), translation(-1.0 + 0.05 * t, 0.0, 0.3), translation(0.5, 0.8, 0.3)]
            )
            for t in range(FRAMES)
        ]
    )
    present = np.ones((FRAMES, 3), dtype=bool)
    present[:SPHERE_APPEARS, 2] = False
    cameras = np.stack([looking_at(np.array([-3.0, -1.0, 1.5]), np.array([0.0, 0.0, 0.3]))] * FRAMES)
    meshes = [
        MeshSpec(type="plane", size=[8.0, 8.0]),
        MeshSpec(type="box", size=[0.6, 0.6, 0.6]),
        MeshSpec(type="sphere", radius=0.3),
    ]
    return make_trajectory(meshes, poses, cameras, Intrinsics.from_fov(50.0, 48, 32), present=present)


def render(trajectory, weights, frames, **options):
    """({frame: uint8 image}, window indices sampled in order)."""
    settings = {"weights": weights, "native_size": 16, "steps": 1, "window": 4, "mode": "structure"}
    renderer = create("diffusion", {**settings, **options})
    sampled = []
    stream_sample = renderer._sample

    def counting(cond, noise, known=None):
        sampled.append(cond.shape[1])
        return stream_sample(cond, noise, known)

    renderer._sample = counting
    guidance = ClipGuidance(trajectory, "main", lighting=renderer.guidance_maps)
    images = dict(renderer.render_frames(trajectory, "main", list(frames), guidance))
    return images, len(sampled)


def test_blend_sources_follow_the_overlap_back():
    windows = plan_windows(16, 4, 1)  # starts 0, 3, 6, 9, 12
    assert blend_sources(windows, [13]) == {4}
    assert blend_sources(windows, [12]) == {3, 4}  # frame 12 is the cross-fade of windows 3 and 4
    wide = plan_windows(16, 4, 3)  # starts 0..12 step 1: a blended frame was blended before
    assert blend_sources(wide, [12]) == {9, 10, 11, 12}
    assert plan_windows_to_sample(windows, [13], chained=False, state_windows=[0, 2]) == [0, 2, 4]
    assert plan_windows_to_sample(windows, [13], chained=True) == [0, 1, 2, 3, 4]
    assert plan_windows_to_sample(windows, [5], chained=False, state_windows=[0, 2]) == [0, 1]


OPTION_SETS = {
    # name: (options, missing frames, sampler calls of the resume, of the whole render). With
    # window 4 and overlap 1 the windows start at 0, 3, ..., 30 (11 windows); the memory learns
    # the ground and the box in window 0 and the sphere in window 2 (frames 6-9), and each of
    # those two windows is drawn twice.
    "memory, overlap 1": ({"overlap": 1}, [27, 28, 29], 2 + 2 + 2, 11 + 2),  # windows 0, 2, 8, 9
    "wide overlap": ({"overlap": 3}, [24], 2 + 4 + 2, 29 + 2),  # 0, 2 and blends 21-24
    "no memory": ({"overlap": 1, "memory": False}, [9, 22], 2 + 1, 11),  # windows 2, 3 and 7
    "no overlap, no margin": ({"overlap": 0, "margin": 0, "anchored_noise": False}, [4, 5], 2 + 1, 8 + 2),
    "context (chained: no skipping)": (
        {"overlap": 1, "context": True, "context_method": "replace"},
        [30, 31],
        11 + 2,
        11 + 2,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_a_resume_is_byte_identical_and_samples_only_the_windows_it_needs(trajectory, weights, name):
    options, missing, resume_calls, full_calls = OPTION_SETS[name]
    full, full_sampled = render(trajectory, weights, range(FRAMES), **options)
    resumed, resume_sampled = render(trajectory, weights, missing, **options)
    assert sorted(resumed) == missing
    for frame in missing:
        np.testing.assert_array_equal(resumed[frame], full[frame], err_msg=f"{name}: frame {frame}")
    assert (resume_sampled, full_sampled) == (resume_calls, full_calls)
