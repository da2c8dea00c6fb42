"""The colour vocabulary: twelve colour words, each a region of CIELAB (D65).

A colour of CIELAB chroma below ``ACHROMATIC_CHROMA`` is achromatic and named by lightness (the
nearest of white, grey and black in L*); any other is named by the chromatic word nearest in
lightness and hue (``naming_distance``: the CIE lightness and hue differences, chroma left out),
so a muted blue is still blue, as people call it, and not grey. One table (``COLOUR_CENTRES``)
defines both the captions the simulator writes and the colour-adherence metric, so the two cannot
disagree.
"""

from __future__ import annotations

import numpy as np

COLOUR_CENTRES: dict[str, tuple[float, float, float]] = {
    "red": (45.0, 65.0, 45.0),
    "orange": (65.0, 40.0, 70.0),
    "yellow": (88.0, -5.0, 80.0),
    "green": (50.0, -50.0, 40.0),
    "teal": (55.0, -35.0, -8.0),
    "blue": (38.0, 35.0, -80.0),
    "purple": (40.0, 60.0, -40.0),
    "pink": (72.0, 45.0, 0.0),
    "brown": (38.0, 20.0, 30.0),
    "white": (95.0, 0.0, 0.0),
    "grey": (60.0, 0.0, 0.0),
    "black": (15.0, 0.0, 0.0),
}
"""Colour word -> its CIELAB centre (L*, a*, b*)."""
COLOUR_WORDS = tuple(COLOUR_CENTRES)
ACHROMATIC_CHROMA = 12.0
"""CIELAB chroma below which a colour is white, grey or black."""
_CENTRES = np.array(list(COLOUR_CENTRES.values()), dtype=np.float64)
_CHROMATIC = np.hypot(_CENTRES[:, 1], _CENTRES[:, 2]) > 0.0
_CHROMATIC_WORDS = np.array(COLOUR_WORDS)[_CHROMATIC]
_ACHROMATIC_WORDS = np.array(COLOUR_WORDS)[~_CHROMATIC]
# sRGB primaries, D65 white (IEC 61966-2-1)
RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
_WHITE = RGB_TO_XYZ.sum(axis=1)
_EPSILON = (6.0 / 29.0) ** 3


def linear_rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB (..., 3) -> CIELAB (..., 3) under D65 (negative values clipped to 0)."""
    xyz = np.maximum(np.asarray(rgb, dtype=np.float64), 0.0) @ RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), xyz / (3 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)
    return np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1
    )


def lab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (..., 3) -> linear sRGB (..., 3), not clipped (out-of-gamut values leave [0, 1])."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], -1)
    xyz = np.where(f > 6.0 / 29.0, f**3, 3 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0)) * _WHITE
    return xyz @ _XYZ_TO_RGB.T


def naming_distance(centre: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """How far CIELAB ``lab`` is from a chromatic word's ``centre`` (both (..., 3), broadcast):
    ``sqrt(dL^2 + dH^2)`` with the CIE hue difference ``dH = 2 sqrt(C1 C2) sin(dh / 2)``."""
    centre, lab = np.asarray(centre, dtype=np.float64), np.asarray(lab, dtype=np.float64)
    chroma_product = np.hypot(centre[..., 1], centre[..., 2]) * np.hypot(lab[..., 1], lab[..., 2])
    hue_turn = np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(centre[..., 2], centre[..., 1])
    hue_difference = 2.0 * np.sqrt(chroma_product) * np.sin(hue_turn / 2.0)
    return np.hypot(lab[..., 0] - centre[..., 0], hue_difference)


def colour_word(lab: np.ndarray) -> np.ndarray | str:
    """The colour word of CIELAB ``lab`` (3,) (a str), or of each row of (N, 3) (an array of str)."""
    lab = np.asarray(lab, dtype=np.float64)
    chromatic = np.argmin(naming_distance(_CENTRES[_CHROMATIC], lab[..., None, :]), axis=-1)
    achromatic = np.argmin(np.abs(lab[..., None, 0] - _CENTRES[~_CHROMATIC, 0]), axis=-1)
    grey = np.hypot(lab[..., 1], lab[..., 2]) < ACHROMATIC_CHROMA
    names = np.where(grey, _ACHROMATIC_WORDS[achromatic], _CHROMATIC_WORDS[chromatic])
    return str(names) if lab.ndim == 1 else names


def in_colour_region(lab: np.ndarray, word: str) -> bool:
    """Whether CIELAB ``lab`` (3,) lies in ``word``'s region."""
    if word not in COLOUR_CENTRES:
        raise ValueError(f"unknown colour word {word!r}; the vocabulary: {', '.join(COLOUR_WORDS)}")
    return colour_word(lab) == word


def region_shares(labs: np.ndarray) -> dict[str, float]:
    """Share of the colours (N, 3) CIELAB falling in each word's region (a chance level: a colour
    drawn from ``labs``'s distribution lands in a word's region with that probability)."""
    names = colour_word(np.asarray(labs, dtype=np.float64).reshape(-1, 3))
    return {word: float(np.mean(names == word)) for word in COLOUR_WORDS}
