"""``worldsim render``: scene -> clip folder (guidance maps, rgb frames, videos, contact sheet)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from worldsim.cli.common import UsageError, require_file
from worldsim.cli.output import echo

OPTION_SCHEMAS: dict[str, str] = {
    "reference": "renderers.reference.options:ReferenceOptions",
    "diffusion": "renderers.diffusion.options:DiffusionOptions",
    "wan_vace": "renderers.adapters.options:AdapterOptions",
    "cogvideox_fun": "renderers.adapters.options:AdapterOptions",
}
"""Renderer -> the dataclass of its options, to say which renderer takes an option another one
refuses (the calibration baselines ignore unknown options, so they are not listed)."""


class _DeferredHelp(str):
    """Help text built only when help is printed (it reads the render config and the renderer
    registry, which a plain ``worldsim render`` need not pay for before parsing)."""

    build: Callable[[], str]

    def __new__(cls, build: Callable[[], str]) -> _DeferredHelp:
        text = super().__new__(cls, "(computed when help is shown)")
        text.build = build
        return text

    def __mod__(self, params: object) -> str:  # argparse expands help with "%"
        return self.build() % params


def default_renderer_name() -> str:
    """The renderer ``render`` uses when neither the call nor the scene names one: the one
    ``RenderConfig`` resolves to (``configs/render.yaml`` over the dataclass default)."""
    from worldsim.clip.config import load_render_config

    return load_render_config().renderer


def _renderer_help() -> str:
    return f"appearance renderer (default: the scene's render.renderer, else {default_renderer_name()!r})"


def renderers_taking(option: str) -> list[str]:
    """Names of the renderers that have the option ``option``."""
    import dataclasses
    import importlib

    names = []
    for name, schema_path in OPTION_SCHEMAS.items():
        module_name, class_name = schema_path.split(":")
        try:
            schema = getattr(importlib.import_module(module_name), class_name)
        except ImportError:  # an extra not installed: it cannot take anything here
            continue
        if option in {field.name for field in dataclasses.fields(schema)}:
            names.append(name)
    return names


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
    parser.add_argument("--renderer", default="default", help=_DeferredHelp(_renderer_help))
    parser.add_argument("--guidance-only", action="store_true", help="write only the guidance maps")
    parser.add_argument("--camera", metavar="NAME", help="camera to render (default: the first)")
    parser.add_argument("--frames", metavar="A:B", help="frames A to B-1 (default: all)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a clip folder made with other settings"
    )
    parser.add_argument(
        "--spp", type=int, metavar="N", help="samples per pixel (reference renderer: --renderer reference)"
    )
    parser.add_argument(
        "--preview",
        action="store_true",
        help="fast preview: few samples and a denoiser (reference renderer: --renderer reference)",
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
        help="renderer option (VALUE parsed as YAML), e.g. --option steps=20 (diffusion) or "
        "--option max_depth=3 (reference); repeatable",
    )
    add_edit_arguments(parser)
    parser.add_argument(
        "--extend",
        type=int,
        metavar="N",
        help="continue the clip in --out by N frames; its frames stay as they are and camera moves "
        "keep the timing they were first rendered with",
    )
    parser.add_argument(
        "--appearance-from",
        metavar="CLIP",
        help="start from the appearance memory of another rendered clip folder (another camera, a later "
        "shot), so shared entities keep their look (renderers with a memory: diffusion)",
    )
    parser.set_defaults(func=run_render)


def add_edit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--set KEY.PATH=VALUE`` and ``--edits FILE`` (``worldsim.scene.edits``)."""
    parser.add_argument(
        "--set",
        dest="set_values",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="edit the scene before rendering, e.g. --set entities[ball].material.base_color=[0,1,0] "
        "(VALUE parsed as YAML); repeatable, applied after --edits",
    )
    parser.add_argument(
        "--edits",
        metavar="FILE",
        help="an edit file: a YAML list of {set: KEY.PATH, value: V} / {remove: ...}",
    )


def edited_scene(path: str, args: argparse.Namespace):
    """The scene file ``path`` with ``--edits`` then ``--set`` applied (the path itself without any)."""
    from worldsim.scene.edits import apply_edits, load_edits, parse_set

    scene_file = require_file(path)
    edits = [*load_edits(require_file(args.edits))] if args.edits else []
    edits += [parse_set(text) for text in args.set_values]
    if not edits:
        return scene_file
    from worldsim.render import load_and_validate

    return apply_edits(load_and_validate(scene_file), edits)


def parse_options(pairs: list[str]) -> dict[str, object]:
    """``["key=value", ...]`` -> options, each value parsed as a YAML scalar or list."""
    import yaml

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
    from worldsim.errors import RenderError, UnknownOptionError
    from worldsim.render import parse_frames, render

    if args.spp is not None and args.spp < 1:
        raise UsageError(f"--spp must be at least 1, got {args.spp}")
    options = parse_options(args.option)
    if args.spp is not None:
        options["samples_per_pixel"] = args.spp
    if args.preview:
        options["preview"] = True
    if args.weights is not None:
        options["weights"] = args.weights
    if args.extend is not None and args.extend < 1:
        raise UsageError(f"--extend must be at least 1 frame, got {args.extend}")
    if args.extend is not None and args.overwrite:
        raise UsageError("--extend continues the clip in --out; it cannot be combined with --overwrite")
    if args.appearance_from is not None:
        _require_clip_folder(args.appearance_from)
    try:
        clip = render(
            edited_scene(args.scene, args),
            renderer=args.renderer,
            out=args.out,
            guidance_only=args.guidance_only,
            camera=args.camera,
            frames=args.frames,
            progress=not args.quiet,
            overwrite=args.overwrite,
            options=options or None,
            sign_with=tuple(args.sign_with) if args.sign_with else None,
            extend=args.extend,
            appearance_from=args.appearance_from,
        )
    except UnknownOptionError as error:
        raise RenderError(f"{error}{_option_hint(error.option, args)}") from None
    if not args.quiet:
        total = clip.num_frames
        if args.frames is None:
            echo(f"wrote {clip.path} ({total} frames)")
        else:
            count = len(parse_frames(args.frames, total))
            echo(f"wrote {clip.path} ({count} of the clip's {total} frames: --frames {args.frames})")
        rerendered = clip.metadata.get("rerendered", {})
        counts = {name: len(rerendered.get(name, {}).get("frames", [])) for name in ("rgb", "guidance")}
        if any(counts.values()):
            echo(
                f"re-rendered the frames whose inputs changed: {counts['rgb']} rgb, {counts['guidance']} "
                "guidance (why: metadata.json rerendered)"
            )
    return 0


def _require_clip_folder(path: str) -> None:
    from pathlib import Path

    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"--appearance-from {path}: no such clip folder")
    if not (folder / "metadata.json").is_file():
        raise UsageError(f"--appearance-from {path}: not a clip folder (no metadata.json)")


def _option_source(option: str, args: argparse.Namespace) -> str:
    """The flag (or scene section) that gave ``option``."""
    if option == "preview" and args.preview:
        return "--preview"
    if option == "samples_per_pixel" and args.spp is not None:
        return "--spp"
    if option == "weights" and args.weights is not None:
        return "--weights"
    if any(pair.partition("=")[0].strip() == option for pair in args.option):
        return f"--option {option}=..."
    return "the scene's render.renderer_options"


def _option_hint(option: str, args: argparse.Namespace) -> str:
    """Where an unknown option came from and which renderers take it."""
    takers = renderers_taking(option)
    hint = f" (given by {_option_source(option, args)})"
    if takers:
        hint += f"; {option!r} is an option of " + ", ".join(f"--renderer {name}" for name in takers)
    return hint
