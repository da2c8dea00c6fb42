"""Every guidance-reading renderer on a clip whose guidance backend is pytorch3d (run in the pytorch3d venv).

    python tests/renderers/pytorch3d_renderers_check.py TRAJECTORY.json OUT.json

Builds the clip's guidance source as the orchestrator does (``ClipGuidance`` with
``backend="pytorch3d"``), renders every frame with ``flat`` and with ``diffusion`` (a tiny random
model built in memory: this venv has no safetensors), and writes, per renderer, the backends that
cast and how often per (frame, resolution), and the flat frames' mean colour. The pytorch3d venv
has no open3d, so any renderer building its own (default) backend would fail here.
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def check(trajectory_path: str, out_path: str) -> None:
    import numpy as np
    import torch

    from renderers.baselines.flat import create_flat_renderer
    from renderers.diffusion.model import ModelConfig, VideoUNet
    from renderers.diffusion.options import load_diffusion_options
    from renderers.diffusion.renderer import DiffusionRenderer
    from renderers.guidance.pytorch3d_backend import PyTorch3DBackend
    from renderers.guidance.source import ClipGuidance
    from worldsim.errors import RenderError
    from worldsim.state import Trajectory

    trajectory = Trajectory.load(trajectory_path)
    camera = trajectory.primary_camera
    casts: Counter = Counter()
    original = PyTorch3DBackend.cast

    def counted(self, frame, cam_to_world, intrinsics, rays_camera=None):
        casts[f"{type(self).__name__} {frame} {intrinsics.width}x{intrinsics.height}"] += 1
        return original(self, frame, cam_to_world, intrinsics, rays_camera)

    PyTorch3DBackend.cast = counted
    frames = list(range(len(trajectory)))
    result = {}

    guidance = ClipGuidance(trajectory, camera, backend="pytorch3d")
    flat = dict(create_flat_renderer({}).render_frames(trajectory, camera, frames, guidance))
    result["flat"] = {
        "backend": type(guidance.backend.inner).__name__,
        "casts": dict(casts),
        "frames": sorted(flat),
        "mean_rgb": [float(np.mean(flat[frame])) for frame in frames],
    }

    casts.clear()
    torch.manual_seed(0)
    config = ModelConfig(
        channels=[8], patch_size=2, blocks_per_level=1, middle_blocks=1, time_dim=16, groups=4,
        prediction="x0", code_channels=22, shading_channels=3,
    )  # fmt: skip
    diffusion = DiffusionRenderer.__new__(DiffusionRenderer)  # no weights file: a model in memory
    diffusion.options = load_diffusion_options({"native_size": 16, "steps": 1, "window": 4, "overlap": 1})
    diffusion.model, diffusion.config, diffusion.metadata = VideoUNet(config).eval(), config, {}
    diffusion.stride = 2**config.levels
    guidance = ClipGuidance(trajectory, camera, backend="pytorch3d", lighting=diffusion.guidance_maps)
    try:
        made = dict(diffusion.render_frames(trajectory, camera, frames, guidance))
    except RenderError as error:  # the lighting maps' shadow rays need Embree (embreex or open3d)
        result["diffusion"] = {"backend": type(guidance.backend.inner).__name__, "casts": dict(casts)}
        result["diffusion"]["error"] = str(error)
    else:
        result["diffusion"] = {
            "backend": type(guidance.backend.inner).__name__,
            "casts": dict(casts),
            "frames": sorted(made),
            "shapes": [list(made[frame].shape) for frame in frames],
        }
    with open(out_path, "w", encoding="utf-8") as stream:
        json.dump(result, stream)


if __name__ == "__main__":
    check(sys.argv[1], sys.argv[2])
