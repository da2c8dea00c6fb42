"""Scene validation of environment maps, light intensities and camera lenses (file, key, reason)."""

from __future__ import annotations

import numpy as np
import pytest

from worldsim.errors import SceneError
from worldsim.scene.model import LIGHT_INTENSITY_DEFAULTS, LightSpec
from worldsim.scene.yaml_io import load_scene, load_scene_from_string

SCENE = """
name: lit
num_frames: 2
lights:
{lights}
cameras:
  - {{name: main, position: [3, 0, 1], look_at: [0, 0, 0]{camera}}}
"""


def _load(lights: str, camera: str = "", tmp_path=None):
    text = SCENE.format(lights=lights, camera=camera)
    if tmp_path is None:
        return load_scene_from_string(text, "scene.yaml")
    path = tmp_path / "scene.yaml"
    path.write_text(text)
    return load_scene(path)


def _issues(lights: str, camera: str = "", tmp_path=None) -> list[tuple[str | None, str, str]]:
    with pytest.raises(SceneError) as caught:
        _load(lights, camera, tmp_path)
    return caught.value.issues


def test_intensity_defaults_per_light_type_and_explicit_values_stay():
    assert LightSpec(type="environment").intensity == 1.0
    assert LightSpec(type="sun").intensity == LightSpec().intensity == 3.0
    assert LightSpec(type="environment", intensity=0.25).intensity == 0.25
    scene = _load("  - {type: environment, hdri: studio}\n  - {type: point, position: [0, 0, 2]}")
    assert [light.intensity for light in scene.lights] == [1.0, LIGHT_INTENSITY_DEFAULTS["point"]]
    scene = _load("  - {type: sun, intensity: 0.5}")
    assert scene.lights[0].intensity == 0.5


def test_a_relative_hdri_path_resolves_against_the_scene_file(tmp_path):
    import OpenEXR

    (tmp_path / "maps").mkdir()
    pixels = np.full((8, 16, 3), 0.5, dtype=np.float32)
    with OpenEXR.File({"type": OpenEXR.scanlineimage}, {"RGB": pixels}) as exr:
        exr.write(str(tmp_path / "maps" / "mine.exr"))
    scene = _load("  - {type: environment, hdri: maps/mine.exr, rotation_deg: 30}", tmp_path=tmp_path)
    assert scene.lights[0].hdri == str((tmp_path / "maps" / "mine.exr").resolve())


def test_bad_environment_maps_name_file_key_and_reason(tmp_path):
    (tmp_path / "wide.exr").write_bytes(b"not an exr")
    issues = _issues(
        "  - {type: environment, hdri: sunsett}\n"
        "  - {type: environment, hdri: missing.hdr}\n"
        "  - {type: environment, hdri: wide.exr}\n"
        "  - {type: sun, hdri: sunset}\n"
        "  - {type: environment, hdri: studio, rotation_deg: .nan}",
        tmp_path=tmp_path,
    )
    by_key = {key: reason for _, key, reason in issues}
    assert all(file == str(tmp_path / "scene.yaml") for file, _, _ in issues)
    assert (
        "unknown shipped hdri 'sunsett'" in by_key["lights[0].hdri"] and "sunset" in by_key["lights[0].hdri"]
    )
    assert "environment map not found" in by_key["lights[1].hdri"]
    assert "unreadable environment map" in by_key["lights[2].hdri"]
    assert "environment lights only" in by_key["lights[3].hdri"]
    assert "not allowed" in by_key["lights[4].rotation_deg"]  # the YAML reader refuses NaN
    # a scene built in Python gets the same check from validation
    from worldsim.scene.scene import Scene
    from worldsim.scene.validation import collect_issues

    scene = Scene(lights=[LightSpec(type="environment", hdri="studio", rotation_deg=float("inf"))])
    assert ("lights[0].rotation_deg", "rotation_deg must be finite, got inf") in collect_issues(scene)


def test_bad_lens_values_name_the_camera_key():
    issues = _issues(
        "  - {type: environment, hdri: studio}",
        camera=", exposure_ev: 40, tonemap: filmc, aperture_f: -2, focus_distance: 0, focus_entity: nobody",
    )
    by_key = {key: reason for _, key, reason in issues}
    assert "within +-20 stops" in by_key["cameras[0].exposure_ev"]
    assert "did you mean 'filmic'" in by_key["cameras[0].tonemap"]
    assert "must be positive" in by_key["cameras[0].aperture_f"]
    assert "must be positive" in by_key["cameras[0].focus_distance"]
    assert "unknown entity 'nobody'" in by_key["cameras[0].focus_entity"]


def test_the_lens_reaches_the_camera_track():
    from worldsim.world.world import World

    scene = _load(
        "  - {type: environment, hdri: studio}",
        camera=", exposure_ev: 1.5, tonemap: standard, aperture_f: 2.8",
    )
    lens = World(scene).rollout().cameras["main"].lens
    assert (lens.exposure_ev, lens.tonemap, lens.aperture_f, lens.focus_distance) == (
        1.5,
        "standard",
        2.8,
        None,
    )


SCENE_EXPOSURE = """
name: exposed
num_frames: 2
exposure_ev: {scene}
cameras:
  - {{name: own, position: [3, 0, 1], look_at: [0, 0, 0], exposure_ev: -0.5}}
  - {{name: inherits, position: [0, 3, 1], look_at: [0, 0, 0]}}
"""


def test_scene_exposure_applies_to_cameras_without_their_own():
    from worldsim.world.world import World

    scene = load_scene_from_string(SCENE_EXPOSURE.format(scene=1.25), "scene.yaml")
    cameras = World(scene).rollout().cameras
    assert cameras["own"].lens.exposure_ev == -0.5  # the camera's value overrides the scene's
    assert cameras["inherits"].lens.exposure_ev == 1.25
    plain = load_scene_from_string(SCENE_EXPOSURE.format(scene=0.0).replace("exposure_ev: 0.0\n", ""))
    assert World(plain).rollout().cameras["inherits"].lens.exposure_ev == 0.0


@pytest.mark.parametrize(
    ("value", "reason"),
    [("25", "within +-20 stops, got 25"), ("-21.5", "within +-20 stops, got -21.5"), ("bright", "bright")],
)
def test_bad_scene_exposure_names_file_key_and_reason(value, reason):
    with pytest.raises(SceneError) as caught:
        load_scene_from_string(SCENE_EXPOSURE.format(scene=value), "exposed.yaml")
    matching = [issue for issue in caught.value.issues if issue[1] == "exposure_ev"]
    assert len(matching) == 1, caught.value.issues
    file, _, message = matching[0]
    assert file == "exposed.yaml" and reason in message


def test_a_python_scene_gets_the_exposure_check():
    from worldsim.scene.scene import Scene
    from worldsim.scene.validation import collect_issues

    issues = dict(collect_issues(Scene(exposure_ev=float("inf"))))
    assert issues["exposure_ev"] == "exposure_ev must be within +-20 stops, got inf"
