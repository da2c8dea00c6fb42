"""The ``shading_normal`` guidance map carries the material's bump relief (``worldsim.scene.bump``);
``normal`` and the lighting maps do not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from renderers.guidance import GuidanceRenderer
from renderers.guidance.maps import camera_normal_map, shading_normal_map
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.bump import bumped_normals
from worldsim.scene.material_presets import preset_material
from worldsim.scene.materials import material_seed
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec

UNIT_TOLERANCE = 1e-5
"""float32 unit vectors."""
MATCH_TOLERANCE = 2e-5
"""The map against bumped_normals turned by the pose and camera directly (float32 storage)."""


def tilted_planes(camera_y: float, concrete_bump: bool = True):
    """Two 2 m planes side by side, tilted 30 degrees about x (normal (0, -0.5, 0.87)): entity 1
    concrete (bumped), entity 2 plastic (no bump); a camera at (0, ``camera_y``, -0.67
    ``camera_y``) looking at them (positive: it sees their backs)."""
    tilt = np.eye(4)
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    tilt[1:3, 1:3] = [[c, -s], [s, c]]
    poses = np.stack([translation(-1.05, 0.0, 0.0) @ tilt, translation(1.05, 0.0, 0.0) @ tilt])[None]
    camera = looking_at(np.array([0.0, camera_y, -camera_y * 2.0 / 3.0]), np.array([0.0, 0.0, 0.0]))[None]
    concrete = preset_material("concrete")
    if not concrete_bump:
        concrete = dataclasses.replace(concrete, bump_height=0.0)
    trajectory = make_trajectory(
        [MeshSpec(type="plane", size=[2.0, 2.0]), MeshSpec(type="plane", size=[2.0, 2.0])],
        poses,
        camera,
        Intrinsics.from_fov(45.0, 96, 64),
        materials=[concrete, preset_material("plastic")],
        seed=7,
    )
    trajectory.lights = [
        LightSpec(type="sun", name="sun", direction=[-0.3, 0.5, -1.0], intensity=3.0),
        LightSpec(type="environment", name="sky", hdri="courtyard", intensity=1.0),
    ]
    return trajectory


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=-1), -1.0, 1.0)))


@pytest.mark.parametrize("camera_y", [-3.0, 3.0], ids=["front", "back"])
def test_shading_normal_carries_the_bump_and_normal_does_not(camera_y):
    trajectory = tilted_planes(camera_y)
    renderer = GuidanceRenderer(trajectory, threads=False)
    frame = renderer.render(0)
    hits = renderer.backend.cast(0, trajectory.cameras["main"].cam_to_world[0], frame_intrinsics(trajectory))
    smooth = shading_normal_map(hits, renderer.backend.meshes, trajectory)
    np.testing.assert_array_equal(frame.normal, camera_normal_map(hits))

    bumped = frame.instance == 1
    plain = frame.instance == 2
    assert bumped.sum() > 1000 and plain.sum() > 1000
    # The bump-free material keeps the interpolated normal exactly.
    np.testing.assert_array_equal(frame.shading_normal[plain], smooth[plain])
    lengths = np.linalg.norm(frame.shading_normal[bumped | plain], axis=-1)
    assert np.abs(lengths - 1.0).max() < UNIT_TOLERANCE
    # Independent of the map's frame conversions: the relief of the plane's object-frame normal
    # (+Z), turned by the pose into the world and by the camera into its frame, facing the camera.
    material = trajectory.entities[0].material
    seed = material_seed(trajectory.seed, 1, material)
    points = frame.surface_coords[bumped].astype(np.float64)
    object_normals = np.tile([0.0, 0.0, 1.0], (len(points), 1))
    tilted = bumped_normals(material, points, object_normals, seed).astype(np.float64)
    world = tilted @ trajectory.object_to_world[0, 0, :3, :3].T
    expected = world @ trajectory.cameras["main"].cam_to_world[0, :3, :3]
    facing = np.where(np.sum(smooth[bumped] * expected, axis=1) < 0, -1.0, 1.0)[:, None]
    expected *= facing
    assert np.abs(frame.shading_normal[bumped] - expected).max() < MATCH_TOLERANCE
    # The relief tilts the normal by a few degrees almost everywhere (its slope vanishes only at
    # isolated points) while the geometric normal stays flat.
    tilt = angle_deg(frame.shading_normal[bumped], smooth[bumped])
    assert np.mean(tilt > 0.05) > 0.99
    assert 1.0 < np.mean(tilt) < 20.0
    assert angle_deg(frame.normal[bumped], smooth[bumped]).max() < 0.01
    # Both sides of a plane show the same relief, mirrored with the normal.
    assert np.all(np.sum(frame.shading_normal[bumped] * frame.normal[bumped], axis=1) > 0.5)


def test_lighting_maps_do_not_use_the_bump():
    maps = ("shadow", "irradiance", "specular")
    with_bump = GuidanceRenderer(tilted_planes(-3.0), lighting=maps, threads=False).render(0)
    without = GuidanceRenderer(tilted_planes(-3.0, concrete_bump=False), lighting=maps, threads=False).render(
        0
    )
    assert not np.array_equal(with_bump.shading_normal, without.shading_normal)
    for name in maps:
        np.testing.assert_array_equal(getattr(with_bump, name), getattr(without, name))
    assert with_bump.irradiance.max() > 0 and with_bump.specular.max() > 0


def frame_intrinsics(trajectory) -> Intrinsics:
    return trajectory.cameras["main"].intrinsics(0)


def test_bump_free_scenes_keep_the_map_object():
    trajectory = tilted_planes(-3.0)
    for info in trajectory.entities:
        info.material = MaterialSpec()
    renderer = GuidanceRenderer(trajectory, threads=False)
    frame = renderer.render(0)
    hits = renderer.backend.cast(0, trajectory.cameras["main"].cam_to_world[0], frame_intrinsics(trajectory))
    np.testing.assert_array_equal(
        frame.shading_normal, shading_normal_map(hits, renderer.backend.meshes, trajectory)
    )
