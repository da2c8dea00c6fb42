"""Fixed inputs for the lighting maps' regression test (``test_lighting_golden.py``).

Each case is a hand-built trajectory (``renderers.guidance.synthetic``), its lights, one frame's
``RayHits`` and a roughness map. The hits are stored with the expected maps (``data/
lighting_maps_golden.npz``), so the comparison does not depend on the guidance backend: only the
lighting code (and Embree's occlusion answers) run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from renderers.guidance.backend import RayHits
from renderers.guidance.synthetic import ground_box_sphere, orbiting_spheres
from worldsim.camera.projection import pixel_rays
from worldsim.scene.model import LightSpec
from worldsim.state import Trajectory

GOLDEN_FILE = Path(__file__).parent / "data" / "lighting_maps_golden.npz"
HIT_FIELDS = (
    "cam_to_world",
    "ray_distance",
    "column",
    "hit_pixels",
    "hit_column",
    "hit_primitive",
    "hit_face",
    "hit_barycentric",
    "hit_object_point",
    "hit_normal_camera",
)
"""The ``RayHits`` arrays stored per scene and frame (plus ``hit_segments`` as an (S, 3) int64
array; ``rays_camera`` is rebuilt from the intrinsics)."""


@dataclass
class GoldenCase:
    name: str
    scene: str
    trajectory: Trajectory
    frame: int
    names: tuple[str, ...]
    roughness: str
    """``material``: the frame's roughness map; ``ramp``: 0 to 1 across the image (every
    prefiltered level and the blends between them)."""

    @property
    def hits_key(self) -> str:
        """Where the case's hits are stored (cases of one scene and frame share them)."""
        return f"{self.scene}@{self.frame}"


SUN = LightSpec(type="sun", name="sun", direction=[-0.4, 0.3, -1.0], intensity=3.0, angle_deg=3.0)
LAMP = LightSpec(type="point", name="lamp", position=[0.5, -1.0, 1.5], intensity=5.0)
PANEL = LightSpec(
    type="area", name="panel", position=[-1.0, 1.0, 2.0], look_at=[0, 0, 0], size=[1.0, 0.5], intensity=4.0
)
COURTYARD = LightSpec(type="environment", name="sky", hdri="courtyard", rotation_deg=40.0, intensity=1.0)


def golden_cases() -> list[GoldenCase]:
    """Every light type, one and two environments, none, a map subset, both roughness sources."""
    every_light = ground_box_sphere(2, (48, 40), spin=0.3)
    every_light.lights = [SUN, LAMP, PANEL, COURTYARD]
    two_skies = ground_box_sphere(2, (48, 40), spin=0.3)
    two_skies.lights = [
        LightSpec(type="sun", name="hard sun", direction=[0.3, -0.2, -1.0], intensity=2.0),
        COURTYARD,
        LightSpec(type="environment", name="dusk", hdri="sunset", rotation_deg=-75.0, intensity=0.5),
    ]
    no_sky = ground_box_sphere(2, (48, 40), spin=0.3)
    no_sky.lights = [SUN, LAMP]
    bench = orbiting_spheres(64, 3)
    bench.lights = [
        LightSpec(type="sun", name="sun", direction=[-0.4, 0.3, -1.0], intensity=3.0, angle_deg=3.0),
        LightSpec(type="point", name="lamp", position=[1.0, -1.0, 2.5], intensity=5.0),
        LightSpec(type="environment", name="sky", hdri="courtyard", intensity=1.0),
    ]
    every = ("shadow", "irradiance", "specular")
    return [
        GoldenCase("every_light", "every_light", every_light, 1, every, "material"),
        GoldenCase("every_light_ramp", "every_light", every_light, 1, every, "ramp"),
        GoldenCase("two_skies_ramp", "two_skies", two_skies, 1, every, "ramp"),
        GoldenCase("no_sky", "no_sky", no_sky, 0, every, "material"),
        GoldenCase("no_sky_shadow_only", "no_sky", no_sky, 1, ("shadow",), "material"),
        GoldenCase("irradiance_only", "every_light", every_light, 0, ("irradiance",), "material"),
        GoldenCase("bench", "bench", bench, 2, every, "material"),
    ]


def roughness_ramp(shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 from 0 at the first pixel to 1 at the last (row-major)."""
    return np.linspace(0.0, 1.0, shape[0] * shape[1], dtype=np.float32).reshape(shape)


def hits_to_arrays(prefix: str, hits: RayHits) -> dict[str, np.ndarray]:
    """The stored arrays of ``hits`` under ``prefix/``."""
    out = {f"{prefix}/{field}": np.asarray(getattr(hits, field)) for field in HIT_FIELDS}
    out[f"{prefix}/hit_segments"] = np.asarray(hits.hit_segments, dtype=np.int64).reshape(-1, 3)
    return out


def hits_from_arrays(prefix: str, stored, case: GoldenCase) -> RayHits:
    """The ``RayHits`` of ``case`` from the arrays ``hits_to_arrays`` stored."""
    values = {field: stored[f"{prefix}/{field}"] for field in HIT_FIELDS}
    intrinsics = case.trajectory.cameras[case.trajectory.primary_camera].intrinsics(case.frame)
    return RayHits(
        frame=case.frame,
        intrinsics=intrinsics,
        rays_camera=pixel_rays(intrinsics),
        hit_segments=[tuple(int(v) for v in row) for row in stored[f"{prefix}/hit_segments"]],
        **values,
    )
