"""Environment maps (HDRI): shipped names, paths, and loading into linear radiance arrays.

An environment light's ``hdri`` is a shipped name (``scenes/assets/hdri/NAME.exr``, CC0 captures,
see ``SOURCE.md`` there) or a path to an equirectangular OpenEXR (``.exr``) or Radiance (``.hdr``)
file. A value with a ``/`` or a file suffix is a path (relative to the scene file); anything else
is a shipped name. Orientation: ``worldsim.camera.conventions`` (``equirect_direction``).

Loaded maps are (H, W, 3) float32 linear RGB radiance with W == 2 H, finite and >= 0: negative
and non-finite pixels are replaced (0) with one warning per file. Maps are cached by path, size and
modification time, and returned read-only.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from worldsim.errors import AssetError

LOGGER = logging.getLogger(__name__)

SHIPPED_HDRI_DIR = Path(__file__).resolve().parents[2] / "scenes" / "assets" / "hdri"
"""The shipped environment maps (one ``NAME.exr`` each)."""

HDRI_FILE_EXTENSIONS = (".exr", ".hdr")
"""File types ``load_hdri`` reads."""

CACHE_MAX_ENTRIES = 8
_cache: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def shipped_hdri_names() -> list[str]:
    """Names of the shipped environment maps."""
    return sorted(path.stem for path in SHIPPED_HDRI_DIR.glob("*.exr"))


def is_hdri_path(value: str) -> bool:
    """Whether an ``hdri`` value names a file (has a ``/`` or a suffix) rather than a shipped map."""
    return "/" in value or "\\" in value or Path(value).suffix != ""


def resolve_hdri(value: str, scene_file: str | Path | None = None, *, key_path: str = "") -> Path:
    """The file an ``hdri`` value refers to; raises AssetError naming the key for an unknown one."""
    if not value:
        raise AssetError(
            "hdri is empty: give a shipped name or a file path", file=_name(scene_file), key_path=key_path
        )
    if not is_hdri_path(value):
        path = SHIPPED_HDRI_DIR / f"{value}.exr"
        if not path.is_file():
            known = ", ".join(shipped_hdri_names())
            raise AssetError(
                f"unknown shipped hdri {value!r}; known: {known} (or give a path to an .exr / .hdr file)",
                file=_name(scene_file),
                key_path=key_path,
            )
        return path
    path = Path(value).expanduser()
    if not path.is_absolute() and scene_file is not None:
        path = Path(scene_file).resolve().parent / path
    if path.suffix.lower() not in HDRI_FILE_EXTENSIONS:
        raise AssetError(
            f"{value!r}: unsupported environment map type {path.suffix!r} "
            f"(supported: {', '.join(HDRI_FILE_EXTENSIONS)})",
            file=_name(scene_file),
            key_path=key_path,
        )
    if not path.is_file():
        raise AssetError(f"environment map not found: {path}", file=_name(scene_file), key_path=key_path)
    return path.resolve()


def load_hdri(path: str | Path, *, key_path: str = "") -> np.ndarray:
    """(H, W, 3) float32 linear radiance of an equirectangular map (W == 2 H), read-only, cached.

    Raises AssetError (file and reason) for an unreadable file or a map that is not 2:1.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise AssetError(
            f"cannot read environment map: {error.strerror}", file=str(path), key_path=key_path
        ) from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    radiance = _read(path, key_path)
    if radiance.ndim != 3 or radiance.shape[2] != 3 or radiance.shape[1] != 2 * radiance.shape[0]:
        raise AssetError(
            f"not an equirectangular map: {radiance.shape[1]}x{radiance.shape[0]} pixels "
            f"({radiance.shape[2] if radiance.ndim == 3 else 1} channels); expected width = 2 x height, RGB",
            file=str(path),
            key_path=key_path,
        )
    radiance = sanitize_radiance(radiance, str(path))
    radiance.flags.writeable = False
    with _cache_lock:
        _cache[key] = radiance
        while len(_cache) > CACHE_MAX_ENTRIES:
            _cache.popitem(last=False)
    return radiance


def sanitize_radiance(radiance: np.ndarray, source: str) -> np.ndarray:
    """float32 copy with non-finite and negative pixels set to 0 (one warning naming ``source``)."""
    radiance = np.array(radiance, dtype=np.float32)
    bad = ~np.isfinite(radiance) | (radiance < 0.0)
    count = int(np.count_nonzero(np.any(bad, axis=-1)))
    if count:
        LOGGER.warning("%s: %d pixels negative or not finite, set to 0", source, count)
        radiance[bad] = 0.0
    return radiance


def _read(path: Path, key_path: str) -> np.ndarray:
    suffix = path.suffix.lower()
    try:
        if suffix == ".exr":
            return _read_exr(path)
        if suffix == ".hdr":
            return _read_radiance_hdr(path.read_bytes())
    except AssetError:
        raise
    except Exception as error:  # any decoder failure is a corrupt file for the user
        raise AssetError(
            f"unreadable environment map ({type(error).__name__}: {error})", file=str(path), key_path=key_path
        ) from None
    raise AssetError(
        f"unsupported environment map type {path.suffix!r} (supported: {', '.join(HDRI_FILE_EXTENSIONS)})",
        file=str(path),
        key_path=key_path,
    )


def _read_exr(path: Path) -> np.ndarray:
    import OpenEXR

    with OpenEXR.File(str(path)) as exr:
        channels = exr.channels()
        if "RGB" in channels:
            return np.asarray(channels["RGB"].pixels, dtype=np.float32)
        if "RGBA" in channels:
            return np.asarray(channels["RGBA"].pixels, dtype=np.float32)[..., :3]
        if all(name in channels for name in "RGB"):
            return np.stack([np.asarray(channels[name].pixels, dtype=np.float32) for name in "RGB"], axis=-1)
        raise AssetError(f"EXR has no R, G, B channels (has: {', '.join(channels)})", file=str(path))


def _read_radiance_hdr(data: bytes) -> np.ndarray:
    """Decode a Radiance RGBE (``.hdr``) file: flat or new-style run-length encoded scanlines."""
    header_end = data.find(b"\n\n")
    if not data.startswith((b"#?RADIANCE", b"#?RGBE")) or header_end < 0:
        raise ValueError("not a Radiance RGBE file (missing '#?RADIANCE' header)")
    header = data[:header_end].decode("ascii", "replace")
    if "FORMAT=" in header and "32-bit_rle_rgbe" not in header:
        raise ValueError("only the 32-bit_rle_rgbe format is supported")
    line_end = data.index(b"\n", header_end + 2)
    resolution = data[header_end + 2 : line_end].decode("ascii").split()
    if len(resolution) != 4 or resolution[0] != "-Y" or resolution[2] != "+X":
        raise ValueError(f"unsupported scanline order {' '.join(resolution)!r} (expected '-Y H +X W')")
    height, width = int(resolution[1]), int(resolution[3])
    if not (0 < height <= 65536 and 0 < width <= 65536):
        raise ValueError(f"implausible size {width}x{height}")
    buffer = np.frombuffer(data, dtype=np.uint8, offset=line_end + 1)
    rgbe = np.empty((height, width, 4), dtype=np.uint8)
    position = 0
    for row in range(height):
        head = buffer[position : position + 4]
        is_rle = (
            8 <= width < 32768
            and len(head) == 4
            and head[0] == 2
            and head[1] == 2
            and (head[2] << 8 | head[3]) == width
        )
        if not is_rle:
            flat = buffer[position : position + 4 * width]
            if flat.size != 4 * width:
                raise ValueError("file ends inside the pixel data")
            rgbe[row] = flat.reshape(width, 4)
            position += 4 * width
            continue
        position += 4
        for channel in range(4):
            column = 0
            while column < width:
                if position >= buffer.size:
                    raise ValueError("file ends inside the pixel data")
                count = int(buffer[position])
                position += 1
                if count > 128:
                    count -= 128
                    if column + count > width or position >= buffer.size:
                        raise ValueError("bad run length")
                    rgbe[row, column : column + count, channel] = buffer[position]
                    position += 1
                else:
                    if count == 0 or column + count > width or position + count > buffer.size:
                        raise ValueError("bad run length")
                    rgbe[row, column : column + count, channel] = buffer[position : position + count]
                    position += count
                column += count
    exponent = rgbe[..., 3].astype(np.int32)
    scale = np.where(exponent > 0, np.ldexp(1.0, exponent - 136), 0.0).astype(np.float32)
    return rgbe[..., :3].astype(np.float32) * scale[..., None]


def _name(scene_file: str | Path | None) -> str | None:
    return None if scene_file is None else str(scene_file)
