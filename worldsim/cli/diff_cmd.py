"""``worldsim diff SCENE_A SCENE_B``: what changed between two scenes and which frames it touches."""

from __future__ import annotations

import argparse

from worldsim.cli.common import require_file
from worldsim.cli.output import echo


def add_diff_subparser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``diff``."""
    parser = subparsers.add_parser(
        "diff",
        parents=[common],
        help="list what changed between two scenes and which frames it touches",
        description="Compare two scene files: every changed key path, then, per change, the frames "
        "whose inputs it changes for a renderer (what `worldsim render` into the first scene's clip "
        "folder would re-render). --set/--edits edit SCENE_B first (SCENE_B may then be SCENE_A).",
    )
    parser.add_argument("scene_a", metavar="SCENE_A", help="YAML scene file (before)")
    parser.add_argument("scene_b", metavar="SCENE_B", help="YAML scene file (after)")
    parser.add_argument(
        "--renderer",
        default="default",
        help="renderer whose frame inputs count (default: SCENE_B's render.renderer, else the config's)",
    )
    parser.add_argument("--camera", metavar="NAME", help="camera (default: the first)")
    parser.add_argument("--guidance-only", action="store_true", help="count the guidance maps' inputs only")
    from worldsim.cli.render_cmd import add_edit_arguments

    add_edit_arguments(parser)
    parser.set_defaults(func=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    """Print the changes and the frames they touch."""
    from worldsim.cli.render_cmd import edited_scene
    from worldsim.clip.config import load_render_config, resolve_render_settings
    from worldsim.clip.incremental import frame_ranges, touched_frames
    from worldsim.render import _camera_name, _guidance_maps, load_and_validate, rerender_products, rollout
    from worldsim.scene.diff import scene_changes

    before = load_and_validate(require_file(args.scene_a))
    after = edited_scene(args.scene_b, args)
    after = load_and_validate(after)
    changes = scene_changes(before, after)
    echo(f"{args.scene_a} -> {args.scene_b}: {len(changes)} change{'s' if len(changes) != 1 else ''}")
    for change in changes:
        echo(f"  {change.describe()}")
    if not changes:
        return 0
    from renderers.base import scene_options

    config = load_render_config()
    resolved = resolve_render_settings(
        after.render, config, renderer=args.renderer, scene_options=scene_options
    )
    from renderers.base import available

    if not args.guidance_only and resolved.renderer not in available():
        from worldsim.errors import RenderError

        raise RenderError(f"unknown renderer {resolved.renderer!r}; available: {', '.join(available())}")
    camera = _camera_name(after, args.camera)
    trajectories = [rollout(scene, progress=False) for scene in (before, after)]
    name = None if args.guidance_only else resolved.renderer
    products = rerender_products(
        after,
        trajectories[1],
        config,
        maps=_guidance_maps(after),
        backend=resolved.guidance_backend,
        renderer_name=name,
        renderer=_option_holder(name, resolved.renderer_options),
        renderer_options=resolved.renderer_options,
    )
    names = {
        f"entity {info.id}": f"entity {info.id} ({info.name})" for t in trajectories for info in t.entities
    }
    count = len(trajectories[1])
    for product_name, product in products.items():
        touched = touched_frames(trajectories[0], trajectories[1], camera, product)
        frames = set().union(*touched.values()) if touched else set()
        label = f"{product_name} frames" + (
            f" ({name}, reach {product.reach})" if product_name == "rgb" else ""
        )
        echo(
            f"{label}: {len(frames)} of {count} touched"
            + (f": {frame_ranges(sorted(frames))}" if frames else "")
        )
        for part, part_frames in touched.items():
            echo(f"  {names.get(part, part)}: {len(part_frames)} frames: {frame_ranges(part_frames)}")
    return 0


def _option_holder(name: str | None, options: dict) -> object:
    """What ``renderers.frame_dependencies`` reads of a renderer without building it: its options
    (the diffusion renderer's windows), or None."""
    if name != "diffusion":
        return None
    import types

    from renderers.diffusion.options import load_diffusion_options

    return types.SimpleNamespace(options=load_diffusion_options(options))
