"""Entity meshes as binary glTF for the browser, with an explicit material.

glTF's default material is fully metallic, which shows vertex colours black under ambient light,
so every mesh gets a dielectric material: unlit (``KHR_materials_unlit``: the vertex colours, i.e.
the albedo, exactly) or lit (metallic 0, roughness 0.8).
"""

from __future__ import annotations

import io
import json
import struct

import trimesh

GLB_MAGIC = 0x46546C67
JSON_CHUNK = 0x4E4F534A
UNLIT_EXTENSION = "KHR_materials_unlit"


def mesh_glb(mesh: trimesh.Trimesh, *, unlit: bool) -> bytes:
    """GLB bytes of ``mesh`` (vertex colours as COLOR_0) with an unlit or lit dielectric material."""
    buffer = io.BytesIO()
    mesh.export(buffer, file_type="glb")
    data = buffer.getvalue()
    magic, version, _ = struct.unpack_from("<III", data, 0)
    json_length, json_type = struct.unpack_from("<II", data, 12)
    if magic != GLB_MAGIC or json_type != JSON_CHUNK:
        raise ValueError("trimesh wrote an unexpected GLB layout")
    document = json.loads(data[20 : 20 + json_length])
    rest = data[20 + json_length :]
    material = {
        "pbrMetallicRoughness": {
            "baseColorFactor": [1.0, 1.0, 1.0, 1.0],
            "metallicFactor": 0.0,
            "roughnessFactor": 0.8,
        },
        "doubleSided": True,
    }
    if unlit:
        material["extensions"] = {UNLIT_EXTENSION: {}}
        document["extensionsUsed"] = sorted({*document.get("extensionsUsed", []), UNLIT_EXTENSION})
    document["materials"] = [material]
    for item in document.get("meshes", []):
        for primitive in item.get("primitives", []):
            primitive["material"] = 0
    encoded = json.dumps(document, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 4)
    chunk = struct.pack("<II", len(encoded), JSON_CHUNK) + encoded
    return struct.pack("<III", GLB_MAGIC, version, 12 + len(chunk) + len(rest)) + chunk + rest
