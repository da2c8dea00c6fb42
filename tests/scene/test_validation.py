"""validate_scene on Python-built scenes and the configured limits."""

from __future__ import annotations

import pytest

from worldsim.errors import SceneError
from worldsim.scene.model import EntitySpec, MeshSpec, MotionSpec
from worldsim.scene.scene import Scene
from worldsim.scene.validation import Limits, load_limits, validate_scene


def test_valid_scene_passes() -> None:
    scene = Scene(num_frames=4)
    scene.add(EntitySpec(name="a", mesh=MeshSpec(type="box", size=[1, 1, 1])))
    scene.add(EntitySpec(name="b", motion=MotionSpec(type="attach", parent="a")))
    validate_scene(scene)


def test_limits_file_is_read() -> None:
    limits = load_limits()
    # configs/limits.yaml states the dataclass defaults (issue 18 set the input limits).
    assert limits == Limits()
    assert limits == Limits(
        max_width=4096,
        max_height=4096,
        max_frames=100000,
        max_entities=10000,
        max_physics_steps=10_000_000,
        max_primitive_triangles=2_000_000,
        max_file_bytes=5_000_000,
        max_string_length=65536,
        max_nesting_depth=64,
        max_alias_nodes=10000,
    )


def test_custom_limits_and_all_issues() -> None:
    scene = Scene(num_frames=50, resolution=[64, 64])
    scene.add(EntitySpec(name="a"))
    scene.add(EntitySpec(name="b"))
    with pytest.raises(SceneError) as caught:
        validate_scene(
            scene, file="py.yaml", limits=Limits(max_width=32, max_height=128, max_frames=10, max_entities=1)
        )
    assert {issue[1] for issue in caught.value.issues} == {"num_frames", "resolution[0]", "entities"}
    assert all(issue[0] == "py.yaml" for issue in caught.value.issues)


def test_self_orbit_and_missing_parent() -> None:
    scene = Scene()
    scene.add(EntitySpec(name="a", motion=MotionSpec(type="orbit", target="a")))
    scene.add(EntitySpec(name="b", motion=MotionSpec(type="attach")))
    with pytest.raises(SceneError) as caught:
        validate_scene(scene)
    reasons = dict((path, reason) for _, path, reason in caught.value.issues)
    assert "itself" in reasons["entities[0].motion.target"]
    assert "needs a parent" in reasons["entities[1].motion.parent"]


def test_validation_choices_match_what_the_implementations_accept():
    """The validator's enumerations and the code that interprets them cannot drift apart."""
    from worldsim.camera import easing, paths, presets
    from worldsim.scene import meshes, validation
    from worldsim.scene.model import TEXTURE_TYPES

    assert set(validation.EASINGS) == set(easing.EASINGS)
    assert set(validation.UP_AXES) == set(meshes.UP_AXES)
    assert set(validation.CAMERA_POSITION_INTERPOLATIONS) == set(paths.POSITION_INTERPOLATIONS)
    assert set(validation.MOVE_TYPES) == set(presets.MOVES)
    assert set(validation.TEXTURE_TYPES) == set(TEXTURE_TYPES)
