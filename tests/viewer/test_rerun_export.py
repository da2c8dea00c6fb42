"""``worldsim export CLIP --format rerun``: read back with rerun's own reader, every frame's images,
camera and boxes are there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

rerun = pytest.importorskip("rerun", reason="the Rerun export needs worldsim[viewer]")


def _chunks(path: Path) -> dict[str, list]:
    from rerun.chunk import RrdReader

    by_entity: dict[str, list] = {}
    for chunk in RrdReader(path).stream().collect().stream():
        by_entity.setdefault(chunk.entity_path, []).append(chunk)
    return by_entity


def _frames(chunks: list, column: str) -> list[int]:
    """Frame indices at which ``column`` was logged (over the entity's non-static chunks)."""
    frames: list[int] = []
    for chunk in chunks:
        batch = chunk.to_record_batch()
        if chunk.is_static or column not in batch.schema.names:
            continue
        frames += batch.column("frame").to_pylist()
    return sorted(frames)


def test_recording_holds_every_frame(viewer_clip: Path, tmp_path: Path) -> None:
    from worldsim.clip.clip import Clip

    out = tmp_path / "clip.rrd"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "worldsim.cli.main",
            "export",
            str(viewer_clip),
            "--format",
            "rerun",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    clip = Clip(viewer_clip)
    every = list(range(clip.num_frames))
    chunks = _chunks(out)
    assert _frames(chunks["/world/camera"], "Transform3D:translation") == every
    assert _frames(chunks["/world/camera/image"], "Pinhole:image_from_camera") == every
    for entity, column in (
        ("/world/camera/image/rgb", "Image:buffer"),
        ("/world/camera/image/depth", "DepthImage:buffer"),
        ("/world/camera/image/instance", "SegmentationImage:buffer"),
        ("/world/camera/image/semantic", "SegmentationImage:buffer"),
        ("/world/camera/image/flow", "Tensor:data"),
        ("/world/entities", "Boxes3D:centers"),
    ):
        assert _frames(chunks[entity], column) == every, entity
    # The camera translation of frame 3 is the clip's.
    track = clip.trajectory().cameras[clip.camera]
    for chunk in chunks["/world/camera"]:
        batch = chunk.to_record_batch()
        frames = batch.column("frame").to_pylist()
        translations = batch.column("Transform3D:translation").to_pylist()
        if 3 in frames:
            np.testing.assert_allclose(
                np.ravel(translations[frames.index(3)]), track.cam_to_world[3, :3, 3], atol=1e-5
            )
    # Every box frame lists the four entities with their class ids; names in the annotation context.
    boxes = [c.to_record_batch() for c in chunks["/world/entities"] if not c.is_static]
    class_ids = [ids for batch in boxes for ids in batch.column("Boxes3D:class_ids").to_pylist()]
    assert all(len(ids) == 4 for ids in class_ids)
    context = [c for c in chunks["/world/camera/image/semantic"] if c.is_static]
    assert context and "AnnotationContext:context" in context[0].to_record_batch().schema.names


def test_export_refuses_a_folder_that_is_no_clip(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "worldsim.cli.main",
            "export",
            str(tmp_path),
            "--format",
            "rerun",
            "--out",
            str(tmp_path / "x.rrd"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "not a clip folder" in result.stderr
    assert not (tmp_path / "x.rrd").exists()
