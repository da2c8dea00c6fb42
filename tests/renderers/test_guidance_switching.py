"""``renderers.guidance.switching``: a short GIL switch interval while any guidance render runs."""

from __future__ import annotations

import sys
import threading

import pytest

from renderers.guidance import GuidanceRenderer
from renderers.guidance.switching import SWITCH_INTERVAL, short_switch_interval
from renderers.guidance.synthetic import ground_box_sphere

# CPython keeps the interval in whole microseconds.
SHORT = pytest.approx(SWITCH_INTERVAL, abs=1e-6)


def test_interval_is_short_inside_and_restored_after_the_last_of_nested_and_concurrent_blocks():
    before = sys.getswitchinterval()
    assert before > SWITCH_INTERVAL  # CPython's default, 5 ms
    inside_thread, release = threading.Event(), threading.Event()

    def other_render():
        with short_switch_interval():
            inside_thread.set()
            release.wait(10)

    with short_switch_interval():
        assert sys.getswitchinterval() == SHORT
        worker = threading.Thread(target=other_render)
        worker.start()
        assert inside_thread.wait(10)
        with short_switch_interval():
            assert sys.getswitchinterval() == SHORT
    assert sys.getswitchinterval() == SHORT  # the other thread's render still runs
    release.set()
    worker.join(10)
    assert sys.getswitchinterval() == before


def test_a_shorter_interval_the_user_chose_is_kept_and_restored():
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL / 4)
    chosen = sys.getswitchinterval()
    try:
        with short_switch_interval():
            assert sys.getswitchinterval() == pytest.approx(chosen, abs=1e-6)
        assert sys.getswitchinterval() == pytest.approx(chosen, abs=1e-6)
    finally:
        sys.setswitchinterval(before)


def test_render_shortens_the_interval_only_while_it_runs(monkeypatch):
    seen = []
    renderer = GuidanceRenderer(ground_box_sphere(2, (32, 24)), threads=False)
    original = renderer._render
    monkeypatch.setattr(
        renderer, "_render", lambda frame: seen.append(sys.getswitchinterval()) or original(frame)
    )
    before = sys.getswitchinterval()
    frame = renderer.render(1)
    assert frame.frame == 1 and seen == [SHORT]
    assert sys.getswitchinterval() == before
