"""``worldsim camera preview|export|import``: see a camera move before rendering, and exchange
camera paths with other tools (nerfstudio, keyframe lists, per-frame ``cameras.json``)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from worldsim.cli.common import load_valid_scene, require_file
from worldsim.cli.output import echo, warn


def add_camera_subparser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``worldsim camera ...``."""
    camera = subparsers.add_parser("camera", parents=[common], help="preview, export and import camera paths")
    actions = camera.add_subparsers(dest="camera_command", metavar="ACTION")
    actions.required = True

    preview = actions.add_parser(
        "preview", parents=[common], help="top and side views of the camera path as a PNG"
    )
    preview.add_argument("scene", metavar="SCENE")
    preview.add_argument("--out", required=True, metavar="PNG")
    preview.add_argument("--every", type=int, default=8, metavar="N", help="a frustum every N frames")
    preview.add_argument("--camera", default=None, metavar="NAME", help="only this camera (default: all)")
    preview.set_defaults(func=run_preview)

    export = actions.add_parser("export", parents=[common], help="write the camera path of a scene")
    export.add_argument("scene", metavar="SCENE")
    export.add_argument("--format", required=True, choices=["nerfstudio", "keyframes", "cameras"])
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--camera", default=None, metavar="NAME", help="camera (default: the first)")
    export.set_defaults(func=run_export)

    importer = actions.add_parser("import", parents=[common], help="put a camera path file into a scene")
    importer.add_argument("file", metavar="FILE", help="camera_path.json, cameras.json or a keyframe list")
    importer.add_argument("--scene", required=True, metavar="SCENE")
    importer.add_argument("--out", required=True, metavar="NEW_SCENE.yaml")
    importer.add_argument("--camera", default=None, metavar="NAME", help="name of the imported camera")
    importer.set_defaults(func=run_import)


def _quiet(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "quiet", False))


def _rollout(scene_path: str):
    from worldsim.world.world import World

    scene = load_valid_scene(scene_path)
    return scene, World(scene).rollout()


def _camera_names(trajectory, name: str | None) -> list[str]:
    from worldsim.errors import SceneError

    if name is None:
        return list(trajectory.cameras)
    if name not in trajectory.cameras:
        raise SceneError(f"no camera {name!r}; cameras: {list(trajectory.cameras)}", key_path="cameras")
    return [name]


def clearance_messages(trajectory, base_dir: str | Path | None = None) -> list[str]:
    """Messages for cameras whose centre is inside an entity's box at some frame."""
    from worldsim.camera.checks import camera_inside_boxes
    from worldsim.scene.meshes import load_mesh

    bounds = np.stack([load_mesh(info.mesh, base_dir).bounds for info in trajectory.entities])
    names = [info.name for info in trajectory.entities]
    messages = []
    for track in trajectory.cameras.values():
        messages += camera_inside_boxes(track, trajectory.object_to_world, bounds, names)
    return messages


def footprints_of(trajectory, base_dir: str | Path | None = None, frame: int = 0) -> list:
    """World axis-aligned boxes of every entity at ``frame`` (planes marked as ground)."""
    from worldsim.camera.preview import Footprint
    from worldsim.scene.meshes import load_mesh

    boxes = []
    for column, info in enumerate(trajectory.entities):
        mesh = load_mesh(info.mesh, base_dir)
        corners = np.array(np.meshgrid(*mesh.bounds.T, indexing="ij")).reshape(3, -1).T
        pose = trajectory.object_to_world[frame, column]
        world = corners @ pose[:3, :3].T + pose[:3, 3]
        boxes.append(Footprint(info.name, world.min(axis=0), world.max(axis=0), info.mesh.type == "plane"))
    return boxes


def look_targets(scene, trajectory) -> dict[str, np.ndarray]:
    """Per camera (T, 3) look-at points where the camera has a fixed point or target entity."""
    targets = {}
    columns = {info.name: column for column, info in enumerate(trajectory.entities)}
    for spec in scene.cameras:
        if spec.target is not None and spec.target in columns:
            targets[spec.name] = trajectory.object_to_world[:, columns[spec.target], :3, 3]
        elif spec.look_at is not None and not spec.keyframes:
            targets[spec.name] = np.asarray([spec.look_at], dtype=float)
        elif spec.keyframes:
            points = [key.look_at for key in spec.keyframes if key.look_at is not None]
            if points:
                targets[spec.name] = np.asarray(points, dtype=float)
    return targets


def run_preview(args: argparse.Namespace) -> int:
    from worldsim.camera.preview import draw_preview

    scene, trajectory = _rollout(args.scene)
    names = _camera_names(trajectory, args.camera)
    base_dir = Path(scene.source_file).parent if scene.source_file else Path(args.scene).parent
    targets = {name: points for name, points in look_targets(scene, trajectory).items() if name in names}
    out = draw_preview(
        {name: trajectory.cameras[name] for name in names},
        args.out,
        every=args.every,
        footprints=footprints_of(trajectory, base_dir),
        targets=targets,
        title=f"{scene.name}: {len(trajectory)} frames at {scene.fps:g} fps",
    )
    for message in clearance_messages(trajectory, base_dir):
        warn(message)
    if not _quiet(args):
        echo(f"wrote {out}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from worldsim.camera import interchange

    if args.format == "keyframes":
        scene = load_valid_scene(args.scene)
        spec = scene.camera(args.camera)
        if not spec.keyframes:
            trajectory_spec = interchange.track_to_spec(*_track_and_fps(args))
            spec = dataclasses.replace(trajectory_spec, name=spec.name)
        out = interchange.export_keyframes(spec, args.out)
    else:
        scene, trajectory = _rollout(args.scene)
        names = _camera_names(trajectory, args.camera)
        if args.format == "nerfstudio":
            out = interchange.export_nerfstudio(trajectory.cameras[names[0]], trajectory.fps, args.out)
        else:
            out = interchange.export_cameras(
                {n: trajectory.cameras[n] for n in names}, trajectory.fps, args.out
            )
    if not _quiet(args):
        echo(f"wrote {out}")
    return 0


def _track_and_fps(args: argparse.Namespace):
    _, trajectory = _rollout(args.scene)
    name = _camera_names(trajectory, args.camera)[0]
    return trajectory.cameras[name], trajectory.fps


def read_camera_file(path: str | Path, resolution: tuple[int, int] | None = None):
    """A ``CameraSpec`` from any camera file we read, chosen by its content.

    ``resolution`` ``(width, height)``: the scene's image size; per-frame intrinsics of
    nerfstudio and ``cameras.json`` files made at another size are scaled to it, keeping the
    field of view (a principal point in pixels means another place in another size of image).
    """
    import json

    from worldsim.camera import interchange

    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return interchange.import_keyframes(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    if isinstance(data, dict) and "camera_path" in data:
        track, file_fps = interchange.import_nerfstudio(path, resolution=resolution)
        return interchange.track_to_spec(track, file_fps)
    if isinstance(data, dict) and "cameras" in data:
        tracks, file_fps = interchange.import_cameras(path)
        track = next(iter(tracks.values()))
        if resolution is not None:
            track = interchange.rescale_track(track, resolution)
        return interchange.track_to_spec(track, file_fps)
    return interchange.import_keyframes(path)


def path_end_time(spec) -> float:
    """Seconds at which a keyframed camera reaches its last key (holds included)."""
    if not spec.keyframes:
        return 0.0
    return float(spec.keyframes[-1].t) + sum(float(key.hold) for key in spec.keyframes[:-1])


def import_messages(file: str | Path, spec, scene) -> list[str]:
    """Warnings about what the scene will not show of an imported camera path."""
    fps = float(scene.fps)
    frames = scene.frame_count
    clip_end = (frames - 1) / fps
    path_end = path_end_time(spec)
    messages = []
    if path_end > clip_end + 0.5 / fps:
        path_frames = int(np.floor(path_end * fps + 1e-9)) + 1
        messages.append(
            f"warning: {file}: the camera path lasts {path_end:.3g} s ({path_frames} frames at "
            f"{fps:g} fps) but the scene has {frames} frames ({frames / fps:.3g} s): it is cut after "
            f"frame {frames - 1}; raise the scene's num_frames or duration to keep all of it"
        )
    return messages


def run_import(args: argparse.Namespace) -> int:
    from worldsim.scene.yaml_io import save_scene

    require_file(args.file)
    scene = load_valid_scene(args.scene)
    resolution = (int(scene.resolution[0]), int(scene.resolution[1]))
    spec = read_camera_file(args.file, resolution)
    if args.camera is not None:
        spec.name = args.camera
    names = [camera.name for camera in scene.cameras]
    if spec.name in names:  # replace in place; a new camera becomes the primary one
        scene.cameras[names.index(spec.name)] = spec
    else:
        scene.cameras.insert(0, spec)
    for message in import_messages(args.file, spec, scene):
        warn(message)
    out = save_scene(scene, args.out)
    if not _quiet(args):
        echo(f"wrote {out or args.out} with camera {spec.name!r} ({len(spec.keyframes)} keyframes)")
    return 0
