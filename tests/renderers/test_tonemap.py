"""The one tone map: standard (clip) and filmic (the ACES fit), exposure in EV, names shared."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.tonemap import (
    FILMIC_MID_GREY_GAIN,
    TONEMAPS,
    filmic_curve,
    linear_to_srgb_uint8,
    srgb_encode,
    tonemap,
    tonemap_uint8,
)


def _hill_fit(x: float) -> float:
    """The published rational fit for one grey value, written out independently (grey in, grey
    out: the two matrices each have rows summing to 1, so a grey stays grey)."""
    return (x * (x + 0.0245786) - 0.000090537) / (x * (0.983729 * x + 0.4329510) + 0.238081)


def test_tonemap_names_agree_with_the_scene_model():
    from worldsim.camera.lens import TONEMAP_NAMES

    assert TONEMAPS == TONEMAP_NAMES


@pytest.mark.parametrize("grey", [0.01, 0.18, 0.5, 1.0, 4.0, 16.0])
def test_filmic_on_greys_is_the_published_fit(grey):
    ours = filmic_curve(np.full((1, 3), grey))[0]
    expected = np.clip(_hill_fit(grey * FILMIC_MID_GREY_GAIN), 0.0, 1.0)
    np.testing.assert_allclose(ours, expected, atol=2e-4)


def test_filmic_keeps_mid_grey_rolls_off_highlights_and_is_monotonic():
    np.testing.assert_allclose(filmic_curve(np.full((1, 3), 0.18)), 0.18, atol=1e-3)
    values = np.geomspace(1e-4, 1e3, 400)
    curve = filmic_curve(np.repeat(values[:, None], 3, axis=1))[:, 1]
    assert np.all(np.diff(curve) >= 0.0) and curve[-1] > 0.999 and curve[0] < 1e-3
    assert 0.6 < filmic_curve(np.ones((1, 3)))[0, 0] < 0.8  # 1.0 is no longer clipped white
    # a bright saturated red desaturates towards white instead of clipping to pure red
    red = filmic_curve(np.array([[20.0, 0.5, 0.5]]))[0]
    assert red[0] > 0.95 and red[1] > 0.3


def test_standard_is_the_old_clip_and_exposure_is_in_stops():
    linear = np.random.default_rng(0).uniform(0.0, 2.0, size=(8, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(tonemap_uint8(linear, curve="standard"), linear_to_srgb_uint8(linear))
    np.testing.assert_array_equal(
        tonemap(linear, exposure_ev=-1.0, curve="standard"), srgb_encode(linear * 0.5)
    )
    np.testing.assert_allclose(tonemap(linear, exposure_ev=2.0), tonemap(linear * 4.0), atol=1e-6)
    odd = tonemap(np.array([[np.nan] * 3, [np.inf] * 3, [-1.0] * 3]))  # three grey pixels
    np.testing.assert_allclose(odd[:, 0], [0.0, 1.0, 0.0], atol=1e-3)
    with pytest.raises(ValueError, match="tonemap must be one of standard, filmic"):
        tonemap(linear, curve="agx")
