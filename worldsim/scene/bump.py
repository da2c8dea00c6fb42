"""Bump relief: a material's height field and the shading normal it implies, in the object frame.

The height at object-frame point ``p`` is ``h(p) = bump_height * fbm(p)``, a 3-octave value-noise fBm
(``textures.fractal_noise``) of wavelength ``bump_scale``, seeded from the material seed. Bump
mapping tilts the shading normal against the surface gradient of ``h``:
``n' = normalize(n - (dh/ds) s - (dh/dt) t)`` for any orthonormal tangents ``s, t`` of ``n``;
the slopes are central differences over ``BUMP_STEP_FRACTION * bump_scale``. The reference renderer
evaluates the same function per hit (``renderers.reference.hit_material``); the geometric normal
(the ``normal`` guidance map) is unchanged, the bumped one is what a ``shading_normal`` map shows.
"""

from __future__ import annotations

import numpy as np

from worldsim.scene import textures
from worldsim.scene.model import MaterialSpec

BUMP_OCTAVES = 3
BUMP_STEP_FRACTION = 0.01
"""Finite-difference step relative to ``bump_scale``."""
BUMP_SEED_SALT = 0x9E3779B9
"""Mixed into the material seed so the relief is not the albedo noise."""


def has_bump(material: MaterialSpec) -> bool:
    """True when the material perturbs its shading normal."""
    return float(material.bump_height) > 0.0


def bump_seed(material_seed: int) -> int:
    """The relief's noise seed (32 bits) from the entity's material seed."""
    return (int(material_seed) ^ BUMP_SEED_SALT) & 0xFFFFFFFF


def bump_height(material: MaterialSpec, points: np.ndarray, seed: int) -> np.ndarray:
    """(N,) float64 relief height in metres at object-frame ``points`` (N, 3); ``seed`` is the
    material seed (``materials.material_seed``)."""
    fbm = textures.fractal_noise(points, float(material.bump_scale), BUMP_OCTAVES, bump_seed(seed))
    return float(material.bump_height) * fbm.astype(np.float64)


def bumped_normals(material: MaterialSpec, points: np.ndarray, normals: np.ndarray, seed: int) -> np.ndarray:
    """(N, 3) float32 unit shading normals of ``material`` at object-frame ``points`` (N, 3) whose
    unbumped unit normals are ``normals`` (N, 3, object frame); ``normals`` unchanged without bump."""
    normals = np.asarray(normals, dtype=np.float64)
    if not has_bump(material):
        return normals.astype(np.float32)
    points = np.asarray(points, dtype=np.float64)
    helper = np.where(np.abs(normals[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    s = np.cross(normals, helper)
    s /= np.linalg.norm(s, axis=1, keepdims=True)
    t = np.cross(normals, s)
    step = BUMP_STEP_FRACTION * float(material.bump_scale)
    # The four samples of the central differences in one evaluation (the noise is elementwise,
    # so this gives exactly the values of four separate calls, with a quarter of the overhead).
    count = len(points)
    heights = bump_height(
        material,
        np.concatenate([points + step * s, points - step * s, points + step * t, points - step * t]),
        seed,
    )
    slope_s = (heights[:count] - heights[count : 2 * count]) / (2.0 * step)
    slope_t = (heights[2 * count : 3 * count] - heights[3 * count :]) / (2.0 * step)
    bumped = normals - slope_s[:, None] * s - slope_t[:, None] * t
    return (bumped / np.linalg.norm(bumped, axis=1, keepdims=True)).astype(np.float32)
