"""``worldsim render``: scene -> clip folder (guidance maps, rgb frames, videos, contact sheet)."""

from __future__ import annotations

import argparse

from worldsim.cli.output import echo


def add_subparser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``render``."""
    parser = subparsers.add_parser(
        "render",
        parents=[common],
        help="render a scene into a clip folder",
        description="Render a scene: guidance maps, appearance frames (rgb/), video.mp4, "
        "guidance.mp4 and contact_sheet.png. Re-running the same command resumes: only frames "
        "missing on disk are rendered.",
    )
    parser.add_argument("scene", metavar="SCENE", help="YAML scene file")
    parser.add_argument("--out", required=True, metavar="DIR", help="clip folder")
    parser.add_argument(
        "--renderer", default="default", help="appearance renderer (default: the scene's, else 'reference')"
    )
    parser.add_argument("--guidance-only", action="store_true", help="write only the guidance maps")
    parser.add_argument("--camera", metavar="NAME", help="camera to render (default: the first)")
    parser.add_argument("--frames", metavar="A:B", help="frames A to B-1 (default: all)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a clip folder made with other settings"
    )
    parser.add_argument("--spp", type=int, metavar="N", help="samples per pixel of the renderer")
    parser.add_argument(
        "--preview", action="store_true", help="fast preview: few samples and a denoiser (reference renderer)"
    )
    parser.add_argument(
        "--weights",
        metavar="PATH",
        help="the renderer's weights: a local folder or file, e.g. a diffusers pipeline folder for "
        "--renderer wan_vace (sets --option weights=PATH; nothing is downloaded)",
    )
    parser.add_argument(
        "--sign-with",
        nargs=2,
        metavar=("KEY", "CERT"),
        help="PEM private key and certificate chain for the content credentials of video.mp4 and "
        "contact_sheet.png (default: a local test identity; needs worldsim[provenance])",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="renderer option (VALUE parsed as YAML), e.g. --option max_depth=3; repeatable",
    )
    parser.set_defaults(func=run_render)


def parse_options(pairs: list[str]) -> dict[str, object]:
    """``["key=value", ...]`` -> options, each value parsed as a YAML scalar or list."""
    import yaml

    from worldsim.cli.main import UsageError

    options: dict[str, object] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        if not separator or not key.strip():
            raise UsageError(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            options[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise UsageError(f"--option {key.strip()}: cannot parse {text!r}: {error}") from None
    return options


def run_render(args: argparse.Namespace) -> int:
    """Render and print where the clip went."""
    from worldsim.cli.main import UsageError
    from worldsim.cli.scene_cmds import require_file
    from worldsim.render import render

    if args.spp is not None and args.spp < 1:
        raise UsageError(f"--spp must be at least 1, got {args.spp}")
    options = parse_options(args.option)
    if args.spp is not None:
        options["samples_per_pixel"] = args.spp
    if args.preview:
        options["preview"] = True
    if args.weights is not None:
        options["weights"] = args.weights
    clip = render(
        require_file(args.scene),
        renderer=args.renderer,
        out=args.out,
        guidance_only=args.guidance_only,
        camera=args.camera,
        frames=args.frames,
        progress=not args.quiet,
        overwrite=args.overwrite,
        options=options or None,
        sign_with=tuple(args.sign_with) if args.sign_with else None,
    )
    if not args.quiet:
        echo(f"wrote {clip.path} ({clip.num_frames} frames)")
    return 0
