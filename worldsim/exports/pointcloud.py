"""Point clouds from a clip's depth maps: one binary PLY per frame (open3d, meshlab, CloudCompare).

Every pixel with finite depth becomes a point: ``x, y, z`` float32 metres (the pixel centre
unprojected along the optical-axis depth, ``worldsim.camera.projection`` conventions), in the world
frame (``NNNNN.ply`` in ``pointcloud/``) and/or the OpenCV camera frame (``pointcloud_camera/``),
in row-major pixel order; ``red, green, blue`` uint8 sRGB when coloured; ``entity_id`` uint16 when
the clip has instance maps. Depth is the exact float32 map when ``depth_exact`` was rendered,
else the millimetre PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worldsim.camera.intrinsics import Intrinsics
from worldsim.errors import ExportError
from worldsim.exports.registry import PointCloudOptions

FRAMES = ("world", "camera", "both")
COLORS = ("auto", "rgb", "none")
CAMERA_FOLDER_SUFFIX = "_camera"
"""Camera-frame clouds go to ``<out>_camera/`` beside the world-frame ``<out>/``."""


def depth_points(
    depth: np.ndarray, intrinsics: Intrinsics, cam_to_world: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points of the finite pixels of ``depth`` (H, W) float32 metres along the optical axis.

    Returns ``points`` (N, 3) float64 metres, in the world frame when ``cam_to_world`` (4, 4) is
    given, else the OpenCV camera frame, and ``pixels`` (N,) their flat row-major pixel indices.
    """
    from worldsim.camera.projection import unproject

    width = depth.shape[1]
    pixels = np.flatnonzero(np.isfinite(depth) & (depth > 0))
    rows, cols = np.divmod(pixels, width)
    uv = np.stack([cols + 0.5, rows + 0.5], axis=-1)
    pose = np.eye(4) if cam_to_world is None else cam_to_world
    return unproject(uv, depth.reshape(-1)[pixels], pose, intrinsics), pixels


def ply_bytes(points: np.ndarray, colors: np.ndarray | None, entity_ids: np.ndarray | None) -> bytes:
    """A binary little-endian PLY of ``points`` (N, 3) (written as float32), optional ``colors``
    (N, 3) uint8 and ``entity_ids`` (N,) uint16 (property ``entity_id``)."""
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if colors is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    if entity_ids is not None:
        fields += [("entity_id", "<u2")]
    table = np.empty(len(points), dtype=fields)
    for axis, name in enumerate("xyz"):
        table[name] = points[:, axis]
    if colors is not None:
        for channel, name in enumerate(("red", "green", "blue")):
            table[name] = colors[:, channel]
    if entity_ids is not None:
        table["entity_id"] = entity_ids
    types = {"<f4": "float", "u1": "uchar", "<u2": "ushort"}
    header = ["ply", "format binary_little_endian 1.0", "comment worldsim point cloud, metres"]
    header += [f"element vertex {len(points)}"]
    header += [f"property {types[kind]} {name}" for name, kind in fields]
    header += ["end_header"]
    return ("\n".join(header) + "\n").encode("ascii") + table.tobytes()


def export_pointcloud(clip_path: Path, out: Path, options: PointCloudOptions | None = None) -> Path:
    """Write a PLY per frame of the clip ``clip_path`` into the folder ``out`` (world frame) and/or
    ``<out>_camera`` (camera frame), per ``options``; returns ``out``. ExportError for an unknown
    option value, or ``color="rgb"`` on a clip without rgb frames (naming the first missing file)."""
    from worldsim.clip.atomic import write_bytes
    from worldsim.clip.clip import Clip

    options = options or PointCloudOptions()
    if options.frame not in FRAMES:
        raise ExportError(
            f"must be one of {', '.join(FRAMES)}, got {options.frame!r}", key_path="option.frame"
        )
    if options.color not in COLORS:
        raise ExportError(
            f"must be one of {', '.join(COLORS)}, got {options.color!r}", key_path="option.color"
        )
    clip = Clip(clip_path)
    frames = range(clip.num_frames)
    missing_rgb = clip.layout.incomplete_frames(["rgb"], frames)
    if options.color == "rgb" and missing_rgb:
        path = clip.layout.frame_file("rgb", missing_rgb[0], ".png")
        raise ExportError(
            "missing: a coloured point cloud (color=rgb) needs the clip's rgb frames (render it with an "
            "appearance renderer, not --guidance-only)",
            file=str(path),
        )
    colored = options.color == "rgb" or (options.color == "auto" and not missing_rgb)
    with_ids = not clip.layout.incomplete_frames(["instance"], frames)
    track = clip.trajectory().cameras[clip.camera]
    out = Path(out)
    targets = {"world": [out], "camera": [_camera_folder(out)], "both": [out, _camera_folder(out)]}
    for frame in frames:
        depth, intrinsics = clip.depth(frame), track.intrinsics(frame)
        for folder in targets[options.frame]:
            pose = track.cam_to_world[frame] if folder == out else None
            points, pixels = depth_points(depth, intrinsics, pose)
            colors = clip.rgb(frame).reshape(-1, 3)[pixels] if colored else None
            ids = clip.instance(frame).reshape(-1)[pixels] if with_ids else None
            write_bytes(folder / f"{frame:05d}.ply", ply_bytes(points, colors, ids))
    return targets[options.frame][0]


def _camera_folder(out: Path) -> Path:
    return out.with_name(out.name + CAMERA_FOLDER_SUFFIX)
