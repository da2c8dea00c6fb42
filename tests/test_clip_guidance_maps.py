"""The table of guidance maps: every map in memory can be written, read back, described; exact maps
are read back on resume instead of recomputed; ``visibility.json`` holds per-entity boxes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import worldsim as ws
from renderers.guidance import render_guidance
from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.clip import Clip, ClipLayout
from worldsim.clip.guidance_io import read_exact_guidance_frame, write_guidance_frame
from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE, guidance_grid
from worldsim.clip.layout import LIGHTING_MAPS
from worldsim.render import render
from worldsim.scene.model import MeshSpec

FRAMES = 3
LOSSY_TOLERANCE = {"depth": 5e-4, "normal": 1.0 / 127.0, "flow_forward": 2e-3, "flow_backward": 2e-3}
"""Absolute tolerances of the lossy encodings: half a millimetre (+ float32 rounding), one 8-bit
normal step, float16 flow of a few pixels."""
ALL_MAPS = [name for name in GUIDANCE_MAP_TABLE if name != "visibility" and name not in LIGHTING_MAPS]
"""Every per-frame map except the lighting maps (float16 and computed only when asked for:
``tests/renderers/test_lighting_maps.py``)."""


@pytest.fixture(scope="module")
def frames():
    poses = np.stack(
        [np.stack([translation(0, 0, 0), translation(-0.4 + 0.2 * t, 0.0, 0.3)]) for t in range(FRAMES)]
    )
    cameras = np.stack([looking_at(np.array([-3.0, -1.0, 1.5]), np.array([0.0, 0.0, 0.3]))] * FRAMES)
    trajectory = make_trajectory(
        [MeshSpec(type="plane", size=[8.0, 8.0]), MeshSpec(type="box", size=[0.6, 0.6, 0.6])],
        poses,
        cameras,
        Intrinsics.from_fov(50.0, 40, 30),
    )
    return trajectory, list(render_guidance(trajectory))


def written_clip(tmp_path: Path, trajectory, guidance, maps) -> Clip:
    layout = ClipLayout(tmp_path)
    cameras = {"main": {"width": 40, "height": 30}}
    metadata = {"num_frames": FRAMES, "fps": 10, "cameras": cameras, "settings": {"camera": "main"}}
    layout.root.mkdir(parents=True, exist_ok=True)
    (layout.metadata_json).write_text(json.dumps(metadata))
    for frame in guidance:
        write_guidance_frame(layout, frame, maps)
    return Clip(tmp_path)


def test_every_map_round_trips_exactly_or_within_its_stated_tolerance(frames, tmp_path: Path) -> None:
    trajectory, guidance = frames
    clip = written_clip(tmp_path, trajectory, guidance, ALL_MAPS)
    for computed in guidance:
        for name in ALL_MAPS:
            row = GUIDANCE_MAP_TABLE[name]
            for field, value in clip.map(name, computed.frame).items():
                expected = getattr(computed, field)
                if expected is None:  # no flow beyond the clip's ends: zeros / invalid on disk
                    assert not np.any(value), (name, field)
                elif row.lossless:
                    assert value.dtype == np.asarray(expected).dtype or field == "semantic", (name, field)
                    np.testing.assert_array_equal(value, expected, err_msg=f"{name}.{field}")
                elif value.dtype == bool:
                    np.testing.assert_array_equal(value, expected, err_msg=f"{name}.{field}")
                else:
                    finite = np.isfinite(expected)
                    np.testing.assert_array_equal(np.isfinite(value), finite)
                    np.testing.assert_allclose(value[finite], expected[finite], atol=LOSSY_TOLERANCE[field])


def test_a_frame_stored_exactly_is_read_back_identical(frames, tmp_path: Path) -> None:
    trajectory, guidance = frames
    clip = written_clip(tmp_path, trajectory, guidance, ALL_MAPS)
    assert read_exact_guidance_frame(clip, 1, ["depth", "instance", "flow"]) is None  # lossy: recompute
    for computed in guidance:
        stored = read_exact_guidance_frame(clip, computed.frame, ALL_MAPS)
        assert stored is not None
        for field in ("depth", "ray_distance", "instance", "semantic", "normal", "surface_coords", "albedo"):
            np.testing.assert_array_equal(getattr(stored, field), getattr(computed, field), err_msg=field)
        np.testing.assert_array_equal(stored.shading_normal, computed.shading_normal)
        assert (stored.flow_forward is None) == (computed.flow_forward is None)
        assert (stored.flow_backward is None) == (computed.flow_backward is None)
        # The preview of the frame read back is the preview of the computed one.
        np.testing.assert_array_equal(guidance_grid(stored), guidance_grid(computed))


def visibility_scene() -> ws.Scene:
    scene = ws.Scene(name="boxes", seed=2, fps=10, num_frames=FRAMES, resolution=[32, 24])
    scene.add(ws.Entity(name="ground", semantic_class="ground", mesh=ws.Mesh(type="plane", size=[20, 20])))
    scene.add(ws.Entity(name="box", semantic_class="box", mesh=ws.Mesh(type="box", size=[0.8, 0.8, 0.8])))
    scene.cameras = [ws.Camera(name="main", fov_deg=60, position=[-1, -3, 2], look_at=[0, 0, 0.3])]
    scene.render.guidance = ["depth", "instance", "surface_coords", "albedo", "visibility"]
    return scene


def test_visibility_json_holds_each_entitys_box_and_metadata_describes_every_map(tmp_path: Path) -> None:
    clip = render(visibility_scene(), out=tmp_path / "clip", guidance_only=True, progress=False)
    data = json.loads((clip.path / "visibility.json").read_text())
    assert sorted(data["frames"], key=int) == [str(frame) for frame in range(FRAMES)]
    for frame in range(FRAMES):
        instance = clip.instance(frame)
        rows = {row.entity_id: row for row in clip.visibility(frame)}
        assert set(rows) == {1, 2}
        for entity, row in rows.items():
            ys, xs = np.nonzero(instance == entity)
            assert row.bbox == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            assert row.visible_pixels == len(xs) and 0 < row.visible_fraction <= 1
        assert 2 in rows[1].occluders  # the box hides part of the ground
    assert (clip.path / "surface_coords/00000.npy").is_file() and (clip.path / "albedo/00002.npy").is_file()
    assert set(GUIDANCE_MAP_TABLE) <= set(clip.metadata["encodings"])
    assert "float32" in clip.metadata["encodings"]["surface_coords"]


def test_resume_reads_exact_maps_back_instead_of_casting(tmp_path: Path, monkeypatch) -> None:
    """With every field stored exactly, re-rendering a missing rgb frame casts nothing; the frame is
    the same as the first run's."""
    from renderers.guidance.render import GuidanceRenderer

    scene = visibility_scene()
    scene.render.guidance = ALL_MAPS
    out = tmp_path / "clip"
    render(scene, renderer="flat", out=out, progress=False)
    first = (out / "rgb/00001.png").read_bytes()
    (out / "rgb/00001.png").unlink()
    computed: list[int] = []
    original = GuidanceRenderer.render
    monkeypatch.setattr(GuidanceRenderer, "render", lambda self, f: computed.append(f) or original(self, f))
    render(scene, renderer="flat", out=out, progress=False)
    assert computed == []
    assert (out / "rgb/00001.png").read_bytes() == first
    # Without the exact maps, the missing frame's guidance is recomputed (to the same rgb).
    scene.render.guidance = ["depth", "instance"]
    other = tmp_path / "lossy"
    render(scene, renderer="flat", out=other, progress=False)
    (other / "rgb/00001.png").unlink()
    computed.clear()
    render(scene, renderer="flat", out=other, progress=False)
    # The same image; the file's provenance record names the other scene digest (render.guidance).
    assert computed == [1]
    np.testing.assert_array_equal(Clip(other).rgb(1), Clip(out).rgb(1))
