"""Streaming: peak memory does not grow with clip length; colour helpers on real frames."""

from __future__ import annotations

import tracemalloc

import numpy as np

from renderers.guidance import render_guidance
from renderers.guidance.synthetic import looking_at, make_trajectory, rotation_z, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.clip.guidance_maps import guidance_grid
from worldsim.clip.preview import colorize_depth, colorize_flow, colorize_ids
from worldsim.scene.model import MeshSpec

MEMORY_GROWTH = 0.10
"""Allowed relative growth of peak traced memory from 60 to 600 frames."""


def orbiting(frames: int):
    intrinsics = Intrinsics.from_fov(50.0, 32, 24)
    angles = np.linspace(0.0, 2.0 * np.pi, frames)
    poses = np.stack([translation(0.0, 0.0, 0.5) @ rotation_z(a) for a in angles])[:, None]
    eyes = np.stack([4.0 * np.cos(angles / 3), 4.0 * np.sin(angles / 3), np.full(frames, 2.0)], axis=-1)
    cams = np.stack([looking_at(eye, np.zeros(3)) for eye in eyes])
    return make_trajectory([MeshSpec(type="box", size=[1.0, 0.5, 0.3])], poses, cams, intrinsics)


def peak_memory(frames: int) -> int:
    trajectory = orbiting(frames)
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    count = 0
    for frame in render_guidance(trajectory):
        count += frame.frame >= 0
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    assert count == frames
    return peak


def test_peak_memory_flat_from_60_to_600_frames():
    short, long = peak_memory(60), peak_memory(600)
    assert long <= short * (1.0 + MEMORY_GROWTH), f"peak {long} bytes at 600 frames vs {short} at 60"


def test_frames_subset_still_gets_neighbour_flow():
    trajectory = orbiting(10)
    every = list(render_guidance(trajectory))
    subset = list(render_guidance(trajectory, frames=[3, 7]))
    assert [f.frame for f in subset] == [3, 7]
    for frame in subset:
        full = every[frame.frame]
        np.testing.assert_array_equal(frame.flow_forward, full.flow_forward)
        np.testing.assert_array_equal(frame.flow_backward_valid, full.flow_backward_valid)


def test_colour_helpers_shapes_and_background():
    frame = next(render_guidance(orbiting(3)))
    grid = guidance_grid(frame)
    assert grid.shape == (48, 64, 3) and grid.dtype == np.uint8
    depth_image = colorize_depth(frame.depth)
    assert (depth_image[np.isinf(frame.depth)] == 0).all()
    assert (depth_image[np.isfinite(frame.depth)].sum(axis=-1) > 0).all()
    ids = colorize_ids(np.array([[0, 1, 2, 1]]))
    np.testing.assert_array_equal(ids[0, 1], ids[0, 3])
    assert (ids[0, 0] == 0).all() and not np.array_equal(ids[0, 1], ids[0, 2])
    flow = colorize_flow(np.array([[[1.0, 0.0], [-1.0, 0.0]]]), np.array([[True, False]]))
    assert flow[0, 0].max() == 255 and (flow[0, 1] == 0).all()


def test_worker_threads_do_not_change_results():
    from renderers.guidance import GuidanceRenderer

    trajectory = orbiting(6)
    threaded = GuidanceRenderer(trajectory, threads=True)
    plain = GuidanceRenderer(trajectory, threads=False)
    # In order (casting ahead on a worker), then out of order (no casting ahead).
    for frame in [0, 1, 2, 3, 4, 5, 2, 0, 5]:
        a, b = threaded.render(frame), plain.render(frame)
        for name in ("depth", "instance", "normal", "shading_normal", "albedo", "surface_coords"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        for name in ("flow_forward", "flow_forward_valid", "flow_backward", "flow_backward_valid"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_lighting_computed_ahead_matches_frame_by_frame():
    """In order, the material and lighting maps of t+1 and t+2 are under way on the lighting
    threads while t's other maps are computed; a jump drops them. Neither changes a value."""
    from renderers.guidance import GuidanceRenderer
    from renderers.guidance.lighting import LIGHTING_MAPS

    trajectory = orbiting(6)
    threaded = GuidanceRenderer(trajectory, lighting=LIGHTING_MAPS, threads=True)
    plain = GuidanceRenderer(trajectory, lighting=LIGHTING_MAPS, threads=False)
    for frame in [0, 1, 2, 3, 4, 5, 2, 0, 1, 4]:
        a, b = threaded.render(frame), plain.render(frame)
        # every frame but the clip's last leaves the next ones' lighting under way (t+2's once
        # its cast is in flight: rendering in order)
        ahead = set(threaded._ahead)
        assert frame + 1 in ahead or frame + 1 == len(trajectory)
        assert ahead <= {frame + 1, frame + 2} and all(later < len(trajectory) for later in ahead)
        for name in ("albedo", "roughness", "metallic", "shadow", "irradiance", "specular"):
            np.testing.assert_array_equal(
                getattr(a, name), getattr(b, name), err_msg=f"frame {frame}: {name}"
            )
        assert a.shadow_lights == b.shadow_lights
        assert np.abs(a.irradiance).max() > 0
