"""``worldsim.render``: an end-to-end guidance render of a tiny scene, resume, refusals, rgb path."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

import worldsim as ws
from worldsim.clip import Clip, encodings
from worldsim.clip.metadata import ClipFolderError
from worldsim.errors import RenderError
from worldsim.render import parse_frames, render

CAMERA_HEIGHT_M = 3.0
BOX_TOP_M = 0.5
DEPTH_TOLERANCE_M = 0.0015
"""Millimetre PNG quantisation (0.5 mm) plus ray-casting error."""


def tiny_scene(num_frames: int = 3, size: int = 32) -> ws.Scene:
    """A box on a plane seen straight down from 3 m: depth is 3.0 on the plane, 2.5 on the box."""
    scene = ws.Scene(name="tiny", seed=5, fps=10, num_frames=num_frames, resolution=[size, size])
    scene.add(ws.Entity(name="ground", semantic_class="ground", mesh=ws.Mesh(type="plane", size=[40, 40])))
    scene.add(
        ws.Entity(
            name="box",
            semantic_class="box",
            mesh=ws.Mesh(type="box", size=[1.0, 1.0, 1.0]),
            motion=ws.Motion(type="velocity", linear_velocity=[0.5, 0.0, 0.0]),
            physics=ws.Physics(mode="kinematic", collides=False),
        )
    )
    scene.cameras = [
        ws.Camera(name="top", fov_deg=60, position=[0, 0, CAMERA_HEIGHT_M], look_at=[0, 0, 0], up=[0, 1, 0])
    ]
    scene.render.guidance = ["depth", "depth_exact", "instance", "semantic", "normal", "flow"]
    return scene


EXPECTED_FILES = [
    "scene.yaml",
    "metadata.json",
    "trajectory.json",
    "frame_inputs.json",
    "guidance.mp4",
    "contact_sheet.png",
    *[
        f"{folder}/{frame:05d}.{suffix}"
        for frame in range(3)
        for folder, suffix in (
            ("depth", "png"),
            ("depth", "npy"),
            ("instance", "png"),
            ("semantic", "png"),
            ("normal", "png"),
            ("flow", "npy"),
            ("flow_valid", "png"),
        )
    ],
]


@pytest.fixture(scope="module")
def guidance_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return render(
        tiny_scene(), out=tmp_path_factory.mktemp("clip") / "tiny", guidance_only=True, progress=False
    )


def test_guidance_only_writes_every_file_of_the_layout(guidance_clip: Clip) -> None:
    files = sorted(
        str(p.relative_to(guidance_clip.path))
        for p in guidance_clip.path.rglob("*")
        if p.is_file() and ".cache" not in p.parts  # cached previews (worldsim.clip.preview_cache)
    )
    assert files == sorted(EXPECTED_FILES)
    assert not (guidance_clip.path / "rgb").exists() and not (guidance_clip.path / "video.mp4").exists()


def test_maps_on_disk_match_the_analytic_scene(guidance_clip: Clip) -> None:
    box_id = 2
    for frame in range(3):
        depth, instance = guidance_clip.depth(frame), guidance_clip.instance(frame)
        png_depth = encodings.decode_depth(encodings.read_png(guidance_clip.path / f"depth/{frame:05d}.png"))
        on_box, on_ground = instance == box_id, instance == 1
        assert on_box.sum() > 20 and on_ground.sum() > 20 and (instance > 0).all()
        np.testing.assert_allclose(png_depth[on_ground], CAMERA_HEIGHT_M, atol=DEPTH_TOLERANCE_M)
        np.testing.assert_allclose(png_depth[on_box], CAMERA_HEIGHT_M - BOX_TOP_M, atol=DEPTH_TOLERANCE_M)
        np.testing.assert_allclose(depth[on_box], CAMERA_HEIGHT_M - BOX_TOP_M, atol=1e-4)
        # Seen from above, every visible surface faces the camera: normal = -z in the camera frame.
        normal = guidance_clip.normal(frame)
        assert np.all(normal[..., 2] < -0.99)
        semantic = guidance_clip.semantic(frame)
        np.testing.assert_array_equal(semantic[on_box], 2)
        np.testing.assert_array_equal(semantic[on_ground], 1)


def test_flow_on_disk_follows_the_moving_box(guidance_clip: Clip) -> None:
    metadata = guidance_clip.metadata
    focal = metadata["cameras"]["top"]["K"][0][0][0]
    # The box moves +0.5 m/s * 0.1 s = 5 cm in world x per frame at 2.5 m: |dx| = f * 0.05 / 2.5 px.
    flow, valid = guidance_clip.flow(0)
    on_box = (guidance_clip.instance(0) == 2) & valid
    assert on_box.sum() > 10
    speed = np.linalg.norm(flow[on_box], axis=-1)
    np.testing.assert_allclose(speed, focal * 0.05 / (CAMERA_HEIGHT_M - BOX_TOP_M), rtol=2e-3)
    ground = (guidance_clip.instance(0) == 1) & valid
    assert np.abs(flow[ground]).max() < 1e-3
    last_flow, last_valid = guidance_clip.flow(2)
    assert not last_valid.any() and not last_flow.any()


def test_metadata_records_tables_cameras_poses_and_settings(guidance_clip: Clip) -> None:
    metadata = json.loads((guidance_clip.path / "metadata.json").read_text())
    assert metadata["num_frames"] == 3 and metadata["fps"] == 10 and metadata["resolution"] == [32, 32]
    assert metadata["seed"] == 5 and "numpy" in metadata["versions"]
    assert [(row["id"], row["name"], row["semantic_class"]) for row in metadata["entities"]] == [
        (1, "ground", "ground"),
        (2, "box", "box"),
    ]
    assert metadata["semantic_classes"] == {"ground": 1, "box": 2}
    camera = metadata["cameras"]["top"]
    assert np.asarray(camera["K"]).shape == (3, 3, 3) and np.asarray(camera["cam_to_world"]).shape == (
        3,
        4,
        4,
    )
    np.testing.assert_allclose(np.asarray(camera["cam_to_world"])[0][:3, 3], [0, 0, CAMERA_HEIGHT_M])
    box_x = [pose["2"][0][3] for pose in metadata["entity_poses"]]
    np.testing.assert_allclose(box_x, [0.0, 0.05, 0.1], atol=1e-12)
    assert metadata["settings"]["camera"] == "top" and metadata["settings"]["appearance"] is None
    trajectory = guidance_clip.trajectory()
    np.testing.assert_array_equal(trajectory.object_to_world[:, 1, 0, 3], box_x)


def test_resume_renders_only_missing_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderers.guidance.render import GuidanceRenderer

    out = tmp_path / "clip"
    render(tiny_scene(num_frames=4, size=16), out=out, guidance_only=True, progress=False)
    reference = {p: p.read_bytes() for p in (out / "instance").iterdir()}
    calls: list[int] = []  # frames whose guidance was computed
    original = GuidanceRenderer.render

    def counting(self, frame):
        calls.append(frame)
        return original(self, frame)

    monkeypatch.setattr(GuidanceRenderer, "render", counting)
    render(tiny_scene(num_frames=4, size=16), out=out, guidance_only=True, progress=False)
    assert calls == []
    (out / "depth/00001.png").unlink()
    (out / "flow_valid/00003.png").unlink()
    render(tiny_scene(num_frames=4, size=16), out=out, guidance_only=True, progress=False)
    assert calls == [1, 3]
    assert {p: p.read_bytes() for p in (out / "instance").iterdir()} == reference


def test_folder_with_other_scene_is_refused_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "clip"
    render(tiny_scene(num_frames=2, size=16), out=out, guidance_only=True, progress=False)
    other = tiny_scene(num_frames=2, size=16)
    other.seed = 6
    with pytest.raises(ClipFolderError, match=r"different scene or settings.*--overwrite"):
        render(other, out=out, guidance_only=True, progress=False)
    clip = render(other, out=out, guidance_only=True, progress=False, overwrite=True)
    assert clip.metadata["seed"] == 6


def test_frames_selection_and_errors() -> None:
    assert parse_frames("2:5", 10) == [2, 3, 4]
    assert parse_frames(":2", 10) == [0, 1] and parse_frames("8:", 10) == [8, 9]
    assert parse_frames(None, 3) == [0, 1, 2] and parse_frames([4, 1], 5) == [1, 4]
    with pytest.raises(RenderError, match="outside the clip's 10 frames"):
        parse_frames("5:12", 10)
    with pytest.raises(RenderError, match="not A:B"):
        parse_frames("a:b", 10)


def test_unknown_renderer_and_camera_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="unknown renderer 'nope'"):
        render(tiny_scene(), renderer="nope", out=tmp_path / "a", progress=False)
    with pytest.raises(RenderError, match="no camera named 'side'"):
        render(tiny_scene(), out=tmp_path / "b", guidance_only=True, camera="side", progress=False)


class ShadedDepthRenderer:
    """A test renderer: grey level from the guidance depth, so rgb depends on the real guidance."""

    name = "shaded_depth"
    needs_guidance = True
    rendered: list[int] = []  # noqa: RUF012 - shared call log of the test

    def __init__(self, options: dict) -> None:
        self.options = options

    def render_frames(self, trajectory, camera: str, frames: Sequence[int], guidance) -> Iterator:
        for frame in frames:
            ShadedDepthRenderer.rendered.append(frame)
            depth = guidance(frame).depth
            grey = np.clip(np.rint(np.nan_to_num(depth, posinf=0.0) * 80.0), 0, 255).astype(np.uint8)
            yield frame, np.repeat(grey[..., None], 3, axis=2)


def create_shaded_depth_renderer(options: dict) -> ShadedDepthRenderer:
    return ShadedDepthRenderer(options)


def test_appearance_frames_video_and_rgb_resume(tmp_path: Path) -> None:
    from renderers import base

    base.register("shaded_depth", f"{__name__}:create_shaded_depth_renderer")
    out = tmp_path / "clip"
    ShadedDepthRenderer.rendered.clear()
    clip = render(tiny_scene(), renderer="shaded_depth", out=out, progress=False, options={"k": 1})
    assert ShadedDepthRenderer.rendered == [0, 1, 2]
    assert (out / "video.mp4").stat().st_size > 0 and (out / "guidance.mp4").is_file()
    rgb = clip.rgb(0)
    assert rgb.shape == (32, 32, 3) and rgb.dtype == np.uint8
    assert set(np.unique(rgb[..., 0]).tolist()) == {200, 240}  # 2.5 m and 3.0 m * 80
    assert clip.metadata["settings"]["appearance"]["renderer"] == "shaded_depth"
    (out / "rgb/00002.png").unlink()
    ShadedDepthRenderer.rendered.clear()
    render(tiny_scene(), renderer="shaded_depth", out=out, progress=False, options={"k": 1})
    assert ShadedDepthRenderer.rendered == [2]
    with pytest.raises(ClipFolderError, match="appearance"):
        render(tiny_scene(), renderer="shaded_depth", out=out, progress=False, options={"k": 2})


def test_render_continues_a_folder_written_by_simulate(tmp_path: Path) -> None:
    from worldsim.render import simulate

    out = simulate(tiny_scene(num_frames=2, size=16), tmp_path / "clip", progress=False)
    clip = render(tiny_scene(num_frames=2, size=16), out=out, guidance_only=True, progress=False)
    assert clip.layout.is_complete(["depth", "instance"], 1)
