"""Trajectory JSON save / load: lossless round trip and clear errors on malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from worldsim.errors import WorldsimError
from worldsim.scene.model import (
    EntitySpec,
    MaterialSpec,
    MeshSpec,
    MotionSpec,
    PhysicsSpec,
    Pose,
    TextureSpec,
)
from worldsim.scene.scene import Scene
from worldsim.state import Trajectory
from worldsim.world.world import World


@pytest.fixture(scope="module")
def trajectory() -> Trajectory:
    scene = Scene(
        name="io",
        fps=30,
        num_frames=20,
        resolution=[32, 24],
        prompt="a crate falls",
        materials={"checks": MaterialSpec(texture=TextureSpec(type="checker", seed=7))},
    )
    scene.add(
        EntitySpec(
            name="ground",
            semantic_class="ground",
            mesh=MeshSpec(type="plane", size=[6, 6]),
            material="checks",
        )
    )
    scene.add(
        EntitySpec(
            name="crate",
            mesh=MeshSpec(type="box", size=[0.3, 0.2, 0.1]),
            pose=Pose(position=[0, 0, 0.8], euler_deg=[13, 27, 41]),
            physics=PhysicsSpec(mode="dynamic"),
            despawn_time=0.5,
        )
    )
    scene.add(
        EntitySpec(
            name="spinner",
            mesh=MeshSpec(type="torus"),
            spawn_time=0.1,
            motion=MotionSpec(type="velocity", angular_velocity_deg=[10, 20, 33.3]),
        )
    )
    return World(scene).rollout()


def test_save_load_is_lossless(trajectory: Trajectory, tmp_path: Path) -> None:
    path = trajectory.save(tmp_path / "nested" / "trajectory.json")
    loaded = Trajectory.load(path)
    assert np.array_equal(loaded.object_to_world, trajectory.object_to_world)
    assert loaded.object_to_world.dtype == np.float64
    assert np.array_equal(loaded.present, trajectory.present) and loaded.present.dtype == np.bool_
    for name, track in trajectory.cameras.items():
        other = loaded.cameras[name]
        for key in ("cam_to_world", "fx", "fy", "cx", "cy"):
            assert np.array_equal(getattr(other, key), getattr(track, key)), key
        assert (other.width, other.height, other.name) == (track.width, track.height, track.name)
    assert {k: v.tolist() for k, v in loaded.in_view.items()} == {
        k: v.tolist() for k, v in trajectory.in_view.items()
    }
    assert loaded.entities == trajectory.entities
    assert loaded.entities[0].material.texture == TextureSpec(type="checker", seed=7)
    assert loaded.events == trajectory.events and len(loaded.events) >= 2
    assert loaded.lights == trajectory.lights
    assert (
        loaded.scene_name,
        loaded.seed,
        loaded.fps,
        loaded.resolution,
        loaded.prompt,
        loaded.semantic_classes,
    ) == (
        trajectory.scene_name,
        trajectory.seed,
        trajectory.fps,
        trajectory.resolution,
        trajectory.prompt,
        trajectory.semantic_classes,
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["trajectory.json"]  # no temp files left


def test_awkward_floats_round_trip(trajectory: Trajectory, tmp_path: Path) -> None:
    poses = trajectory.object_to_world.copy()
    poses[0, 0, 0, 0] = 0.1 + 0.2
    poses[0, 0, 0, 1] = 5e-324
    poses[0, 0, 0, 2] = -0.0
    poses[0, 0, 1, 0] = 1.7976931348623157e308
    poses[0, 0, 1, 1] = np.nextafter(1.0, 2.0)
    awkward = Trajectory(**{**trajectory.__dict__, "object_to_world": poses})
    loaded = Trajectory.load(awkward.save(tmp_path / "t.json"))
    assert np.array_equal(loaded.object_to_world, poses)
    assert np.signbit(loaded.object_to_world[0, 0, 0, 2])


def _corrupt(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("edit", "key_path", "reason"),
    [
        (lambda d: d.pop("present"), "present", "missing key"),
        (lambda d: d.update(format="something"), "format", "not a worldsim.trajectory file"),
        (lambda d: d.update(version=99), "version", "unsupported version"),
        (lambda d: d["object_to_world"].update(shape=[1, 2, 3]), "object_to_world.data", "does not match"),
        (
            lambda d: d["object_to_world"].update(dtype="complex128"),
            "object_to_world.dtype",
            "unexpected dtype",
        ),
        (lambda d: d["present"]["data"].pop(), "present", "shape"),
        (lambda d: d["entities"][0].update(colour="red"), "entities[0].colour", "unknown key"),
        (lambda d: d["events"][0].update(kind="explode"), "events[0].kind", "unknown event kind"),
        (lambda d: d.update(seed="seven"), "seed", "expected int"),
        (lambda d: d["cameras"]["main"].pop("fx"), "cameras.main.fx", "missing key"),
    ],
)
def test_malformed_files_name_file_key_and_reason(
    trajectory: Trajectory, tmp_path: Path, edit, key_path: str, reason: str
) -> None:
    path = trajectory.save(tmp_path / "bad.json")
    _corrupt(path, edit)
    with pytest.raises(WorldsimError) as info:
        Trajectory.load(path)
    message = str(info.value)
    assert str(path) in message and key_path in message and reason in message, message


def test_unreadable_and_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(WorldsimError, match=r"missing\.json.*cannot read"):
        Trajectory.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ')
    with pytest.raises(WorldsimError, match=r"broken\.json.*not valid JSON"):
        Trajectory.load(broken)
