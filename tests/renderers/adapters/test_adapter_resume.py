"""A resumed adapter render samples only the windows the missing frames need when no window reads
the ones before it (context and references off), byte-identical to a whole render; with context
on it regenerates the chain from frame 0."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")

FRAMES = 17
"""Windows of 5 frames with 1 frame of overlap: (0..4), (4..8), (8..12), (12..16)."""


def receding_camera_trajectory():
    """The moving box seen from a camera that backs away (3 m to 6 m): each window's depth range
    differs, so a resume must fit the range on the first window, not on the one it samples."""
    from renderers.guidance.synthetic import looking_at, make_trajectory, translation
    from worldsim.camera.intrinsics import Intrinsics
    from worldsim.scene.model import MeshSpec

    poses = np.stack(
        [np.stack([translation(0, 0, 0), translation(-1.0 + 0.1 * t, 0, 0.3)]) for t in range(FRAMES)]
    )
    direction = np.array([-3.0, -1.0, 1.2]) / np.linalg.norm([-3.0, -1.0, 1.2])
    cameras = np.stack(
        [looking_at(direction * (3.0 + 3.0 * t / FRAMES), np.array([0.0, 0.0, 0.3])) for t in range(FRAMES)]
    )
    meshes = [MeshSpec(type="plane", size=[30.0, 30.0]), MeshSpec(type="box", size=[0.6, 0.6, 0.6])]
    return make_trajectory(meshes, poses, cameras, Intrinsics.from_fov(50.0, 48, 32))


@pytest.mark.parametrize(("context", "resume_calls"), [(False, 1), (True, 4)])
def test_a_resume_samples_only_what_it_needs(
    render, make_adapter, box_trajectory, spy_on, context, resume_calls
):
    trajectory = receding_camera_trajectory()
    options = {"window": 5, "overlap": 1, "context": context, "references": False}
    whole = make_adapter("wan_vace", **options)
    whole_spy = spy_on(whole)
    full = render(whole, trajectory, frames=range(FRAMES))
    resumed_adapter = make_adapter("wan_vace", **options)
    resumed_spy = spy_on(resumed_adapter)
    resumed = render(resumed_adapter, trajectory, frames=[14, 15])
    assert sorted(resumed) == [14, 15]
    for frame in (14, 15):
        np.testing.assert_array_equal(resumed[frame], full[frame])
    assert (len(resumed_spy.calls), len(whole_spy.calls)) == (resume_calls, 4)
