"""One resolver for render settings: call > scene > configs, unset scene fields are None, and
scene-level renderer options reach only the renderers that take them."""

from __future__ import annotations

from pathlib import Path

import pytest

import worldsim as ws
from renderers.base import scene_options
from worldsim.clip.config import RenderConfig, load_render_config, resolve_render_settings
from worldsim.clip.metadata import read_metadata
from worldsim.errors import WorldsimError
from worldsim.render import render
from worldsim.scene.model import RenderSettings


def resolve(scene: RenderSettings, config: RenderConfig | None = None, **call):
    return resolve_render_settings(scene, config or RenderConfig(), scene_options=scene_options, **call)


def test_call_beats_scene_beats_config():
    config = RenderConfig(renderer="flat", guidance_backend="pytorch3d")
    assert resolve(RenderSettings(), config).renderer == "flat"
    assert resolve(RenderSettings(), config).guidance_backend == "pytorch3d"  # was never read
    scene = RenderSettings(renderer="jitter", guidance_backend="open3d")
    assert resolve(scene, config).renderer == "jitter"
    assert resolve(scene, config).guidance_backend == "open3d"
    assert resolve(scene, config, renderer="reseed").renderer == "reseed"
    assert resolve(scene, config, renderer="default").renderer == "jitter"  # "default" = not chosen
    assert resolve(RenderSettings(renderer="default"), config).renderer == "flat"
    assert resolve(RenderSettings()).renderer == RenderConfig().renderer == "diffusion"


def test_the_scene_sample_count_reaches_only_renderers_that_sample():
    scene = RenderSettings(samples_per_pixel=64, renderer_options={"max_depth": 3})
    assert resolve(scene, renderer="reference").renderer_options == {"samples_per_pixel": 64, "max_depth": 3}
    assert resolve(scene, renderer="diffusion").renderer_options == {"max_depth": 3}
    assert resolve(scene, renderer="diffusion", options={"samples_per_pixel": 8}).renderer_options == {
        "max_depth": 3
    }
    call = resolve(scene, renderer="reference", options={"samples_per_pixel": 8, "max_depth": 5})
    assert call.renderer_options == {"samples_per_pixel": 8, "max_depth": 5}
    assert resolve(RenderSettings(), renderer="reference").renderer_options == {}  # its own default


def test_a_render_reads_the_guidance_backend_from_the_config_file(tmp_path: Path):
    config_file = tmp_path / "render.yaml"
    config_file.write_text("guidance_backend: no_such_backend\n")
    scene = ws.Scene(name="settings", seed=1, fps=10, num_frames=2, resolution=[16, 16])
    scene.add(ws.Entity(name="ball", semantic_class="ball", mesh=ws.Mesh(type="sphere", radius=0.5)))
    with pytest.raises(WorldsimError, match="no_such_backend"):
        render(
            scene,
            out=tmp_path / "a",
            guidance_only=True,
            progress=False,
            config=load_render_config(config_file),
        )
    render(scene, out=tmp_path / "b", guidance_only=True, progress=False)
    assert read_metadata(tmp_path / "b" / "metadata.json")["settings"]["guidance_backend"] == "open3d"
