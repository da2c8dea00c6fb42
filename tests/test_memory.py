"""``worldsim.memory``: freed frame-sized arrays are reused without new page faults."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from worldsim import memory

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")

# A guidance-like pattern: per frame, five arrays of 1-3 MB made on a worker thread and five on
# the main thread, the last three frames' kept; prints the minor page faults of 40 frames after
# a warm-up. "keep" first calls keep_freed_memory.
_FAULTS = """
import importlib.util, resource, sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
spec = importlib.util.spec_from_file_location("memory", sys.argv[2])  # not the heavy package
memory = importlib.util.module_from_spec(spec)
spec.loader.exec_module(memory)
print(memory.keep_freed_memory() if sys.argv[1] == "keep" else None)
def frame(i):
    sizes = (3 * 2**18, 2 * 2**18, 2**18, 300000 + i, 3 * 2**18)
    return [np.ones(n, dtype=np.float32) for n in sizes]
pool = ThreadPoolExecutor(2)
window = []
def step(i):
    global window
    window = (window + [pool.submit(frame, i).result(), frame(i)])[-3:]
for i in range(5):
    step(i)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(40):
    step(i)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str, **environment: str) -> tuple[str, int]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    env.pop("GLIBC_TUNABLES", None)
    result = subprocess.run(
        [sys.executable, "-c", _FAULTS, mode, memory.__file__],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, **environment},
        check=True,
    )
    answer, faults = result.stdout.split()
    return answer, int(faults)


def test_freed_arrays_are_reused_without_page_faults_unless_the_user_set_thresholds():
    # Fresh blocks arrive as new pages the kernel faults in and clears; kept ones are reused.
    answer, kept = _faults("keep")
    assert answer == "True"
    _, fresh = _faults("plain")
    assert kept < fresh / 2, (kept, fresh)
    answer, faults = _faults("keep", MALLOC_TRIM_THRESHOLD_="131072")
    assert answer == "False"
    assert faults > 2 * kept, (faults, kept)


def test_setting_twice_is_harmless():
    first = memory.keep_freed_memory()
    assert memory.keep_freed_memory() == first
