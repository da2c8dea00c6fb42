"""The lighting guidance maps against Mitsuba: environment orientation, SH irradiance of a white
sphere under captured HDRIs, and the sun's shadow region."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.guidance import GuidanceRenderer
from renderers.guidance.synthetic import ground_box_sphere, looking_at, make_trajectory
from renderers.reference.options import load_reference_options
from renderers.reference.renderer import ReferenceRenderer
from renderers.reference.variant import activate
from worldsim.camera.conventions import EQUIRECT_TO_MITSUBA_ENVMAP, equirect_direction, to_mitsuba
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.hdri import load_hdri, resolve_hdri
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec

pytest.importorskip("mitsuba")


@pytest.fixture(scope="module")
def mi():
    module, _ = activate("auto")
    return module


def test_mitsuba_envmap_with_our_matrix_shows_a_bright_spot_where_our_convention_puts_it(mi):
    rows, columns = 32, 64
    row, col = 9, 45
    image = np.full((rows, columns, 3), 0.01, dtype=np.float32)
    image[row, col] = 50.0
    emitter = mi.load_dict(
        {
            "type": "envmap",
            "bitmap": mi.Bitmap(image),
            "to_world": mi.ScalarTransform4f(EQUIRECT_TO_MITSUBA_ENVMAP.tolist()),
        }
    )

    def radiance(u: float, v: float) -> float:
        interaction = mi.SurfaceInteraction3f()
        direction = equirect_direction(u / columns, v / rows)
        interaction.wi = mi.Vector3f(*(float(c) for c in -direction))  # eval looks along -wi
        return float(np.asarray(emitter.eval(interaction))[0].ravel()[0])

    centre_u, centre_v = col + 0.5, row + 0.5
    # Mitsuba puts row centres at v = i / (H - 1) (ours: (i + 0.5) / H), a fraction of a texel
    # apart here (0.2 texel at row 9 of 32; at most 0.18 degrees on a 512-row map): the spot is
    # bright at our texel centre and dark one texel away in every direction.
    assert radiance(centre_u, centre_v) > 0.7 * 50.0
    for du, dv in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        assert radiance(centre_u + du, centre_v + dv) < 0.3 * 50.0, (du, dv)
    assert radiance(centre_u + columns / 2, rows - centre_v) == pytest.approx(0.01, rel=1e-3)


def _sphere_trajectory(hdri: str, size: int = 64):
    camera = looking_at(np.array([2.6, -1.5, 1.2]), np.zeros(3))
    trajectory = make_trajectory(
        [MeshSpec(type="sphere", radius=0.5, subdivisions=5)],
        np.eye(4)[None, None],
        camera[None],
        Intrinsics.from_fov(30.0, size, size),
        materials=[MaterialSpec(base_color=[1.0, 1.0, 1.0], roughness=1.0, metallic=0.0)],
    )
    trajectory.lights = [LightSpec(type="environment", name="env", hdri=hdri, intensity=1.0)]
    return trajectory


@pytest.mark.slow
@pytest.mark.parametrize("hdri", ["studio", "courtyard"])
def test_white_sphere_under_an_hdri_has_the_brightness_sh_irradiance_predicts(mi, hdri):
    trajectory = _sphere_trajectory(hdri)
    guidance = GuidanceRenderer(trajectory, lighting=("irradiance",)).render(0)
    predicted = guidance.irradiance / np.pi  # a white Lambertian surface's radiance
    track = trajectory.cameras["main"]
    scene = mi.load_dict(
        {
            "type": "scene",
            "integrator": {"type": "path", "max_depth": 2},
            "sensor": {
                "type": "perspective",
                "fov": 30.0,
                "fov_axis": "x",
                "to_world": mi.ScalarTransform4f(to_mitsuba(track.cam_to_world[0]).tolist()),
                "film": {"type": "hdrfilm", "width": 64, "height": 64, "rfilter": {"type": "box"}},
                "sampler": {"type": "independent"},
            },
            "sphere": {
                "type": "sphere",
                "radius": 0.5,
                "bsdf": {"type": "diffuse", "reflectance": {"type": "rgb", "value": 1.0}},
            },
            "environment": {
                "type": "envmap",
                "bitmap": mi.Bitmap(np.array(load_hdri(resolve_hdri(hdri)), dtype=np.float32)),
                "to_world": mi.ScalarTransform4f(EQUIRECT_TO_MITSUBA_ENVMAP.tolist()),
            },
        }
    )
    traced = np.asarray(mi.render(scene, spp=256, seed=1), dtype=np.float64)
    # Pixels well inside the sphere in both (silhouette pixels mix in the background).
    inside = guidance.instance > 0
    inside[1:-1, 1:-1] &= inside[:-2, 1:-1] & inside[2:, 1:-1] & inside[1:-1, :-2] & inside[1:-1, 2:]
    assert inside.sum() > 1000
    traced_mean = traced[inside].mean(axis=0)
    predicted_mean = predicted[inside].mean(axis=0)
    np.testing.assert_allclose(predicted_mean, traced_mean, rtol=0.05)


@pytest.mark.slow
def test_shadow_map_agrees_with_the_path_tracers_shadow_of_the_sun():
    sun = np.array([-0.7, 0.4, -0.45])  # low, towards the camera: long shadows in view
    trajectory = ground_box_sphere(1, (128, 96))
    trajectory.lights = [
        LightSpec(type="sun", name="sun", direction=sun.tolist(), intensity=3.0, angle_deg=3.0)
    ]
    guidance = GuidanceRenderer(trajectory, lighting=("shadow", "irradiance")).render(0)
    assert guidance.shadow.shape == (96, 128, 1) and guidance.shadow_lights == ("sun",)
    options = load_reference_options({"samples_per_pixel": 64, "max_depth": 2, "denoise": False})
    traced = ReferenceRenderer(options).render_linear(trajectory, "main", 0)
    ground = guidance.instance == 1
    # The ground's radiance unshadowed: albedo / pi x E cos(theta) (flat ground, no environment).
    to_sun = -sun / np.linalg.norm(sun)
    lit_radiance = guidance.albedo[ground] / np.pi * 3.0 * to_sun[2]
    traced_fraction = (traced[ground] / lit_radiance).mean(axis=1)
    ours = guidance.shadow[ground, 0]
    decided = ((traced_fraction > 0.95) & (ours > 0.95)) | ((traced_fraction < 0.05) & (ours < 0.05))
    either = (traced_fraction > 0.95) | (traced_fraction < 0.05) | (ours > 0.95) | (ours < 0.05)
    both = ((traced_fraction > 0.95) | (traced_fraction < 0.05)) & ((ours > 0.95) | (ours < 0.05))
    assert (traced_fraction < 0.05).sum() > 200, "the scene must cast a sizeable shadow"
    assert decided.sum() / both.sum() >= 0.98
    assert both.sum() >= 0.9 * either.sum()
    # The irradiance map is the sun's E cos(theta) x visibility on the ground.
    np.testing.assert_allclose(guidance.irradiance[ground][ours > 0.999], 3.0 * to_sun[2], rtol=1e-4)
