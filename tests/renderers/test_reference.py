"""The reference (Mitsuba 3) renderer: cross-checked against the guidance, physically plausible,
deterministic, updated in place, with clear option errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from renderers.base import create
from renderers.guidance import render_guidance
from renderers.guidance.synthetic import looking_at, make_trajectory, rotation_z, translation
from renderers.reference.aovs import render_aovs
from renderers.reference.renderer import ReferenceRenderer
from worldsim.camera.intrinsics import Intrinsics
from worldsim.errors import RenderError
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec, TextureSpec

FRAMES = 4


def scene_trajectory(
    *,
    sun_intensity: float = 3.0,
    box_color: tuple[float, float, float] = (0.8, 0.2, 0.1),
    sphere: MaterialSpec | None = None,
    size: tuple[int, int] = (64, 48),
    principal_offset: tuple[float, float] = (0.0, 0.0),
):
    """A textured ground, a box sliding and turning, a sphere; the camera moves slightly."""
    width, height = size
    intrinsics = Intrinsics.from_fov(50.0, width, height)
    poses = np.stack(
        [
            np.stack(
                [
                    translation(0.0, 0.0, 0.0),
                    translation(0.1 * t, -0.4, 0.25) @ rotation_z(0.2 * t),
                    translation(0.0, 0.6, 0.35),
                ]
            )
            for t in range(FRAMES)
        ]
    )
    cameras = np.stack(
        [looking_at(np.array([-2.6 + 0.05 * t, -0.6, 1.4]), np.array([0.0, 0.0, 0.3])) for t in range(FRAMES)]
    )
    checker = MaterialSpec(
        roughness=0.8,
        texture=TextureSpec(type="checker", color_a=[0.7, 0.7, 0.7], color_b=[0.3, 0.3, 0.3], scale=0.5),
    )
    trajectory = make_trajectory(
        [
            MeshSpec(type="plane", size=[6.0, 6.0]),
            MeshSpec(type="box", size=[0.5, 0.5, 0.5]),
            MeshSpec(type="sphere", radius=0.35, subdivisions=3),
        ],
        poses,
        cameras,
        intrinsics,
        materials=[
            checker,
            MaterialSpec(base_color=list(box_color), roughness=0.6),
            sphere or MaterialSpec(),
        ],
        seed=3,
    )
    track = trajectory.cameras["main"]
    track.cx = track.cx + principal_offset[0]
    track.cy = track.cy + principal_offset[1]
    trajectory.lights = [
        LightSpec(type="sun", direction=[-0.3, 0.5, -1.0], intensity=sun_intensity, angle_deg=0.0)
    ]
    return trajectory


@pytest.fixture(scope="module")
def trajectory():
    return scene_trajectory(principal_offset=(3.5, -2.0))


def render(trajectory, frames=range(FRAMES), **options):
    renderer = create("reference", {"samples_per_pixel": 8, **options})
    return dict(renderer.render_frames(trajectory, "main", list(frames), None)), renderer


def linear(trajectory, frame=0, spp=32, **options):
    renderer = create("reference", options)
    assert isinstance(renderer, ReferenceRenderer)
    return renderer.render_linear(trajectory, "main", frame, spp=spp)


def test_mitsuba_aovs_agree_with_the_guidance(trajectory):
    """Two independent ray tracers on the same world state: ray distance and entity ids agree."""
    aovs = render_aovs(trajectory, "main", list(range(FRAMES)))
    for guidance in render_guidance(trajectory):
        ours, theirs = guidance, aovs[guidance.frame]
        np.testing.assert_array_equal(np.isfinite(theirs.ray_distance), ours.instance > 0)
        both = np.isfinite(theirs.ray_distance)
        relative = np.abs(theirs.ray_distance[both] / ours.ray_distance[both] - 1.0)
        assert relative.max() < 1e-2 and np.median(relative) < 1e-4, relative.max()
        interior = _interior(ours.instance)
        np.testing.assert_array_equal(theirs.entity[interior], ours.instance[interior])
        assert np.mean(theirs.entity == ours.instance) > 0.995


def _interior(instance: np.ndarray) -> np.ndarray:
    """Pixels whose 4-neighbours all have the same id (away from silhouette edges)."""
    same = np.ones(instance.shape, dtype=bool)
    same[1:] &= instance[1:] == instance[:-1]
    same[:-1] &= instance[:-1] == instance[1:]
    same[:, 1:] &= instance[:, 1:] == instance[:, :-1]
    same[:, :-1] &= instance[:, :-1] == instance[:, 1:]
    return same


def test_frames_are_uint8_deterministic_and_resume_identically(trajectory):
    first, renderer = render(trajectory)
    again, _ = render(trajectory)
    alone, _ = render(trajectory, frames=[2])
    for frame in range(FRAMES):
        assert first[frame].shape == (48, 64, 3) and first[frame].dtype == np.uint8
        np.testing.assert_array_equal(first[frame], again[frame])
    np.testing.assert_array_equal(alone[2], first[2])
    # a static entity's vertices are written once; the moving box's every frame
    clip = renderer.clip(trajectory, "main")
    slots = {slot.entity_id: slot for slot in clip.slots}
    assert slots[1].updates == 1 and slots[3].updates == 1 and slots[2].updates == FRAMES
    assert 10 < first[0].mean() < 245


def test_a_renderer_rebuilds_its_scene_for_another_trajectory(trajectory):
    renderer = create("reference", {})
    first = renderer.clip(trajectory, "main")
    assert renderer.clip(trajectory, "main") is first
    other = scene_trajectory(box_color=(0.1, 0.2, 0.8))
    assert renderer.clip(other, "main") is not first


def test_entities_with_equal_roughness_and_metallic_share_one_bsdf():
    """Colours live in per-mesh vertex attributes, so BSDFs are shared (a small traced kernel)."""
    trajectory = scene_trajectory(sphere=MaterialSpec(base_color=[0.1, 0.9, 0.2], roughness=0.6))
    clip = create("reference", {}).clip(trajectory, "main")
    bsdfs = {id(shape.bsdf()) for shape in clip.scene.shapes()}
    assert len(bsdfs) == 2  # ground (0.8, 0) and box + sphere (0.6, 0)


LIGHTS = {
    "sun": LightSpec(type="sun", direction=[-0.3, 0.5, -1.0], angle_deg=3.0),
    "point": LightSpec(type="point", position=[-1.5, -1.0, 2.5], intensity=10.0),
    "area": LightSpec(
        type="area", position=[-1.0, -1.0, 3.0], look_at=[0.0, 0.0, 0.0], size=[1.0, 0.5], intensity=10.0
    ),
    "uniform_sky": LightSpec(type="environment", sky="uniform", color=[0.6, 0.7, 1.0], intensity=1.0),
    "procedural_sky": LightSpec(type="environment", sky="procedural", direction=[-0.3, 0.5, -1.0]),
}


@pytest.mark.parametrize("kind", sorted(LIGHTS))
def test_every_light_type_lights_the_scene_in_proportion_to_its_intensity(kind):
    def mean_radiance(scale: float) -> float:
        trajectory = scene_trajectory()
        light = LIGHTS[kind]
        trajectory.lights = [dataclasses.replace(light, intensity=light.intensity * scale)]
        return float(linear(trajectory, spp=32).mean())

    dim, bright = mean_radiance(1.0), mean_radiance(2.0)
    assert dim > 0.02, dim
    assert 1.9 < bright / dim < 2.1, (dim, bright)


def test_emissive_material_lights_an_otherwise_dark_scene():
    glowing = MaterialSpec(base_color=[0.1, 0.1, 0.1], emission=[1.0, 0.5, 0.2], emission_strength=5.0)
    trajectory = scene_trajectory(sphere=glowing)
    trajectory.lights = []
    image = linear(trajectory, spp=16)
    guidance = next(iter(render_guidance(trajectory, frames=[0])))
    sphere = image[guidance.instance == 3].mean(axis=0)
    np.testing.assert_allclose(sphere / sphere[0], [1.0, 0.5, 0.2], atol=0.05)
    assert sphere[0] > 3.0


def test_red_albedo_gives_red_pixels_on_that_entity(trajectory):
    image = linear(trajectory, spp=16)
    guidance = next(iter(render_guidance(trajectory, frames=[0])))
    box = guidance.instance == 2
    mean = image[box].mean(axis=0)
    assert box.sum() > 50
    assert mean[0] > 2.5 * mean[1] and mean[0] > 2.5 * mean[2], mean
    blue = linear(scene_trajectory(box_color=(0.1, 0.2, 0.8), principal_offset=(3.5, -2.0)), spp=16)[
        box
    ].mean(axis=0)
    assert blue[2] > 2.5 * blue[0], blue


def test_rougher_sphere_has_a_wider_highlight():
    def highlight_area(roughness: float) -> int:
        # black base colour: only the specular lobe remains; pixels above half its peak
        material = MaterialSpec(base_color=[0.0, 0.0, 0.0], roughness=roughness)
        trajectory = scene_trajectory(sphere=material, size=(96, 72))
        trajectory.lights = [LightSpec(type="point", position=[-2.5, 0.5, 2.0], intensity=20.0)]
        image = linear(trajectory, spp=64)
        guidance = next(iter(render_guidance(trajectory, frames=[0])))
        luminance = np.where(guidance.instance == 3, image.mean(axis=-1), 0.0)
        return int(np.sum(luminance >= 0.5 * luminance.max()))

    sharp, rough = highlight_area(0.1), highlight_area(0.5)
    assert rough > 2 * sharp, (sharp, rough)


def test_preview_denoiser_moves_towards_the_converged_image():
    # area light and sky: noise dominates at preview sample counts
    trajectory = scene_trajectory()
    trajectory.lights = [
        LightSpec(
            type="area", position=[-1.0, -1.0, 3.0], look_at=[0.0, 0.0, 0.0], size=[1.0, 1.0], intensity=10.0
        ),
        LightSpec(type="environment", sky="procedural", intensity=0.5),
    ]
    converged = linear(trajectory, spp=512)
    preview = create("reference", {"preview": True})
    noisy = preview.render_linear(trajectory, "main", 0, denoised=False)
    cleaned = preview.render_linear(trajectory, "main", 0)
    error_noisy = np.mean((noisy - converged) ** 2)
    error_clean = np.mean((cleaned - converged) ** 2)
    assert error_clean < 0.6 * error_noisy, (error_noisy, error_clean)
    assert preview.options.spp == 4 and not preview.needs_guidance
    assert abs(cleaned.mean() / converged.mean() - 1.0) < 0.02  # brightness is kept


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"samples_per_pixel": 0}, "'samples_per_pixel' must be at least 1"),
        ({"samples_per_pixel": "many"}, "samples_per_pixel"),
        ({"max_depth": 0}, "'max_depth'"),
        ({"variant": "cuda_ad_rgb"}, "'variant' must be one of"),
        ({"reconstruction_filter": "lanczos"}, "'reconstruction_filter'"),
        ({"spp": 4}, "spp"),
    ],
)
def test_bad_options_name_the_key(options, fragment):
    with pytest.raises(RenderError, match="reference") as error:
        create("reference", options)
    assert fragment in str(error.value)


def test_non_square_pixels_are_refused_and_a_dark_scene_gets_default_lights(caplog):
    trajectory = scene_trajectory()
    trajectory.cameras["main"].fy = trajectory.cameras["main"].fy * 1.1
    with pytest.raises(RenderError, match="square pixels"):
        render(trajectory, frames=[0])
    dark = scene_trajectory()
    dark.lights = []
    frames, _ = render(dark, frames=[0])
    assert "has no lights" in caplog.text and frames[0].mean() > 30


def test_mitsuba_sees_the_guidance_albedo_at_every_hit_of_textured_entities():
    """Per-hit materials: Mitsuba's albedo AOV equals the guidance albedo within 1/255 on textured
    entities (checker, stripes, noise, marble), with no mesh refinement."""
    textures = [
        TextureSpec(type="checker", color_a=[0.7, 0.7, 0.7], color_b=[0.3, 0.3, 0.3], scale=0.13),
        TextureSpec(type="stripes", color_b=[0.1, 0.5, 0.9], scale=0.07, axis=[1.0, 1.0, 0.2]),
        TextureSpec(type="noise", color_b=[0.9, 0.2, 0.1], scale=0.05, octaves=5),
    ]
    trajectory = scene_trajectory(
        size=(96, 72),
        sphere=MaterialSpec(texture=TextureSpec(type="marble", color_b=[0.1, 0.1, 0.4], scale=0.1)),
    )
    for info, texture in zip(trajectory.entities, textures, strict=False):
        info.material = dataclasses.replace(info.material, texture=texture)
    aovs = render_aovs(trajectory, "main", [0, 2])
    clip = create("reference", {}).clip(trajectory, "main")
    assert clip.triangles < 2000  # no refinement: the texture is evaluated per hit
    for guidance in render_guidance(trajectory, frames=[0, 2]):
        theirs = aovs[guidance.frame]
        interior = _interior(guidance.instance) & (guidance.instance > 0)
        difference = np.abs(theirs.albedo - guidance.albedo).max(axis=-1)[interior]
        for entity in (1, 2, 3):
            assert np.count_nonzero(guidance.instance[interior] == entity) > 100
        assert np.mean(difference <= 1.0 / 255.0) > 0.995, np.sort(difference)[-20:]
        assert np.median(difference) < 1e-5
