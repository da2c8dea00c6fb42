"""``video.mp4`` / ``guidance.mp4`` (H.264, yuv420p) and ``contact_sheet.png``, streamed from disk."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from worldsim.clip.atomic import atomic_path, write_png

VIDEO_QUALITY_CRF = 18
"""x264 constant rate factor (lower = better; 18 is visually lossless for most content)."""


def pad_to_even(image: np.ndarray) -> np.ndarray:
    """Pad (H, W, 3) uint8 by repeating the last row / column so H and W are even (yuv420p)."""
    height, width = image.shape[:2]
    pad_bottom, pad_right = height % 2, width % 2
    if not pad_bottom and not pad_right:
        return image
    return np.pad(image, ((0, pad_bottom), (0, pad_right), (0, 0)), mode="edge")


def write_mp4(
    frames: Iterable[np.ndarray], path: str | Path, fps: float, tags: Mapping[str, str] | None = None
) -> Path:
    """Encode (H, W, 3) uint8 frames as H.264 yuv420p MP4 at ``fps``, atomically; streams frames.

    tags: container metadata (``title``, ``comment``, ...), e.g. the provenance record.
    """
    import imageio.v2 as imageio

    path = Path(path)
    with atomic_path(path) as temp:
        writer = imageio.get_writer(
            temp,
            format="FFMPEG",
            mode="I",
            fps=float(fps),
            codec="libx264",
            pixelformat="yuv420p",
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=[
                "-crf",
                str(VIDEO_QUALITY_CRF),
                "-movflags",
                "+faststart",
                *(arg for key, value in (tags or {}).items() for arg in ("-metadata", f"{key}={value}")),
            ],
        )
        try:
            count = 0
            for frame in frames:
                writer.append_data(pad_to_even(_as_rgb8(frame)))
                count += 1
        finally:
            writer.close()
        if count == 0:
            raise ValueError("no frames to write")
    return path


def _as_rgb8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.dtype != np.uint8:
        raise ValueError(f"video frames must be uint8, got {image.dtype}")
    return image[..., :3]


def evenly_spaced(frames: Sequence[int], count: int) -> list[int]:
    """``count`` frames of ``frames`` spread evenly, first and last included (all if fewer)."""
    if len(frames) <= count:
        return list(frames)
    positions = np.rint(np.linspace(0, len(frames) - 1, count)).astype(int)
    return [frames[position] for position in positions]


def contact_sheet(
    load: Callable[[int], np.ndarray],
    frames: Sequence[int],
    *,
    count: int = 12,
    columns: int | None = None,
    label_height: int = 14,
) -> np.ndarray:
    """A grid of ``count`` evenly spaced frames, each labelled with its frame number.

    load(frame) -> (H, W, 3) uint8. Returns (rows * (H + label_height), columns * W, 3) uint8.
    """
    from PIL import Image, ImageDraw, ImageFont

    chosen = evenly_spaced(frames, count)
    if not chosen:
        raise ValueError("no frames for a contact sheet")
    columns = columns or math.ceil(math.sqrt(len(chosen)))
    rows = math.ceil(len(chosen) / columns)
    first = _as_rgb8(load(chosen[0]))
    height, width = first.shape[:2]
    cell_height = height + label_height
    sheet = Image.new("RGB", (columns * width, rows * cell_height), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=max(6, label_height - 4))
    for slot, frame in enumerate(chosen):
        image = first if slot == 0 else _as_rgb8(load(frame))
        left, top = (slot % columns) * width, (slot // columns) * cell_height
        sheet.paste(Image.fromarray(np.ascontiguousarray(image)), (left, top + label_height))
        draw.text((left + 2, top + 1), f"{frame}", fill=(235, 235, 235), font=font)
    return np.asarray(sheet)


def write_contact_sheet(
    load: Callable[[int], np.ndarray],
    frames: Sequence[int],
    path: str | Path,
    *,
    count: int = 12,
    columns: int | None = None,
    text: Mapping[str, str] | None = None,
) -> Path:
    """Build ``contact_sheet`` and write it as a PNG (with ``text`` chunks) atomically."""
    return write_png(path, contact_sheet(load, frames, count=count, columns=columns), text)
