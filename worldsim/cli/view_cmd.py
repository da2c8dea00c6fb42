"""``worldsim view`` (web viewer with camera path authoring) and ``worldsim export`` (Rerun)."""

from __future__ import annotations

import argparse

from worldsim.cli.output import echo

EXPORT_FORMATS = ("rerun",)


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

    export = subparsers.add_parser(
        "export",
        parents=[common],
        help="export a clip folder (Rerun recording)",
        description="Export a clip folder: --format rerun writes a .rrd recording (rgb, depth, "
        "segmentation with class names, flow, lighting maps, camera pose and pinhole, entity boxes on "
        "a 'frame' timeline) that opens in the Rerun viewer (worldsim[viewer]).",
    )
    export.add_argument("clip", metavar="CLIP", help="clip folder")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="output format")
    export.add_argument("--out", required=True, metavar="FILE", help="output file (e.g. clip.rrd)")
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
    from worldsim.exports.rerun_recording import export_rerun

    path = export_rerun(args.clip, args.out)
    if not args.quiet:
        echo(f"wrote {path}")
    return 0
