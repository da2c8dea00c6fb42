"""The viewer tests' scene: solid-coloured boxes on a checker floor."""

from __future__ import annotations

import worldsim as ws

BOX_COLOURS = {"red": [0.6, 0.05, 0.05], "blue": [0.05, 0.2, 0.7], "grey": [0.2, 0.2, 0.2]}
"""Linear albedo of the boxes of ``viewer_scene``."""


def viewer_scene() -> ws.Scene:
    """Three solid boxes (the red one slides along +x) on a checker floor, 8 frames, 160x120."""
    scene = ws.Scene(name="viewer", seed=1, fps=8, num_frames=8, resolution=[160, 120])
    scene.add(
        ws.Entity(
            name="floor",
            semantic_class="ground",
            mesh=ws.Mesh(type="plane", size=[8, 8]),
            material=ws.Material(texture=ws.Texture(type="checker", scale=1.0)),
        )
    )
    # Left of centre: the viewer's control panel covers the right third of the page.
    positions = {"red": [-1.9, 0.0, 0.5], "blue": [0.1, 0.0, 0.5], "grey": [-1.0, 1.6, 0.5]}
    for name, colour in BOX_COLOURS.items():
        scene.add(
            ws.Entity(
                name=name,
                semantic_class=name,
                mesh=ws.Mesh(type="box", size=[0.8, 0.8, 0.8]),
                material=ws.Material(base_color=colour),
                pose=ws.Pose(position=positions[name]),
                motion=ws.Motion(type="velocity", linear_velocity=[1.0, 0.0, 0.0])
                if name == "red"
                else ws.Motion(),
                physics=ws.Physics(mode="kinematic", collides=False),
            )
        )
    scene.cameras = [ws.Camera(name="main", fov_deg=50, position=[0.0, -5.0, 2.5], look_at=[0.0, 0.0, 0.5])]
    return scene
