"""Lighting guidance maps in the clip folder, and the ``direct`` renderer end to end."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import worldsim as ws
from renderers.base import available, create
from renderers.direct.renderer import DirectRenderer
from renderers.guidance import GuidanceRenderer
from renderers.guidance.synthetic import ground_box_sphere
from worldsim.errors import RenderError
from worldsim.render import read_guidance_frame, render
from worldsim.scene.model import LightSpec

SUN_E = 3.0


def lit_scene(size: int = 32) -> ws.Scene:
    """A box on a plane seen from above at an angle, under a sun and a uniform sky."""
    scene = ws.Scene(name="lit", seed=3, fps=10, num_frames=2, resolution=[size, size])
    scene.add(ws.Entity(name="ground", semantic_class="ground", mesh=ws.Mesh(type="plane", size=[20, 20])))
    scene.add(
        ws.Entity(
            name="box",
            semantic_class="box",
            mesh=ws.Mesh(type="box", size=[1.0, 1.0, 1.0]),
            pose=ws.Pose(position=[0, 0, 0.5]),
        )
    )
    scene.cameras = [ws.Camera(name="main", fov_deg=60, position=[3.0, -3.0, 3.0], look_at=[0, 0, 0])]
    scene.lights = [
        LightSpec(type="sun", name="key", direction=[0.0, -0.5, -1.0], intensity=SUN_E, angle_deg=0.0),
        LightSpec(type="environment", name="sky", sky="uniform", color=[1.0, 1.0, 1.0], intensity=0.5),
    ]
    scene.render.guidance = ["depth", "instance", "shadow", "irradiance", "specular"]
    return scene


def test_lighting_maps_are_written_described_and_read_back(tmp_path):
    clip = render(lit_scene(), out=tmp_path / "clip", guidance_only=True, progress=False)
    for folder in ("shadow", "irradiance", "specular"):
        stored = np.load(tmp_path / "clip" / folder / "00000.npy")
        assert stored.dtype == np.float16
    settings = clip.metadata["settings"]
    assert settings["shadow_channels"] == ["key"]
    assert "W/m^2" in clip.metadata["encodings"]["irradiance"]
    frame = read_guidance_frame(clip, 0, settings["guidance"])
    assert frame.shadow.shape == (32, 32, 1) and frame.shadow_lights == ("key",)
    # The same maps as computed in memory, to float16 precision.
    fresh = GuidanceRenderer(ws.World(lit_scene()).rollout(), lighting=("irradiance",)).render(0)
    np.testing.assert_allclose(frame.irradiance, fresh.irradiance, rtol=1e-3, atol=1e-3)
    ground = frame.instance == 1
    lit = ground & (frame.shadow[..., 0] > 0.99)
    shadowed = ground & (frame.shadow[..., 0] < 0.01)
    assert lit.sum() > 100 and shadowed.sum() > 10
    # Lit ground: sun E cos(theta) + uniform sky pi L (x ambient occlusion <= 1).
    cos_theta = 1.0 / np.sqrt(1.25)
    sky = np.pi * 0.5
    assert np.all(frame.irradiance[lit] <= SUN_E * cos_theta + sky + 1e-2)
    assert np.median(frame.irradiance[lit][:, 0]) == pytest.approx(SUN_E * cos_theta + sky, rel=0.02)
    # In the box's shadow only the sky remains.
    assert np.all(frame.irradiance[shadowed] <= sky + 1e-2)
    assert (tmp_path / "clip" / "guidance.mp4").stat().st_size > 0


def test_direct_renderer_is_registered_and_shades_metals_without_diffuse():
    assert "direct" in available()
    renderer = create("direct", {"exposure": 0.5})
    assert isinstance(renderer, DirectRenderer) and renderer.guidance_maps == ("irradiance", "specular")
    trajectory = ground_box_sphere(1, (48, 32))
    trajectory.lights = [LightSpec(type="sun", name="sun", direction=[0.3, 0.4, -1.0], intensity=3.0)]
    guidance = GuidanceRenderer(trajectory, lighting=("irradiance", "specular")).render(0)
    dielectric = renderer.render_linear(trajectory, "main", guidance)
    guidance.metallic[:] = 1.0
    metal = renderer.render_linear(trajectory, "main", guidance)
    hit = guidance.instance > 0
    # A metal's image is specular only, tinted by its base colour: F0 = albedo <= F <= 1 (Fresnel
    # brightens towards grazing angles).
    assert np.all(metal[hit] >= guidance.albedo[hit] * guidance.specular[hit] - 1e-5)
    assert np.all(metal[hit] <= guidance.specular[hit] + 1e-5)
    assert dielectric[hit].mean() > 3 * metal[hit].mean()
    guidance = dataclasses.replace(guidance, irradiance=None)
    with pytest.raises(RenderError, match="irradiance"):
        renderer.render_linear(trajectory, "main", guidance)


def test_direct_renderer_through_render_writes_rgb(tmp_path):
    scene = lit_scene(size=24)
    scene.render.guidance = ["depth"]
    clip = render(scene, renderer="direct", out=tmp_path / "clip", progress=False)
    rgb = clip.rgb(1)
    assert rgb.shape == (24, 24, 3) and rgb.dtype == np.uint8
    # The uniform sky (radiance 0.5) is the background: sRGB(0.5) = 188.
    background = ~np.isfinite(clip.depth(1))
    assert background.sum() > 20
    assert np.all(np.abs(rgb[background].astype(int) - 188) <= 1)


def test_lighting_maps_are_computed_only_when_asked_for():
    trajectory = ground_box_sphere(1, (16, 16))
    frame = GuidanceRenderer(trajectory).render(0)
    assert frame.shadow is None and frame.irradiance is None and frame.specular is None
    with pytest.raises(RenderError, match="unknown lighting map 'shadows'"):
        GuidanceRenderer(trajectory, lighting=("shadows",))


def test_moving_entities_occlude_alike_in_world_and_object_frames(monkeypatch):
    from renderers.guidance.geometry import clip_meshes
    from renderers.lighting import occlusion

    trajectory = ground_box_sphere(3, (16, 16), spin=0.4)  # the box spins: a moving entity
    meshes = clip_meshes(trajectory)
    rng = np.random.default_rng(4)
    origins = rng.uniform([-1.0, -1.5, 0.05], [1.0, 1.5, 1.2], size=(4000, 3))
    segments = rng.normal(size=(4000, 3))
    world = occlusion.OcclusionTester(trajectory, meshes)
    assert list(world.moving_columns) == [1] and world.rebuild_all
    expected = world.occluded(2, origins, segments)
    total = int(meshes.column_face_count.sum())
    monkeypatch.setattr(occlusion, "MOVING_TRIANGLE_LIMIT", total - 1)  # static scene + moving scene
    split = occlusion.OcclusionTester(trajectory, meshes)
    assert not split.rebuild_all
    monkeypatch.setattr(occlusion, "MOVING_TRIANGLE_LIMIT", 0)  # moving entities one by one
    per_entity = occlusion.OcclusionTester(trajectory, meshes)
    assert 200 < expected.sum() < 3800
    for tester in (split, per_entity):
        assert np.mean(tester.occluded(2, origins, segments) == expected) > 0.999
