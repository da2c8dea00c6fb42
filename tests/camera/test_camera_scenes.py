"""Cameras in rolled-out worlds: tracking a physics body, the example scenes and their previews."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from worldsim.camera.projection import project_points
from worldsim.camera.spec import CameraMove, CameraSpec
from worldsim.scene.model import EntitySpec, MeshSpec, PhysicsSpec, Pose
from worldsim.scene.scene import Scene
from worldsim.world.world import World

REPO_ROOT = Path(__file__).resolve().parents[2]
CAMERA_SCENES = sorted((REPO_ROOT / "scenes").glob("camera_*.yaml"))
CENTRE_PX_TOL = 0.01


def _require_scene_loading() -> None:
    for module in ("worldsim.scene.yaml_io", "worldsim.scene.validation"):
        pytest.importorskip(module, reason=f"scene loading ({module}) not present")


def test_orbit_tracks_a_falling_ball() -> None:
    """The world passes physics poses to the camera: the falling ball stays at the image centre."""
    scene = Scene(
        name="falling",
        fps=24,
        num_frames=24,
        resolution=[64, 64],
        cameras=[
            CameraSpec(
                target="ball",
                position=[3, 0, 1.5],
                moves=[CameraMove(type="orbit", target="ball", sweep_deg=90)],
            )
        ],
    )
    scene.add(
        EntitySpec(
            name="ground", mesh=MeshSpec(type="plane", size=[5, 5]), physics=PhysicsSpec(mode="static")
        )
    )
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.2),
            pose=Pose(position=[0, 0, 1]),
            physics=PhysicsSpec(mode="dynamic"),
        )
    )
    trajectory = World(scene).rollout()
    camera = trajectory.cameras["main"]
    ball = trajectory.object_to_world[:, trajectory.entity_column(2), :3, 3]
    assert ball[-1, 2] < 0.5  # it really fell
    for frame in range(len(trajectory)):
        uv, _ = project_points(ball[frame][None], camera.cam_to_world[frame], camera.intrinsics(frame))
        assert np.linalg.norm(uv[0] - [32, 32]) < CENTRE_PX_TOL


def test_there_is_an_example_scene_per_preset_family() -> None:
    names = {path.stem for path in CAMERA_SCENES}
    assert {"camera_orbit", "camera_dolly_zoom", "camera_keyframes", "camera_chase", "camera_shots"} <= names


@pytest.mark.parametrize("scene_path", CAMERA_SCENES, ids=[path.stem for path in CAMERA_SCENES])
def test_example_scene_preview_png(scene_path: Path, tmp_path: Path) -> None:
    _require_scene_loading()
    from worldsim.cli.camera_cmd import run_preview

    out = tmp_path / f"{scene_path.stem}.png"
    args = argparse.Namespace(scene=str(scene_path), out=str(out), every=6, camera=None, quiet=True)
    assert run_preview(args) == 0
    image = __import__("imageio").v3.imread(out)
    assert image.shape[1] > 600 and image[..., :3].std() > 10


def test_export_then_import_keeps_poses(tmp_path: Path) -> None:
    _require_scene_loading()
    from worldsim.cli.camera_cmd import run_export, run_import

    scene_path = REPO_ROOT / "scenes" / "camera_dolly_zoom.yaml"
    exported = tmp_path / "camera_path.json"
    args = argparse.Namespace(
        scene=str(scene_path), format="nerfstudio", out=str(exported), camera=None, quiet=True
    )
    assert run_export(args) == 0
    new_scene = tmp_path / "imported.yaml"
    args = argparse.Namespace(
        file=str(exported), scene=str(scene_path), out=str(new_scene), camera=None, quiet=True
    )
    assert run_import(args) == 0
    cameras = tmp_path / "cameras_a.json"
    for scene_file, target in ((scene_path, cameras), (new_scene, tmp_path / "cameras_b.json")):
        args = argparse.Namespace(
            scene=str(scene_file), format="cameras", out=str(target), camera="main", quiet=True
        )
        assert run_export(args) == 0
    first = json.loads(cameras.read_text())["cameras"]["main"]["frames"]
    second = json.loads((tmp_path / "cameras_b.json").read_text())["cameras"]["main"]["frames"]
    for a, b in zip(first, second, strict=True):
        assert np.abs(np.array(a["cam_to_world"]) - b["cam_to_world"]).max() < 1e-6
        assert np.abs(np.array(a["K"]) - b["K"]).max() < 1e-6


def _python_scene() -> Scene:
    scene = Scene(
        name="python_scene",
        fps=24,
        num_frames=12,
        resolution=[64, 48],
        cameras=[
            CameraSpec(
                name="main", position=[3, -2, 1.5], look_at=[0, 0, 0.3], moves=[CameraMove(type="orbit")]
            ),
            CameraSpec(name="side", position=[0, -4, 1.0], target="box"),
        ],
    )
    scene.add(
        EntitySpec(
            name="ground", mesh=MeshSpec(type="plane", size=[5, 5]), physics=PhysicsSpec(mode="static")
        )
    )
    scene.add(
        EntitySpec(
            name="box", mesh=MeshSpec(type="box", size=[0.5, 0.5, 0.5]), pose=Pose(position=[0, 0, 0.25])
        )
    )
    return scene


def test_cli_handlers_on_a_python_scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """preview and every export format, with scene loading replaced by a Python-built scene."""
    import worldsim.cli.camera_cmd as camera_cmd
    from worldsim.camera.interchange import import_cameras, import_keyframes, import_nerfstudio
    from worldsim.cli.camera_cmd import run_export, run_preview

    monkeypatch.setattr(camera_cmd, "load_valid_scene", lambda path: _python_scene())
    png = tmp_path / "preview.png"
    args = argparse.Namespace(scene="unused.yaml", out=str(png), every=3, camera=None, quiet=True)
    assert run_preview(args) == 0 and png.stat().st_size > 10_000
    outputs = {"nerfstudio": "path.json", "cameras": "cameras.json", "keyframes": "keys.yaml"}
    for format_name, file_name in outputs.items():
        args = argparse.Namespace(
            scene="unused.yaml", format=format_name, out=str(tmp_path / file_name), camera="side", quiet=True
        )
        assert run_export(args) == 0
    tracks, _ = import_cameras(tmp_path / "cameras.json")
    nerfstudio, _ = import_nerfstudio(tmp_path / "path.json")
    assert list(tracks) == ["side"]
    assert np.abs(nerfstudio.cam_to_world - tracks["side"].cam_to_world).max() < 1e-6
    keys = import_keyframes(tmp_path / "keys.yaml")
    assert len(keys.keyframes) == 12
    assert np.allclose(keys.keyframes[5].position, tracks["side"].cam_to_world[5, :3, 3])
