"""Surface cache: colours follow the exact surface correspondences, first observations kept."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.diffusion.surface_cache import SurfaceCache, footprint, neighbour_key
from renderers.guidance import render_guidance
from renderers.guidance.synthetic import (
    ground_box_sphere,
    looking_at,
    make_trajectory,
    translation,
)
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.model import MeshSpec

SIZE = (64, 48)


def warp_to_frame(source_rgb, source, target, **options):
    """Colours of ``source`` looked up on ``target`` through a cache holding ``source`` only."""
    cache = SurfaceCache(**options)
    cache.add(source_rgb, source)
    return cache.lookup(target)


def surface_colour(frame) -> np.ndarray:
    """(H, W, 3) a smooth colour of the object-frame surface point (independent of the view)."""
    return (0.5 + 0.5 * np.sin(1.5 * frame.surface_coords + np.array([0.0, 1.0, 2.0]))).astype(np.float32)


@pytest.fixture(scope="module")
def frames():
    """Ground, a spinning box and a sphere; the camera slides sideways, 4 frames."""
    return list(render_guidance(ground_box_sphere(4, SIZE, camera_step=0.08, spin=0.15)))


def test_warped_colours_match_the_target_surface_points(frames):
    source, target = frames[0], frames[3]
    rgb, valid = warp_to_frame(surface_colour(source), source, target)
    assert rgb.shape == (SIZE[1], SIZE[0], 3) and valid.shape == (SIZE[1], SIZE[0])
    foreground = target.instance > 0
    assert valid[foreground].mean() > 0.9
    assert not valid[~foreground].any()
    error = np.abs(rgb - surface_colour(target))[valid]
    # nearest source sample: off by about one source pixel's footprint of a smooth colour field
    assert np.median(error) < 0.03 and np.percentile(error, 99) < 0.2
    assert np.all(rgb[~valid] == 0.0)


def test_identical_frames_warp_to_themselves(frames):
    colours = surface_colour(frames[1])
    rgb, valid = warp_to_frame(colours, frames[1], frames[1])
    foreground = frames[1].instance > 0
    cached = foreground & np.isfinite(footprint(frames[1]))  # not one-pixel-thin parts
    assert cached.mean() > 0.9 * foreground.mean()
    assert np.all(valid[cached]) and not valid[~foreground].any()
    np.testing.assert_array_equal(rgb[cached], colours[cached])


def test_surfaces_hidden_in_the_source_stay_unknown(frames):
    source, target = frames[0], frames[3]
    sphere = 3  # entities are numbered in scene order
    assert (target.instance == sphere).sum() > 20
    hidden = source.instance == sphere
    blind = type(source)(**{**source.__dict__, "instance": np.where(hidden, 0, source.instance)})
    _, valid = warp_to_frame(surface_colour(source), blind, target)
    assert not valid[target.instance == sphere].any()
    assert valid[(target.instance > 0) & (target.instance != sphere)].mean() > 0.9


def test_mismatched_source_colours_are_refused(frames):
    with pytest.raises(ValueError, match="do not match"):
        SurfaceCache().add(np.zeros((4, 4, 3)), frames[0])


def test_first_observations_are_kept_and_only_new_surface_is_added(frames):
    cache = SurfaceCache()
    first = cache.add(surface_colour(frames[0]), frames[0])
    cachable = (frames[0].instance > 0) & np.isfinite(footprint(frames[0]))
    assert first == len(cache) == cachable.sum()
    assert cache.add(np.zeros_like(surface_colour(frames[0])), frames[0]) == 0  # all covered
    # frame 3 adds only what frame 0 did not cover (the spinning box's new side, slid-in ground)
    _, covered = cache.lookup(frames[3])
    added = cache.add(np.ones_like(surface_colour(frames[3])), frames[3])
    foreground = frames[3].instance > 0
    assert 0 < added <= (foreground & ~covered).sum() < 0.1 * foreground.sum()
    # covered pixels stay covered and read their first colour (frame 3's are all ones), except a
    # few on the border of the newly added part, whose nearest sample may now be a new one
    rgb, covered_after = cache.lookup(frames[3])
    assert np.all(covered_after[covered])
    first_colours = warp_to_frame(surface_colour(frames[0]), frames[0], frames[3])[0]
    assert np.all(rgb[covered] == first_colours[covered], axis=-1).mean() > 0.97


def test_neighbour_key_names_the_other_entity_next_to_a_pixel():
    instance = np.zeros((7, 9), dtype=np.uint16)
    instance[1:5, 1:6] = 2
    instance[2, 2] = 5  # a one-pixel entity inside
    key = neighbour_key(instance)
    assert key[3, 4] == -1  # all 8 neighbours are entity 2
    assert key[2, 3] == 5 and key[3, 3] == 5  # next to the one-pixel entity
    assert key[1, 1] == 0 and key[4, 5] == 0  # on the silhouette against the background
    assert key[2, 2] == 2  # the one-pixel entity itself
    assert key[0, 0] == 2 and key[6, 8] == -1  # background pixels: next to entity 2, or not
    moved = instance.copy()
    moved[2, 2] = 2  # the small entity has left: its old neighbours are interior again
    assert neighbour_key(moved)[2, 3] == -1


def test_a_pixel_next_to_a_different_entity_is_not_covered(frames):
    """Ground once next to the box, now next to nothing (or another entity), is drawn afresh."""
    source = frames[0]
    box_renamed = np.where(source.instance == 2, 7, source.instance)
    _, valid = warp_to_frame(
        surface_colour(source), source, type(source)(**{**source.__dict__, "instance": box_renamed})
    )
    ground_next_to_box = (source.instance == 1) & (neighbour_key(source.instance) == 2)
    assert ground_next_to_box.sum() > 10
    assert not valid[ground_next_to_box].any()
    assert valid[(source.instance == 1) & (neighbour_key(source.instance) == -1)].all()


def test_footprint_is_the_surface_extent_of_a_pixel(frames):
    frame = frames[0]
    extent = footprint(frame)
    assert np.all(extent[frame.instance == 0] == 0)
    ground = (frame.instance == 1) & np.isfinite(extent)
    # a pixel at depth d with focal f (pixels) covers about d / f metres, more on a slanted plane
    focal = SIZE[0] / (2 * np.tan(np.radians(55.0) / 2))
    ratio = extent[ground] / (frame.depth[ground] / focal)
    assert np.percentile(ratio, 5) > 0.9 and np.median(ratio) < 4.0


def test_a_surface_seen_larger_than_in_the_source_is_left_to_the_model():
    """Camera moving straight at a wall: what the far view shows is too coarse for the near view
    (a stretched copy), while the near view may be copied into the far one."""
    distances = [4.0, 2.0]
    cameras = np.stack([looking_at(np.array([-d, 0.0, 0.0]), np.array([0.0, 0.0, 0.0])) for d in distances])
    poses = np.stack([np.stack([translation(0, 0, 0)])] * 2)
    trajectory = make_trajectory(
        [MeshSpec(type="box", size=[0.2, 6.0, 6.0])], poses, cameras, Intrinsics.from_fov(40.0, *SIZE)
    )
    far, near = list(render_guidance(trajectory))
    assert (near.instance > 0).all() and (far.instance > 0).all()
    _, valid_near = warp_to_frame(surface_colour(far), far, near)
    assert valid_near.mean() < 0.05
    _, valid_near_lenient = warp_to_frame(surface_colour(far), far, near, max_magnification=2.5)
    assert valid_near_lenient.mean() > 0.9
    _, valid_far = warp_to_frame(surface_colour(near), near, far)
    extent_y = np.abs(near.surface_coords[..., 1]).max()
    extent_z = np.abs(near.surface_coords[..., 2]).max()
    far_y, far_z = np.abs(far.surface_coords[..., 1]), np.abs(far.surface_coords[..., 2])
    assert valid_far[(far_y < 0.9 * extent_y) & (far_z < 0.9 * extent_z)].mean() > 0.95
    assert not valid_far[(far_y > 1.1 * extent_y) | (far_z > 1.1 * extent_z)].any()
