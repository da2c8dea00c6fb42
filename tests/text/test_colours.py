"""The colour vocabulary: our CIELAB and hue difference against scikit-image's, and the regions' shape."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import lab2rgb, rgb2lab

from renderers.tonemap import srgb_decode, srgb_encode
from worldsim.text.colours import (
    ACHROMATIC_CHROMA,
    COLOUR_CENTRES,
    colour_word,
    in_colour_region,
    lab_to_linear_rgb,
    linear_rgb_to_lab,
    naming_distance,
    region_shares,
)


def test_lab_agrees_with_scikit_image() -> None:
    rgb = np.random.default_rng(0).random((500, 3))
    ours = linear_rgb_to_lab(rgb)
    theirs = rgb2lab(srgb_encode(rgb.astype(np.float32))[None].astype(np.float64))[0]
    assert np.abs(ours - theirs).max() < 0.05


def test_lab_round_trips_and_inverse_agrees_with_scikit_image() -> None:
    lab = linear_rgb_to_lab(np.random.default_rng(1).random((200, 3)))
    assert np.allclose(linear_rgb_to_lab(lab_to_linear_rgb(lab)), lab, atol=1e-6)
    theirs = srgb_decode(lab2rgb(lab[None])[0].astype(np.float32))
    assert np.abs(np.clip(lab_to_linear_rgb(lab), 0, 1) - theirs).max() < 2e-3


def test_every_centre_lies_in_its_own_region_and_regions_partition() -> None:
    for word, centre in COLOUR_CENTRES.items():
        assert in_colour_region(np.array(centre), word)
    shares = region_shares(linear_rgb_to_lab(np.random.default_rng(2).random((2000, 3)) ** 2.2))
    assert sum(shares.values()) == pytest.approx(1.0)
    assert all(share > 0.002 for share in shares.values())  # every word names some colours


def test_named_colours_are_called_what_people_call_them() -> None:
    cases = {
        "red": [0.8, 0.02, 0.02],
        "blue": [0.02, 0.05, 0.7],
        "white": [0.9, 0.9, 0.88],
        "black": [0.01] * 3,
    }
    for word, rgb in cases.items():
        assert colour_word(linear_rgb_to_lab(np.array(rgb))) == word
    with pytest.raises(ValueError, match="unknown colour word"):
        in_colour_region(np.zeros(3), "mauve")


def test_naming_distance_is_lightness_and_cie_hue_difference() -> None:
    # independently: dL^2 + dH^2 = dE76^2 - dC^2 (scikit-image's CIE76 difference)
    from skimage.color import deltaE_cie76

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(300, 3)) * [20.0, 40.0, 40.0] + [50.0, 0.0, 0.0]
    colours = rng.normal(size=(300, 3)) * [20.0, 40.0, 40.0] + [50.0, 0.0, 0.0]
    chroma_difference = np.hypot(*colours[:, 1:].T) - np.hypot(*centres[:, 1:].T)
    expected = np.sqrt(deltaE_cie76(centres, colours) ** 2 - chroma_difference**2)
    assert np.abs(naming_distance(centres, colours) - expected).max() < 1e-9


def test_muted_colours_are_named_by_their_hue_and_only_low_chroma_is_grey() -> None:
    # a muted blue (chroma 32) is nearer grey than blue in plain Lab distance, but people call it blue
    muted_blue = np.array([50.0, 10.0, -30.0])
    assert np.linalg.norm(muted_blue - COLOUR_CENTRES["grey"]) < np.linalg.norm(
        muted_blue - COLOUR_CENTRES["blue"]
    )
    assert colour_word(muted_blue) == "blue"
    assert colour_word(np.array([70.0, 10.0, 40.0])) == "orange"
    assert colour_word(np.array([60.0, -20.0, -5.0])) == "teal"
    assert colour_word(np.array([82.0, -46.0, 55.0])) == "green"  # lime: green, not yellow
    for chroma in (0.0, 5.0, ACHROMATIC_CHROMA - 0.5):
        for hue in np.radians([0.0, 90.0, 180.0, 270.0]):
            assert colour_word(np.array([60.0, chroma * np.cos(hue), chroma * np.sin(hue)])) == "grey"
