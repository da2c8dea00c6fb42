"""The ``pointcloud`` export against open3d: its PLY reader, and its own depth unprojection
(``PointCloud.create_from_depth_image``) with our intrinsics (pixel centres at +0.5) and pose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

o3d = pytest.importorskip("open3d")


def _open3d_cloud(depth: np.ndarray, intrinsics, cam_to_world: np.ndarray) -> np.ndarray:
    """open3d's points of ``depth`` (background 0), world frame, row-major pixel order."""
    from worldsim.camera.conventions import to_open3d_extrinsic

    camera = o3d.camera.PinholeCameraIntrinsic(
        intrinsics.width,
        intrinsics.height,
        intrinsics.fx,
        intrinsics.fy,
        intrinsics.cx - 0.5,  # open3d puts pixel centres at integers
        intrinsics.cy - 0.5,
    )
    image = o3d.geometry.Image(np.where(np.isfinite(depth), depth, 0.0).astype(np.float32))
    cloud = o3d.geometry.PointCloud.create_from_depth_image(
        image, camera, to_open3d_extrinsic(cam_to_world), depth_scale=1.0, depth_trunc=1e6
    )
    return np.asarray(cloud.points)


def test_points_and_colours_match_open3d(clip_copy: Path) -> None:
    from worldsim.clip.clip import Clip
    from worldsim.exports.registry import export_clip

    export_clip(clip_copy, ["pointcloud"], options={"frame": "both"})
    clip = Clip(clip_copy)
    track = clip.trajectory().cameras[clip.camera]
    for frame in range(clip.num_frames):
        depth = clip.depth(frame)
        finite = np.isfinite(depth)
        world = o3d.io.read_point_cloud(str(clip_copy / "exports" / "pointcloud" / f"{frame:05d}.ply"))
        camera = o3d.io.read_point_cloud(
            str(clip_copy / "exports" / "pointcloud_camera" / f"{frame:05d}.ply")
        )
        expected = _open3d_cloud(depth, track.intrinsics(frame), track.cam_to_world[frame])
        assert len(world.points) == int(finite.sum()) == len(expected) > 0
        # float32 storage: 1e-6 m relative at a few metres.
        np.testing.assert_allclose(np.asarray(world.points), expected, atol=2e-5)
        np.testing.assert_allclose(
            np.asarray(camera.points), _open3d_cloud(depth, track.intrinsics(frame), np.eye(4)), atol=2e-5
        )
        np.testing.assert_allclose(np.asarray(camera.points)[:, 2], depth[finite], rtol=1e-6)
        colours = clip.rgb(frame)[finite].astype(np.float64) / 255.0
        np.testing.assert_allclose(np.asarray(world.colors), colours, atol=1e-6)


def test_guidance_only_clip_gives_positions_only_or_a_clear_error(
    guidance_clip: Path, tmp_path: Path
) -> None:
    import shutil

    from worldsim.errors import ExportError
    from worldsim.exports.registry import export_clip

    clip = Path(shutil.copytree(guidance_clip, tmp_path / "clip"))
    with pytest.raises(ExportError) as error:
        export_clip(clip, ["pointcloud"], options={"color": "rgb"})
    assert str(clip / "rgb" / "00000.png") in str(error.value) and "rgb frames" in str(error.value)
    assert not (clip / "exports").exists()
    export_clip(clip, ["pointcloud"])  # color=auto: positions and entity ids
    header = (clip / "exports" / "pointcloud" / "00000.ply").read_bytes().split(b"end_header")[0].decode()
    assert "property uchar red" not in header and "property ushort entity_id" in header
    assert not o3d.io.read_point_cloud(str(clip / "exports" / "pointcloud" / "00000.ply")).has_colors()


def test_entity_ids_label_the_points(clip_copy: Path) -> None:
    from worldsim.clip.clip import Clip
    from worldsim.exports.registry import export_clip

    export_clip(clip_copy, ["pointcloud"])
    clip = Clip(clip_copy)
    data = (clip_copy / "exports" / "pointcloud" / "00002.ply").read_bytes()
    body = data[data.index(b"end_header\n") + len(b"end_header\n") :]
    table = np.frombuffer(
        body,
        dtype=[
            ("x", "<f4"),
            ("y", "<f4"),
            ("z", "<f4"),
            ("r", "u1"),
            ("g", "u1"),
            ("b", "u1"),
            ("id", "<u2"),
        ],
    )
    instance = clip.instance(2)
    np.testing.assert_array_equal(table["id"], instance[np.isfinite(clip.depth(2))])


def test_unknown_option_value_is_refused(clip_copy: Path) -> None:
    from worldsim.errors import ExportError
    from worldsim.exports.registry import export_clip

    with pytest.raises(ExportError, match=r"option\.frame: must be one of world, camera, both"):
        export_clip(clip_copy, ["pointcloud"], options={"frame": "sideways"})
