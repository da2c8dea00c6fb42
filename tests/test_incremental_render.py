"""Re-rendering an edited scene into its clip folder (issue 22): only frames whose inputs changed
are rendered again, every frame ends equal to a fresh render of the edited scene, and
``metadata.json`` says what was re-rendered and why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from worldsim.clip import Clip
from worldsim.render import load_and_validate, render
from worldsim.scene.edits import Edit, apply_edits, parse_set

REPO = Path(__file__).resolve().parents[1]
SHELF = REPO / "tools" / "bench" / "edit" / "shelf_pan.yaml"
VASE = 9
"""The id of the entity the bench edit changes (the last of the shelf)."""


def shelf(*changes: str, frames: int = 48, size: tuple[int, int] = (48, 32)):
    """The bench scene, small and with cheap guidance, with ``--set`` style ``changes``."""
    edits = [
        parse_set(f"resolution=[{size[0]}, {size[1]}]"),
        parse_set(f"num_frames={frames}"),
        parse_set("render.guidance=[depth, instance, flow]"),
        *(parse_set(change) for change in changes),
    ]
    return apply_edits(load_and_validate(SHELF), edits)


def rgb_bytes(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((out / "rgb").glob("*.png"))}


def frames_showing(clip: Clip, entity: int) -> list[int]:
    """Frames whose instance map has at least one pixel of ``entity`` (independent of frame inputs)."""
    return [
        frame for frame in range(clip.num_frames) if (clip.map("instance", frame)["instance"] == entity).any()
    ]


@pytest.fixture(scope="module")
def flat_edit(tmp_path_factory: pytest.TempPathFactory):
    """A flat clip of the shelf, then the vase recoloured and rendered into the same folder, plus a
    fresh render of the edited scene."""
    root = tmp_path_factory.mktemp("incremental")
    out = root / "clip"
    render(shelf(), renderer="flat", out=out, progress=False)
    before = rgb_bytes(out)
    edited = shelf("entities[vase].material.base_color=[0.1, 0.6, 0.9]")
    clip = render(edited, renderer="flat", out=out, progress=False)
    fresh = render(edited, renderer="flat", out=root / "fresh", progress=False)
    return clip, before, fresh


def test_material_edit_rerenders_only_the_frames_showing_the_entity(flat_edit) -> None:
    clip, before, fresh = flat_edit
    rerendered = clip.metadata["rerendered"]
    frames = rerendered["rgb"]["frames"]
    showing = frames_showing(fresh, VASE)
    assert showing and set(showing) <= set(frames)
    # bounding spheres meet the frustum a frame or so before a pixel shows the entity
    assert len(frames) <= len(showing) + 2, (frames, showing)
    assert all(rerendered["rgb"]["reasons"][str(frame)] == [f"entity {VASE} changed"] for frame in frames)
    # the guidance written (depth, instance, flow) does not read materials: nothing re-rendered
    assert rerendered["guidance"]["frames"] == []
    after = rgb_bytes(clip.path)
    changed = sorted(int(name[:5]) for name in after if after[name] != before[name])
    assert set(changed) <= set(frames)
    # no stale frame: every frame equals a fresh render of the edited scene byte for byte
    assert after == rgb_bytes(fresh.path)
    assert "approximation" in rerendered and rerendered["reach"]["rgb"] == "view"


def test_unchanged_scene_rerenders_nothing(tmp_path: Path) -> None:
    out = tmp_path / "clip"
    render(shelf(frames=12), renderer="flat", out=out, progress=False)
    stamps = {path.name: path.stat().st_mtime_ns for path in (out / "rgb").glob("*.png")}
    clip = render(shelf(frames=12), renderer="flat", out=out, progress=False)
    assert clip.metadata["rerendered"]["rgb"]["frames"] == []
    assert {path.name: path.stat().st_mtime_ns for path in (out / "rgb").glob("*.png")} == stamps


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("lights[0].intensity=5.0", "all"),  # a light reaches every frame
        ("entities[vase].pose.position=[-12, 0, 0.55]", "moved"),
        ("cameras[0].fov_deg=32", "all"),
    ],
)
def test_edits_rerender_what_they_touch_and_leave_no_stale_frame(tmp_path: Path, change, expected) -> None:
    out = tmp_path / "clip"
    render(shelf(frames=24, size=(32, 20)), renderer="flat", out=out, progress=False)
    edited = shelf(change, frames=24, size=(32, 20))
    clip = render(edited, renderer="flat", out=out, progress=False)
    fresh = render(edited, renderer="flat", out=tmp_path / "fresh", progress=False)
    frames = clip.metadata["rerendered"]["rgb"]["frames"]
    if expected == "all":
        assert frames == list(range(24))
    else:
        assert 0 < len(frames) < 24
    assert rgb_bytes(clip.path) == rgb_bytes(fresh.path)
    guidance = sorted((clip.path / "instance").glob("*.png"))
    assert [path.read_bytes() for path in guidance] == [
        (fresh.path / "instance" / path.name).read_bytes() for path in guidance
    ]


def test_removing_an_entity_rerenders_the_frames_it_was_in(tmp_path: Path) -> None:
    out = tmp_path / "clip"
    first = render(shelf(frames=24, size=(32, 20)), renderer="flat", out=out, progress=False)
    showed = frames_showing(first, VASE - 1)
    edited = apply_edits(shelf(frames=24, size=(32, 20)), [Edit("remove", "entities[pill]")])
    clip = render(edited, renderer="flat", out=out, progress=False)
    fresh = render(edited, renderer="flat", out=tmp_path / "fresh", progress=False)
    frames = clip.metadata["rerendered"]["rgb"]["frames"]
    assert showed and set(showed) <= set(frames) and len(frames) < 24
    reasons = clip.metadata["rerendered"]["rgb"]["reasons"]
    assert all(f"entity {VASE - 1} no longer reaches the frame" in reasons[str(frame)] for frame in showed)
    assert rgb_bytes(clip.path) == rgb_bytes(fresh.path)


def test_guidance_only_run_removes_stale_rgb_frames(tmp_path: Path) -> None:
    out = tmp_path / "clip"
    render(shelf(frames=24, size=(32, 20)), renderer="flat", out=out, progress=False)
    edited = shelf("entities[vase].material.base_color=[0.1, 0.6, 0.9]", frames=24, size=(32, 20))
    clip = render(edited, out=out, guidance_only=True, progress=False)
    stale = clip.metadata["rerendered"]["rgb"]["frames"]
    assert stale and all(not (out / "rgb" / f"{frame:05d}.png").exists() for frame in stale)
    clip = render(edited, renderer="flat", out=out, progress=False)
    fresh = render(edited, renderer="flat", out=tmp_path / "fresh", progress=False)
    assert rgb_bytes(clip.path) == rgb_bytes(fresh.path)


def test_another_seed_is_still_another_clip(tmp_path: Path) -> None:
    from worldsim.clip.metadata import ClipFolderError

    out = tmp_path / "clip"
    render(shelf(frames=4, size=(16, 12)), out=out, guidance_only=True, progress=False)
    with pytest.raises(ClipFolderError, match=r"scene_identity differ.*--overwrite"):
        render(shelf("seed=12", frames=4, size=(16, 12)), out=out, guidance_only=True, progress=False)


@pytest.mark.slow
def test_reference_material_edit_rerenders_only_frames_the_entity_reaches(tmp_path: Path) -> None:
    """The done-when line: 48 frames, the reference renderer, one entity's material changed."""
    options = {"samples_per_pixel": 4, "max_depth": 3, "denoise": False}
    size = (24, 16)
    out = tmp_path / "clip"
    render(shelf(size=size), renderer="reference", options=options, out=out, progress=False)
    before = rgb_bytes(out)
    edited = shelf("entities[vase].material.base_color=[0.1, 0.6, 0.9]", size=size)
    clip = render(edited, renderer="reference", options=options, out=out, progress=False)
    fresh = render(edited, renderer="reference", options=options, out=tmp_path / "fresh", progress=False)
    frames = clip.metadata["rerendered"]["rgb"]["frames"]
    showing = frames_showing(fresh, VASE)
    print(f"reference: {len(frames)} of 48 frames re-rendered; the vase shows on {len(showing)}")
    assert showing and set(showing) <= set(frames) and len(frames) < 48 // 3
    assert clip.metadata["rerendered"]["reach"]["rgb"] == "global"
    after, expected = rgb_bytes(clip.path), rgb_bytes(fresh.path)
    kept_differences = []
    for name in after:
        frame = int(name[:5])
        if frame in frames:
            assert after[name] == expected[name], name  # re-rendered: exactly the fresh render
        else:
            assert after[name] == before[name]
            # kept: the fresh render differs at most by bounce light beyond the stated reach
            difference = np.abs(clip.rgb(frame).astype(int) - fresh.rgb(frame).astype(int))
            assert difference.mean() <= BOUNCE_TOLERANCE_LEVELS, (name, difference.mean())
            kept_differences.append(float(difference.mean()))
    largest = max(kept_differences)
    print(f"reference: kept frames vs a fresh render, largest mean difference {largest:.3f} levels")


BOUNCE_TOLERANCE_LEVELS = 0.5
"""Mean absolute 8-bit difference allowed on a kept reference frame (light beyond the reach)."""


def test_frame_inputs_are_recorded(flat_edit) -> None:
    clip, _, _ = flat_edit
    record = json.loads((clip.path / "frame_inputs.json").read_text())
    assert record["camera"] == "main" and len(record["rgb"]["digests"]) == 48
    assert record["rgb"]["settings"]["renderer"] == "flat"
    # the only change is the vase's material: exactly the frames it is an input of re-rendered
    reached = [frame for frame, parts in enumerate(record["rgb"]["parts"]) if f"entity {VASE}" in parts]
    assert reached == clip.metadata["rerendered"]["rgb"]["frames"] and 0 < len(reached) < 48
