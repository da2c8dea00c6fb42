"""worldsim: an object-centric world-model scene simulator with controllable rendering.

Public API (imported lazily so ``import worldsim`` stays fast)::

    import worldsim as ws
    scene = ws.Scene(name="demo", fps=24, num_frames=48)
    scene.add(ws.Entity(name="cube", mesh=ws.Mesh(type="box", size=[1, 1, 1])))
    trajectory = ws.World(scene).rollout()
    clip = ws.render(scene, renderer="default", out="out/demo")
"""

from __future__ import annotations

import importlib
import os
from typing import Any

__version__ = "0.1.0"

# OpenMP threads that spin while waiting (the default) make torch up to 10x slower on a busy
# 2-core machine (training measured 2.3 vs 31 frames/s); set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_LAZY = {
    "Scene": "worldsim.scene.scene",
    "load_scene": "worldsim.scene.yaml_io",
    "Entity": ("worldsim.scene.model", "EntitySpec"),
    "Mesh": ("worldsim.scene.model", "MeshSpec"),
    "Material": ("worldsim.scene.model", "MaterialSpec"),
    "Texture": ("worldsim.scene.model", "TextureSpec"),
    "Light": ("worldsim.scene.model", "LightSpec"),
    "Pose": ("worldsim.scene.model", "Pose"),
    "Motion": ("worldsim.scene.model", "MotionSpec"),
    "Keyframe": ("worldsim.scene.model", "Keyframe"),
    "Physics": ("worldsim.scene.model", "PhysicsSpec"),
    "Camera": ("worldsim.camera.spec", "CameraSpec"),
    "CameraKeyframe": ("worldsim.camera.spec", "CameraKeyframe"),
    "Intrinsics": "worldsim.camera.intrinsics",
    "World": "worldsim.world.world",
    "Trajectory": "worldsim.state",
    "WorldState": "worldsim.state",
    "render": "worldsim.render",
    "render_dataset": "worldsim.datasets.dataset",
    "DatasetConfig": "worldsim.datasets.config",
    "RandomSceneConfig": "worldsim.datasets.random_scenes",
    "RandomSceneGenerator": "worldsim.datasets.random_scenes",
    "SceneError": "worldsim.errors",
    "DatasetError": "worldsim.errors",
    "AssetError": "worldsim.errors",
    "WorldsimError": "worldsim.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'worldsim' has no attribute {name!r}")
    module_name, attribute = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
