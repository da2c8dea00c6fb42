"""Camera cuts: no flow crosses a cut between shots, and the edit list is recorded in metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderers.guidance.render import GuidanceRenderer
from worldsim.clip.metadata import build_metadata
from worldsim.render import load_and_validate, rollout
from worldsim.state_io import trajectory_from_dict, trajectory_to_dict

CUT_FRAME = 24
"""camera_shots.yaml: the ``wide`` camera cuts to its second position at 1.0 s, 24 fps."""


@pytest.fixture(scope="module")
def shots_trajectory():
    scene = load_and_validate(Path(__file__).parents[2] / "scenes" / "camera_shots.yaml")
    scene.resolution = [48, 48]
    return rollout(scene)


def test_the_cut_segment_is_a_cut_of_the_track(shots_trajectory):
    wide, main = shots_trajectory.cameras["wide"], shots_trajectory.cameras["main"]
    assert wide.cuts == (CUT_FRAME,)
    assert main.cuts == ()  # main only blends
    assert wide.crosses_cut(CUT_FRAME - 1, CUT_FRAME) and wide.crosses_cut(CUT_FRAME, CUT_FRAME - 1)
    assert not wide.crosses_cut(CUT_FRAME, CUT_FRAME + 1) and not wide.crosses_cut(0, CUT_FRAME - 1)
    assert wide.shots() == [(0, CUT_FRAME), (CUT_FRAME, shots_trajectory.num_frames)]
    # the pose really jumps at the cut (it is not a cut in name only)
    step = np.linalg.norm(wide.cam_to_world[CUT_FRAME, :3, 3] - wide.cam_to_world[CUT_FRAME - 1, :3, 3])
    assert step > 5.0


def test_flow_across_the_cut_is_all_invalid_and_elsewhere_valid(shots_trajectory):
    guidance = GuidanceRenderer(shots_trajectory, "wide", visibility=False, threads=False)
    before, last, first, after = (guidance.render(f) for f in range(CUT_FRAME - 2, CUT_FRAME + 2))
    assert last.flow_forward_valid.shape == (48, 48) and not last.flow_forward_valid.any()
    assert np.all(last.flow_forward == 0.0)
    assert not first.flow_backward_valid.any() and np.all(first.flow_backward == 0.0)

    def valid_on_surfaces(frame, valid):
        return valid[np.isfinite(frame.depth)].mean()

    # within a shot the flow is as before: almost every surface pixel of the (static) view is valid
    assert valid_on_surfaces(before, before.flow_forward_valid) > 0.9
    assert valid_on_surfaces(last, last.flow_backward_valid) > 0.9
    assert valid_on_surfaces(first, first.flow_forward_valid) > 0.9
    assert valid_on_surfaces(after, after.flow_backward_valid) > 0.9


def test_cuts_survive_a_trajectory_round_trip_and_reach_the_metadata(shots_trajectory):
    loaded = trajectory_from_dict(trajectory_to_dict(shots_trajectory))
    assert loaded.cameras["wide"].cuts == (CUT_FRAME,)
    assert loaded.with_resolution(24, 24).cameras["wide"].cuts == (CUT_FRAME,)
    edit = build_metadata(shots_trajectory, settings={})["edit"]
    frames = shots_trajectory.num_frames
    assert edit["wide"] == {
        "cuts": [CUT_FRAME],
        "shots": [{"start": 0, "stop": CUT_FRAME}, {"start": CUT_FRAME, "stop": frames}],
    }
    assert edit["main"] == {"cuts": [], "shots": [{"start": 0, "stop": frames}]}


def test_old_trajectory_files_without_cuts_load_and_bad_cuts_are_refused(shots_trajectory):
    from worldsim.state_io import TrajectoryFileError

    data = trajectory_to_dict(shots_trajectory)
    del data["cameras"]["wide"]["cuts"]
    assert trajectory_from_dict(data).cameras["wide"].cuts == ()
    data["cameras"]["wide"]["cuts"] = [0]
    with pytest.raises(TrajectoryFileError, match=r"cameras\.wide\.cuts"):
        trajectory_from_dict(data)
