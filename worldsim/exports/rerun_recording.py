"""A clip folder as a Rerun recording (``.rrd``, rerun-sdk: the ``viewer`` extra).

On a ``frame`` timeline (sequence = frame index): the camera pose (``world/camera``, a
Transform3D with OpenCV axes, RDF) and pinhole (``world/camera/image``), the rgb frame, depth in
metres, instance and semantic segmentation with an annotation context of entity / class names and
colours, forward flow and the clip's lighting maps when present (as tensors), and every entity's
oriented 3D box with its id and class (``world/entities``). World up is +Z (``RIGHT_HAND_Z_UP``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from worldsim.errors import MissingExtraError, RenderError

EXTRA = "viewer"


def import_rerun() -> Any:
    """The ``rerun`` module; MissingExtraError naming the ``viewer`` extra."""
    try:
        import rerun
    except ImportError as error:
        raise MissingExtraError("rerun-sdk", EXTRA, error) from None
    return rerun


def export_rerun_recording(clip_path: Path, out: Path, options: None = None) -> Path:
    """The ``rerun`` row of ``worldsim.exports.registry.EXPORT_TABLE`` (no options)."""
    return export_rerun(clip_path, out)


def export_rerun(clip_path: str | Path, out: str | Path) -> Path:
    """Write the clip at ``clip_path`` as a Rerun recording at ``out``; returns ``out``."""
    from worldsim.clip.atomic import atomic_path
    from worldsim.clip.clip import Clip
    from worldsim.exports.oriented_boxes import entity_bounds

    rr = import_rerun()
    clip_path = Path(clip_path)
    if not (clip_path / "metadata.json").is_file() or not (clip_path / "trajectory.json").is_file():
        raise RenderError(f"{clip_path}: not a clip folder (no metadata.json / trajectory.json)")
    clip = Clip(clip_path)
    trajectory = clip.trajectory()
    track = trajectory.cameras[clip.camera]
    entities = trajectory.entities
    bounds = entity_bounds(trajectory)
    out = Path(out)
    with atomic_path(out) as temp:
        recording = rr.RecordingStream("worldsim", recording_id=f"worldsim-{clip_path.name}")
        recording.save(str(temp))
        recording.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
        recording.log(
            "world/camera/image/instance", _annotations(rr, [(e.id, e.name) for e in entities]), static=True
        )
        classes = sorted({(entity.semantic_id, entity.semantic_class) for entity in entities})
        recording.log("world/camera/image/semantic", _annotations(rr, classes), static=True)
        recording.log("world/entities", _annotations(rr, classes), static=True)
        for frame in range(clip.num_frames):
            recording.set_time("frame", sequence=frame)
            pose = track.cam_to_world[frame]
            recording.log("world/camera", rr.Transform3D(translation=pose[:3, 3], mat3x3=pose[:3, :3]))
            intrinsics = track.intrinsics(frame)
            recording.log(
                "world/camera/image",
                rr.Pinhole(
                    image_from_camera=_matrix(intrinsics),
                    width=track.width,
                    height=track.height,
                    camera_xyz=rr.ViewCoordinates.RDF,
                ),
            )
            _log_images(rr, recording, clip, frame)
            _log_boxes(rr, recording, trajectory, bounds, frame)
        recording.flush()
        recording.disconnect()
    return out


def _annotations(rr: Any, labels: list[tuple[int, str]]) -> Any:
    from worldsim.clip.preview import id_colors

    ids = np.array([identifier for identifier, _ in labels], dtype=np.int64)
    colours = id_colors(ids) if len(ids) else np.zeros((0, 3), dtype=np.uint8)
    return rr.AnnotationContext(
        [
            (int(identifier), name, tuple(int(c) for c in colour))
            for (identifier, name), colour in zip(labels, colours)
        ]
    )


def _matrix(intrinsics: Any) -> np.ndarray:
    return np.array(
        [[intrinsics.fx, 0.0, intrinsics.cx], [0.0, intrinsics.fy, intrinsics.cy], [0.0, 0.0, 1.0]]
    )


def _log_images(rr: Any, recording: Any, clip: Any, frame: int) -> None:
    root = clip.path
    name = f"{frame:05d}"
    if (root / "rgb" / f"{name}.png").is_file():
        recording.log("world/camera/image/rgb", rr.Image(clip.rgb(frame)))
    if (root / "depth" / f"{name}.png").is_file():
        depth = np.where(np.isfinite(clip.depth(frame)), clip.depth(frame), 0.0).astype(np.float32)
        recording.log("world/camera/image/depth", rr.DepthImage(depth, meter=1.0))
    for kind in ("instance", "semantic"):
        if (root / kind / f"{name}.png").is_file():
            recording.log(f"world/camera/image/{kind}", rr.SegmentationImage(getattr(clip, kind)(frame)))
    if (root / "flow" / f"{name}.npy").is_file():
        flow, valid = clip.flow(frame)
        recording.log(
            "world/camera/image/flow", rr.Tensor(np.where(valid[..., None], flow, np.nan).astype(np.float32))
        )
    from worldsim.clip.layout import LIGHTING_MAPS

    for kind in LIGHTING_MAPS:  # float16 .npy, exported as tensors when present
        path = root / kind / f"{name}.npy"
        if path.is_file():
            recording.log(f"world/camera/image/{kind}", rr.Tensor(np.load(path).astype(np.float32)))


def _log_boxes(rr: Any, recording: Any, trajectory: Any, bounds: list[np.ndarray], frame: int) -> None:
    present = np.flatnonzero(trajectory.present[frame])
    if not len(present):
        recording.log("world/entities", rr.Clear(recursive=False))
        return
    from scipy.spatial.transform import Rotation

    from worldsim.exports.oriented_boxes import oriented_box

    boxes = [oriented_box(bounds[column], trajectory.object_to_world[frame, column]) for column in present]
    centres = [box.center for box in boxes]
    half_sizes = [box.size / 2.0 for box in boxes]
    quaternions = [Rotation.from_matrix(box.rotation).as_quat() for box in boxes]
    entities = [trajectory.entities[column] for column in present]
    recording.log(
        "world/entities",
        rr.Boxes3D(
            centers=np.array(centres),
            half_sizes=np.array(half_sizes),
            quaternions=np.array(quaternions),
            labels=[f"{entity.id}: {entity.name}" for entity in entities],
            class_ids=[entity.semantic_id for entity in entities],
        ),
    )
