"""``boxes.json``: 2D boxes from visibility.json; oriented 3D boxes whose corners, projected with our
camera, bound the 2D box of a fully visible box-shaped entity within a pixel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation


def test_box_corners_project_onto_the_2d_box(clip_copy: Path) -> None:
    from worldsim.camera.intrinsics import Intrinsics
    from worldsim.camera.projection import project_points
    from worldsim.clip.clip import Clip
    from worldsim.exports.registry import export_clip

    export_clip(clip_copy, ["boxes"])
    data = json.loads((clip_copy / "exports" / "boxes.json").read_text())
    clip = Clip(clip_copy)
    assert data["format"] == "worldsim.boxes/1" and len(data["frames"]) == clip.num_frames
    checked = 0
    for entry in data["frames"]:
        frame = entry["frame"]
        visibility = {row.entity_id: row for row in clip.visibility(frame)}
        K = np.array(entry["camera"]["K"])
        intrinsics = Intrinsics(K[0, 0], K[1, 1], K[0, 2], K[1, 2], data["width"], data["height"])
        cam_to_world = np.array(entry["camera"]["cam_to_world"])
        crate = next(row for row in entry["entities"] if row["name"] == "crate")
        row = visibility[crate["entity_id"]]
        assert crate["box_2d"] == list(row.bbox) and crate["visible_fraction"] == row.visible_fraction == 1.0
        world = crate["box_3d"]["world"]
        np.testing.assert_allclose(world["size"], [0.6, 0.4, 0.5], atol=1e-9)
        np.testing.assert_allclose(
            np.array(world["rotation"]), Rotation.from_euler("z", 30, degrees=True).as_matrix(), atol=1e-9
        )
        uv, depth = project_points(np.array(world["corners"]), cam_to_world, intrinsics)
        assert (depth > 0).all()
        x0, y0, x1, y1 = crate["box_2d"]
        projected = [uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()]
        # The 2D box is the half-open box of pixels whose centres the silhouette covers.
        np.testing.assert_allclose(projected, [x0, y0, x1, y1], atol=1.0)
        # The camera-frame box is the world box seen from the camera.
        camera = crate["box_3d"]["camera"]
        world_to_cam = np.linalg.inv(cam_to_world)
        corners = np.array(world["corners"]) @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
        np.testing.assert_allclose(camera["corners"], corners, atol=1e-9)
        np.testing.assert_allclose(camera["center"], corners.mean(axis=0), atol=1e-9)
        np.testing.assert_allclose(
            np.array(camera["rotation"]), world_to_cam[:3, :3] @ np.array(world["rotation"]), atol=1e-9
        )
        checked += 1
    assert checked == clip.num_frames
    # The crate slides along +x at 0.4 m/s (8 fps): its world centre moves 0.05 m per frame.
    centres = [
        next(r for r in f["entities"] if r["name"] == "crate")["box_3d"]["world"]["center"]
        for f in data["frames"]
    ]
    np.testing.assert_allclose(np.diff(np.array(centres)[:, 0]), 0.05, atol=1e-9)


def test_oriented_box_corners_follow_the_corner_bits() -> None:
    from worldsim.exports.oriented_boxes import CORNER_BITS, oriented_box

    pose = np.eye(4)
    pose[:3, :3] = Rotation.from_euler("xyz", [10, 20, 30], degrees=True).as_matrix()
    pose[:3, 3] = [1.0, 2.0, 3.0]
    bounds = np.array([[-1.0, -2.0, 0.0], [1.0, 2.0, 0.5]])
    box = oriented_box(bounds, pose)
    local = (box.corners - pose[:3, 3]) @ pose[:3, :3]
    np.testing.assert_allclose(local, np.where(CORNER_BITS, bounds[1], bounds[0]), atol=1e-12)
    np.testing.assert_allclose(box.center, pose[:3, :3] @ [0, 0, 0.25] + pose[:3, 3], atol=1e-12)
    np.testing.assert_allclose(box.size, [2.0, 4.0, 0.5])
