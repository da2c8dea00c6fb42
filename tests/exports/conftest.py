"""Fixtures of the export tests: small clips (32x32, 4 frames) of a box on a floor, rendered once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import worldsim as ws

GUIDANCE = ["depth", "depth_exact", "instance", "semantic", "normal", "flow", "visibility"]
"""Every map the exports read (``visibility`` for the boxes, ``depth_exact`` for EXR)."""


def box_scene(seed: int = 1, *, size: int = 32, frames: int = 4) -> ws.Scene:
    """A 0.6 m box sliding along +x in front of the camera, a sphere behind it, a floor."""
    scene = ws.Scene(name="exports", seed=seed, fps=8, num_frames=frames, resolution=[size, size])
    scene.render.guidance = list(GUIDANCE)
    scene.add(ws.Entity(name="floor", semantic_class="ground", mesh=ws.Mesh(type="plane", size=[8, 8])))
    scene.add(
        ws.Entity(
            name="crate",
            semantic_class="box",
            mesh=ws.Mesh(type="box", size=[0.6, 0.4, 0.5]),
            material=ws.Material(base_color=[0.7, 0.1, 0.1]),
            pose=ws.Pose(position=[-0.3 + 0.1 * (seed % 3), 0.0, 0.25], euler_deg=[0.0, 0.0, 30.0]),
            motion=ws.Motion(type="velocity", linear_velocity=[0.4, 0.0, 0.0]),
            physics=ws.Physics(mode="kinematic", collides=False),
        )
    )
    scene.add(
        ws.Entity(
            name="ball",
            semantic_class="ball",
            mesh=ws.Mesh(type="sphere", radius=0.3),
            pose=ws.Pose(position=[0.5, 1.2, 0.3]),
            physics=ws.Physics(mode="kinematic", collides=False),
        )
    )
    scene.cameras = [ws.Camera(name="main", fov_deg=50, position=[0.0, -3.0, 1.5], look_at=[0.0, 0.0, 0.3])]
    return scene


@pytest.fixture(scope="session")
def rgb_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip with rgb frames (the ``flat`` renderer)."""
    out = tmp_path_factory.mktemp("exports") / "clip"
    ws.render(box_scene(), renderer="flat", out=out, progress=False)
    return out


@pytest.fixture(scope="session")
def guidance_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A guidance-only clip (no rgb)."""
    out = tmp_path_factory.mktemp("exports") / "guidance"
    ws.render(box_scene(2), guidance_only=True, out=out, progress=False)
    return out


@pytest.fixture
def clip_copy(rgb_clip: Path, tmp_path: Path) -> Path:
    """A private copy of ``rgb_clip`` a test may export into."""
    return Path(shutil.copytree(rgb_clip, tmp_path / "clip"))


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory, rgb_clip: Path, guidance_clip: Path) -> Path:
    """A dataset folder (``DIR/clips/<id>/``) of three clips: two with rgb, one guidance-only."""
    root = tmp_path_factory.mktemp("dataset")
    shutil.copytree(rgb_clip, root / "clips" / "exports-1")
    shutil.copytree(guidance_clip, root / "clips" / "exports-2")
    ws.render(box_scene(3), renderer="flat", out=root / "clips" / "exports-3", progress=False)
    return root
