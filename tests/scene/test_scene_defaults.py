"""Default lights and cameras apply only to a scene that was given none (issue 18, item 15)."""

from __future__ import annotations

import warnings

import pytest

import worldsim as ws
from worldsim.scene.model import LightSpec
from worldsim.scene.scene import SceneWarning
from worldsim.scene.yaml_io import load_scene_from_string, scene_to_yaml


def test_a_new_scene_has_the_default_sun_and_main_camera() -> None:
    scene = ws.Scene()
    assert [light.type for light in scene.lights] == ["sun"]
    assert scene.lights[0] == LightSpec()
    assert [camera.name for camera in scene.cameras] == ["main"]


def test_adding_a_light_replaces_the_default_sun() -> None:
    scene = ws.Scene()
    point = scene.add(ws.Light(type="point", position=[0, 0, 3], intensity=20.0))
    assert scene.lights == [point]
    second = scene.add(ws.Light(type="sun", direction=[0, 0, -1]))
    assert scene.lights == [point, second]  # after the first, lights add up


def test_an_environment_light_gets_no_implicit_sun() -> None:
    scene = ws.Scene()
    sky = scene.add(ws.Light(type="environment", sky="procedural"))
    assert scene.lights == [sky]
    loaded = load_scene_from_string("name: sky\nlights:\n  - {type: environment}\n")
    assert [light.type for light in loaded.lights] == ["environment"]


def test_adding_a_camera_named_main_replaces_the_default_camera() -> None:
    scene = ws.Scene()
    camera = scene.add(ws.Camera(name="main", position=[1.0, 2.0, 3.0]))
    assert scene.cameras == [camera]
    with pytest.raises(ws.SceneError, match="already exists"):
        scene.add(ws.Camera(name="main"))  # a camera the user added is never replaced


def test_explicit_lists_are_kept_and_extended() -> None:
    sun = LightSpec(direction=[0.0, 0.0, -1.0])
    scene = ws.Scene(lights=[sun])
    point = scene.add(ws.Light(type="point"))
    assert scene.lights == [sun, point]


def test_yaml_absent_key_gets_defaults_and_empty_list_means_none() -> None:
    absent = load_scene_from_string("name: a\n")
    assert [light.type for light in absent.lights] == ["sun"]
    assert [camera.name for camera in absent.cameras] == ["main"]
    dark = load_scene_from_string("name: dark\nnum_frames: 2\nlights: []\n")
    assert dark.lights == []
    with pytest.warns(SceneWarning, match="lights: no lights"):
        trajectory = ws.World(dark).rollout()
    assert trajectory.lights == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", SceneWarning)
        ws.World(load_scene_from_string("name: lit\nnum_frames: 2\n")).rollout()  # no warning


def test_resolved_yaml_writes_the_defaults_out() -> None:
    text = scene_to_yaml(ws.Scene(name="defaults"))
    assert "type: sun" in text and "direction: [-0.4, -0.3, -1.0]" in text
    assert "name: main" in text and "position: [4.0, -4.0, 3.0]" in text
    again = load_scene_from_string(text)
    assert again.lights == ws.Scene().lights and again.cameras == ws.Scene().cameras
    assert scene_to_yaml(again) == text  # the clip's scene.yaml re-renders as the same scene
    assert type(again.lights) is list  # named in the file now: explicit
    point = again.add(ws.Light(type="point"))
    assert again.lights[-1] is point and len(again.lights) == 2
