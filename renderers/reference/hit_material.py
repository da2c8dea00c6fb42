"""Procedural materials evaluated per hit inside Mitsuba: the same function as the guidance albedo.

``worldsim.scene.materials.evaluate_material`` (NumPy) is what the guidance albedo buffer shows.
Here the same patterns (``worldsim.scene.textures``: checker, stripes, value-noise fBm, marble) are
written with Dr.Jit operations in a Python Mitsuba texture, so Mitsuba traces them into its
rendering kernel and evaluates them at every ray hit, at any resolution, with no mesh refinement.
The hit point in the object frame comes from a per-vertex attribute holding the object-frame
vertex positions: barycentric interpolation commutes with the entity's affine pose, so the
interpolated attribute is the exact object-frame hit point.

Arithmetic matches the NumPy version step for step (the same 32-bit integer hash, quintic fade,
octave seeds and blend order), in float32 instead of NumPy's float64 for the lattice coordinates,
so values differ only by float rounding (far below 1/255 away from cell boundaries).
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from worldsim.scene import textures
from worldsim.scene.bump import BUMP_OCTAVES, BUMP_STEP_FRACTION, bump_seed
from worldsim.scene.materials import material_seed
from worldsim.scene.model import MaterialSpec

OBJECT_POSITION_ATTRIBUTE = "vertex_object_position"
"""Mesh attribute (3 floats per vertex) with the object-frame vertex positions."""
OBJECT_EDGE_ATTRIBUTES = ("face_object_edge_u", "face_object_edge_v")
"""Face attributes: each triangle's object-frame edges ``p1 - p0`` and ``p2 - p0``, the object-frame
twins of Mitsuba's ``dp_du``, ``dp_dv`` on meshes without UVs (world edges)."""
_classes: dict[str, type] = {}
_bump_classes: dict[str, type] = {}


def bump_normal_texture(mi: ModuleType, material: MaterialSpec, scene_seed: int, entity_id: int) -> Any:
    """A Mitsuba texture for the ``normalmap`` BSDF: the bumped shading normal of ``material``
    (``worldsim.scene.bump``) in the hit's shading frame, encoded as ``0.5 n + 0.5``."""
    texture_class = _bump_texture_class(mi)
    texture = texture_class(mi.Properties())
    seed = bump_seed(material_seed(scene_seed, entity_id, material))
    texture.height = float(material.bump_height)
    texture.scale = float(material.bump_scale)
    texture.octave_seeds = [textures._octave_seed(seed, octave) for octave in range(BUMP_OCTAVES)]
    return texture


def object_edges(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3) float32 object-frame edges ``p1 - p0`` and ``p2 - p0`` of each face."""
    corners = np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)]
    return (corners[:, 1] - corners[:, 0]).astype(np.float32), (corners[:, 2] - corners[:, 0]).astype(
        np.float32
    )


def _bump_texture_class(mi: ModuleType) -> type:
    variant = mi.variant()
    if variant in _bump_classes:
        return _bump_classes[variant]
    import drjit as dr

    class WorldsimBumpTexture(mi.Texture):
        """Tangent-space bumped normal at the hit, from the object-frame height field."""

        def __init__(self, props: Any) -> None:
            mi.Texture.__init__(self, props)
            self.height, self.scale, self.octave_seeds = 0.0, 1.0, [0]

        def eval(self, si: Any, active: Any = True) -> Any:
            point = si.shape.eval_attribute_3(OBJECT_POSITION_ATTRIBUTE, si, active)
            edge_u = si.shape.eval_attribute_3(OBJECT_EDGE_ATTRIBUTES[0], si, active)
            edge_v = si.shape.eval_attribute_3(OBJECT_EDGE_ATTRIBUTES[1], si, active)
            # world tangent -> object frame through the triangle's edges (world dp_du, dp_dv)
            g11, g12, g22 = dr.dot(si.dp_du, si.dp_du), dr.dot(si.dp_du, si.dp_dv), dr.dot(si.dp_dv, si.dp_dv)
            inverse_det = dr.rcp(g11 * g22 - g12 * g12)

            def to_object(world: Any) -> Any:
                r1, r2 = dr.dot(world, si.dp_du), dr.dot(world, si.dp_dv)
                a = (g22 * r1 - g12 * r2) * inverse_det
                b = (g11 * r2 - g12 * r1) * inverse_det
                return a * edge_u + b * edge_v

            step = BUMP_STEP_FRACTION * self.scale

            def slope(direction: Any) -> Any:
                ahead = _fbm(mi, dr, point + step * direction, self.scale, self.octave_seeds, absolute=False)
                behind = _fbm(mi, dr, point - step * direction, self.scale, self.octave_seeds, absolute=False)
                return self.height * (ahead - behind) / (2.0 * step)

            local = dr.normalize(
                mi.Vector3f(-slope(to_object(si.sh_frame.s)), -slope(to_object(si.sh_frame.t)), 1.0)
            )
            return mi.Color3f(0.5 * local.x + 0.5, 0.5 * local.y + 0.5, 0.5 * local.z + 0.5)

        def eval_3(self, si: Any, active: Any = True) -> Any:
            """What Mitsuba's ``normalmap`` BSDF reads (the encoded normal as a vector)."""
            encoded = self.eval(si, active)
            return mi.Vector3f(encoded.x, encoded.y, encoded.z)

        def eval_1(self, si: Any, active: Any = True) -> Any:
            return dr.mean(self.eval(si, active))

        def mean(self) -> float:
            return 0.5

        def traverse(self, callback: Any) -> None:
            pass

        def to_string(self) -> str:
            return "WorldsimBumpTexture"

    _bump_classes[variant] = WorldsimBumpTexture
    return WorldsimBumpTexture


def needs_hit_evaluation(material: MaterialSpec) -> bool:
    """True when the material varies over the surface (a non-solid texture)."""
    return material.texture is not None and material.texture.type != "solid"


def hit_texture(mi: ModuleType, material: MaterialSpec, scene_seed: int, entity_id: int) -> Any:
    """A Mitsuba texture object evaluating ``material``'s albedo at each hit (for ``base_color``)."""
    texture_class = _texture_class(mi)
    texture = texture_class(mi.Properties())
    texture.pattern = _Pattern(material, material_seed(scene_seed, entity_id, material))
    return texture


class _Pattern:
    """A material's texture parameters in plain Python numbers (validated by ``evaluate_material``)."""

    def __init__(self, material: MaterialSpec, seed: int) -> None:
        texture = material.texture
        assert texture is not None
        base = [float(c) for c in material.base_color]
        self.type = texture.type
        self.color_a = base if texture.color_a is None else [float(c) for c in texture.color_a]
        self.color_b = [float(c) for c in texture.color_b]
        self.scale = float(texture.scale)
        axis = np.asarray(texture.axis, dtype=np.float64)
        self.axis = (axis / np.linalg.norm(axis)).tolist()
        self.octaves = int(texture.octaves)
        self.octave_seeds = [textures._octave_seed(seed, octave) for octave in range(self.octaves)]


def _texture_class(mi: ModuleType) -> type:
    """The texture class of Mitsuba's active variant (defined once per variant)."""
    variant = mi.variant()
    if variant in _classes:
        return _classes[variant]
    import drjit as dr

    class WorldsimMaterialTexture(mi.Texture):
        """``base_color`` of a procedural material, evaluated at the hit's object-frame point."""

        def __init__(self, props: Any) -> None:
            mi.Texture.__init__(self, props)
            self.pattern: _Pattern | None = None

        def eval(self, si: Any, active: Any = True) -> Any:
            point = si.shape.eval_attribute_3(OBJECT_POSITION_ATTRIBUTE, si, active)
            weight = _weight(mi, dr, self.pattern, point)
            a, b = mi.Color3f(*self.pattern.color_a), mi.Color3f(*self.pattern.color_b)
            return dr.clip((1.0 - weight) * a + weight * b, 0.0, 1.0)

        def eval_1(self, si: Any, active: Any = True) -> Any:
            return dr.mean(self.eval(si, active))

        def mean(self) -> float:
            return float(np.mean([np.mean(self.pattern.color_a), np.mean(self.pattern.color_b)]))

        def traverse(self, callback: Any) -> None:
            pass

        def to_string(self) -> str:
            return f"WorldsimMaterialTexture[{self.pattern.type}]"

    _classes[variant] = WorldsimMaterialTexture
    return WorldsimMaterialTexture


def _weight(mi: ModuleType, dr: Any, pattern: _Pattern, point: Any) -> Any:
    """Mix weight in [0, 1] at object-frame ``point`` (Point3f), as ``textures.<type>``."""
    offset = textures.BOUNDARY_OFFSET
    if pattern.type == "checker":
        cells = dr.floor(point / pattern.scale + offset)
        parity = (mi.Int32(cells.x) + mi.Int32(cells.y) + mi.Int32(cells.z)) & 1
        return mi.Float(parity)
    coordinate = dr.dot(point, mi.Vector3f(*pattern.axis)) / pattern.scale
    if pattern.type == "stripes":
        shifted = coordinate + offset
        return dr.select(shifted - dr.floor(shifted) >= 0.5, 1.0, 0.0)
    if pattern.type == "noise":
        fbm = _fractal_noise(mi, dr, pattern, point, absolute=False)
        return 0.5 + 0.5 * dr.clip(fbm * textures.NOISE_CONTRAST, -1.0, 1.0)
    if pattern.type == "marble":
        turbulence = _fractal_noise(mi, dr, pattern, point, absolute=True)
        phase = 2.0 * math.pi * (coordinate + textures.MARBLE_TURBULENCE * turbulence)
        return 0.5 + 0.5 * dr.sin(phase)
    raise ValueError(f"no per-hit evaluation for texture type {pattern.type!r}")


def _fractal_noise(mi: ModuleType, dr: Any, pattern: _Pattern, point: Any, *, absolute: bool) -> Any:
    return _fbm(mi, dr, point, pattern.scale, pattern.octave_seeds, absolute=absolute)


def _fbm(
    mi: ModuleType, dr: Any, point: Any, scale: float, octave_seeds: list[int], *, absolute: bool
) -> Any:
    """``textures.fractal_noise`` with one octave per seed of ``octave_seeds``."""
    scaled = point / scale
    total = mi.Float(0.0)
    amplitude, amplitude_sum, frequency = 1.0, 0.0, 1.0
    for seed in octave_seeds:
        layer = _value_noise(mi, dr, scaled * frequency, seed)
        if absolute:
            layer = dr.abs(layer)
        total += layer * amplitude
        amplitude_sum += amplitude
        amplitude *= textures.NOISE_GAIN
        frequency *= textures.NOISE_LACUNARITY
    return total * (1.0 / amplitude_sum)


def _value_noise(mi: ModuleType, dr: Any, point: Any, seed: int) -> Any:
    cell = dr.floor(point)
    fraction = point - cell
    fade = fraction * fraction * fraction * (fraction * (fraction * 6.0 - 15.0) + 10.0)
    x0, y0, z0 = (mi.UInt32(mi.Int32(component)) for component in (cell.x, cell.y, cell.z))
    seed32 = mi.UInt32(seed & 0xFFFFFFFF)
    hx = [_hash32(mi, x0 ^ seed32), _hash32(mi, (x0 + 1) ^ seed32)]
    hxy = [_hash32(mi, h + y) for h in hx for y in (y0, y0 + 1)]
    corner = [_to_unit(mi, _hash32(mi, h + z)) for h in hxy for z in (z0, z0 + 1)]
    along_z = [_lerp(corner[2 * i], corner[2 * i + 1], fade.z) for i in range(4)]
    along_y = [_lerp(along_z[0], along_z[1], fade.y), _lerp(along_z[2], along_z[3], fade.y)]
    return _lerp(along_y[0], along_y[1], fade.x)


def _lerp(a: Any, b: Any, t: Any) -> Any:
    """``a + (b - a) t`` as ``textures._lerp`` rounds it (not Dr.Jit's fused ``lerp``)."""
    return a + (b - a) * t


def _hash32(mi: ModuleType, values: Any) -> Any:
    """``textures._hash32`` (lowbias32) on Dr.Jit UInt32 (wrapping multiplication)."""
    values = values ^ (values >> 16)
    values = values * mi.UInt32(0x7FEB352D)
    values = values ^ (values >> 15)
    values = values * mi.UInt32(0x846CA68B)
    return values ^ (values >> 16)


def _to_unit(mi: ModuleType, hashed: Any) -> Any:
    return mi.Float(hashed >> 8) * (2.0 / (1 << 24)) - 1.0
