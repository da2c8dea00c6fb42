"""Camera path authoring: baking, editing, saving as YAML / camera_path.json, and renders of a
saved path matching the preview."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from worldsim.camera.conventions import look_at
from worldsim.errors import SceneError
from worldsim.viewer.path_editor import BAKE_TOLERANCE, CameraPathEditor
from worldsim.viewer.world_view import load_viewed_world

SCENES = Path(__file__).resolve().parents[2] / "scenes"


@pytest.mark.parametrize("name", ["camera_orbit.yaml", "camera_shots.yaml", "camera_chase.yaml", "demo.yaml"])
def test_baked_paths_stay_within_tolerance_of_the_original(name: str) -> None:
    world = load_viewed_world(SCENES / name)
    for spec in world.scene.cameras:
        editor = CameraPathEditor(world.scene, world.trajectory, spec.name)
        assert editor.baked
        metres, degrees = editor.bake_error
        assert metres <= BAKE_TOLERANCE[0] + 1e-9 and degrees <= BAKE_TOLERANCE[1] + 1e-9, spec.name
        if spec.shake is None:  # with shake the preview adds the (kept) shake on top
            original = world.trajectory.cameras[spec.name].cam_to_world
            assert (
                np.abs(editor.preview().cam_to_world[:, :3, 3] - original[:, :3, 3]).max()
                <= BAKE_TOLERANCE[0] + 1e-9
            )


def test_edits_save_and_render_exactly_what_was_previewed(viewer_clip: Path, tmp_path: Path) -> None:
    from worldsim.render import load_and_validate, rollout

    world = load_viewed_world(viewer_clip)
    editor = CameraPathEditor(world.scene, world.trajectory, "main")
    start = look_at(np.array([-4.0, -4.0, 2.0]), np.array([0.0, 0.0, 0.5]))
    index = editor.add(0.25, start, fov_deg=40.0)
    moved = look_at(np.array([-3.0, -4.5, 1.5]), np.array([0.2, 0.0, 0.4]))
    editor.move(index, moved)
    editor.set_easing("ease_in_out")
    preview = editor.preview()

    saved = editor.save_yaml(tmp_path / "edited.yaml")
    scene = load_and_validate(saved)
    spec = next(camera for camera in scene.cameras if camera.name == "main")
    key = next(key for key in spec.keyframes if abs(key.t - 0.25) < 1e-12)
    np.testing.assert_allclose(key.position, moved[:3, 3], atol=1e-12)
    assert key.fov_deg == 40.0 and spec.easing == "ease_in_out"
    rendered = rollout(scene).cameras["main"]
    np.testing.assert_allclose(rendered.cam_to_world, preview.cam_to_world, atol=1e-6)
    np.testing.assert_allclose(rendered.fy, preview.fy, atol=1e-6)

    camera_path = editor.save_nerfstudio(tmp_path / "camera_path.json")
    from worldsim.camera.interchange import import_nerfstudio

    imported, fps = import_nerfstudio(camera_path)
    assert fps == world.fps
    np.testing.assert_allclose(imported.cam_to_world, preview.cam_to_world, atol=1e-6)
    assert len(json.loads(camera_path.read_text())["camera_path"]) == world.num_frames


def test_editing_errors_are_clear(viewer_clip: Path) -> None:
    world = load_viewed_world(viewer_clip)
    editor = CameraPathEditor(world.scene, world.trajectory, "main")
    pose = look_at(np.array([0.0, -5.0, 2.0]), np.array([0.0, 0.0, 0.0]))
    with pytest.raises(SceneError, match="outside the clip"):
        editor.add(99.0, pose)
    with pytest.raises(SceneError, match=r"field of view must be in \(0, 180\)"):
        editor.add(0.0, pose, fov_deg=200.0)
    with pytest.raises(SceneError, match="orthonormal"):
        editor.add(0.0, np.diag([2.0, 1.0, 1.0, 1.0]))
    with pytest.raises(SceneError, match="unknown easing 'bouncy'"):
        editor.set_easing("bouncy")
    with pytest.raises(SceneError, match="no camera named 'side'"):
        CameraPathEditor(world.scene, world.trajectory, "side")
    while len(editor.keys) > 1:
        editor.delete(0)
    with pytest.raises(SceneError, match="at least one keyframe"):
        editor.delete(0)
