"""The camera's lens and film settings that appearance renderers read: exposure, tone map, aperture.

Guidance is always pinhole (every map is sharp); only appearance renderers apply depth of field.
The physical focal length is derived from the pixel focal length on a 35 mm full-frame sensor
(matched on the diagonal, as ``Intrinsics.from_focal_35mm``), so ``aperture_f`` is an ordinary
f-number: aperture diameter = focal length / f-number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from worldsim.camera.intrinsics import FULL_FRAME_DIAGONAL_MM

TONEMAP_NAMES = ("standard", "filmic")
"""The tone curves ``renderers.tonemap`` implements (``filmic``: the ACES fit; ``standard``: clip)."""


@dataclass
class CameraLens:
    """exposure_ev: stops applied to radiance before the tone curve. tonemap: one of ``TONEMAP_NAMES``.
    aperture_f: f-number (None = pinhole, no depth of field). focus_distance: metres along the
    optical axis to the plane in focus; focus_entity: an entity whose origin is kept in focus
    (per frame); with neither, autofocus on the surface seen at the image centre at each frame."""

    exposure_ev: float = 0.0
    tonemap: str = "filmic"
    aperture_f: float | None = None
    focus_distance: float | None = None
    focus_entity: str | None = None

    @property
    def pinhole(self) -> bool:
        """True when the lens has no depth of field."""
        return self.aperture_f is None


def focal_length_m(fx: float, width: int, height: int) -> float:
    """Physical focal length (metres) of a pixel focal length ``fx`` on a 35 mm full-frame sensor."""
    return float(fx) * FULL_FRAME_DIAGONAL_MM / math.hypot(width, height) / 1000.0


def aperture_radius_m(lens: CameraLens, fx: float, width: int, height: int) -> float:
    """Radius of the entrance pupil in metres (0 for a pinhole)."""
    if lens.aperture_f is None:
        return 0.0
    return focal_length_m(fx, width, height) / (2.0 * float(lens.aperture_f))


def circle_of_confusion_px(
    lens: CameraLens, fx: float, width: int, height: int, depth: float, focus_distance: float
) -> float:
    """Diameter in pixels of the blur disc of a point at ``depth`` metres (z along the optical axis)
    with the focus plane at ``focus_distance``: ``A fx |d - s| / (d s)`` with aperture diameter ``A``
    (the thin-lens circle of confusion for focus distances much larger than the focal length,
    which is the model Mitsuba's ``thinlens`` sensor traces)."""
    diameter = 2.0 * aperture_radius_m(lens, fx, width, height)
    return diameter * float(fx) * abs(depth - focus_distance) / (depth * focus_distance)
