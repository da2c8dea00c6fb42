"""The export tests' scene: a box sliding in front of the camera, a ball, a floor (32x32, 4 frames)."""

from __future__ import annotations

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
