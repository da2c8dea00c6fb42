"""``metadata.json``: versions, seed, fps, resolution, entity and class tables, per-frame cameras.

Per-frame entity poses (``object_to_world``) are inlined as ``frames[i].entities`` when the clip
has at most ``MAX_INLINE_POSES`` entity-frames; larger clips point to ``trajectory.json`` (which
always holds the whole rollout losslessly) so ``metadata.json`` stays readable.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.clip.encodings import DEPTH_SCALE_M
from worldsim.errors import WorldsimError
from worldsim.state import Trajectory

FORMAT_VERSION = 1
MAX_INLINE_POSES = 100_000
"""Entity-frames above which poses are left to ``trajectory.json``."""
VERSIONED_PACKAGES = ("worldsim", "numpy", "open3d", "mujoco", "torch", "mitsuba", "trimesh")


class ClipFolderError(WorldsimError):
    """A clip folder is unreadable, or holds a different clip than the one asked for."""


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the output (read without importing them)."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def settings_digest(settings: dict[str, Any]) -> str:
    """A stable sha256 of a JSON-able settings dict."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def _matrix(array: np.ndarray) -> list[list[float]]:
    return [[float(value) for value in row] for row in np.asarray(array)]


def camera_table(trajectory: Trajectory) -> dict[str, Any]:
    """camera name -> {width, height, K: (T, 3, 3), cam_to_world: (T, 4, 4)} as nested lists."""
    cameras = {}
    for name, track in trajectory.cameras.items():
        cameras[name] = {
            "width": int(track.width),
            "height": int(track.height),
            "K": [_matrix(track.intrinsics(frame).matrix) for frame in range(len(track))],
            "cam_to_world": [_matrix(pose) for pose in track.cam_to_world],
        }
    return cameras


def entity_table(trajectory: Trajectory) -> list[dict[str, Any]]:
    """One row per entity: id, name, semantic class and class id, physics mode."""
    return [
        {
            "id": int(info.id),
            "name": info.name,
            "semantic_class": info.semantic_class,
            "semantic_id": int(info.semantic_id),
            "physics_mode": info.physics_mode,
        }
        for info in trajectory.entities
    ]


def entity_poses(trajectory: Trajectory) -> list[dict[str, list[list[float]]]] | None:
    """Per frame: {entity id: object_to_world (4, 4)} of the present entities; None if too large."""
    if trajectory.object_to_world.shape[0] * trajectory.object_to_world.shape[1] > MAX_INLINE_POSES:
        return None
    ids = [info.id for info in trajectory.entities]
    return [
        {
            str(ids[column]): _matrix(trajectory.object_to_world[frame, column])
            for column in np.flatnonzero(trajectory.present[frame])
        }
        for frame in range(len(trajectory))
    ]


def build_metadata(
    trajectory: Trajectory, *, settings: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The metadata.json dict of a clip of ``trajectory`` made with ``settings``."""
    poses = entity_poses(trajectory)
    return {
        "format_version": FORMAT_VERSION,
        "versions": package_versions(),
        "scene_name": trajectory.scene_name,
        "seed": int(trajectory.seed),
        "fps": float(trajectory.fps),
        "num_frames": len(trajectory),
        "resolution": [int(value) for value in trajectory.resolution],
        "entities": entity_table(trajectory),
        "semantic_classes": {name: int(value) for name, value in trajectory.semantic_classes.items()},
        "events": [
            {
                "frame": int(e.frame),
                "time": float(e.time),
                "kind": e.kind,
                "entity_id": int(e.entity_id),
                "camera": e.camera,
            }
            for e in trajectory.events
        ],
        "cameras": camera_table(trajectory),
        "entity_poses": poses if poses is not None else "trajectory.json",
        "encodings": {
            "depth_png": f"uint16, {DEPTH_SCALE_M} m per unit, 0 = background, clipped to 65535",
            "normal_png": "uint8 (n + 1) / 2 * 255, camera frame (OpenCV), 128 grey = background",
            "flow_npy": "float16 (H, W, 2) pixels (dx, dy) to the next frame; flow_valid png 255 = valid",
            "ids_png": "uint16, 0 = background",
            "shadow_npy": "float16 (H, W, L) visible fraction in [0, 1] of each sun / point / area light, "
            "channels named in settings.shadow_channels; 0 on background",
            "irradiance_npy": "float16 (H, W, 3) linear RGB irradiance W/m^2 (direct lights + SH environment "
            "x ambient occlusion; a white Lambertian surface shows irradiance / pi); 0 on background",
            "specular_npy": "float16 (H, W, 3) linear RGB W/m^2/sr reflected by a Fresnel-1 GGX surface of "
            "the pixel's roughness (prefiltered environment + light highlights); 0 on background",
        },
        "settings": settings,
        "settings_digest": settings_digest(settings),
        **(extra or {}),
    }


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read a metadata.json; raises ClipFolderError naming the file if it is unreadable."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClipFolderError(f"{path}: no metadata.json (not a clip folder?)") from None
    except (OSError, ValueError) as error:
        raise ClipFolderError(f"{path}: unreadable metadata ({error})") from None
    if not isinstance(data, dict):
        raise ClipFolderError(f"{path}: metadata must be a JSON object")
    return data
