"""Ctrl-C: exit 130 with the one-line message, however deep in a library the interrupt lands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from worldsim.cli.main import EXIT_INTERRUPTED, caused_by_interrupt, main

MESSAGE = "interrupted; run the same command again to continue where it stopped"
REPO_ROOT = Path(__file__).resolve().parents[1]

SCENE = """\
name: interrupt
fps: 8
num_frames: 4
resolution: [64, 48]
entities:
  - {name: floor, semantic_class: ground, mesh: {type: plane, size: [10, 10]}}
  - {name: ball, semantic_class: ball, mesh: {type: sphere, radius: 0.3}, pose: {position: [0, 0, 0.3]}}
cameras:
  - {name: main, fov_deg: 50, position: [3, -3, 2], look_at: [0, 0, 0.3]}
"""

SELF_INTERRUPTING_CLI = """\
import os, signal, sys, threading
import mitsuba
nth, delay = int(sys.argv[1]), float(sys.argv[2])
calls = [0]
original = mitsuba.render
def render(*args, **kwargs):  # a real SIGINT while Mitsuba renders the nth image
    calls[0] += 1
    if calls[0] == nth:
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()
    return original(*args, **kwargs)
mitsuba.render = render
from worldsim.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def default_sigint() -> None:
    """In the child before exec: Ctrl-C's default action (a process started in the background,
    as a CI runner may start the suite, inherits SIGINT ignored, and Python then keeps it so)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupt_wrapped_by_a_library_is_an_interrupt(monkeypatch, capsys) -> None:
    """Dr.Jit re-raises a KeyboardInterrupt from inside ``mi.render`` as a RuntimeError."""
    import worldsim.render

    def interrupted_render(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5.0)  # the signal's KeyboardInterrupt arrives here
        except KeyboardInterrupt as interrupt:
            raise RuntimeError("drjit.custom(<_RenderOp>): error while performing ...") from interrupt
        raise AssertionError("no KeyboardInterrupt arrived")

    monkeypatch.setattr(worldsim.render, "render", interrupted_render)
    # A process started in the background inherits SIGINT ignored; a terminal's Ctrl-C is not.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    scene = REPO_ROOT / "scenes" / "demo.yaml"
    try:
        assert main(["render", str(scene), "--out", "unused", "--quiet"]) == EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
    captured = capsys.readouterr()
    assert captured.err == f"{MESSAGE}\n" and captured.out == ""


def test_only_errors_caused_by_an_interrupt_count() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise OSError("cleanup failed") from None  # __context__ still records the interrupt
    except OSError as error:
        assert caused_by_interrupt(error)
    assert not caused_by_interrupt(RuntimeError("a plain failure"))


@pytest.mark.slow
@pytest.mark.parametrize(("nth", "delay"), [(1, 0.005), (1, 0.05), (2, 0.02)])
def test_sigint_during_a_reference_render_exits_130_with_one_line(tmp_path, nth, delay) -> None:
    pytest.importorskip("mitsuba")
    scene = tmp_path / "scene.yaml"
    scene.write_text(SCENE)
    out = tmp_path / "clip"
    command = [sys.executable, "-c", SELF_INTERRUPTING_CLI, str(nth), str(delay)]
    render = ["render", str(scene), "--renderer", "reference", "--spp", "256", "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [*command, *render], capture_output=True, text=True, env=env, timeout=120, preexec_fn=default_sigint
    )
    assert (result.returncode, result.stderr, result.stdout) == (EXIT_INTERRUPTED, f"{MESSAGE}\n", "")
    assert len(list((out / "rgb").glob("*.png"))) < 4  # stopped before the end
    if nth == 2:  # the same command resumes and finishes
        resumed = subprocess.run(
            [sys.executable, "-m", "worldsim.cli.main", *render], capture_output=True, text=True, env=env
        )
        assert (resumed.returncode, resumed.stderr) == (0, "")
        assert len(list((out / "rgb").glob("*.png"))) == 4
