"""Long clips as a chain of overlapping windows: which frames each window covers, which of them
are context from the previous window, and how overlapping outputs are blended.

Window ``k`` starts at ``k * (length - overlap)``. Its first ``overlap`` frames were already made
by window ``k - 1``: they are given to the model as context (with a mask) and the two results are
cross-faded over the overlap. A frame is final once no later window covers it, so frames stream
out in order and memory holds one window, whatever the clip length.

A window is sampled over its frames plus ``margin`` more on each side (``support_frames``) whose
outputs are thrown away: the network's temporal convolutions are zero padded, so a window's
first and last frames come out systematically different (measured: frame 0 of a clip 5.8 CIELAB
ΔE from the entity's median colour, interior frames 0.25). A margin keeps every kept frame off
the edge; at the ends of the clip the edge frame is repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """Frames ``start .. stop - 1``; the first ``context`` of them come from the previous window."""

    index: int
    start: int
    stop: int
    context: int

    @property
    def frames(self) -> range:
        return range(self.start, self.stop)


def plan_windows(num_frames: int, length: int, overlap: int) -> list[Window]:
    """The windows covering frames ``0 .. num_frames - 1``; the last one is shortened if needed."""
    if length < 1:
        raise ValueError(f"window length must be >= 1, got {length}")
    if not 0 <= overlap < length:
        raise ValueError(f"overlap must be in [0, {length}), got {overlap}")
    windows: list[Window] = []
    start = 0
    while True:
        stop = min(start + length, num_frames)
        context = 0 if not windows else min(overlap, stop - start)
        windows.append(Window(index=len(windows), start=start, stop=stop, context=context))
        if stop >= num_frames:
            return windows
        start += length - overlap


def support_frames(window: Window, margin: int, num_frames: int) -> list[int]:
    """The clip frames ``window`` is sampled over: its own frames with ``margin`` more on each side,
    clamped to ``0 .. num_frames - 1`` (the clip's first or last frame repeated). Its own frames
    are at positions ``margin .. margin + len(window.frames) - 1``."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    last = num_frames - 1
    return [min(max(frame, 0), last) for frame in range(window.start - margin, window.stop + margin)]


def blend_weights(overlap: int) -> np.ndarray:
    """(overlap,) weight of the NEW window's output on each overlapping frame (rises towards 1)."""
    return (np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1)).astype(np.float32)


def final_frames(window: Window, next_window: Window | None) -> range:
    """The frames of ``window`` no later window touches (all of them for the last window)."""
    if next_window is None:
        return window.frames
    return range(window.start, next_window.start)
