"""Encodings of the clip folder's maps (docs/ARCHITECTURE.md, "The clip folder"), each with its decoder.

- depth PNG: uint16 millimetres, ``0`` = background (non-finite or non-positive depth). Depths are
  rounded to the nearest millimetre and clipped to ``[1, 65535]`` mm, so anything beyond 65.535 m
  reads back as 65.535 m; the exact float32 depth is the optional ``depth/NNNNN.npy``.
- instance / semantic PNG: uint16 ids as they are (0 = background).
- normal PNG: uint8 RGB ``round((n + 1) / 2 * 255)`` of the camera-frame unit normal; background
  (zero vector) encodes as 128 grey and decodes to the zero vector.
- flow NPY: (H, W, 2) float16 pixels ``(dx, dy)``; ``flow_valid`` PNG: uint8 0 / 255.
- rgb PNG: (H, W, 3) uint8 sRGB.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

DEPTH_SCALE_M = 0.001
"""Metres per unit of the depth PNG."""
DEPTH_MAX_UNITS = 65535
NORMAL_BACKGROUND_THRESHOLD = 0.5
"""A decoded normal shorter than this is background (encoded zero vectors decode to ~0.004)."""


def encode_depth(depth: np.ndarray) -> np.ndarray:
    """(H, W) float metres, +inf background -> (H, W) uint16 millimetres, 0 background."""
    depth = np.asarray(depth, dtype=np.float64)
    hit = np.isfinite(depth) & (depth > 0)
    millimetres = np.zeros(depth.shape, dtype=np.uint16)
    millimetres[hit] = np.clip(np.rint(depth[hit] / DEPTH_SCALE_M), 1, DEPTH_MAX_UNITS).astype(np.uint16)
    return millimetres


def decode_depth(millimetres: np.ndarray) -> np.ndarray:
    """(H, W) uint16 millimetres -> (H, W) float32 metres with +inf on background (0)."""
    millimetres = np.asarray(millimetres)
    depth = millimetres.astype(np.float32) * np.float32(DEPTH_SCALE_M)
    depth[millimetres == 0] = np.inf
    return depth


def encode_ids(ids: np.ndarray) -> np.ndarray:
    """(H, W) integer ids -> uint16; raises ValueError for ids outside [0, 65535]."""
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() > 65535):
        raise ValueError(f"ids must lie in [0, 65535], got [{ids.min()}, {ids.max()}]")
    return ids.astype(np.uint16)


def decode_ids(encoded: np.ndarray) -> np.ndarray:
    """uint16 PNG pixels -> (H, W) uint16 ids."""
    return np.asarray(encoded).astype(np.uint16)


def encode_normal(normal: np.ndarray) -> np.ndarray:
    """(H, W, 3) float unit normals (zero on background) -> (H, W, 3) uint8."""
    normal = np.nan_to_num(np.asarray(normal, dtype=np.float32))
    return np.clip(np.rint((normal + 1.0) * 0.5 * 255.0), 0, 255).astype(np.uint8)


def decode_normal(encoded: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W, 3) float32 unit normals, zero vectors on background."""
    normal = np.asarray(encoded, dtype=np.float32) / 255.0 * 2.0 - 1.0
    length = np.linalg.norm(normal, axis=-1, keepdims=True)
    foreground = length > NORMAL_BACKGROUND_THRESHOLD
    return np.where(foreground, normal / np.maximum(length, 1e-12), 0.0).astype(np.float32)


def encode_flow(flow: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """(H, W, 2) float pixels -> float16 (zeros where ``flow`` is None, e.g. the last frame)."""
    if flow is None:
        return np.zeros((*shape, 2), dtype=np.float16)
    return np.nan_to_num(np.asarray(flow, dtype=np.float32)).astype(np.float16)


def encode_mask(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool -> uint8 0 / 255 (all 0 where ``mask`` is None)."""
    if mask is None:
        return np.zeros(shape, dtype=np.uint8)
    return np.asarray(mask, dtype=bool).astype(np.uint8) * 255


def decode_mask(encoded: np.ndarray) -> np.ndarray:
    """uint8 PNG pixels -> (H, W) bool."""
    return np.asarray(encoded) > 127


def read_png(path: str | Path) -> np.ndarray:
    """Read a PNG as written by ``atomic.write_png`` (uint16 single-channel stays uint16)."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            return np.asarray(image).astype(np.uint16)
        return np.asarray(image.convert("RGB") if image.mode in ("P", "RGBA") else image).copy()


def read_npy(path: str | Path) -> np.ndarray:
    """Read a ``.npy`` file without pickles."""
    with open(path, "rb") as stream:
        return np.load(io.BytesIO(stream.read()), allow_pickle=False)
