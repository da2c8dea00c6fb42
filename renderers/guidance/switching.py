"""While guidance frames render, Python threads hand over the GIL every 0.5 ms instead of every 5 ms.

The renderer's threads (casting t+1 and t+2, the two flows, the maps) each need the GIL between
their compiled kernels (and open3d's ``RaycastingScene.cast_rays``, the fallback of
``renderers.guidance.embree``, holds it for a whole cast). With CPython's default 5 ms switch
interval a thread that wants the GIL back can wait up to 5 ms behind another one running Python,
which at 256² (a frame every ~10 ms) leaves the cores idle. Measured while open3d cast every ray,
at 256² / 100k triangles on 2 loaded cores (load average 10), fastest of 8 runs each: 15.6 ms a
frame at 5 ms, 14.1 ms at 0.5 ms and at 0.2 ms (another session: 12.2 -> 10.4 ms at 0.2 ms); at
512² the renderer's CPU time grows by 2 % at 0.5 ms and 4 % at 0.2 ms (more hand-overs), so
0.5 ms; under heavier load (11) one A/B showed 5-10 % more CPU and no wall gain, so this is a
trade to re-measure on an idle machine. With Embree's GIL-free casts the two settings measured
the same (6 interleaved rounds at 256² / 100k: 110 and 113 frames/s, 14.4 CPU-ms a frame each).
The interval is shortened while at least one render is in progress (any thread) and restored when
the last one ends; ``SWITCH_INTERVAL`` >= 0.005 (CPython's default) turns it off.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.0005
"""Seconds a thread runs Python before handing the GIL to a waiting thread, while rendering."""

_lock = threading.Lock()
_active = 0
_saved = 0.0


@contextmanager
def short_switch_interval() -> Iterator[None]:
    """``sys.setswitchinterval(SWITCH_INTERVAL)`` (never longer than it was) inside the block;
    nested and concurrent blocks share one setting, restored after the last exits."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved, SWITCH_INTERVAL))
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                sys.setswitchinterval(_saved)
