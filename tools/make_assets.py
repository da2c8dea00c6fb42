"""Generate the small meshes shipped in ``scenes/assets/`` with trimesh only (no downloads).

Deterministic: running it again writes byte-identical files (checked by ``tests/scene/test_meshes.py``).

    .venv/bin/python tools/make_assets.py [--out scenes/assets]

Units are metres. Every asset stands on z = 0 (its origin is the centre of its footprint) except the
rock, which is centred on its origin. All but ``chair.glb`` are Z up with the front along +X;
``chair.glb`` is written Y up on purpose (load it with ``up_axis: y``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh

from worldsim.randomness import derive_seed
from worldsim.scene.textures import fractal_noise

ASSETS_DIR = Path(__file__).resolve().parents[1] / "scenes" / "assets"

# Z up -> Y up (the inverse of worldsim's ``up_axis: y`` conversion, a +90 deg turn about X).
Z_UP_TO_Y_UP = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])


def box(extents: tuple[float, float, float], center: tuple[float, float, float]) -> trimesh.Trimesh:
    """An axis-aligned box of ``extents`` centred at ``center`` (metres)."""
    return trimesh.creation.box(extents=extents, transform=trimesh.transformations.translation_matrix(center))


def wheel(center: tuple[float, float, float], radius: float, width: float, sections: int) -> trimesh.Trimesh:
    """A cylinder with its axis along Y, centred at ``center``."""
    cylinder = trimesh.creation.cylinder(radius=radius, height=width, sections=sections)
    cylinder.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    cylinder.apply_translation(center)
    return cylinder


def make_car() -> trimesh.Trimesh:
    """A low-poly car, 4.2 m long along +X, 1.76 m wide, 1.42 m high; wheels touch z = 0."""
    parts = [
        box((4.2, 1.76, 0.55), (0.0, 0.0, 0.58)),  # lower body
        box((0.12, 1.7, 0.2), (2.13, 0.0, 0.4)),  # front bumper
        box((0.12, 1.7, 0.2), (-2.13, 0.0, 0.4)),  # rear bumper
        box((0.04, 0.3, 0.1), (2.11, 0.62, 0.72)),  # headlights
        box((0.04, 0.3, 0.1), (2.11, -0.62, 0.72)),
        box((0.04, 0.3, 0.1), (-2.11, 0.62, 0.72)),  # tail lights
        box((0.04, 0.3, 0.1), (-2.11, -0.62, 0.72)),
        box((0.12, 0.14, 0.08), (0.55, 0.87, 1.0)),  # mirrors
        box((0.12, 0.14, 0.08), (0.55, -0.87, 1.0)),
    ]
    # Cabin: a convex frustum, wider at the bottom, windscreen raked toward the front.
    cabin_corners = [
        (x, y * sign, z)
        for x, y, z in [(-1.5, 0.84, 0.85), (0.9, 0.84, 0.85), (-1.15, 0.7, 1.42), (0.2, 0.7, 1.42)]
        for sign in (1, -1)
    ]
    parts.append(trimesh.convex.convex_hull(np.array(cabin_corners)))
    for x in (1.35, -1.35):
        for y in (0.78, -0.78):
            parts.append(wheel((x, y, 0.33), radius=0.33, width=0.24, sections=32))
            parts.append(wheel((x, y + np.sign(y) * 0.03, 0.33), radius=0.2, width=0.22, sections=32))
    return trimesh.util.concatenate(parts)


def make_chair() -> trimesh.Scene:
    """A chair as a Y-up scene graph: seat, one leg geometry instanced 4 times, backrest.

    In worldsim's Z-up frame (after ``up_axis: y``): 0.46 m x 0.46 m seat at 0.45 m, back at -X.
    """
    scene = trimesh.Scene()
    seat = trimesh.creation.box(extents=(0.46, 0.46, 0.05))
    leg = trimesh.creation.box(extents=(0.04, 0.04, 0.43))
    back = trimesh.creation.box(extents=(0.04, 0.46, 0.5))

    def place(name: str, geometry_name: str, geometry: trimesh.Trimesh, position: tuple[float, ...]) -> None:
        transform = Z_UP_TO_Y_UP @ trimesh.transformations.translation_matrix(position)
        if geometry_name not in scene.geometry:
            scene.add_geometry(geometry, geom_name=geometry_name, node_name=name, transform=transform)
        else:
            scene.graph.update(
                frame_to=name, frame_from=scene.graph.base_frame, matrix=transform, geometry=geometry_name
            )

    place("seat", "seat", seat, (0.0, 0.0, 0.455))
    for index, (x, y) in enumerate([(0.2, 0.2), (0.2, -0.2), (-0.2, 0.2), (-0.2, -0.2)]):
        place(f"leg_{index}", "leg", leg, (x, y, 0.215))
    place("back", "back", back, (-0.21, 0.0, 0.725))  # sunk 5 mm into the seat
    return scene


def make_mug() -> trimesh.Trimesh:
    """A 10 cm mug: hollow cylinder (9 cm across), a bottom and a torus handle at +X."""
    wall = trimesh.creation.annulus(r_min=0.04, r_max=0.045, height=0.1, sections=48)
    wall.apply_translation((0.0, 0.0, 0.05))
    bottom = trimesh.creation.cylinder(radius=0.0402, height=0.006, sections=48)
    bottom.apply_translation((0.0, 0.0, 0.003))
    handle = trimesh.creation.torus(0.028, 0.0065, major_sections=32, minor_sections=12)
    handle.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    handle.apply_translation((0.058, 0.0, 0.052))
    return trimesh.util.concatenate([wall, bottom, handle])


def make_stairs(steps: int = 5, run: float = 0.3, rise: float = 0.18, width: float = 1.0) -> trimesh.Trimesh:
    """A watertight solid staircase climbing along +X: ``steps`` steps of ``run`` x ``rise`` metres.

    The side profile (in XZ) is extruded along Y; its cap is fanned from the bottom-back corner,
    from which the whole profile is visible, so the caps need no extra vertices.
    """
    length = steps * run
    profile = [(length, 0.0), (length, steps * rise)]
    for step in range(steps - 1, 0, -1):
        profile += [(step * run, (step + 1) * rise), (step * run, step * rise)]
    profile += [(0.0, rise), (0.0, 0.0)]
    count = len(profile)
    xz = np.array(profile)
    vertices = np.concatenate(
        [
            np.column_stack([xz[:, 0], np.full(count, -0.5 * width), xz[:, 1]]),
            np.column_stack([xz[:, 0], np.full(count, 0.5 * width), xz[:, 1]]),
        ]
    )
    # The profile runs counter-clockwise seen from -Y, so the y = -w/2 cap faces -Y as fanned.
    cap = [(0, i, i + 1) for i in range(1, count - 1)]
    faces = [*cap, *[(count + a, count + c, count + b) for a, b, c in cap]]
    for i in range(count):
        j = (i + 1) % count
        faces += [(i, count + i, count + j), (i, count + j, j)]
    stairs = trimesh.Trimesh(vertices=vertices, faces=np.array(faces), process=True)
    if stairs.volume < 0:
        stairs.invert()
    stairs.apply_translation((-0.5 * length, 0.0, 0.0))
    return stairs


def make_rock() -> trimesh.Trimesh:
    """A ~0.5 m rock: an icosphere displaced radially by seeded fBm noise, flattened, bbox-centred."""
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.25)
    directions = sphere.vertices / np.linalg.norm(sphere.vertices, axis=1, keepdims=True)
    seed = derive_seed(0, "asset.rock")
    displacement = fractal_noise(directions, scale=0.9, octaves=4, seed=seed).astype(np.float64)
    vertices = directions * (0.25 * (1.0 + 0.35 * displacement))[:, None] * np.array([1.15, 1.0, 0.75])
    vertices -= 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
    return trimesh.Trimesh(vertices=vertices, faces=sphere.faces, process=False)


ASSETS: dict[str, Callable[[], trimesh.Trimesh | trimesh.Scene]] = {
    "car.obj": make_car,
    "chair.glb": make_chair,
    "mug.ply": make_mug,
    "stairs.stl": make_stairs,
    "rock.obj": make_rock,
}


def write_assets(out: Path) -> dict[str, int]:
    """Write every asset to ``out``; returns the face count of each file."""
    out.mkdir(parents=True, exist_ok=True)
    faces = {}
    for name, make in ASSETS.items():
        geometry = make()
        path = out / name
        data = geometry.export(file_type=path.suffix.lstrip("."))
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        mesh = geometry.to_mesh() if isinstance(geometry, trimesh.Scene) else geometry
        faces[name] = len(mesh.faces)
    return faces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSETS_DIR, help="output folder (default: scenes/assets)")
    args = parser.parse_args()
    for name, count in write_assets(args.out).items():
        size = (args.out / name).stat().st_size
        print(f"{name:12s} {count:6d} faces {size / 1024:7.1f} KiB")


if __name__ == "__main__":
    main()
