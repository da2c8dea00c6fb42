"""The diffusion renderer across renders (issue 22): its appearance memory saved in the clip folder
and started from by another render (``--appearance-from``), and a clip extended seamlessly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderers.diffusion.memory import AppearanceMemory
from renderers.diffusion.memory_io import (
    load_memory,
    load_surface_cache,
    memory_from_json,
    memory_to_json,
    save_surface_cache,
)
from renderers.diffusion.surface_cache import SurfaceCache
from worldsim.errors import RenderError
from worldsim.metrics.warping import warping_error
from worldsim.render import load_and_validate, render
from worldsim.scene.edits import apply_edits, parse_set

REPO = Path(__file__).resolve().parents[3]
SHELF = REPO / "tools" / "bench" / "edit" / "shelf_pan.yaml"
FAST = {"steps": 2, "mode": "structure"}
"""The shipped weights in structure mode (where the appearance memory draws each entity's look)
with two sampler steps: the mechanisms under test, not the looks."""


def shelf(frames: int, cameras: str | None = None):
    edits = [
        parse_set("resolution=[48, 32]"),
        parse_set(f"num_frames={frames}"),
        parse_set("render.guidance=[depth, instance, flow]"),
    ]
    if cameras:
        edits.append(parse_set(f"cameras={cameras}"))
    return apply_edits(load_and_validate(SHELF), edits)


def test_memory_round_trips_and_bad_files_are_clear(tmp_path: Path) -> None:
    memory = AppearanceMemory()
    memory.colours = {3: np.array([0.1, 0.2, 0.3], np.float32), 7: np.array([0.9, 0.5, 0.0], np.float32)}
    memory.first_frame = {3: 0, 7: 12}
    back = memory_from_json(memory_to_json(memory))
    assert back.first_frame == memory.first_frame
    assert all(np.array_equal(back.colours[key], memory.colours[key]) for key in memory.colours)
    with pytest.raises(RenderError, match=r"entities.3.colour: values must be in \[0, 1\]"):
        memory_from_json({"format": 1, "entities": {"3": {"colour": [2, 0, 0]}}}, "x.json")
    with pytest.raises(RenderError, match="not an appearance memory"):
        memory_from_json([1, 2], "x.json")
    path = tmp_path / "appearance_memory.json"
    path.write_text("{broken")
    with pytest.raises(RenderError, match="unreadable appearance memory"):
        load_memory(path)
    cache = SurfaceCache()
    save_surface_cache(cache, tmp_path / "cache.npz")
    assert len(load_surface_cache(tmp_path / "cache.npz")) == 0


@pytest.mark.slow
def test_extend_continues_a_diffusion_clip(tmp_path: Path) -> None:
    out = tmp_path / "clip"
    render(shelf(12), renderer="diffusion", options=FAST, out=out, progress=False)
    before = {path.name: path.read_bytes() for path in sorted((out / "rgb").glob("*.png"))}
    memory = load_memory(out / "appearance_memory.json")
    assert len(memory) >= 2
    clip = render(shelf(12), renderer="diffusion", options=FAST, out=out, progress=False, extend=6)
    rerendered = clip.metadata["rerendered"]["rgb"]
    # windows of 8 frames, overlap 2: [0, 8) and [6, 12) at 12 frames; at 18 the last one is
    # [6, 14) with real frames after it, so its frames are sampled again; [0, 8)'s first ones stay
    assert rerendered["frames"] == list(range(6, 12))
    assert rerendered["reasons"]["6"] == ["its window changed with the clip's length"]
    after = {
        path.name: (out / "rgb" / path.name).read_bytes() for path in sorted((out / "rgb").glob("*.png"))
    }
    assert all(after[name] == before[name] for name in list(before)[:6])
    errors = []
    for frame in range(clip.num_frames - 1):
        maps = clip.map("flow", frame)
        errors.append(
            warping_error(
                clip.rgb(frame), clip.rgb(frame + 1), maps["flow_forward"], maps["flow_forward_valid"]
            ).overall
        )
    join = errors[11]  # frame 11 -> 12: the first render's end to the continuation
    assert join <= max(errors[:11] + errors[12:]) + 1e-9, (join, errors)


@pytest.mark.slow
def test_appearance_from_starts_another_camera_from_the_memory(tmp_path: Path) -> None:
    cameras = (
        "[{name: main, fov_deg: 30, position: [8, -4, 1.6], look_at: [10, 0, 0.4]}, "
        "{name: side, fov_deg: 45, position: [12, -5, 2.5], look_at: [11, 0, 0.4]}]"
    )
    scene = shelf(8, cameras)
    first = render(
        scene, renderer="diffusion", options=FAST, out=tmp_path / "a", camera="main", progress=False
    )
    memory = load_memory(first.path / "appearance_memory.json")
    second = render(
        scene,
        renderer="diffusion",
        options=FAST,
        out=tmp_path / "b",
        camera="side",
        appearance_from=first.path,
        progress=False,
    )
    start = load_memory(second.path / "appearance_start.json")
    assert start.colours.keys() == memory.colours.keys()
    ended = load_memory(second.path / "appearance_memory.json")
    # entities the first clip remembered keep that colour (the memory is started from, not relearnt)
    for entity, colour in memory.colours.items():
        np.testing.assert_array_equal(ended.colours[entity], colour)
    assert second.metadata["settings"]["appearance"]["renderer"] == "diffusion"
    # a resume starts from the same memory without being told again: the same bytes
    frame = second.path / "rgb" / "00003.png"
    kept = frame.read_bytes()
    frame.unlink()
    render(scene, renderer="diffusion", options=FAST, out=second.path, camera="side", progress=False)
    assert frame.read_bytes() == kept
