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

``WindowStream`` is the one window loop of the project (the diffusion renderer and the adapters):
it samples the windows a ``plan_windows_to_sample`` chose, cross-fades each overlap with the window
before and yields the frames no later window touches. A resumed render samples only the windows
that cover missing frames, the windows their overlap blend reads, and the windows a renderer's
state needs (``state_windows``, e.g. where the appearance memory learns an entity); a renderer
whose windows read everything made before them (``chained``) samples every window up to the last
missing frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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


def final_window(windows: list[Window], frame: int) -> int:
    """The index of the window whose output of ``frame`` is final (the last window covering it)."""
    for index in range(len(windows) - 1, -1, -1):
        if windows[index].start <= frame < windows[index].stop:
            return index
    raise ValueError(f"frame {frame} is outside the windows (0..{windows[-1].stop - 1})")


def blend_sources(windows: list[Window], frames: Iterable[int]) -> set[int]:
    """The windows whose samples make the final outputs of ``frames``: each frame's final window
    and, for frames in a window's blended overlap, the window before it (recursively: with an
    overlap over half the window, a blended frame was blended once before)."""
    needed: set[int] = set()
    pending: dict[int, set[int]] = {}
    for frame in frames:
        pending.setdefault(final_window(windows, frame), set()).add(int(frame))
    while pending:
        index = max(pending)
        wanted = pending.pop(index)
        needed.add(index)
        window = windows[index]
        blended = {frame for frame in wanted if frame < window.start + window.context}
        if blended and index > 0:
            pending.setdefault(index - 1, set()).update(blended)
    return needed


def plan_windows_to_sample(
    windows: list[Window], frames: Iterable[int], *, chained: bool, state_windows: Iterable[int] = ()
) -> list[int]:
    """Indices of the windows to sample, in order, so that every frame of ``frames`` comes out as
    in an uninterrupted render of all windows.

    chained: every window reads what all earlier windows made (window context): all windows up to
      the last one ``frames`` needs.
    state_windows: windows that change state later windows read (e.g. where the appearance memory
      learns an entity); those before the last needed window are sampled too.
    """
    frames = sorted({int(frame) for frame in frames})
    if not frames:
        return []
    needed = blend_sources(windows, frames)
    last = max(needed)
    if chained:
        return list(range(last + 1))
    return sorted(needed | {index for index in state_windows if index < last})


@dataclass
class WindowOutput:
    """One sampled window: ``outputs`` (len(window.frames), ...) after the overlap cross-fade, and
    ``final``, its frames no later window touches whose outputs are complete (a blended frame is
    incomplete when the window before was not sampled)."""

    window: Window
    outputs: np.ndarray
    final: list[int]

    def output(self, frame: int) -> np.ndarray:
        return self.outputs[frame - self.window.start]


class WindowStream:
    """Samples windows in order, cross-fades each overlap with the window sampled before and hands
    out final frames. ``previous`` holds the complete outputs of the last sampled window (frame ->
    array), for renderers that give them to the next window as context."""

    def __init__(self, windows: list[Window]) -> None:
        self.windows = windows
        self.previous: dict[int, np.ndarray] = {}
        self._last: int | None = None

    def run(self, sample: Callable[[Window], np.ndarray], order: Iterable[int]) -> Iterator[WindowOutput]:
        """For each window index of ``order`` (ascending): ``sample(window)`` -> (len(window.frames),
        ...) outputs of its own frames, cross-faded over the overlap with ``previous``."""
        for index in order:
            window = self.windows[index]
            if self._last is None or self._last != index - 1:
                self.previous = {}
            outputs = sample(window)
            complete = []
            weights = blend_weights(window.context)
            for position, frame in enumerate(window.frames):
                if position < window.context:
                    if frame not in self.previous:
                        continue
                    weight = weights[position]
                    outputs[position] = (1.0 - weight) * self.previous[frame] + weight * outputs[position]
                complete.append(frame)
            following = self.windows[index + 1] if index + 1 < len(self.windows) else None
            final = [frame for frame in final_frames(window, following) if frame in complete]
            self.previous = {frame: outputs[frame - window.start] for frame in complete}
            self._last = index
            yield WindowOutput(window, outputs, final)
