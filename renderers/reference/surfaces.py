"""Entity surfaces for the path tracer: shading normals, texture-resolution refinement, vertex albedo.

Materials are functions of object-frame points (``evaluate_material``), with no UVs. The path
tracer gets them as per-vertex colours: a textured mesh is first refined by midpoint subdivision
until no edge is longer than a fraction of the texture's feature size, then the material is
evaluated at every vertex. Midpoint subdivision never moves a vertex off the original surface, so
the geometry stays exactly the guidance's geometry (T-junctions lie on the edges they split).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import trimesh

from worldsim.scene.materials import evaluate_material, material_seed
from worldsim.scene.meshes import load_mesh
from worldsim.state import EntityInfo

LOGGER = logging.getLogger(__name__)
SHARP_EDGE_DEG = 30.0
"""Edges whose faces meet at a larger angle are shaded flat (a box stays a box, a sphere is smooth)."""
TEXELS_PER_FEATURE = 8.0
"""Refinement target: a texture feature (``texture.scale``) spans this many triangle edges."""
MAX_TRIANGLES_PER_ENTITY = 250_000
"""Refinement stops coarser than the target rather than exceed this (a warning names the entity)."""
MAX_SUBDIVISION_ROUNDS = 12


@dataclass(frozen=True)
class Surface:
    """What the path tracer draws for one entity, in its object frame.

    vertices: (V, 3) float64; faces: (F, 3) uint32; normals: (V, 3) float32 unit shading normals;
    albedo: (V, 3) float32 linear RGB from the entity's material.
    """

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    albedo: np.ndarray


def entity_surface(
    info: EntityInfo,
    scene_seed: int,
    max_triangles: int = MAX_TRIANGLES_PER_ENTITY,
    warn: bool = True,
    refine_texture: bool = True,
) -> Surface:
    """The refined, coloured surface of ``info``'s mesh and material (``warn``: log when the
    triangle budget keeps the texture coarser than its target). ``refine_texture`` False keeps the
    mesh as loaded (the texture is evaluated per hit instead, ``hit_material``)."""
    mesh = load_mesh(info.mesh, key_path=f"entities[{info.name}].mesh")
    shaded = trimesh.graph.smooth_shade(mesh, angle=np.radians(SHARP_EDGE_DEG), facet_minarea=None)
    vertices = np.asarray(shaded.vertices, dtype=np.float64)
    faces = np.asarray(shaded.faces, dtype=np.int64)
    normals = np.asarray(shaded.vertex_normals, dtype=np.float64)
    texture = info.material.texture
    if refine_texture and texture is not None and texture.type != "solid":
        target = refinement_edge(vertices, faces, float(texture.scale) / TEXELS_PER_FEATURE, max_triangles)
        if warn and target > 2.0 * float(texture.scale) / TEXELS_PER_FEATURE:
            LOGGER.warning(
                "entity %r: texture detail limited to %.4g m edges (%d triangles at most); its "
                "texture looks softer in the reference render than in the guidance albedo",
                info.name,
                target,
                max_triangles,
            )
        vertices, faces, normals = refine(vertices, faces, normals, target)
    sample = evaluate_material(
        info.material,
        vertices,
        seed=material_seed(scene_seed, info.id, info.material),
        key_path=f"entities[{info.name}].material",
    )
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.where(lengths > 1e-12, normals / np.maximum(lengths, 1e-12), [0.0, 0.0, 1.0])
    return Surface(
        vertices=vertices,
        faces=faces.astype(np.uint32),
        normals=normals.astype(np.float32),
        albedo=sample.albedo,
    )


def edge_lengths(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(F, 3) lengths of each triangle's edges (v0v1, v1v2, v2v0)."""
    corners = vertices[faces]
    return np.linalg.norm(corners - np.roll(corners, -1, axis=1), axis=2)


def refinement_edge(vertices: np.ndarray, faces: np.ndarray, target: float, max_triangles: int) -> float:
    """The edge length to refine to: ``target``, or coarser if that would exceed ``max_triangles``.

    Subdividing a triangle whose longest edge is ``L`` to edges of at most ``e`` makes about
    ``4 ** ceil(log2(L / e))`` triangles; the estimate is summed over faces.
    """
    longest = edge_lengths(vertices, faces).max(axis=1)
    edge = float(target)
    for _ in range(64):
        rounds = np.ceil(np.log2(np.maximum(longest / edge, 1.0)))
        if float(np.sum(4.0**rounds)) <= max_triangles:
            return edge
        edge *= 1.25
    return edge


def refine(
    vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, max_edge: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midpoint-subdivide faces with an edge longer than ``max_edge``; normals are interpolated."""
    for _ in range(MAX_SUBDIVISION_ROUNDS):
        long_faces = np.flatnonzero(edge_lengths(vertices, faces).max(axis=1) > max_edge)
        if len(long_faces) == 0:
            break
        vertices, faces, attributes = trimesh.remesh.subdivide(
            vertices, faces, face_index=long_faces, vertex_attributes={"normal": normals}
        )
        normals = attributes["normal"]
    return vertices, faces, normals
