"""One render per clip folder: a second one is refused while the first runs, a SIGKILLed one
leaves nothing to clean up, and a split render finishes the videos over the whole clip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from worldsim.cli.main import EXIT_FAILURE, main
from worldsim.clip.lock import LOCK_NAME, ClipLockedError, clip_lock

REPO_ROOT = Path(__file__).resolve().parents[1]

SCENE = """\
name: split
fps: 8
num_frames: 24
resolution: [32, 24]
entities:
  - {name: floor, semantic_class: ground, mesh: {type: plane, size: [10, 10]}}
  - {name: ball, semantic_class: ball, mesh: {type: sphere, radius: 0.3}, pose: {position: [0, 0, 1.0]},
     physics: {mode: dynamic}}
cameras:
  - {name: main, fov_deg: 50, position: [3, -3, 2], look_at: [0, 0, 0.3]}
"""

HOLD_LOCK = """\
import sys, time
from worldsim.clip.lock import clip_lock
with clip_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def scene_file(tmp_path: Path) -> Path:
    path = tmp_path / "scene.yaml"
    path.write_text(SCENE)
    return path


def hold_lock_in_subprocess(folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_render_into_a_held_folder_is_refused(scene_file, tmp_path, capsys) -> None:
    out = tmp_path / "clip"
    holder = hold_lock_in_subprocess(out)
    try:
        args = ["render", str(scene_file), "--renderer", "flat", "--frames", "0:2", "--out", str(out)]
        assert main(args) == EXIT_FAILURE
        error = capsys.readouterr().err
        assert error.startswith(f"error: {out}: pid {holder.pid} on ") and "is rendering into" in error
        assert len(error.strip().splitlines()) == 1
        assert not (out / "rgb").exists()  # refused before writing anything
        with pytest.raises(ClipLockedError), clip_lock(out):
            pass
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the SIGKILLed holder's lock: the folder is free without clean-up.
    args = ["--quiet", "render", str(scene_file), "--renderer", "flat", "--frames", "0:2", "--out", str(out)]
    assert main(args) == 0
    assert len(list((out / "rgb").glob("*.png"))) == 2
    assert not (out / LOCK_NAME).exists()  # the finished render removed the stale file


def test_lock_is_exclusive_within_a_process_and_released_after(tmp_path) -> None:
    folder = tmp_path / "new"
    with clip_lock(folder) as path:
        assert path.read_text().startswith(f"pid {os.getpid()} on ")
        with pytest.raises(ClipLockedError, match="is rendering into this folder"), clip_lock(folder):
            pass
    assert not folder.exists()  # nothing was written: no empty folder left behind
    (tmp_path / "kept").mkdir()
    with clip_lock(tmp_path / "kept"):
        pass
    assert list((tmp_path / "kept").iterdir()) == []


def read_video_frames(path: Path) -> np.ndarray:
    import imageio.v2 as imageio

    reader = imageio.get_reader(path, format="FFMPEG")
    try:
        return np.stack(list(reader.iter_data()))
    finally:
        reader.close()


def test_a_split_render_finishes_the_video_over_the_whole_clip(scene_file, tmp_path) -> None:
    out = tmp_path / "clip"
    base = ["--quiet", "render", str(scene_file), "--renderer", "flat", "--out", str(out)]
    assert main([*base, "--frames", "0:12"]) == 0
    assert len(read_video_frames(out / "video.mp4")) == 12
    assert main([*base, "--frames", "12:24"]) == 0
    assert len(read_video_frames(out / "video.mp4")) == 24
    assert len(read_video_frames(out / "guidance.mp4")) == 24
    whole = tmp_path / "whole"
    assert main([*base[:-1], str(whole)]) == 0
    split, single = read_video_frames(out / "video.mp4"), read_video_frames(whole / "video.mp4")
    assert np.array_equal(split, single)  # the same frames on disk, encoded the same way


@pytest.mark.slow
def test_two_renders_at_once_one_is_refused(scene_file, tmp_path) -> None:
    """Two real render processes into one folder: the first is paused (SIGSTOP) once it has begun
    writing, the second is refused, and the first then completes."""
    out = tmp_path / "clip"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "worldsim.cli.main", "--quiet", "render", str(scene_file)]
    command += ["--renderer", "flat", "--out", str(out)]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (out / "metadata.json").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        first.send_signal(signal.SIGSTOP)
        assert first.poll() is None, "the first render ended before it could be paused"
        second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == EXIT_FAILURE and "is rendering into this folder" in second.stderr
    assert first.wait(timeout=120) == 0
    assert len(list((out / "rgb").glob("*.png"))) == 24 and not (out / LOCK_NAME).exists()
