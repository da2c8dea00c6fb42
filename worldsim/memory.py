"""Keep freed memory in the process for the next frame or clip instead of handing it back to the OS.

Every guidance frame allocates tens of megabytes of fresh arrays (maps, ray hits, Embree's cast
results; about 60 MB at 512² / 100k triangles) and frees those of a few frames before; every
rollout fills a (T, E, 4, 4) pose array (128 MB for 1000 entities x 1000 frames). glibc serves
blocks this large with ``mmap`` (or trims them off its heap once freed), so each frame's or
clip's arrays arrive as new pages that the kernel clears on the first touch: a page fault per
4 KiB, about a sixth of the guidance renderer's CPU time and a tenth of a repeated rollout's.
Raising glibc's mmap and trim thresholds keeps those blocks on the heap, so the next frame or
clip reuses memory that is already mapped; the process keeps what it used at its peak, as
jemalloc and tcmalloc do by default. Called by the guidance renderer and ``World.rollout``.

Only on glibc, only once per process, and not where the user set either threshold through
glibc's environment variables.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

MMAP_THRESHOLD = 256 * 1024 * 1024
"""Bytes: blocks below this come from the heap (every map up to 4096² float32 x 3)."""
TRIM_THRESHOLD = 1024 * 1024 * 1024
"""Bytes of free memory at the top of a heap kept before glibc returns it to the OS."""

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")

_lock = threading.Lock()
_done = False


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (``MMAP_THRESHOLD``, ``TRIM_THRESHOLD``) once; True if set now or
    before, False where the C library is not glibc or the user configured them."""
    global _done
    with _lock:
        if _done:
            return True
        if any(name in os.environ for name in _ENVIRONMENT):
            return False
        mallopt = _mallopt()
        if mallopt is None:
            return False
        # mallopt returns 1 on success; setting either fixes the threshold (no dynamic growth).
        mmap_set = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        _done = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and mmap_set
        return _done


def _mallopt():
    """glibc's ``mallopt(int, int) -> int``, or None on another C library."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if not hasattr(libc, "gnu_get_libc_version"):
            return None
        function = libc.mallopt
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int)
    function.restype = ctypes.c_int
    return function
