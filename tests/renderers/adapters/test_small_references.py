"""Entity crops thinner than the VAE's spatial factor (a disc seen nearly edge-on) are padded on
white to whole multiples of it, instead of crashing diffusers' reference-image preprocessing."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.adapters.references import EntityReferences, pad_to_multiple
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.model import MeshSpec


def test_pad_to_multiple_centres_the_crop_on_white() -> None:
    crop = np.random.default_rng(0).uniform(0.0, 0.9, size=(3, 11, 3)).astype(np.float32)
    padded = pad_to_multiple(crop, 8)
    assert padded.shape == (8, 16, 3) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[2:5, 2:13], crop)  # centred: (8 - 3) // 2, (16 - 11) // 2
    inside = np.zeros((8, 16), dtype=bool)
    inside[2:5, 2:13] = True
    assert np.all(padded[~inside] == 1.0)
    assert pad_to_multiple(np.zeros((16, 8, 3), np.float32), 8).shape == (16, 8, 3)  # already whole


def thin_disc_trajectory(frames: int):
    """A 2 cm thick disc of 0.8 m sliding past a low camera: a crop about 3 x 11 px at 48 x 32."""
    poses = np.stack(
        [np.stack([translation(0, 0, 0), translation(-0.6 + 0.1 * t, 0.0, 0.3)]) for t in range(frames)]
    )
    cameras = np.stack([looking_at(np.array([-3.0, -1.0, 0.9]), np.array([0.0, 0.0, 0.3]))] * frames)
    meshes = [MeshSpec(type="plane", size=[8.0, 8.0]), MeshSpec(type="cylinder", radius=0.4, height=0.02)]
    return make_trajectory(meshes, poses, cameras, Intrinsics.from_fov(50.0, 48, 32), seed=3)


def test_a_thin_entity_becomes_a_padded_reference_image(render, make_adapter, spy_on) -> None:
    pytest.importorskip("diffusers")
    adapter = make_adapter("wan_vace")
    spy = spy_on(adapter)
    frames = render(adapter, thin_disc_trajectory(13))
    assert sorted(frames) == list(range(13)) and {image.shape for image in frames.values()} == {(32, 48, 3)}
    (_, _), (second, _) = spy.calls
    (reference,) = second["reference_images"]
    pixels = np.asarray(reference)
    assert pixels.shape[0] % 8 == 0 and pixels.shape[1] % 8 == 0 and pixels.shape[0] >= 8
    # the crop that was remembered really is thinner than 8 px (what crashed diffusers)
    references = EntityReferences(limit=4)
    trajectory = thin_disc_trajectory(9)
    from renderers.guidance import render_guidance

    maps = list(render_guidance(trajectory))
    rgb = np.zeros((9, 32, 48, 3), dtype=np.float32)
    assert references.remember(list(range(9)), rgb, np.stack([m.instance for m in maps])) == [2]
    assert references.crops[2].shape[0] < 8
