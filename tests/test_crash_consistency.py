"""Crash consistency: a render SIGKILLed at random points (fixed seed) and resumed each time
ends byte for byte equal to an uninterrupted render, with no temp or lock files left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from worldsim.clip.atomic import TEMP_PREFIX
from worldsim.clip.lock import LOCK_NAME
from worldsim.provenance import credentials
from worldsim.provenance.embedded import read_mp4_record, read_png_record

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 18
KILLS = 3

SCENE = """\
name: crash
fps: 8
num_frames: 16
resolution: [32, 24]
entities:
  - {name: floor, semantic_class: ground, mesh: {type: plane, size: [10, 10]}}
  - {name: ball, semantic_class: ball, mesh: {type: sphere, radius: 0.3}, pose: {position: [0, 0, 1.0]},
     physics: {mode: dynamic}}
cameras:
  - {name: main, fov_deg: 50, position: [3, -3, 2], look_at: [0, 0, 0.3]}
"""


SIGNED_FILES = ("video.mp4", "contact_sheet.png")
"""Files with content credentials (``worldsim.provenance``)."""


def files_of(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``folder``."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def render_command(scene: Path, out: Path, renderer: str) -> list[str]:
    cli = [sys.executable, "-m", "worldsim.cli.main", "--quiet", "render", str(scene)]
    return [*cli, "--renderer", renderer, "--out", str(out)]


def kill_after(command: list[str], out: Path, files: int, env: dict[str, str]) -> bool:
    """Run ``command``; SIGKILL it (by pid) once ``out`` holds ``files`` files. False if it ended first."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if out.is_dir() and sum(1 for path in out.rglob("*") if path.is_file()) >= files:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    process.wait()
    return False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("renderer", "kills", "frames"),
    [("flat", KILLS, 16), ("diffusion", 1, 8)],  # diffusion: the default renderer, one resume (CPU cost)
)
def test_killed_and_resumed_render_equals_an_uninterrupted_one(tmp_path, renderer, kills, frames) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(SCENE.replace("num_frames: 16", f"num_frames: {frames}"))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    subprocess.run(render_command(scene, whole, renderer), env=env, check=True, timeout=300)
    expected = files_of(whole)
    rng = random.Random(SEED)
    # Kill points are counts of files on disk: anywhere for the fast renderer; for diffusion while
    # its frames are being written (after the guidance maps and the four simulation files:
    # scene.yaml, frame_inputs.json, trajectory.json, metadata.json; cached previews come after).
    before_rgb = 4 + sum(1 for name in expected if "/" in name and not name.startswith(("rgb/", ".cache/")))
    candidates = range(1, len(expected)) if renderer == "flat" else range(before_rgb + 1, before_rgb + frames)
    thresholds = sorted(rng.sample(candidates, kills))
    killed = [
        kill_after(render_command(scene, resumed, renderer), resumed, count, env) for count in thresholds
    ]
    assert any(killed), "every run finished before its kill point"
    subprocess.run(render_command(scene, resumed, renderer), env=env, check=True, timeout=300)
    actual = files_of(resumed)
    assert sorted(actual) == sorted(expected)  # no temp files, no lock file, nothing missing
    assert not [name for name in actual if Path(name).name.startswith((TEMP_PREFIX, LOCK_NAME))]
    # Signed files carry a fresh signature each time (issue 23): the same record, not the same bytes.
    different = [name for name in expected if actual[name] != expected[name] and name not in SIGNED_FILES]
    assert different == []
    for name in SIGNED_FILES:
        read = read_mp4_record if name.endswith(".mp4") else read_png_record
        assert read(resumed / name) == read(whole / name)
        if credentials.available():
            assert credentials.verify_file(resumed / name).valid
