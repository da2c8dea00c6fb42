"""``ViewedWorld``: a scene file or clip folder, prepared for display (no viser here).

Entities become trimesh meshes in their object frame with per-vertex linear albedo from the
same material function every renderer uses; poses, presence and cameras come from the rollout
(a clip's own ``trajectory.json`` when a clip folder is given, so the viewer shows what was rendered).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import trimesh

from worldsim.errors import SceneError, WorldsimError
from worldsim.scene.scene import Scene
from worldsim.state import Trajectory

TEXTURE_CELLS = 96
"""A textured entity is subdivided until no edge is longer than its largest extent / this, so its
procedural texture shows as face colours (uniform materials keep their mesh)."""

MAX_DISPLAY_FACES = 400_000
"""Subdivision stops short of this many faces per entity."""
"""Clip folders whose frames the image panel can show (those present on disk)."""


@dataclass
class EntityMesh:
    """One entity for display."""

    entity_id: int
    name: str
    semantic_class: str
    column: int
    mesh: trimesh.Trimesh
    """Object frame, face colours = linear albedo x 255 at each face centre (textured meshes are
    subdivided first, see ``TEXTURE_CELLS``)."""
    mean_albedo: np.ndarray
    """(3,) linear RGB, the area-weighted mean albedo."""


@dataclass
class ViewedWorld:
    """Scene, rollout and (for a clip folder) the clip, with display meshes."""

    scene: Scene
    trajectory: Trajectory
    entities: list[EntityMesh]
    source: Path
    clip_path: Path | None = None

    @property
    def num_frames(self) -> int:
        return len(self.trajectory)

    @property
    def fps(self) -> float:
        return float(self.trajectory.fps)

    def entity_pose(self, entity: EntityMesh, frame: int) -> np.ndarray:
        """(4, 4) object_to_world of ``entity`` at ``frame``."""
        return self.trajectory.object_to_world[frame, entity.column]

    def present(self, entity: EntityMesh, frame: int) -> bool:
        return bool(self.trajectory.present[frame, entity.column])

    @cached_property
    def clip_images(self) -> list[str]:
        """``rgb`` (when rendered) and every guidance map of the clip with a preview colouring
        (``worldsim.clip.guidance_maps``); empty for a scene file. Read from metadata.json once,
        not on every timeline move."""
        from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE
        from worldsim.clip.metadata import read_metadata

        if self.clip_path is None:
            return []
        listed = read_metadata(self.clip_path / "metadata.json").get("settings", {}).get("guidance", [])
        names = ["rgb"] if (self.clip_path / "rgb").is_dir() else []
        return names + [name for name in listed if getattr(GUIDANCE_MAP_TABLE.get(name), "preview", None)]

    def clip_image(self, name: str, frame: int) -> np.ndarray | None:
        """(H, W, 3) uint8 of clip image ``name`` at ``frame`` (maps in their preview colours),
        or None where the frame is not on disk."""
        from worldsim.clip.clip import Clip
        from worldsim.clip.guidance_io import read_guidance_frame
        from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE

        if self.clip_path is None or name not in self.clip_images:
            return None
        clip = Clip(self.clip_path)
        try:
            if name == "rgb":
                return clip.rgb(frame)
            return GUIDANCE_MAP_TABLE[name].preview(read_guidance_frame(clip, frame, [name]))
        except (WorldsimError, OSError):
            return None

    def instance_mask(self, entity_id: int, frame: int) -> np.ndarray | None:
        """(H, W) bool mask of an entity in the clip's instance map, or None without one."""
        from worldsim.clip.clip import Clip

        if self.clip_path is None or not (self.clip_path / "instance").is_dir():
            return None
        try:
            return Clip(self.clip_path).instance(frame) == entity_id
        except (WorldsimError, OSError):
            return None


def load_viewed_world(path: str | Path) -> ViewedWorld:
    """A YAML scene file (rolled out here) or a clip folder (its scene.yaml and trajectory.json).

    Raises SceneError / AssetError naming the file for a missing or invalid input.
    """
    from worldsim.render import load_and_validate, rollout

    path = Path(path)
    if path.is_dir():
        scene_file, trajectory_file = path / "scene.yaml", path / "trajectory.json"
        missing = [item.name for item in (scene_file, trajectory_file) if not item.is_file()]
        if missing:
            raise SceneError(
                f"not a clip folder: no {' or '.join(missing)} (render or simulate a scene into it first)",
                file=str(path),
            )
        scene = load_and_validate(scene_file)
        trajectory = Trajectory.load(trajectory_file)
        clip_path: Path | None = path
    elif path.is_file():
        scene = load_and_validate(path)
        trajectory = rollout(scene)
        clip_path = None
    else:
        raise SceneError("no such scene file or clip folder", file=str(path))
    return ViewedWorld(scene, trajectory, _entity_meshes(trajectory), path, clip_path)


def _entity_meshes(trajectory: Trajectory) -> list[EntityMesh]:
    from worldsim.scene.materials import evaluate_material, is_uniform, material_seed
    from worldsim.scene.meshes import load_mesh

    meshes = []
    for column, entity in enumerate(trajectory.entities):
        source = load_mesh(entity.mesh)
        mesh = source.copy() if is_uniform(entity.material) else _subdivided(source)
        seed = material_seed(trajectory.seed, entity.id, entity.material)
        albedo = evaluate_material(entity.material, mesh.triangles_center, seed=seed).albedo
        colours = np.empty((len(mesh.faces), 4), dtype=np.uint8)
        colours[:, :3] = np.clip(np.rint(albedo * 255.0), 0, 255).astype(np.uint8)
        colours[:, 3] = 255
        mesh.visual = trimesh.visual.ColorVisuals(mesh, face_colors=colours)
        area = mesh.area_faces
        mean = (albedo * area[:, None]).sum(axis=0) / max(area.sum(), 1e-12)
        meshes.append(EntityMesh(entity.id, entity.name, entity.semantic_class, column, mesh, mean))
    return meshes


def _subdivided(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy whose edges are at most 1 / TEXTURE_CELLS of the largest extent (within the face budget)."""
    max_edge = float(np.max(mesh.extents)) / TEXTURE_CELLS
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    while True:
        edges = np.linalg.norm(vertices[faces[:, [1, 2, 0]]] - vertices[faces], axis=-1).max()
        if edges <= max_edge or len(faces) * 4 > MAX_DISPLAY_FACES:
            return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
        vertices, faces = trimesh.remesh.subdivide(vertices, faces)
