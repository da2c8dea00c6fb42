"""Meshes: primitives against analytic formulas, file formats, axes, cache, errors, shipped assets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import trimesh

from worldsim.errors import AssetError
from worldsim.scene import meshes
from worldsim.scene.meshes import (
    clear_mesh_cache,
    is_watertight_volume,
    load_mesh,
    mesh_bounds,
    mesh_fingerprint,
    mesh_scale,
    primitive_params,
)
from worldsim.scene.model import PRIMITIVE_TYPES, MeshSpec

EXACT = 1e-9
"""Relative tolerance where the tessellated shape has a closed-form volume."""
TESSELLATION = 0.02
"""Relative tolerance against the smooth shape's formula for curved primitives."""

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS = REPO_ROOT / "scenes" / "assets"


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    clear_mesh_cache()


def polygon_area(radius: float, sections: int) -> float:
    """Area of the regular ``sections``-gon inscribed in a circle of ``radius``."""
    return 0.5 * sections * radius**2 * math.sin(2 * math.pi / sections)


def assert_bounds(mesh: trimesh.Trimesh, low: list[float], high: list[float], atol: float = 1e-9) -> None:
    np.testing.assert_allclose(mesh.bounds, [low, high], atol=atol)


# --- primitives --------------------------------------------------------------------------------


def test_box_bounds_and_volume() -> None:
    mesh = load_mesh(MeshSpec(type="box", size=[1.0, 2.0, 3.0]))
    assert_bounds(mesh, [-0.5, -1.0, -1.5], [0.5, 1.0, 1.5])
    assert mesh.volume == pytest.approx(6.0, rel=EXACT)
    assert is_watertight_volume(mesh)


def test_sphere_vertices_on_radius_and_volume() -> None:
    mesh = load_mesh(MeshSpec(type="sphere", radius=0.7, subdivisions=4))
    np.testing.assert_allclose(np.linalg.norm(mesh.vertices, axis=1), 0.7, rtol=1e-12)
    assert len(mesh.faces) == 20 * 4**4
    assert mesh.volume == pytest.approx(4 / 3 * math.pi * 0.7**3, rel=TESSELLATION)
    assert mesh.volume < 4 / 3 * math.pi * 0.7**3  # inscribed


def test_cylinder_exact_prism_volume() -> None:
    mesh = load_mesh(MeshSpec(type="cylinder", radius=0.3, height=2.0, subdivisions=24))
    assert mesh.volume == pytest.approx(polygon_area(0.3, 24) * 2.0, rel=EXACT)
    assert mesh.volume == pytest.approx(math.pi * 0.3**2 * 2.0, rel=TESSELLATION)
    assert_bounds(mesh, [-0.3, -0.3, -1.0], [0.3, 0.3, 1.0], atol=1e-3)


def test_cone_centred_with_apex_up() -> None:
    mesh = load_mesh(MeshSpec(type="cone", radius=0.5, height=1.2, subdivisions=16))
    assert mesh.volume == pytest.approx(polygon_area(0.5, 16) * 1.2 / 3, rel=EXACT)
    assert mesh.bounds[0, 2] == pytest.approx(-0.6) and mesh.bounds[1, 2] == pytest.approx(0.6)
    apex = mesh.vertices[np.argmax(mesh.vertices[:, 2])]
    np.testing.assert_allclose(apex, [0.0, 0.0, 0.6], atol=1e-12)


def test_capsule_height_is_the_cylindrical_part() -> None:
    radius, height = 0.2, 0.6
    mesh = load_mesh(MeshSpec(type="capsule", radius=radius, height=height, subdivisions=48))
    assert_bounds(
        mesh, [-radius, -radius, -0.5 * height - radius], [radius, radius, 0.5 * height + radius], atol=1e-3
    )
    expected = math.pi * radius**2 * height + 4 / 3 * math.pi * radius**3
    assert mesh.volume == pytest.approx(expected, rel=TESSELLATION)
    assert is_watertight_volume(mesh)


def test_torus_pappus_volume() -> None:
    major, minor = 0.5, 0.1
    mesh = load_mesh(MeshSpec(type="torus", radius=major, minor_radius=minor, subdivisions=64))
    assert mesh.volume == pytest.approx(2 * math.pi**2 * major * minor**2, rel=TESSELLATION)
    assert_bounds(mesh, [-0.6, -0.6, -0.1], [0.6, 0.6, 0.1], atol=2e-3)


@pytest.mark.parametrize("cells", [None, 4])
def test_plane_in_xy_with_normal_up(cells: int | None) -> None:
    mesh = load_mesh(MeshSpec(type="plane", size=[3.0, 2.0], subdivisions=cells))
    assert len(mesh.faces) == 2 * (cells or 1) ** 2
    assert_bounds(mesh, [-1.5, -1.0, 0.0], [1.5, 1.0, 0.0])
    assert mesh.area == pytest.approx(6.0, rel=EXACT)
    np.testing.assert_allclose(mesh.face_normals, np.tile([0.0, 0.0, 1.0], (len(mesh.faces), 1)), atol=1e-12)


@pytest.mark.parametrize("kind", PRIMITIVE_TYPES)
def test_default_primitives_fit_the_unit_cube_and_match_params(kind: str) -> None:
    spec = MeshSpec(type=kind)
    mesh = load_mesh(spec)
    assert len(mesh.faces) > 0
    assert np.all(mesh.bounds[0] >= -0.5 - 1e-9) and np.all(mesh.bounds[1] <= 0.5 + 1e-9)
    assert np.max(mesh.extents) == pytest.approx(1.0, rel=1e-3)
    params = primitive_params(spec)
    explicit = MeshSpec(
        type=kind,
        size=list(params.size) if params.size else None,
        radius=params.radius,
        height=params.height,
        minor_radius=params.minor_radius,
        subdivisions=params.sections,
    )
    assert mesh_fingerprint(explicit) == mesh_fingerprint(spec)
    assert load_mesh(explicit) is mesh


@pytest.mark.parametrize("kind", PRIMITIVE_TYPES)
def test_scaled_primitive_equals_params_times_scale(kind: str) -> None:
    # Consumers that build native shapes (physics) rely on: mesh = primitive(params) * mesh_scale.
    scale = [2.0, 0.5, 1.5]
    spec = MeshSpec(type=kind, scale=scale)
    np.testing.assert_array_equal(mesh_scale(spec), scale)
    np.testing.assert_array_equal(mesh_scale(MeshSpec(type=kind)), [1.0, 1.0, 1.0])
    unscaled = load_mesh(MeshSpec(type=kind))
    np.testing.assert_allclose(load_mesh(spec).vertices, unscaled.vertices * scale, rtol=1e-12)


def test_irrelevant_fields_do_not_change_the_fingerprint() -> None:
    assert mesh_fingerprint(MeshSpec(type="box", radius=3.0)) == mesh_fingerprint(MeshSpec(type="box"))
    assert mesh_fingerprint(MeshSpec(type="box", scale=[2.0, 1.0, 1.0])) != mesh_fingerprint(
        MeshSpec(type="box")
    )
    assert mesh_fingerprint(MeshSpec(type="box", scale=[1.0, 1.0, 1.0])) == mesh_fingerprint(
        MeshSpec(type="box")
    )


@pytest.mark.parametrize(
    ("spec", "key_path", "reason"),
    [
        (MeshSpec(type="sphere", radius=-1.0), "mesh.radius", "positive"),
        (MeshSpec(type="box", size=[1.0, 2.0]), "mesh.size", "needs 3 values"),
        (MeshSpec(type="box", size=[1.0, float("nan"), 1.0]), "mesh.size[1]", "finite"),
        (MeshSpec(type="cylinder", subdivisions=2), "mesh.subdivisions", ">= 3"),
        (MeshSpec(type="torus", minor_radius=0.0), "mesh.minor_radius", "positive"),
        (MeshSpec(type="blob"), "mesh.type", "unknown mesh type"),
        (MeshSpec(type="box", scale=[1.0, 0.0, 1.0]), "mesh.scale[1]", "positive"),
        (MeshSpec(type="box", scale=[1.0, 2.0]), "mesh.scale", "needs 3 values"),
        (MeshSpec(type="box", scale=[2.0]), "mesh.scale", "needs 3 values"),
        (MeshSpec(type="box", up_axis="w"), "mesh.up_axis", "unknown up_axis"),
        (MeshSpec(type="cylinder", up_axis="y"), "mesh.up_axis", "applies to mesh files only"),
        (MeshSpec(type="file"), "mesh.file", "needs a 'file'"),
    ],
)
def test_bad_specs_raise_asset_error_with_key_path(spec: MeshSpec, key_path: str, reason: str) -> None:
    with pytest.raises(AssetError, match=reason) as caught:
        load_mesh(spec)
    assert caught.value.key_path == key_path


def test_key_path_prefix_is_used_in_errors() -> None:
    with pytest.raises(AssetError) as caught:
        load_mesh(MeshSpec(type="sphere", radius=0.0), key_path="entities[3].mesh")
    assert caught.value.key_path == "entities[3].mesh.radius"
    assert "entities[3].mesh.radius" in str(caught.value)


# --- files ---------------------------------------------------------------------------------------


def asymmetric_mesh() -> trimesh.Trimesh:
    """A cone (apex +Z) shifted off-centre: any wrong axis or sign shows in its bounds."""
    cone = trimesh.creation.cone(radius=0.25, height=1.0, sections=12)
    cone.apply_translation([0.5, 1.0, 2.0])
    return cone


@pytest.mark.parametrize("extension", ["obj", "ply", "stl", "glb", "gltf"])
def test_file_round_trip(tmp_path: Path, extension: str) -> None:
    source = asymmetric_mesh()
    source.export(tmp_path / f"cone.{extension}")
    mesh = load_mesh(MeshSpec(type="file", file=f"cone.{extension}"), tmp_path)
    assert len(mesh.faces) == len(source.faces)
    np.testing.assert_allclose(mesh.bounds, source.bounds, atol=1e-6)  # STL stores float32
    assert mesh.volume == pytest.approx(source.volume, rel=1e-5)


def test_obj_materials_and_missing_textures_are_ignored(tmp_path: Path) -> None:
    # worldsim materials are procedural; an OBJ's .mtl (even one naming a missing image) is skipped.
    (tmp_path / "tri.obj").write_text(
        "mtllib tri.mtl\nusemtl a\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nf 1/1 2/2 3/3\n"
    )
    (tmp_path / "tri.mtl").write_text("newmtl a\nmap_Kd missing.png\n")
    mesh = load_mesh(MeshSpec(type="file", file="tri.obj"), tmp_path)
    assert len(mesh.faces) == 1 and mesh.area == pytest.approx(0.5)


def test_absolute_path_ignores_base_dir(tmp_path: Path) -> None:
    asymmetric_mesh().export(tmp_path / "cone.ply")
    mesh = load_mesh(MeshSpec(type="file", file=str(tmp_path / "cone.ply")), "/nonexistent")
    assert len(mesh.faces) == 24


def test_glb_scene_concatenates_nodes_with_transforms(tmp_path: Path) -> None:
    scene = trimesh.Scene()
    box = trimesh.creation.box(extents=[1.0, 1.0, 1.0])
    scene.add_geometry(
        box,
        geom_name="box",
        node_name="a",
        transform=trimesh.transformations.translation_matrix([3.0, 0.0, 0.0]),
    )
    # The same geometry instanced by a second node, rotated 90 deg about Z and lifted.
    transform = trimesh.transformations.rotation_matrix(math.pi / 2, [0, 0, 1])
    transform[:3, 3] = [0.0, 0.0, 5.0]
    scene.graph.update(frame_to="b", frame_from=scene.graph.base_frame, matrix=transform, geometry="box")
    scene.add_geometry(
        trimesh.creation.icosphere(subdivisions=1, radius=0.5),
        geom_name="ball",
        node_name="c",
        transform=trimesh.transformations.translation_matrix([0, -4.0, 0]),
    )
    scene.export(tmp_path / "scene.glb")
    mesh = load_mesh(MeshSpec(type="file", file="scene.glb"), tmp_path)
    assert len(mesh.faces) == 12 + 12 + 80
    assert_bounds(mesh, [-0.5, -4.5, -0.5], [3.5, 0.5, 5.5], atol=1e-6)
    assert mesh.volume == pytest.approx(2.0 + trimesh.creation.icosphere(1, 0.5).volume, rel=1e-6)


@pytest.mark.parametrize(
    ("up_axis", "file_up"),
    [
        ("y", [0, 1, 0]),
        ("Y", [0, 1, 0]),
        ("+y", [0, 1, 0]),
        ("-y", [0, -1, 0]),
        ("x", [1, 0, 0]),
        ("-x", [-1, 0, 0]),
        ("z", [0, 0, 1]),
        ("-z", [0, 0, -1]),
    ],
)
def test_up_axis_maps_the_files_up_to_z(tmp_path: Path, up_axis: str, file_up: list[int]) -> None:
    # A cone whose apex points along the file's up axis, 2 m from the origin.
    cone = trimesh.creation.cone(radius=0.2, height=1.0, sections=8)
    rotation = trimesh.geometry.align_vectors([0, 0, 1], file_up)
    cone.apply_translation([0, 0, 1.0])
    cone.apply_transform(rotation)
    cone.export(tmp_path / "cone.obj")
    mesh = load_mesh(MeshSpec(type="file", file="cone.obj", up_axis=up_axis), tmp_path)
    apex = mesh.vertices[np.argmax(np.linalg.norm(mesh.vertices, axis=1))]
    np.testing.assert_allclose(apex, [0.0, 0.0, 2.0], atol=1e-6)  # OBJ keeps ~8 significant digits
    assert mesh.volume == pytest.approx(cone.volume, rel=1e-6)  # a proper rotation: no mirroring


def test_y_up_rotation_is_plus_90_about_x(tmp_path: Path) -> None:
    # glTF convention (Y up, front +Z) -> worldsim (Z up, that front becomes -Y), as Blender does.
    source = trimesh.Trimesh(
        vertices=[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]],
        faces=[[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]],
    )
    source.export(tmp_path / "tetra.ply")
    mesh = load_mesh(MeshSpec(type="file", file="tetra.ply", up_axis="y"), tmp_path)
    expected = {(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0)}
    assert {tuple(np.round(vertex, 9) + 0.0) for vertex in mesh.vertices} == expected


def test_scale_then_center(tmp_path: Path) -> None:
    source = asymmetric_mesh()
    source.export(tmp_path / "cone.obj")
    scaled = load_mesh(MeshSpec(type="file", file="cone.obj", scale=[2.0, 1.0, 0.5]), tmp_path)
    np.testing.assert_allclose(scaled.bounds, source.bounds * [2.0, 1.0, 0.5], atol=1e-9)
    assert scaled.volume == pytest.approx(source.volume, rel=1e-6)  # det(scale) = 1; OBJ precision
    centred = load_mesh(MeshSpec(type="file", file="cone.obj", scale=[2.0, 1.0, 0.5], center=True), tmp_path)
    np.testing.assert_allclose(centred.bounds, [-0.5 * scaled.extents, 0.5 * scaled.extents], atol=1e-9)
    uniform = load_mesh(MeshSpec(type="sphere", radius=1.0, scale=[3.0, 3.0, 3.0]))
    assert_bounds(uniform, [-3.0] * 3, [3.0] * 3, atol=1e-9)
    # scale applies after up_axis: the file's Y (up) axis is scaled as Z.
    stretched = load_mesh(
        MeshSpec(type="file", file="cone.obj", up_axis="y", scale=[1.0, 1.0, 10.0]), tmp_path
    )
    assert stretched.extents[2] == pytest.approx(10.0 * source.extents[1])


# --- cache -----------------------------------------------------------------------------------------


def test_cache_loads_a_shared_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asymmetric_mesh().export(tmp_path / "cone.obj")
    loads: list[Path] = []
    original = meshes._trimesh_load

    def counting_load(path: Path, kind: str) -> object:
        loads.append(path)
        return original(path, kind)

    monkeypatch.setattr(meshes, "_trimesh_load", counting_load)
    spec = MeshSpec(type="file", file="cone.obj")
    results = [load_mesh(MeshSpec(type="file", file="cone.obj"), tmp_path) for _ in range(100)]
    assert len(loads) == 1
    assert all(result is results[0] for result in results)
    # Same content under another name and path: same processed mesh, same fingerprint.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "copy.obj").write_bytes((tmp_path / "cone.obj").read_bytes())
    assert load_mesh(MeshSpec(type="file", file="sub/copy.obj"), tmp_path) is results[0]
    assert mesh_fingerprint(MeshSpec(type="file", file="sub/copy.obj"), tmp_path) == mesh_fingerprint(
        spec, tmp_path
    )
    assert len(loads) == 1
    # Different processing of the same file is a different cache entry.
    assert load_mesh(MeshSpec(type="file", file="cone.obj", center=True), tmp_path) is not results[0]
    assert len(loads) == 2


def test_changed_file_reloads(tmp_path: Path) -> None:
    path = tmp_path / "thing.stl"
    trimesh.creation.box(extents=[1, 1, 1]).export(path)
    spec = MeshSpec(type="file", file="thing.stl")
    first = load_mesh(spec, tmp_path)
    fingerprint = mesh_fingerprint(spec, tmp_path)
    trimesh.creation.box(extents=[2, 1, 1]).export(path)
    second = load_mesh(spec, tmp_path)
    assert second is not first
    assert second.extents[0] == pytest.approx(2.0)
    assert mesh_fingerprint(spec, tmp_path) != fingerprint


def test_gltf_external_buffer_change_reloads(tmp_path: Path) -> None:
    trimesh.creation.box(extents=[1, 1, 1]).export(tmp_path / "a.gltf")
    buffers = sorted(tmp_path.glob("*.bin"))
    assert buffers, "trimesh writes the GLTF geometry to external .bin buffers"
    spec = MeshSpec(type="file", file="a.gltf")
    before = mesh_fingerprint(spec, tmp_path)
    data = bytearray(buffers[0].read_bytes())
    data[-1] ^= 0xFF
    buffers[0].write_bytes(bytes(data))
    assert mesh_fingerprint(spec, tmp_path) != before


def test_cached_meshes_are_immutable_and_copies_are_not() -> None:
    mesh = load_mesh(MeshSpec(type="box"))
    with pytest.raises(ValueError):
        mesh.apply_translation([1.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        mesh.vertices[0] = [9.0, 9.0, 9.0]
    assert_bounds(load_mesh(MeshSpec(type="box")), [-0.5] * 3, [0.5] * 3)
    private = mesh.copy()
    private.apply_translation([1.0, 0.0, 0.0])
    assert private.bounds[0, 0] == pytest.approx(0.5)
    assert mesh.bounds[0, 0] == pytest.approx(-0.5)


def test_mesh_bounds_is_a_tight_bounding_sphere() -> None:
    sphere = load_mesh(MeshSpec(type="sphere", radius=0.8))
    center, radius = mesh_bounds(sphere)
    np.testing.assert_allclose(center, 0.0, atol=1e-12)
    assert radius == pytest.approx(0.8, rel=1e-12)
    cone = load_mesh(MeshSpec(type="cone", radius=0.3, height=2.0, scale=[1.0, 1.0, 1.0]))
    center, radius = mesh_bounds(cone)
    assert np.all(np.linalg.norm(cone.vertices - center, axis=1) <= radius + 1e-12)
    # Within 20 % of the minimal enclosing sphere (trimesh's exact n-sphere solver).
    _, minimal = trimesh.nsphere.minimum_nsphere(cone)
    assert minimal <= radius <= 1.2 * minimal


# --- errors ------------------------------------------------------------------------------------------


def write_bytes(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("garbage.glb", b"this is not a mesh\x00\x01\x02", "corrupt or unreadable GLB"),
        ("garbage.ply", b"this is not a mesh\x00\x01\x02", "corrupt or unreadable PLY"),
        ("garbage.obj", b"v 1 2\nf 1 2 3\n", "corrupt or unreadable OBJ"),
        ("binary.stl", b"\x00" * 84, "zero faces"),
        ("points.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "zero faces"),
        ("empty.ply", b"", "empty"),
        ("solid.stl", b"solid x\nendsolid x\n", "zero faces"),
        ("nan.obj", b"v 0 0 0\nv 1 0 nan\nv 0 1 0\nf 1 2 3\n", "non-finite"),
        ("broken.gltf", b"{not json", "not JSON"),
        (
            "nobuffer.gltf",
            b'{"asset": {"version": "2.0"}, "buffers": [{"uri": "gone.bin", "byteLength": 8}]}',
            "'gone.bin'",
        ),
    ],
)
def test_bad_files_raise_asset_error_naming_the_file(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = write_bytes(tmp_path, name, data)
    with pytest.raises(AssetError, match=reason) as caught:
        load_mesh(MeshSpec(type="file", file=name), tmp_path)
    assert caught.value.file == str(path)
    assert str(path) in str(caught.value)
    assert caught.value.key_path == "mesh.file"
    assert "Traceback" not in str(caught.value)


def test_missing_unsupported_directory_and_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AssetError, match="not found") as caught:
        load_mesh(MeshSpec(type="file", file="missing.obj"), tmp_path)
    assert str(tmp_path / "missing.obj") in str(caught.value)
    write_bytes(tmp_path, "model.fbx", b"x")
    with pytest.raises(AssetError, match=r"unsupported mesh file type '\.fbx'") as caught:
        load_mesh(MeshSpec(type="file", file="model.fbx"), tmp_path)
    assert str(tmp_path / "model.fbx") in str(caught.value)
    (tmp_path / "folder.obj").mkdir()
    with pytest.raises(AssetError, match="not a regular file") as caught:
        load_mesh(MeshSpec(type="file", file="folder.obj"), tmp_path)
    assert str(tmp_path / "folder.obj") in str(caught.value)
    # Unreadable: permissions do not stop root, so make the read itself fail.
    path = tmp_path / "locked.obj"
    asymmetric_mesh().export(path)

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(AssetError, match="cannot read mesh file: Permission denied") as caught:
        load_mesh(MeshSpec(type="file", file="locked.obj"), tmp_path)
    assert caught.value.file == str(path)


# --- shipped assets -----------------------------------------------------------------------------------

SHIPPED = {
    # file: (up axis, faces, watertight volume)
    "car.obj": ("z", 1144, True),
    "chair.glb": ("y", 72, True),
    "mug.ply": ("z", 1344, True),
    "stairs.stl": ("z", 44, True),
    "rock.obj": ("z", 1280, True),
}
MAX_ASSET_BYTES = 200 * 1024


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_assets_load(name: str) -> None:
    up_axis, faces, watertight = SHIPPED[name]
    path = ASSETS / name
    assert path.stat().st_size < MAX_ASSET_BYTES
    mesh = load_mesh(MeshSpec(type="file", file=f"assets/{name}", up_axis=up_axis), REPO_ROOT / "scenes")
    assert len(mesh.faces) == faces
    assert is_watertight_volume(mesh) == watertight
    assert f"`{name}`" in (ASSETS / "README.md").read_text()
    if name != "rock.obj":
        assert mesh.bounds[0, 2] == pytest.approx(0.0, abs=1e-6)  # stands on z = 0


def test_shipped_asset_shapes() -> None:
    scenes = REPO_ROOT / "scenes"
    car = load_mesh(MeshSpec(type="file", file="assets/car.obj"), scenes)
    assert car.extents[0] == pytest.approx(4.38, abs=0.01) and car.extents[0] > 2 * car.extents[1]
    chair = load_mesh(MeshSpec(type="file", file="assets/chair.glb", up_axis="y"), scenes)
    np.testing.assert_allclose(chair.extents, [0.46, 0.46, 0.975], atol=1e-6)
    stairs = load_mesh(MeshSpec(type="file", file="assets/stairs.stl"), scenes)
    assert stairs.volume == pytest.approx(0.3 * 0.18 * (1 + 2 + 3 + 4 + 5) * 1.0, rel=1e-6)


def test_make_assets_reproduces_the_committed_geometry(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_assets", REPO_ROOT / "tools" / "make_assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first, second = tmp_path / "a", tmp_path / "b"
    assert module.write_assets(first) == {name: faces for name, (_, faces, _) in SHIPPED.items()}
    module.write_assets(second)
    for name, (up_axis, _, _) in SHIPPED.items():
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} is not deterministic"
        generated = load_mesh(MeshSpec(type="file", file=name, up_axis=up_axis), first)
        committed = load_mesh(MeshSpec(type="file", file=name, up_axis=up_axis), ASSETS)
        np.testing.assert_allclose(generated.vertices, committed.vertices, atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(generated.faces, committed.faces)
