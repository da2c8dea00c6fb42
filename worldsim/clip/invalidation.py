"""Which frames of a clip folder an edited scene makes stale, and removing them so they re-render.

The folder's ``frame_inputs.json`` holds the frame inputs (``worldsim.clip.frame_inputs``) each
product (``guidance``, ``rgb``) was made from. A new render compares them with its own: a frame
whose digest differs (or that has no record) is stale; its files are removed, so the resume logic
renders exactly those frames, and the reasons go into ``metadata.json`` ``rerendered``. Frames
with equal digests are left alone: byte for byte the files of the first render.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from worldsim.clip.atomic import write_json
from worldsim.clip.frame_inputs import APPROXIMATION, FrameInputs
from worldsim.clip.layout import CLIP_FILES, ClipLayout

FRAME_INPUTS_FORMAT = 1
PRODUCTS = ("guidance", "rgb")
MAX_REASONS = 8
"""Parts named per stale frame in ``metadata.json`` (the rest are counted)."""

Expand = Callable[[set[int]], set[int]]
"""Stale frames -> every frame they make stale (a window renderer's windows); identity by default."""


@dataclass
class Staleness:
    """The stale frames of one product and why. reasons: frame -> what changed, in words."""

    frames: list[int] = field(default_factory=list)
    reasons: dict[int, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"frames": self.frames, "reasons": {str(frame): why for frame, why in self.reasons.items()}}


def read_frame_inputs(layout: ClipLayout) -> dict[str, Any] | None:
    """The folder's ``frame_inputs.json`` (None when absent or unreadable: nothing can be trusted)."""
    import json

    path = layout.frame_inputs_json
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FRAME_INPUTS_FORMAT:
        return None
    return data


def write_frame_inputs(layout: ClipLayout, camera: str, products: dict[str, FrameInputs | None]) -> None:
    """Write ``frame_inputs.json`` (atomically) with each product's frame inputs."""
    write_json(
        layout.frame_inputs_json,
        {
            "format": FRAME_INPUTS_FORMAT,
            "camera": camera,
            "approximation": APPROXIMATION,
            **{name: None if inputs is None else inputs.to_json() for name, inputs in products.items()},
        },
    )


def describe_change(old: dict[str, str] | None, new: dict[str, str]) -> list[str]:
    """What differs between two frames' parts, in words (``entity 3 changed``, ``camera``, ...)."""
    if old is None:
        return ["no record of this frame"]
    words = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            words.append(f"{name} now reaches the frame")
        elif name not in new:
            words.append(f"{name} no longer reaches the frame")
        elif old[name] != new[name]:
            words.append(f"{name} changed")
    return words or ["inputs changed"]


def stale_frames(
    old: FrameInputs | None, new: FrameInputs, *, on_disk: Callable[[int], bool], expand: Expand | None = None
) -> Staleness:
    """The frames of ``new`` whose recorded inputs differ from ``old`` and whose files exist.

    on_disk: whether a frame has files (frames without are rendered anyway and are not stale);
    expand: the frames a stale frame drags along (window renderers)."""
    reasons: dict[int, list[str]] = {}
    for frame, digest in enumerate(new.digests):
        if not on_disk(frame):
            continue
        old_parts = old.parts[frame] if old is not None and frame < len(old.digests) else None
        if old is None or frame >= len(old.digests) or old.digests[frame] != digest:
            reasons[frame] = describe_change(old_parts, new.parts[frame])
    if expand is not None and reasons:
        for frame in sorted(expand(set(reasons)) - set(reasons)):
            if on_disk(frame):
                reasons[frame] = ["its window reads a stale frame"]
    frames = sorted(reasons)
    return Staleness(frames, {frame: _short(reasons[frame]) for frame in frames})


def _short(words: list[str]) -> list[str]:
    if len(words) <= MAX_REASONS:
        return words
    return [*words[:MAX_REASONS], f"and {len(words) - MAX_REASONS} more"]


def discard_frames(layout: ClipLayout, maps: Sequence[str], frames: Iterable[int]) -> None:
    """Remove the files of ``maps`` for ``frames`` and their entries in the per-clip files."""
    frames = sorted(set(frames))
    if not frames:
        return
    for frame in frames:
        for path in layout.frame_files([name for name in maps if name not in CLIP_FILES], frame):
            path.unlink(missing_ok=True)
    for name in maps:
        if name in CLIP_FILES and layout.clip_file(name).is_file():
            data = layout.read_clip_file(name)
            data["frames"] = {key: value for key, value in data["frames"].items() if int(key) not in frames}
            write_json(layout.clip_file(name), data)


def frames_beyond(layout: ClipLayout, maps: Sequence[str], count: int) -> list[int]:
    """Frames at or after ``count`` that still have files of ``maps`` (a scene made shorter)."""
    found: set[int] = set()
    for name in maps:
        for path in layout.frame_files([name], 0):
            for candidate in path.parent.glob(f"*{path.suffix}"):
                if candidate.stem.isdigit() and int(candidate.stem) >= count:
                    found.add(int(candidate.stem))
    return sorted(found)
