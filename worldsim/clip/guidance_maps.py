"""The table of guidance maps on disk: one row per map a scene's ``render.guidance`` may list.

Each row says which ``GuidanceFrame`` fields the map holds, the files it writes per frame (folder,
suffix), how the fields are encoded into those files and decoded back, whether the round trip is
exact (``lossless``: a resumed render reads such maps back instead of recomputing them), the text
``metadata.json`` ``encodings`` records, and its preview colouring (``worldsim.clip.preview``).
Writing (``write_guidance_frame``), reading (``Clip.map``), the layout's files and the preview
grid are all driven by this table: adding a map is one encode/decode pair and one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from worldsim.clip import encodings
from worldsim.clip import preview as previews
from worldsim.guidance_frame import EntityVisibility, GuidanceFrame

Arrays = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class GuidanceMap:
    """One map of the clip folder.

    fields: the ``GuidanceFrame`` fields it stores.
    files: (folder, suffix) per file and frame (``.png`` or ``.npy``), in ``encode``'s order.
    encode: frame -> one array per file. decode: the files' arrays -> {field: value}.
    lossless: decode(encode(frame)) gives the fields back bit for bit.
    encoding: how the files encode the fields (units, dtype, background), for ``metadata.json``.
    preview: frame -> (H, W, 3) uint8 colour image, or None; ``guidance_grid`` tiles them.
    clip_file: for a map stored once per clip (no per-frame files): its file in the clip folder,
      holding ``{"frames": {"<frame>": <encode(frame)>}}``; ``decode`` then takes that entry.
    """

    name: str
    fields: tuple[str, ...]
    files: tuple[tuple[str, str], ...]
    encode: Callable[[GuidanceFrame], Arrays]
    decode: Callable[[Arrays], dict[str, np.ndarray]]
    lossless: bool
    encoding: str
    preview: Callable[[GuidanceFrame], np.ndarray] | None = None
    clip_file: str | None = None


def _float32(field: str) -> tuple[Callable[[GuidanceFrame], Arrays], Callable[[Arrays], dict]]:
    """Encode / decode of a float map stored as float32 ``.npy`` (exact; +inf and 0 kept)."""

    def encode(frame: GuidanceFrame) -> Arrays:
        value = getattr(frame, field)
        if value is None:  # e.g. no shading normals: zeros, as on background
            value = np.zeros_like(frame.normal)
        return (np.asarray(value, dtype=np.float32),)

    def decode(arrays: Arrays) -> dict[str, np.ndarray]:
        return {field: np.asarray(arrays[0], dtype=np.float32)}

    return encode, decode


def _float16(field: str, channels: int) -> tuple[Callable[[GuidanceFrame], Arrays], Callable[[Arrays], dict]]:
    """Encode / decode of a float map stored as float16 ``.npy`` (clipped to float16's range; not
    exact: read back as float32 but recomputed on resume). A missing value is written as zeros."""

    def encode(frame: GuidanceFrame) -> Arrays:
        value = getattr(frame, field)
        if value is None:
            value = np.zeros((*frame.shape, channels), dtype=np.float32)
        return (np.minimum(np.asarray(value, dtype=np.float32), np.finfo(np.float16).max).astype(np.float16),)

    def decode(arrays: Arrays) -> dict[str, np.ndarray]:
        return {field: np.asarray(arrays[0], dtype=np.float32)}

    return encode, decode


def _ids(field: str) -> tuple[Callable[[GuidanceFrame], Arrays], Callable[[Arrays], dict]]:
    def encode(frame: GuidanceFrame) -> Arrays:
        return (encodings.encode_ids(getattr(frame, field)),)

    def decode(arrays: Arrays) -> dict[str, np.ndarray]:
        return {field: encodings.decode_ids(arrays[0])}

    return encode, decode


def _flow(
    field: str, exact: bool = False
) -> tuple[Callable[[GuidanceFrame], Arrays], Callable[[Arrays], dict]]:
    """Flow (float16, or float32 when ``exact``; zeros where None) and its validity mask."""

    def encode(frame: GuidanceFrame) -> Arrays:
        shape = frame.shape
        flow = encodings.encode_flow(getattr(frame, field), shape)
        if exact:
            value = getattr(frame, field)
            flow = np.zeros((*shape, 2), np.float32) if value is None else np.asarray(value, np.float32)
        return flow, encodings.encode_mask(getattr(frame, f"{field}_valid"), shape)

    def decode(arrays: Arrays) -> dict[str, np.ndarray]:
        return {
            field: np.asarray(arrays[0]).astype(np.float32),
            f"{field}_valid": encodings.decode_mask(arrays[1]),
        }

    return encode, decode


def _row(
    name: str,
    fields: tuple[str, ...],
    files: tuple[tuple[str, str], ...],
    codec: tuple[Callable[[GuidanceFrame], Arrays], Callable[[Arrays], dict]],
    lossless: bool,
    encoding: str,
    preview: str | None = None,
) -> GuidanceMap:
    """A row; ``preview`` names ``worldsim.clip.preview.preview_<preview>``."""
    encode, decode = codec
    colour = None if preview is None else getattr(previews, f"preview_{preview}")
    return GuidanceMap(name, fields, files, encode, decode, lossless, encoding, colour)


def _visibility_entries(frame: GuidanceFrame) -> list[dict]:
    """JSON rows of the frame's per-entity visibility (none when it was not computed)."""
    return [
        {
            "entity_id": int(row.entity_id),
            "visible_pixels": int(row.visible_pixels),
            "silhouette_pixels": int(row.silhouette_pixels),
            "visible_fraction": float(row.visible_fraction),
            "bbox": None if row.bbox is None else [int(value) for value in row.bbox],
            "occluders": [int(value) for value in row.occluders],
        }
        for row in frame.visibility or []
    ]


def _visibility_rows(entries: list[dict]) -> dict[str, list[EntityVisibility]]:
    return {
        "visibility": [
            EntityVisibility(
                entity_id=entry["entity_id"],
                visible_pixels=entry["visible_pixels"],
                silhouette_pixels=entry["silhouette_pixels"],
                visible_fraction=entry["visible_fraction"],
                bbox=None if entry["bbox"] is None else tuple(entry["bbox"]),
                occluders=list(entry["occluders"]),
            )
            for entry in entries
        ]
    }


_DEPTH_PNG = (
    lambda frame: (encodings.encode_depth(frame.depth),),
    lambda arrays: {"depth": encodings.decode_depth(arrays[0])},
)
_NORMAL_PNG = (
    lambda frame: (encodings.encode_normal(frame.normal),),
    lambda arrays: {"normal": encodings.decode_normal(arrays[0])},
)

# fmt: off
GUIDANCE_MAP_TABLE: dict[str, GuidanceMap] = {
    row.name: row
    for row in (
        _row(
            "depth",
            ("depth",),
            (("depth", ".png"),),
            _DEPTH_PNG,
            False,
            f"png uint16, {encodings.DEPTH_SCALE_M} m per unit along the optical axis, 0 = background, "
            f"clipped to {encodings.DEPTH_MAX_UNITS}",
            "depth",
        ),
        _row(
            "depth_exact",
            ("depth",),
            (("depth", ".npy"),),
            _float32("depth"),
            True,
            "npy float32 (H, W) metres along the optical axis, +inf = background",
        ),
        _row("instance", ("instance",), (("instance", ".png"),), _ids("instance"), True,
             "png uint16 entity ids, 0 = background", "instance"),
        _row("semantic", ("semantic",), (("semantic", ".png"),), _ids("semantic"), True,
             "png uint16 semantic class ids, 0 = background"),
        _row("normal", ("normal",), (("normal", ".png"),), _NORMAL_PNG, False,
             "png uint8 (n + 1) / 2 * 255 of the unit camera-frame (OpenCV) normal, 128 grey = background",
             "normal"),
        _row("normal_exact", ("normal",), (("normal", ".npy"),), _float32("normal"), True,
             "npy float32 (H, W, 3) unit camera-frame (OpenCV) geometric normals, 0 = background"),
        _row("flow", ("flow_forward", "flow_forward_valid"), (("flow", ".npy"), ("flow_valid", ".png")),
             _flow("flow_forward"), False,
             "npy float16 (H, W, 2) pixels (dx, dy) to frame t+1 (0 at the last frame); "
             "flow_valid png uint8 255 = visible there (0 everywhere across a cut: metadata edit)",
             "flow"),
        _row("flow_backward", ("flow_backward", "flow_backward_valid"),
             (("flow_backward", ".npy"), ("flow_backward_valid", ".png")), _flow("flow_backward"), False,
             "npy float16 (H, W, 2) pixels (dx, dy) to frame t-1 (0 at the first frame); "
             "flow_backward_valid png uint8 255 = visible there (0 everywhere across a cut)"),
        _row("flow_exact", ("flow_forward", "flow_forward_valid"),
             (("flow_exact", ".npy"), ("flow_valid", ".png")), _flow("flow_forward", exact=True), True,
             "npy float32 (H, W, 2) pixels (dx, dy) to frame t+1 (0 at the last frame), beside flow_valid"),
        _row("flow_backward_exact", ("flow_backward", "flow_backward_valid"),
             (("flow_backward_exact", ".npy"), ("flow_backward_valid", ".png")),
             _flow("flow_backward", exact=True), True,
             "npy float32 (H, W, 2) pixels (dx, dy) to frame t-1 (0 at the first frame), beside "
             "flow_backward_valid"),
        _row("ray_distance", ("ray_distance",), (("ray_distance", ".npy"),), _float32("ray_distance"), True,
             "npy float32 (H, W) metres from the camera centre along the ray, +inf = background"),
        _row("surface_coords", ("surface_coords",), (("surface_coords", ".npy"),), _float32("surface_coords"),
             True, "npy float32 (H, W, 3) metres, hit point in the entity's object frame, 0 = background"),
        _row("albedo", ("albedo",), (("albedo", ".npy"),), _float32("albedo"), True,
             "npy float32 (H, W, 3) linear RGB base colour, 0 = background"),
        _row("roughness", ("roughness",), (("roughness", ".npy"),), _float32("roughness"), True,
             "npy float32 (H, W) in [0, 1], 0 = background"),
        _row("metallic", ("metallic",), (("metallic", ".npy"),), _float32("metallic"), True,
             "npy float32 (H, W) in [0, 1], 0 = background"),
        _row("shading_normal", ("shading_normal",), (("shading_normal", ".npy"),),
             _float32("shading_normal"), True,
             "npy float32 (H, W, 3) unit interpolated vertex normals with the material's bump relief, "
             "camera frame (OpenCV), 0 = background"),
        _row("shadow", ("shadow",), (("shadow", ".npy"),), _float16("shadow", 0), False,
             "npy float16 (H, W, L) visible fraction in [0, 1] of each sun / point / area light, channels "
             "named in settings.shadow_channels (the order of lights); 0 on background", "shadow"),
        _row("irradiance", ("irradiance",), (("irradiance", ".npy"),), _float16("irradiance", 3), False,
             "npy float16 (H, W, 3) linear RGB irradiance W/m^2 (direct lights + SH environment x ambient "
             "occlusion; a white Lambertian surface shows irradiance / pi); 0 on background", "irradiance"),
        _row("specular", ("specular",), (("specular", ".npy"),), _float16("specular", 3), False,
             "npy float16 (H, W, 3) linear RGB W/m^2/sr reflected by a Fresnel-1 GGX surface of the pixel's "
             "roughness (prefiltered environment + light highlights); 0 on background", "specular"),
        GuidanceMap("visibility", ("visibility",), (), _visibility_entries, _visibility_rows, True,
                    "json per frame and visible entity: entity_id, visible_pixels, silhouette_pixels, "
                    "visible_fraction, bbox [x0, y0, x1, y1] half-open pixels of the visible part (null if "
                    "none), occluders (ids of nearer entities inside its silhouette)",
                    clip_file="visibility.json"),
    )
}
# fmt: on
"""Map name -> row. Order is the preview grid's order (rows with a preview)."""

PREVIEW_ORDER = tuple(name for name, row in GUIDANCE_MAP_TABLE.items() if row.preview is not None)


def encodings_table() -> dict[str, str]:
    """``metadata.json`` ``encodings``: map name -> how its files encode it."""
    return {name: row.encoding for name, row in GUIDANCE_MAP_TABLE.items()}


GRID_COLUMNS = 2


def guidance_grid(frame: GuidanceFrame) -> np.ndarray:
    """(rows x H, 2W, 3) uint8: the previews of the table's maps in table order, two per row
    (depth | instances over normals | forward flow, then the lighting maps the frame carries)."""
    tiles = [GUIDANCE_MAP_TABLE[name].preview(frame) for name in PREVIEW_ORDER]
    tiles = [tile for tile in tiles if tile is not None]  # maps the frame does not carry
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % GRID_COLUMNS)
    rows = [
        np.concatenate(tiles[start : start + GRID_COLUMNS], axis=1)
        for start in range(0, len(tiles), GRID_COLUMNS)
    ]
    return np.concatenate(rows, axis=0)
