"""What every adapter promises, on its tiny random pipeline: frames of the clip's shape, fixed by
the seed, a resumed render matching the first, and another seed giving other frames."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")

FRAMES = 13


@pytest.mark.parametrize("name", ["wan_vace", "cogvideox_fun"])
def test_frames_have_the_clip_shape_and_a_seed_fixes_them(name, render, make_adapter, box_trajectory):
    trajectory = box_trajectory(FRAMES)
    adapter = make_adapter(name)
    first = render(adapter, trajectory)
    again = render(make_adapter(name), trajectory)
    resumed = render(adapter, trajectory, frames=[11, 12])
    other_seed = render(make_adapter(name, seed=99), trajectory)
    assert sorted(first) == list(range(FRAMES))
    for frame, image in first.items():
        assert image.shape == (32, 48, 3) and image.dtype == np.uint8
        np.testing.assert_array_equal(image, again[frame])
    for frame in (11, 12):
        np.testing.assert_array_equal(resumed[frame], first[frame])
    assert not np.array_equal(other_seed[0], first[0])
