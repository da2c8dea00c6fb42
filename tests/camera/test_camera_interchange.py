"""Interchange round trips (nerfstudio, cameras.json, keyframe lists) to 1e-6 and the preview PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest

from worldsim.camera.conventions import WORLD_FRAME, opengl_to_opencv
from worldsim.camera.evaluate import evaluate_camera
from worldsim.camera.interchange import (
    export_cameras,
    export_keyframes,
    export_nerfstudio,
    import_cameras,
    import_keyframes,
    import_nerfstudio,
    track_to_spec,
)
from worldsim.camera.preview import Footprint, draw_preview
from worldsim.camera.spec import CameraKeyframe, CameraMove, CameraShake, CameraSpec
from worldsim.errors import SceneError

ROUND_TRIP_ATOL = 1e-6
FPS = 24.0


@pytest.fixture
def track():
    spec = CameraSpec(
        position=[3.0, -1.0, 1.4],
        look_at=[0.0, 0.0, 0.5],
        moves=[CameraMove(type="orbit", sweep_deg=120), CameraMove(type="zoom", end_fov_deg=30)],
        shake=CameraShake(seed=1),
    )
    return evaluate_camera(spec, np.arange(24) / FPS, (96, 64))


def test_nerfstudio_round_trip_and_format(track, tmp_path) -> None:
    path = export_nerfstudio(track, FPS, tmp_path / "camera_path.json")
    data = json.loads(path.read_text())
    assert data["render_width"] == 96 and data["render_height"] == 64 and data["seconds"] == 1.0
    entry = data["camera_path"][0]
    assert len(entry["camera_to_world"]) == 16 and entry["aspect"] == pytest.approx(1.5)
    # Row-major OpenGL pose: its -z column is our optical axis.
    gl = np.array(entry["camera_to_world"]).reshape(4, 4)
    assert np.allclose(-gl[:3, 2], track.cam_to_world[0, :3, 2])
    assert entry["fov"] == pytest.approx(track.intrinsics(0).vertical_fov_deg)
    loaded, fps = import_nerfstudio(path)
    assert fps == FPS
    assert np.abs(loaded.cam_to_world - track.cam_to_world).max() < ROUND_TRIP_ATOL
    assert np.abs(loaded.fy - track.fy).max() < ROUND_TRIP_ATOL
    assert np.allclose(opengl_to_opencv(gl), track.cam_to_world[0])


def test_cameras_json_round_trip(track, tmp_path) -> None:
    path = export_cameras({"main": track}, FPS, tmp_path / "cameras.json")
    data = json.loads(path.read_text())
    assert (
        data["world_frame"] == WORLD_FRAME == {"world_up": "+z", "units": "m", "camera_convention": "opencv"}
    )
    tracks, fps = import_cameras(path)
    loaded = tracks["main"]
    assert fps == FPS
    assert np.abs(loaded.cam_to_world - track.cam_to_world).max() < ROUND_TRIP_ATOL
    for name in ("fx", "fy", "cx", "cy"):
        assert np.abs(getattr(loaded, name) - getattr(track, name)).max() < ROUND_TRIP_ATOL


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_keyframe_list_round_trip_reproduces_the_track(track, tmp_path, suffix: str) -> None:
    spec = track_to_spec(track, FPS)
    path = export_keyframes(spec, tmp_path / f"keys{suffix}")
    loaded = import_keyframes(path)
    again = evaluate_camera(loaded, np.arange(len(track)) / FPS, (track.width, track.height))
    assert np.abs(again.cam_to_world - track.cam_to_world).max() < ROUND_TRIP_ATOL
    assert np.abs(again.fy - track.fy).max() < ROUND_TRIP_ATOL


def test_look_at_keyframes_round_trip(tmp_path) -> None:
    spec = CameraSpec(
        look_at=None,
        position_interpolation="catmull_rom",
        keyframes=[
            CameraKeyframe(t=0.0, position=[3, 0, 1], look_at=[0, 0, 0]),
            CameraKeyframe(t=1.0, position=[0, 3, 2], target="ball", fov_deg=35.0, hold=0.2),
        ],
    )
    loaded = import_keyframes(export_keyframes(spec, tmp_path / "keys.yaml"))
    assert loaded.keyframes == spec.keyframes
    assert loaded.position_interpolation == "catmull_rom"


def test_bad_files_give_scene_errors(tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SceneError, match="not valid") as error:
        import_nerfstudio(broken)
    assert error.value.file == str(broken)
    unknown = tmp_path / "keys.json"
    unknown.write_text(json.dumps({"keyframes": [{"t": 0, "positon": [1, 2, 3]}]}))
    with pytest.raises(SceneError, match="positon") as error:
        import_keyframes(unknown)
    assert error.value.key_path == "keyframes[0]"
    other_frame = tmp_path / "cameras.json"
    other_frame.write_text(json.dumps({"world_frame": {"world_up": "+y"}, "cameras": {}}))
    with pytest.raises(SceneError, match="world frame"):
        import_cameras(other_frame)


def test_preview_png(track, tmp_path) -> None:
    footprints = [
        Footprint("ground", np.array([-4, -4, 0.0]), np.array([4, 4, 0.0]), is_ground=True),
        Footprint("box", np.array([-0.3, -0.3, 0.0]), np.array([0.3, 0.3, 0.6])),
    ]
    out = draw_preview({"main": track}, tmp_path / "preview.png", every=4, footprints=footprints,
                       targets={"main": np.array([[0.0, 0.0, 0.5]])})  # fmt: skip
    image = __import__("imageio").v3.imread(out)
    assert image.shape[0] > 300 and image.shape[1] > 600
    assert image[..., :3].std() > 10  # something was drawn
