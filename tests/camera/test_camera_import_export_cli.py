"""``worldsim camera export`` then ``camera import`` gives back the same camera (issue 18, items 6
and 7): keyframe files keep easing and every other path setting; nerfstudio and cameras.json
paths made at another image size are scaled to the scene's, keeping the field of view."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from worldsim.camera.evaluate import evaluate_camera
from worldsim.camera.interchange import export_cameras, export_nerfstudio, import_keyframes
from worldsim.cli.main import main
from worldsim.scene.yaml_io import load_scene
from worldsim.world.world import World

POSE_ATOL_M = 1e-9
"""Metres (and rotation-matrix entries): a keyframe file stores the camera's own fields exactly."""
TRACK_ATOL = 1e-6
"""Per-frame files (one key per frame, floats through JSON) reproduce the frames to this."""
REPO = Path(__file__).resolve().parents[2]
CAMERA_SCENES = sorted((REPO / "scenes").glob("camera_*.yaml"))


def tracks_of(path: Path):
    return World(load_scene(path)).rollout().cameras


def round_trip(scene: Path, tmp_path: Path, suffix: str) -> tuple[Path, Path]:
    exported = tmp_path / f"main{suffix}"
    assert main(["camera", "export", str(scene), "--format", "keyframes", "--out", str(exported)]) == 0
    new_scene = tmp_path / "imported.yaml"
    assert main(["camera", "import", str(exported), "--scene", str(scene), "--out", str(new_scene)]) == 0
    return exported, new_scene


def test_keyframes_export_keeps_easing(tmp_path: Path) -> None:
    scene = REPO / "scenes" / "camera_keyframes.yaml"
    exported, new_scene = round_trip(scene, tmp_path, ".yaml")
    spec = import_keyframes(exported)
    assert spec.easing == "ease_in_out" and spec.position_interpolation == "catmull_rom"
    original, again = tracks_of(scene)["main"], tracks_of(new_scene)["main"]
    assert np.abs(again.cam_to_world - original.cam_to_world).max() < POSE_ATOL_M
    assert np.abs(again.fy - original.fy).max() < POSE_ATOL_M


@pytest.mark.parametrize("scene", CAMERA_SCENES, ids=[path.stem for path in CAMERA_SCENES])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_every_camera_scene_round_trips(scene: Path, suffix: str, tmp_path: Path) -> None:
    _, new_scene = round_trip(scene, tmp_path, suffix)
    original = tracks_of(scene)
    again = tracks_of(new_scene)
    name = load_scene(scene).cameras[0].name
    for field in ("cam_to_world", "fx", "fy", "cx", "cy"):
        difference = np.abs(
            np.asarray(getattr(again[name], field)) - np.asarray(getattr(original[name], field))
        )
        assert difference.max() < TRACK_ATOL, (field, difference.max())


def write_scene(tmp_path: Path, width: int, height: int, frames: int) -> Path:
    path = tmp_path / "scene.yaml"
    path.write_text(
        f"name: s\nfps: 24\nnum_frames: {frames}\nresolution: [{width}, {height}]\n"
        "entities: [{name: box, mesh: {type: box, size: [1, 1, 1]}}]\n"
        "cameras: [{name: main, position: [4, -4, 3], look_at: [0, 0, 0.5]}]\n",
        encoding="utf-8",
    )
    return path


def reference_track(frames: int, resolution: tuple[int, int]):
    from worldsim.camera.spec import CameraMove, CameraSpec

    spec = CameraSpec(
        position=[3.0, -1.0, 1.4],
        look_at=[0.0, 0.0, 0.5],
        moves=[CameraMove(type="orbit", sweep_deg=90), CameraMove(type="zoom", end_fov_deg=30)],
    )
    return evaluate_camera(spec, np.arange(frames) / 24.0, resolution)


@pytest.mark.parametrize("file_size", [(1920, 1080), (256, 256), (64, 96)])
def test_nerfstudio_path_of_another_size_keeps_the_field_of_view(
    tmp_path: Path, capsys, file_size: tuple[int, int]
) -> None:
    scene = write_scene(tmp_path, 128, 128, 24)
    exported = reference_track(24, file_size)
    camera_path = export_nerfstudio(exported, 24.0, tmp_path / "camera_path.json")
    new_scene = tmp_path / "imported.yaml"
    assert main(["camera", "import", str(camera_path), "--scene", str(scene), "--out", str(new_scene)]) == 0
    assert "warning" not in capsys.readouterr().err
    track = tracks_of(new_scene)["main"]
    expected = reference_track(24, (128, 128))  # the same camera evaluated at the scene's size
    assert np.allclose(track.cx, 64.0) and np.allclose(track.cy, 64.0)
    assert np.abs(track.fy - expected.fy).max() < TRACK_ATOL  # vertical field of view kept
    assert np.abs(track.fx - track.fy).max() < TRACK_ATOL  # square pixels, as nerfstudio
    assert np.abs(track.cam_to_world - expected.cam_to_world).max() < TRACK_ATOL


def test_cameras_json_of_another_size_is_scaled(tmp_path: Path) -> None:
    scene = write_scene(tmp_path, 128, 96, 24)
    exported = reference_track(24, (256, 192))
    cameras = export_cameras({"main": exported}, 24.0, tmp_path / "cameras.json")
    new_scene = tmp_path / "imported.yaml"
    assert main(["camera", "import", str(cameras), "--scene", str(scene), "--out", str(new_scene)]) == 0
    track = tracks_of(new_scene)["main"]
    expected = reference_track(24, (128, 96))
    for field in ("fx", "fy", "cx", "cy"):
        assert np.abs(getattr(track, field) - getattr(expected, field)).max() < TRACK_ATOL, field


def test_a_path_longer_than_the_scene_is_cut_with_a_warning(tmp_path: Path, capsys) -> None:
    scene = write_scene(tmp_path, 128, 128, 48)
    camera_path = export_nerfstudio(reference_track(96, (128, 128)), 24.0, tmp_path / "camera_path.json")
    assert json.loads(camera_path.read_text())["seconds"] == 4.0
    new_scene = tmp_path / "imported.yaml"
    assert main(["camera", "import", str(camera_path), "--scene", str(scene), "--out", str(new_scene)]) == 0
    warning = capsys.readouterr().err.strip()
    assert warning.startswith(f"warning: {camera_path}: the camera path lasts 3.96 s (96 frames at 24 fps)")
    assert "the scene has 48 frames (2 s): it is cut after frame 47" in warning
    # what is kept is the path's first 48 frames
    track = tracks_of(new_scene)["main"]
    assert np.abs(track.cam_to_world - reference_track(96, (128, 128)).cam_to_world[:48]).max() < TRACK_ATOL
