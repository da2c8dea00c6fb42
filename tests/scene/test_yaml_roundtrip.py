"""YAML <-> Python round trips: equal dataclasses, stable ids, includes, interpolation, speed."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from worldsim.camera.spec import CameraKeyframe, CameraSpec
from worldsim.scene.model import EntitySpec, Keyframe, MaterialSpec, MeshSpec, MotionSpec, TextureSpec
from worldsim.scene.scene import Scene
from worldsim.scene.yaml_io import load_scene, load_scene_from_string, save_scene, scene_to_yaml

LOAD_SCALING = 25.0
"""Loading 1,000 entities may take at most this many times loading 100 (linear: about 10; the
quadratic walks this guards against were 100x). A ratio within one run, not a wall-clock budget."""


def _python_scene() -> Scene:
    scene = Scene(name="rt", seed=7, fps=30, num_frames=12, resolution=[64, 48])
    scene.materials["red"] = MaterialSpec(base_color=[1, 0, 0], texture=TextureSpec(type="checker"))
    scene.add(EntitySpec(name="ground", mesh=MeshSpec(type="plane", size=[10, 10])))
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=0.3),
            material="red",
            motion=MotionSpec(
                type="keyframes",
                keyframes=[
                    Keyframe(t=0, position=[0, 0, 1]),
                    Keyframe(t=1, position=[1, 0, 1], euler_deg=[0, 0, 90]),
                ],
            ),
        )
    )
    scene.add(EntitySpec(name="moon", motion=MotionSpec(type="orbit", target="ball", radius=2)))
    scene.add(
        CameraSpec(
            name="side",
            keyframes=[
                CameraKeyframe(t=0, position=[3, 0, 1]),
                CameraKeyframe(t=1, position=[3, 1, 1], target="ball"),
            ],
        )
    )
    return scene


def _reload(scene: Scene) -> Scene:
    loaded = load_scene_from_string(scene_to_yaml(scene))
    loaded.source_file = scene.source_file
    return loaded


def test_python_yaml_python_is_equal() -> None:
    scene = _python_scene()
    loaded = _reload(scene)
    assert loaded == scene
    assert [entity.id for entity in loaded.entities] == [1, 2, 3]
    assert isinstance(loaded.entities[1].material, str)
    assert isinstance(loaded.fps, float) and loaded.resolution == [64, 48]


def test_ids_stable_after_remove() -> None:
    scene = _python_scene()
    scene.remove("moon")
    loaded = _reload(scene)
    assert [(entity.name, entity.id) for entity in loaded.entities] == [("ground", 1), ("ball", 2)]
    assert loaded.next_entity_id == 4
    added = loaded.add(EntitySpec(name="new"))
    assert added.id == 4


def test_missing_ids_assigned_after_max(tmp_path: Path) -> None:
    text = "next_entity_id: 3\nentities:\n  - {name: a}\n  - {name: b, id: 10}\n  - {name: c}\n"
    scene = load_scene_from_string(text)
    assert [entity.id for entity in scene.entities] == [11, 10, 12]
    assert scene.next_entity_id == 13
    assert _reload(scene) == scene


def test_includes_and_interpolation(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "base.yaml").write_text(
        "vars: {size: 0.5}\nmaterials:\n  red: {base_color: [1, 0, 0]}\n  blue: {base_color: [0, 0, 1]}\n"
    )
    (tmp_path / "lib" / "props.yaml").write_text(
        "includes: [base.yaml]\nentities:\n  - {name: crate, mesh: {type: box, size: [1, 1, 1]}, "
        "material: red}\n"
    )
    (tmp_path / "scene.yaml").write_text(
        "includes: [lib/props.yaml]\nvars: {height: 2}\nmaterials:\n  red: {base_color: [0.9, 0.1, 0.1]}\n"
        "entities:\n  - name: ball\n    mesh: {type: sphere, radius: '${vars.size}'}\n"
        "    material: {base_color: '${materials.blue.base_color}'}\n"
        "    pose: {position: [0, 0, '${vars.height}']}\n"
    )
    scene = load_scene(tmp_path / "scene.yaml")
    assert [entity.name for entity in scene.entities] == ["crate", "ball"]
    assert [entity.id for entity in scene.entities] == [1, 2]
    assert scene.materials["red"].base_color == [0.9, 0.1, 0.1]  # the including file wins
    assert scene.entities[1].mesh.radius == 0.5
    assert scene.entities[1].material.base_color == [0.0, 0.0, 1.0]
    assert scene.entities[1].pose.position == [0.0, 0.0, 2.0]
    assert scene.includes == [] and scene.source_file == str((tmp_path / "scene.yaml").resolve())
    saved = save_scene(scene, tmp_path / "clip" / "scene.yaml")
    assert "includes" not in yaml.safe_load(saved.read_text()) and "vars" not in saved.read_text()
    reloaded = load_scene(saved)
    reloaded.source_file = scene.source_file
    assert reloaded == scene


def test_relative_mesh_file_resolved_and_rerunnable(tmp_path: Path) -> None:
    (tmp_path / "meshes").mkdir()
    (tmp_path / "meshes" / "tri.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (tmp_path / "scene.yaml").write_text(
        "entities:\n  - {name: t, mesh: {type: file, file: meshes/tri.obj}}\n"
    )
    scene = load_scene(tmp_path / "scene.yaml")
    assert scene.entities[0].mesh.file == str((tmp_path / "meshes" / "tri.obj").resolve())
    clip_scene = save_scene(scene, tmp_path / "elsewhere" / "deep" / "scene.yaml")
    assert load_scene(clip_scene).entities[0].mesh.file == scene.entities[0].mesh.file


def test_save_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    target = save_scene(_python_scene(), tmp_path / "scene.yaml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.yaml"]
    assert load_scene(target).entity("moon").id == 3


def test_thousand_entities_load_fast(tmp_path: Path) -> None:
    scene = Scene(name="many", num_frames=2)
    for index in range(1000):
        scene.add(
            EntitySpec(
                name=f"e{index}",
                mesh=MeshSpec(type="sphere", radius=0.1),
                motion=MotionSpec(type="velocity", linear_velocity=[index * 0.01, 0, 0]),
            )
        )
    path = save_scene(scene, tmp_path / "many.yaml")
    small = Scene(name="few", num_frames=2)
    for entity in scene.entities[:100]:
        small.add(EntitySpec(name=entity.name, mesh=entity.mesh, motion=entity.motion))
    small_path = save_scene(small, tmp_path / "few.yaml")

    def seconds(file: Path) -> float:
        start = time.perf_counter()
        load_scene(file)
        return time.perf_counter() - start

    load_scene(small_path)  # warm caches and imports once
    elapsed, baseline = min(seconds(path) for _ in range(2)), min(seconds(small_path) for _ in range(3))
    loaded = load_scene(path)
    assert len(loaded.entities) == 1000 and loaded.entities[-1].id == 1000
    assert elapsed < LOAD_SCALING * baseline, f"1000 entities {elapsed:.3f} s vs 100 in {baseline:.3f} s"
