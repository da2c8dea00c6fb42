"""Files the project writes get mode 0o666 minus the umask (issue 18 item 4: they were all 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import worldsim as ws
from worldsim.clip import atomic
from worldsim.render import render
from worldsim.scene.yaml_io import save_scene


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_atomic_writer_respects_the_umask(tmp_path: Path, umask_022: None) -> None:
    written = [
        atomic.write_png(tmp_path / "a.png", np.zeros((4, 4), dtype=np.uint8)),
        atomic.write_npy(tmp_path / "a.npy", np.zeros(3)),
        atomic.write_json(tmp_path / "a.json", {"a": 1}),
        save_scene(ws.Scene(name="modes", num_frames=2), tmp_path / "scene.yaml"),
    ]
    with atomic.atomic_path(tmp_path / "video.mp4") as temp:
        temp.write_bytes(b"x")
    written.append(tmp_path / "video.mp4")
    assert {path.name: mode(path) for path in written} == {path.name: 0o644 for path in written}
    os.umask(0o077)
    assert mode(atomic.write_text(tmp_path / "private.txt", "x")) == 0o600
    assert not list(tmp_path.glob(f"{atomic.TEMP_PREFIX}*"))


def test_a_rendered_clip_folder_is_readable_by_others_under(tmp_path: Path, umask_022: None) -> None:
    scene = ws.Scene(name="modes", seed=1, fps=10, num_frames=2, resolution=[16, 16])
    scene.add(ws.Entity(name="ball", semantic_class="ball", mesh=ws.Mesh(type="sphere", radius=0.5)))
    render(scene, out=tmp_path / "clip", guidance_only=True, progress=False)
    files = [path for path in (tmp_path / "clip").rglob("*") if path.is_file()]
    assert len(files) > 10
    assert {str(path.relative_to(tmp_path)): mode(path) for path in files if mode(path) != 0o644} == {}
