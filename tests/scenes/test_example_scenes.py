"""Every example scene validates and rolls out; the demo has what the README promises."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from worldsim.scene.validation import validate_scene
from worldsim.scene.yaml_io import load_scene
from worldsim.world.world import World

SCENES = Path(__file__).resolve().parents[2] / "scenes"
EXAMPLES = sorted(SCENES.glob("*.yaml"))


def test_there_are_at_least_five_example_scenes() -> None:
    assert {p.stem for p in EXAMPLES} >= {"demo", "turntable", "tumbling_steps", "occluders", "crowd"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_scene_validates_and_rolls_out(path: Path) -> None:
    scene = load_scene(path)
    validate_scene(scene)
    trajectory = World(scene).rollout()
    assert len(trajectory) == scene.frame_count
    assert np.isfinite(trajectory.object_to_world).all()
    assert any(info.mesh.type == "plane" and info.physics_mode == "static" for info in trajectory.entities)
    moved = np.abs(trajectory.object_to_world[-1] - trajectory.object_to_world[0]).max()
    cameras = [track.cam_to_world for track in trajectory.cameras.values()]
    camera_moved = max(np.abs(poses[-1] - poses[0]).max() for poses in cameras)
    assert max(moved, camera_moved) > 0.1, "every example scene has something moving (or its camera)"


def test_demo_has_classes_a_camera_move_and_a_physics_event() -> None:
    scene = load_scene(SCENES / "demo.yaml")
    assert scene.frame_count == 48 and list(scene.resolution) == [256, 256]
    assert len(set(scene.semantic_table())) >= 5
    trajectory = World(scene).rollout()
    camera = trajectory.cameras[trajectory.primary_camera].cam_to_world
    assert np.linalg.norm(camera[-1, :3, 3] - camera[0, :3, 3]) > 1.0
    top = trajectory.entity_column(scene.entity("crate_top").id)
    assert trajectory.object_to_world[-1, top, 2, 3] < trajectory.object_to_world[0, top, 2, 3] - 0.3


def test_crowd_has_200_moving_entities_and_matches_its_generator() -> None:
    scene = load_scene(SCENES / "crowd.yaml")
    trajectory = World(scene).rollout()
    displacement = np.linalg.norm(
        trajectory.object_to_world[-1, :, :3, 3] - trajectory.object_to_world[0, :, :3, 3], axis=-1
    )
    assert int((displacement > 0.05).sum()) == 200
    generator = SCENES.parent / "tools" / "make_crowd_scene.py"
    assert subprocess.run([sys.executable, str(generator), "--check"]).returncode == 0


def test_script_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(SCENES / "script_example.py"), run_name="script_example")
    scene = module["main"](str(tmp_path / "out"))
    out = capsys.readouterr().out
    assert f"{tmp_path / 'out'}: 24 frames" in out
    assert [entity.id for entity in scene.entities] == [1, 2, 3, 4]
    assert (tmp_path / "out" / "instance" / "00023.png").is_file()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_environment_lights_of_example_scenes_are_captured_hdris(path: Path) -> None:
    from worldsim.scene.hdri import SHIPPED_HDRI_DIR, shipped_hdri_names

    environments = [light for light in load_scene(path).lights if light.type == "environment"]
    for light in environments:
        assert light.hdri in shipped_hdri_names(), f"{path.name}: {light.name} is not lit by a shipped HDRI"
        assert (SHIPPED_HDRI_DIR / f"{light.hdri}.exr").is_file()
    if path.stem == "demo":
        assert [light.hdri for light in environments] == ["studio"]
