"""Depth maps as OpenEXR (``openexr``): one scanline ``NNNNN.exr`` per frame, channel ``Z``.

``Z`` is float32 (H, W) metres along the optical axis, +inf on background, bit-exact with the
clip's ``depth_exact`` map (lossless ZIP compression). The header carries the camera
(``worldsim_K``, ``worldsim_cam_to_world`` as flat row-major float lists in strings) and units.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEPTH_CHANNEL = "Z"


def write_depth_exr(path: Path, depth: np.ndarray, attributes: dict[str, str] | None = None) -> Path:
    """Write ``depth`` (H, W) float32 as the ``Z`` channel of an EXR at ``path`` (atomically)."""
    import OpenEXR

    from worldsim.clip.atomic import atomic_path

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **(attributes or {})}
    channels = {DEPTH_CHANNEL: np.ascontiguousarray(depth, dtype=np.float32)}
    with atomic_path(path) as temp, OpenEXR.File(header, channels) as exr:
        exr.write(str(temp))
    return Path(path)


def read_depth_exr(path: Path) -> np.ndarray:
    """The ``Z`` channel of an EXR written by ``write_depth_exr``: (H, W) float32 metres."""
    import OpenEXR

    with OpenEXR.File(str(path)) as exr:
        return np.array(exr.channels()[DEPTH_CHANNEL].pixels, dtype=np.float32)


def export_exr(clip_path: Path, out: Path, options: None = None) -> Path:
    """Write every frame's exact depth of the clip ``clip_path`` into the folder ``out``; returns ``out``."""
    from worldsim.clip.clip import Clip

    clip = Clip(clip_path)
    track = clip.trajectory().cameras[clip.camera]
    out = Path(out)
    for frame in range(clip.num_frames):
        depth = clip.map("depth_exact", frame)["depth"]
        attributes = {
            "worldsim_units": "Z: metres along the optical axis (OpenCV camera), +inf = background",
            "worldsim_K": json.dumps(track.intrinsics(frame).matrix.reshape(-1).tolist()),
            "worldsim_cam_to_world": json.dumps(np.asarray(track.cam_to_world[frame]).reshape(-1).tolist()),
            "worldsim_frame": str(frame),
        }
        write_depth_exr(out / f"{frame:05d}.exr", depth, attributes)
    return out
