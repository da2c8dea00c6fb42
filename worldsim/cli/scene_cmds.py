"""``worldsim validate``, ``worldsim info`` and ``worldsim simulate``."""

from __future__ import annotations

import argparse

from worldsim.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, load_valid_scene, require_file
from worldsim.cli.output import echo, warn
from worldsim.errors import SceneError, format_issue


def add_subparsers(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the scene subcommands."""
    validate = subparsers.add_parser(
        "validate",
        parents=[common],
        help="check scene files, listing every problem",
        description="Check scene files; prints every problem as 'file: key.path: reason'. "
        "Exit 0 if all are valid, 1 if any is invalid, 2 if a file is missing or unreadable.",
    )
    validate.add_argument("scenes", nargs="+", metavar="SCENE", help="YAML scene files")
    validate.add_argument(
        "--seeds",
        metavar="A:B",
        help="also resolve each randomised scene at seeds A to B-1 and validate every result "
        "(default: the file's own seed)",
    )
    validate.set_defaults(func=run_validate)

    info = subparsers.add_parser(
        "info",
        parents=[common],
        help="summarise a scene",
        description="Entities, classes, frames, cameras and lights of a scene.",
    )
    info.add_argument("scene", metavar="SCENE")
    info.add_argument(
        "--seed", type=int, metavar="N", help="the scene at seed N (its distributions drawn for N)"
    )
    info.add_argument(
        "--yaml", action="store_true", help="print the resolved scene as YAML (re-runnable) instead"
    )
    info.set_defaults(func=run_info)

    simulate = subparsers.add_parser(
        "simulate",
        parents=[common],
        help="roll a scene out (no rendering)",
        description="Roll out motion and physics; writes scene.yaml, metadata.json and trajectory.json.",
    )
    simulate.add_argument("scene", metavar="SCENE")
    simulate.add_argument("--out", required=True, metavar="DIR", help="output folder")
    simulate.set_defaults(func=run_simulate)


def run_validate(args: argparse.Namespace) -> int:
    """Validate each file; every problem goes to stderr."""

    from worldsim.datasets.seeds import parse_seeds
    from worldsim.errors import DatasetError

    try:
        seeds: list[int | None] = [None] if args.seeds is None else list(parse_seeds(args.seeds))
    except DatasetError as error:
        raise UsageError(f"--seeds: {error.reason}") from None
    invalid = unreadable = 0
    for path in args.scenes:
        try:
            for seed in seeds:
                scene = load_valid_scene(path, seed)
                _warn_unknown_words(path, scene)
        except UsageError as error:
            unreadable += 1
            warn(f"error: {error}")
            continue
        except SceneError as error:
            invalid += 1
            for file, key_path, reason in error.issues:
                warn(format_issue(file or path, key_path, reason))
            continue
        if not args.quiet:
            echo(f"{path}: valid" + ("" if args.seeds is None else f" at seeds {args.seeds}"))
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAILURE if invalid else EXIT_OK


def _warn_unknown_words(path: str, scene) -> None:
    """Warn of the scene's words (prompt, descriptions) that its renderer's text model does not
    know (through the renderer registry; only for renderers that read words)."""
    from renderers import base
    from worldsim.clip.config import load_render_config
    from worldsim.errors import RenderError

    name = scene.render.renderer if scene.render.renderer not in (None, "default") else None
    name = name or load_render_config().renderer
    texts = [scene.prompt, *(entity.description for entity in scene.entities)]
    if not base.reads_words(name) or not any(texts):
        return
    try:
        unknown = base.unknown_words(name, [text for text in texts if text])
    except RenderError as error:
        warn(f"{path}: warning: cannot check the words: {error}")
        return
    if unknown:
        warn(f"{path}: warning: renderer {name!r} does not know the words: {', '.join(unknown)}")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def _vector(values: list[float] | None) -> str:
    return "-" if values is None else "[" + ", ".join(f"{float(v):g}" for v in values) + "]"


def describe_scene(scene) -> str:
    """A human-readable summary of a scene."""
    classes = scene.semantic_table()
    width, height = scene.resolution
    lines = [
        f"scene: {scene.name}   seed: {scene.seed}",
        f"frames: {scene.frame_count} at {scene.fps:g} fps ({scene.frame_count / scene.fps:.2f} s), "
        f"resolution {width}x{height}",
    ]
    if scene.prompt:
        lines.append(f"prompt: {scene.prompt}")
    entity_rows = [
        [
            str(e.id),
            e.name,
            e.semantic_class,
            str(classes.get(e.semantic_class, "")),
            e.mesh.type if e.mesh.type != "file" else f"file {e.mesh.file}",
            e.physics.mode,
            e.motion.type,
        ]
        for e in scene.entities
    ]
    lines += [
        "",
        f"entities ({len(scene.entities)}):",
        _table(entity_rows, ["id", "name", "class", "class id", "mesh", "physics", "motion"]),
    ]
    lines += ["", "classes: " + ", ".join(f"{name}={value}" for name, value in classes.items())]
    camera_rows = [
        [
            c.name,
            f"{c.fov_deg:g}" if c.fx is None else f"fx={c.fx:g}",
            f"{len(c.keyframes)} keyframes" if c.keyframes else _vector(c.position),
            c.target or _vector(c.look_at),
        ]
        for c in scene.cameras
    ]
    lines += [
        "",
        f"cameras ({len(scene.cameras)}):",
        _table(camera_rows, ["name", "fov (deg)", "position", "looks at"]),
    ]
    light_rows = [
        [light.name or "-", light.type, f"{light.intensity:g}", _vector(light.color)]
        for light in scene.lights
    ]
    lines += [
        "",
        f"lights ({len(scene.lights)}):",
        _table(light_rows, ["name", "type", "intensity", "color"]),
    ]
    render = scene.render
    lines += [
        "",
        f"render: renderer={render.renderer or 'default'} guidance={','.join(render.guidance)} "
        f"backend={render.guidance_backend or 'default'} spp={render.samples_per_pixel or 'default'}",
    ]
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    """Print the scene summary (or its resolved YAML)."""
    scene = load_valid_scene(args.scene, args.seed)
    if args.yaml:
        from worldsim.scene.yaml_io import scene_to_yaml

        echo(scene_to_yaml(scene).rstrip("\n"))
    else:
        echo(describe_scene(scene))
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Roll out and write scene.yaml, metadata.json, trajectory.json."""
    from worldsim.render import simulate

    out = simulate(require_file(args.scene), args.out, progress=not args.quiet)
    if not args.quiet:
        echo(f"wrote {out / 'scene.yaml'}, {out / 'metadata.json'}, {out / 'trajectory.json'}")
    return 0
