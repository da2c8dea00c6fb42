"""Collision shapes of entities for MuJoCo, in the entity's object frame.

Rules (``PhysicsSpec.collision``):

- ``auto`` / ``primitive``: ``box``, ``sphere``, ``capsule`` and ``cylinder`` meshes become
  MuJoCo primitives with the sizes ``load_mesh`` builds (as long as their ``scale`` keeps them
  one: a non-uniformly scaled sphere is not a sphere); ``plane`` is always a box of
  ``PLANE_THICKNESS`` whose top face is the plane. ``primitive`` on anything else is an error.
- ``auto`` on other meshes: a convex mesh, or any mesh of a dynamic body, becomes its convex
  hull (MuJoCo collides meshes as convex hulls). A non-convex mesh of a static or kinematic
  entity (stairs, a bowl, terrain) becomes its *surface*: one thin convex prism per triangle,
  the triangle extruded ``SURFACE_THICKNESS`` against its normal, so bodies collide with the
  true, non-convex shape from the outside.
- ``convex_hull``: always the convex hull.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from worldsim.errors import SceneError
from worldsim.scene.meshes import load_mesh, primitive_params
from worldsim.scene.model import EntitySpec, MeshSpec

PLANE_THICKNESS = 0.1
"""Metres; a ``plane`` collider is a box this thick below the plane."""
SURFACE_THICKNESS = 0.02
"""Metres; depth of the per-triangle prisms of a non-convex static or kinematic mesh."""
CONVEXITY_TOLERANCE = 0.01
"""A watertight mesh whose volume is within this fraction of its hull's counts as convex."""
MIN_TRIANGLE_AREA = 1e-10
"""Square metres; smaller (degenerate) triangles get no prism."""
PRIMITIVE_SHAPES = ("box", "sphere", "capsule", "cylinder", "plane")
COLLISION_MODES = ("auto", "primitive", "convex_hull")


@dataclass
class CollisionShape:
    """One MuJoCo geom in the entity's object frame.

    geom_type: a ``mujoco.mjtGeom`` name without prefix (``box``, ``sphere``, ``mesh``, ...).
    size: (3,) MuJoCo size parameters (half extents, radius, half length) in metres.
    offset: (3,) geom position in the object frame.
    vertices: (V, 3) vertices of a ``mesh`` geom (MuJoCo collides their convex hull).
    """

    geom_type: str
    size: np.ndarray
    offset: np.ndarray
    vertices: np.ndarray | None = None


def primitive_shape(spec: MeshSpec, key_path: str = "entity") -> CollisionShape | None:
    """The MuJoCo primitive matching a primitive mesh (sizes as ``load_mesh`` builds them), or None."""
    params = primitive_params(spec, key_path=f"{key_path}.mesh")
    scale = np.ones(3) if spec.scale is None else np.asarray(spec.scale, dtype=float)
    if spec.type == "box":
        return CollisionShape("box", 0.5 * np.asarray(params.size) * scale, np.zeros(3))
    if spec.type == "plane":
        half = [0.5 * params.size[0] * scale[0], 0.5 * params.size[1] * scale[1], 0.5 * PLANE_THICKNESS]
        return CollisionShape("box", np.array(half), np.array([0.0, 0.0, -0.5 * PLANE_THICKNESS]))
    if spec.type == "sphere" and np.allclose(scale, scale[0]):
        return CollisionShape("sphere", np.array([params.radius * scale[0], 0.0, 0.0]), np.zeros(3))
    if spec.type in ("cylinder", "capsule") and np.isclose(scale[0], scale[1]):
        if spec.type == "capsule" and not np.isclose(scale[0], scale[2]):
            return None
        size = np.array([params.radius * scale[0], 0.5 * params.height * scale[2], 0.0])
        return CollisionShape(spec.type, size, np.zeros(3))
    return None


def is_convex(mesh: trimesh.Trimesh) -> bool:
    """True if ``mesh`` is watertight and fills its convex hull (within ``CONVEXITY_TOLERANCE``)."""
    if not mesh.is_watertight or mesh.volume <= 0.0:
        return False
    return bool(mesh.volume >= (1.0 - CONVEXITY_TOLERANCE) * mesh.convex_hull.volume)


def hull_shape(mesh: trimesh.Trimesh) -> CollisionShape:
    """The convex hull of ``mesh`` as one mesh geom."""
    return CollisionShape(
        "mesh", np.zeros(3), np.zeros(3), np.asarray(mesh.convex_hull.vertices, dtype=float)
    )


def surface_shapes(mesh: trimesh.Trimesh) -> list[CollisionShape]:
    """One prism per triangle: the triangle and its copy ``SURFACE_THICKNESS`` behind it."""
    triangles = np.asarray(mesh.triangles, dtype=float)
    normals = np.asarray(mesh.face_normals, dtype=float)
    areas = np.asarray(mesh.area_faces, dtype=float)
    keep = areas > MIN_TRIANGLE_AREA
    prisms = np.concatenate(
        [triangles[keep], triangles[keep] - SURFACE_THICKNESS * normals[keep][:, None, :]], axis=1
    )
    return [CollisionShape("mesh", np.zeros(3), np.zeros(3), prism) for prism in prisms]


def collision_shapes(entity: EntitySpec, base_dir: str | Path | None, key_path: str) -> list[CollisionShape]:
    """The geoms of ``entity``'s collider (see the module doc for the rules)."""
    spec = entity.mesh
    mode = entity.physics.collision
    if mode not in COLLISION_MODES:
        raise SceneError(
            f"unknown collision {mode!r} (auto | primitive | convex_hull)",
            key_path=f"{key_path}.physics.collision",
        )
    if spec.type == "plane" or (mode != "convex_hull" and spec.type in PRIMITIVE_SHAPES):
        shape = primitive_shape(spec, key_path)
        if shape is not None:
            return [shape]
    if mode == "primitive":
        raise SceneError(
            f"mesh type {spec.type!r} (with this scale) has no primitive collider; use auto or convex_hull",
            key_path=f"{key_path}.physics.collision",
        )
    mesh = load_mesh(spec, base_dir, key_path=f"{key_path}.mesh")
    if mode == "auto" and entity.physics.mode != "dynamic" and not is_convex(mesh):
        shapes = surface_shapes(mesh)
        if shapes:
            return shapes
    return [hull_shape(mesh)]
