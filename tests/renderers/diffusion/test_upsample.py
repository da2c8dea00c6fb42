"""The guided upsampler: full-resolution edges and textures from a native-resolution image."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.base import create
from renderers.diffusion.upsample import UpsampleGuide, guided_upsample
from renderers.guidance import render_guidance
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec, TextureSpec


def guide(frame) -> UpsampleGuide:
    return UpsampleGuide(instance=frame.instance, normal=frame.normal, depth=frame.depth)


@pytest.fixture(scope="module")
def scene():
    pytest.importorskip("mitsuba")
    checker = MaterialSpec(
        texture=TextureSpec(type="checker", color_a=[0.8, 0.8, 0.8], color_b=[0.2, 0.2, 0.25], scale=0.25)
    )
    trajectory = make_trajectory(
        [MeshSpec(type="plane", size=[8.0, 8.0]), MeshSpec(type="sphere", radius=0.5)],
        np.stack([[translation(0, 0, 0), translation(0.0, 0.0, 0.5)]]),
        np.stack([looking_at(np.array([-2.5, -1.0, 1.6]), np.array([0.0, 0.0, 0.3]))]),
        Intrinsics.from_fov(50.0, 64, 64),
        materials=[checker, MaterialSpec(base_color=[0.9, 0.3, 0.1])],
    )
    trajectory.lights = [LightSpec(type="sun", direction=[-0.3, 0.5, -1.0], angle_deg=0.0)]
    full = trajectory.with_resolution(256, 256)
    renderer = create("reference", {})
    native_rgb = renderer.render_linear(trajectory, "main", 0, spp=64)
    truth = create("reference", {}).render_linear(full, "main", 0, spp=64)
    native = next(iter(render_guidance(trajectory)))
    high = next(iter(render_guidance(full)))
    return native_rgb, truth, native, high


def psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))


def bilinear(image, size):
    import torch

    tensor = torch.from_numpy(image).permute(2, 0, 1)[None]
    return (
        torch.nn.functional.interpolate(tensor, size=size, mode="bilinear", align_corners=False)[0]
        .permute(1, 2, 0)
        .numpy()
    )


def silhouette_band(instance: np.ndarray, width: int = 3) -> np.ndarray:
    band = np.zeros(instance.shape, dtype=bool)
    for shift in range(1, width + 1):
        for axis in (0, 1):
            band |= (instance != np.roll(instance, shift, axis)) | (
                instance != np.roll(instance, -shift, axis)
            )
    return band


def test_guided_upsampling_beats_bilinear_around_silhouettes(scene):
    native_rgb, truth, native, high = scene
    plain = bilinear(native_rgb, (256, 256))
    guided = guided_upsample(native_rgb, guide(native), guide(high))
    assert guided.shape == (256, 256, 3) and guided.dtype == np.float32
    band = silhouette_band(high.instance)
    assert psnr(guided[band], truth[band]) > psnr(plain[band], truth[band]) + 0.5
    assert abs(psnr(guided, truth) - psnr(plain, truth)) < 1.5  # interiors stay about as good


def test_edges_follow_the_full_resolution_silhouette(scene):
    native_rgb, _, native, high = scene
    out = guided_upsample(native_rgb, guide(native), guide(high))
    sphere = high.instance == 2
    inner = (
        sphere
        & np.roll(sphere, 2, 0)
        & np.roll(sphere, -2, 0)
        & np.roll(sphere, 2, 1)
        & np.roll(sphere, -2, 1)
    )
    # every sphere pixel stays reddish right up to the silhouette: no bleeding of the floor
    rim = sphere & ~inner
    assert np.all(out[rim][:, 0] > out[rim][:, 2]), "floor colour bled into the sphere's rim"


def test_compiled_upsampler_equals_the_numpy_reference(scene):
    from renderers.diffusion.upsample import guided_upsample_numpy

    native_rgb, _, native, high = scene
    compiled = guided_upsample(native_rgb, guide(native), guide(high))
    reference = guided_upsample_numpy(native_rgb, guide(native), guide(high))
    np.testing.assert_allclose(compiled, reference, rtol=0, atol=2e-6)
    # any number of channels (the renderer brings up a 3-channel shading residual, negative too)
    six = np.concatenate([native_rgb, native_rgb - 0.5], axis=-1)
    both = guided_upsample(six, guide(native), guide(high))
    np.testing.assert_allclose(both[..., :3], compiled, atol=1e-7)
    np.testing.assert_allclose(both[..., 3:], compiled - 0.5, atol=2e-6)
