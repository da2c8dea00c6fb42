"""An appearance render casts primary rays once per (frame, resolution), through one backend per clip."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

import worldsim as ws
from renderers.guidance.open3d_backend import Open3DBackend
from worldsim.render import render

FRAMES = 24
SIZE = 32


def moving_box_scene() -> ws.Scene:
    """A box sliding over a plane, seen from above at an angle: 24 frames at 32 x 32."""
    scene = ws.Scene(name="casts", seed=3, fps=12, num_frames=FRAMES, resolution=[SIZE, SIZE])
    scene.add(ws.Entity(name="ground", semantic_class="ground", mesh=ws.Mesh(type="plane", size=[20, 20])))
    scene.add(
        ws.Entity(
            name="box",
            semantic_class="box",
            mesh=ws.Mesh(type="box", size=[0.6, 0.6, 0.6]),
            motion=ws.Motion(type="velocity", linear_velocity=[0.4, 0.0, 0.0]),
            physics=ws.Physics(mode="kinematic", collides=False),
        )
    )
    scene.cameras = [ws.Camera(name="main", fov_deg=60, position=[-1, -3, 2.5], look_at=[0, 0, 0.3])]
    return scene


@pytest.fixture
def casts(monkeypatch: pytest.MonkeyPatch) -> tuple[Counter, list[int]]:
    """(Counter of (frame, width, height) over every backend cast, [backends built])."""
    counted: Counter = Counter()
    built: list[int] = []
    original_cast, original_init = Open3DBackend.cast, Open3DBackend.__init__

    def cast(self, frame, cam_to_world, intrinsics, rays_camera=None):
        counted[(frame, intrinsics.width, intrinsics.height)] += 1
        return original_cast(self, frame, cam_to_world, intrinsics, rays_camera)

    def init(self, trajectory):
        built.append(id(self))
        original_init(self, trajectory)

    monkeypatch.setattr(Open3DBackend, "cast", cast)
    monkeypatch.setattr(Open3DBackend, "__init__", init)
    return counted, built


def per_resolution(counted: Counter) -> dict[tuple[int, int], Counter]:
    """(width, height) -> Counter of casts per frame."""
    result: dict[tuple[int, int], Counter] = {}
    for (frame, width, height), count in counted.items():
        result.setdefault((width, height), Counter())[frame] += count
    return result


def assert_one_cast_per_frame(counted: Counter, sizes: set[tuple[int, int]]) -> None:
    table = per_resolution(counted)
    assert set(table) == sizes
    for size, frames in table.items():
        assert sorted(frames) == list(range(FRAMES)), size
        assert sum(frames.values()) == FRAMES, (size, {f: c for f, c in frames.items() if c > 1})


def test_flat_render_casts_each_frame_once(casts, tmp_path: Path) -> None:
    counted, built = casts
    clip = render(moving_box_scene(), renderer="flat", out=tmp_path / "clip", progress=False)
    assert clip.layout.is_complete(["rgb", "depth", "instance", "flow"], FRAMES - 1)
    assert len(built) == 1  # one backend for the clip's guidance pass and the renderer
    assert_one_cast_per_frame(counted, {(SIZE, SIZE)})


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> str:
    from renderers.diffusion.model import ModelConfig, VideoUNet
    from renderers.diffusion.weights import save_weights

    torch.manual_seed(0)
    config = ModelConfig(
        channels=[8], patch_size=2, blocks_per_level=1, middle_blocks=1, time_dim=16, groups=4,
        prediction="x0", code_channels=22, shading_channels=3,
    )  # fmt: skip
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(VideoUNet(config), config, path, {"purpose": "test"})
    return str(path)


@pytest.mark.parametrize("mode", ["gbuffer", "structure"])
def test_diffusion_render_casts_each_frame_once_per_resolution(
    casts, tiny_weights: str, tmp_path: Path, mode: str
) -> None:
    """Native size (16) and output size (32), plus the anchored-noise size (4 x 16) in structure
    mode: 24 casts each. G-buffer mode's supersampled albedo casts nothing (its sub-pixel samples
    lie on each pixel's tangent plane). (The lighting maps' shadow and ambient occlusion rays go
    through their own Embree scene.)"""
    counted, built = casts
    options = {"weights": tiny_weights, "native_size": 16, "steps": 1, "noise_factor": 4, "mode": mode}
    clip = render(
        moving_box_scene(), renderer="diffusion", out=tmp_path / "clip", progress=False, options=options
    )
    assert clip.layout.is_complete(["rgb"], FRAMES - 1)
    assert len(built) == 1
    sizes = {(16, 16), (SIZE, SIZE)} | ({(64, 64)} if mode == "structure" else set())
    assert_one_cast_per_frame(counted, sizes)
