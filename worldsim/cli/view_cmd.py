"""``worldsim view`` (web viewer with camera path authoring) and ``worldsim export`` (the formats of
``worldsim.exports.registry``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from worldsim.cli.output import echo, warn
from worldsim.exports.registry import EXPORT_FORMATS, EXPORT_TABLE


def add_view_subparsers(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``view`` and ``export``."""
    view = subparsers.add_parser(
        "view",
        parents=[common],
        help="open a scene or clip folder in the web viewer (worldsim[viewer])",
        description="Serve a web viewer of a scene file or clip folder: the world in 3D, a timeline, "
        "the clip's frames and guidance maps, the entity list, and camera path editing "
        "(add keyframes from the view, drag, retime, save as YAML or camera_path.json). Ctrl-C stops it.",
    )
    view.add_argument("source", metavar="SCENE_OR_CLIP", help="YAML scene file or clip folder")
    view.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free port)")
    view.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    view.add_argument("--camera", metavar="NAME", help="camera to show and edit (default: the first)")
    view.add_argument("--no-browser", action="store_true", help="do not open a browser")
    view.set_defaults(func=run_view)

    formats = "; ".join(
        f"{name}: {row.description} ({row.default_out})" for name, row in EXPORT_TABLE.items()
    )
    export = subparsers.add_parser(
        "export",
        parents=[common],
        help=f"export a clip or dataset folder ({', '.join(EXPORT_FORMATS)})",
        description="Export a clip folder, or every clip of a dataset folder (DIR/clips/<id>/), to "
        "formats other tools read; by default into the clip's exports/ folder (webdataset: into the "
        "dataset folder). "
        f"Formats: {formats}.",
    )
    export.add_argument("clip", metavar="CLIP_OR_DATASET", help="clip folder or dataset folder")
    export.add_argument(
        "--format",
        required=True,
        metavar="NAMES",
        help=f"comma-separated formats: {', '.join(EXPORT_FORMATS)}",
    )
    export.add_argument(
        "--out", metavar="PATH", help="output file or folder of a single format (default: see above)"
    )
    export.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="format option, e.g. --option frame=both --option color=rgb (pointcloud); repeatable",
    )
    export.set_defaults(func=run_export)


def run_view(args: argparse.Namespace) -> int:
    from worldsim.cli.common import UsageError
    from worldsim.viewer.app import ViewerApp, import_viser, serve_forever
    from worldsim.viewer.world_view import load_viewed_world

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {args.port}")
    import_viser()  # the missing extra is reported before any loading
    world = load_viewed_world(args.source)
    app = ViewerApp(world, host=args.host, port=args.port, camera=args.camera)
    if not args.quiet:
        echo(f"worldsim viewer: {app.url}  (Ctrl-C to stop)")
    if not args.no_browser:
        import webbrowser

        webbrowser.open(app.url)
    serve_forever(app)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from worldsim.cli.common import UsageError
    from worldsim.cli.render_cmd import parse_options
    from worldsim.exports import registry

    names = [name.strip() for name in args.format.split(",") if name.strip()]
    if not names:
        raise UsageError("--format needs at least one format name")
    rows = registry.check_formats(names)
    options = parse_options(args.option)
    registry.resolve_options(rows, options)  # unknown options are refused before anything runs
    if args.out is not None and len(rows) > 1:
        raise UsageError("--out takes one format; leave it out to export several (default paths)")
    source = Path(args.clip)
    written: list[Path] = []
    if registry.is_dataset_folder(source):
        clip_names = [row.name for row in rows if row.scope == "clip"]
        if clip_names and args.out is not None:
            raise UsageError("--out is for a clip folder; a dataset's clips export into <clip>/exports/")
        if clip_names:
            complete, incomplete = registry.complete_clips(source)
            for clip_dir in incomplete:
                warn(f"{clip_dir}: incomplete clip, not exported")
            for clip_dir in complete:
                registry.export_clip(clip_dir, clip_names, options=options)
                written += [EXPORT_TABLE[name].default_path(clip_dir) for name in clip_names]
        dataset_rows = [row for row in rows if row.scope == "dataset"]
        if dataset_rows:
            out = Path(args.out) if args.out else None
            registry.export_dataset(source, [row.name for row in dataset_rows], options=options, out=out)
            written += [out or row.default_path(source) for row in dataset_rows]
    elif args.out is not None:
        written.append(registry.export_clip_to(source, rows[0].name, Path(args.out), options=options))
    else:
        dataset_rows = [row.name for row in rows if row.scope == "dataset"]
        if dataset_rows:
            from worldsim.errors import ExportError

            raise ExportError(
                f"{dataset_rows[0]} exports a dataset folder (DIR/clips/<id>/...), not a clip folder",
                file=str(source),
            )
        registry.export_clip(source, names, options=options)
        written += [row.default_path(source) for row in rows]
    if not args.quiet:
        for path in written:
            echo(f"wrote {path}")
    return 0
