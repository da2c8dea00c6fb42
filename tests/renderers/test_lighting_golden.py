"""The lighting maps keep their values: today's code against maps stored from commit ca8925c (the
code that made the lead's training data), on the same stored ray hits (``lighting_golden_cases``).

Tolerance: float16 rounding. Every value must lie within half a float16 step of the stored one
(relative 2^-11, floor 2^-24: float16's smallest subnormal), which is finer than the float16
``.npy`` files the maps are written to. Also asserted: every value within 2^-19 relative
(16 float32 ulps) of the stored one, so any change of the code shows. On the machine that stored
them the maps are bit-identical; on another CPU (an AMD EPYC) the environment's specular differs in
the last bits (up to 6.4e-7 relative: the vectorised exp and trigonometry).
"""

from __future__ import annotations

import numpy as np
import pytest

from renderers.guidance.backend import create_backend
from renderers.guidance.lighting import lighting_context, lighting_maps
from renderers.guidance.maps import material_maps
from tests.renderers.lighting_golden_cases import (
    GOLDEN_FILE,
    golden_cases,
    hits_from_arrays,
    roughness_ramp,
)

FLOAT16_HALF_STEP = 2.0**-11
FLOAT16_FLOOR = 2.0**-24
FLOAT32_CLOSE = 2.0**-19


@pytest.fixture(scope="module")
def stored():
    return np.load(GOLDEN_FILE)


@pytest.mark.parametrize("case", golden_cases(), ids=lambda case: case.name)
def test_lighting_maps_equal_the_stored_ones_within_float16_rounding(case, stored):
    backend = create_backend("open3d", case.trajectory)
    hits = hits_from_arrays(case.hits_key, stored, case)
    if case.roughness == "material":
        roughness = material_maps(hits, case.trajectory)[1]
    else:
        roughness = roughness_ramp(hits.shape)
    maps = lighting_maps(hits, lighting_context(case.trajectory, backend.meshes), roughness, case.names)
    assert sorted(maps) == sorted(case.names)
    for name in case.names:
        expected = stored[f"{case.name}/{name}"]
        assert maps[name].dtype == np.float32 and maps[name].shape == expected.shape
        assert np.abs(expected).max() > 0, f"{name}: an all-zero map tests nothing"
        difference = np.abs(maps[name].astype(np.float64) - expected)
        allowed = FLOAT16_HALF_STEP * np.maximum(np.abs(expected), FLOAT16_FLOOR)
        worst = np.unravel_index(np.argmax(difference - allowed), difference.shape)
        assert np.all(difference <= allowed), (
            f"{case.name}/{name}: {difference[worst]:.3g} off at {worst} "
            f"(stored {expected[worst]:.6g}, allowed {allowed[worst]:.3g})"
        )
        relative = difference / np.maximum(np.abs(expected), FLOAT16_FLOOR)
        assert relative.max() <= FLOAT32_CLOSE, f"{case.name}/{name}: {relative.max():.3g} relative"
