"""Atomic file writes, the one writer of the project: a temp file in the target's folder, then
``os.replace``.

A reader (or a resumed render) therefore sees either the old file or the complete new one, never
a partial file, even if the process dies mid-write. Temp files are named ``TEMP_PREFIX...`` so
``layout.remove_stale_temp_files`` can clean up after a crash, and they are created with mode
``0o666`` minus the process umask (0644 under the usual 022), like any file ``open`` creates.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

TEMP_PREFIX = ".tmp-"
"""Temp files start with this; ``layout.remove_stale_temp_files`` cleans up after a crash."""
FILE_MODE = 0o666
"""Mode requested for new files; the kernel removes the umask's bits from it."""


def _create_temp(path: Path) -> Path:
    """A new empty file next to ``path`` (same suffix), created exclusively with ``FILE_MODE``."""
    for _ in range(100):
        temp = path.with_name(f"{TEMP_PREFIX}{path.stem}.{secrets.token_hex(4)}{path.suffix}")
        try:
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue
        os.close(handle)
        return temp
    raise FileExistsError(f"{path.parent}: no free temp file name for {path.name}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path next to ``path`` (same suffix); on success it replaces ``path``.

    For writers that need a file name (video encoders, safetensors, ``np.savez``). On any
    exception the temp file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _create_temp(path)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as temp, open(temp, "wb") as stream:
        stream.write(data)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any, *, indent: int | None = 1) -> Path:
    """Write ``data`` as JSON atomically (NaN/inf are written as JSON's ``NaN``/``Infinity``)."""
    return write_text(path, json.dumps(data, indent=indent, allow_nan=True) + "\n")


def png_bytes(image: np.ndarray, text: Mapping[str, str] | None = None) -> bytes:
    """Encode a PNG in memory.

    image: (H, W) uint8 / uint16 / bool, (H, W, 3) or (H, W, 4) uint8.
    text: PNG text chunks (key -> value; iTXt, so any Unicode), e.g. the provenance record.
    """
    from PIL import Image, PngImagePlugin

    image = np.ascontiguousarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.dtype == np.uint16:
        if image.ndim != 2:
            raise ValueError(f"uint16 PNG must be single-channel, got shape {image.shape}")
        pil = Image.fromarray(image, mode="I;16") if _pillow_needs_mode() else Image.fromarray(image)
    elif image.dtype == np.uint8 and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        pil = Image.fromarray(image)
    else:
        raise ValueError(f"cannot write a PNG from dtype {image.dtype} and shape {image.shape}")
    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for key, value in text.items():
            info.add_itxt(key, value)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG", compress_level=1, pnginfo=info)
    return buffer.getvalue()


def _pillow_needs_mode() -> bool:
    # Pillow < 11 infers "I;16" for uint16 only via the explicit mode argument.
    from PIL import __version__ as pillow_version

    return int(pillow_version.split(".")[0]) < 11


def write_png(path: str | Path, image: np.ndarray, text: Mapping[str, str] | None = None) -> Path:
    """Write ``image`` (with PNG ``text`` chunks; see ``png_bytes``) to ``path`` atomically."""
    return write_bytes(path, png_bytes(image, text))


def write_npy(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` in NumPy's ``.npy`` format atomically."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return write_bytes(path, buffer.getvalue())
