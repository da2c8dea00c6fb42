"""``worldsim dataset SCENE_OR_CONFIG... --out DIR``: many clips as Ray tasks, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from worldsim.cli.common import EXIT_FAILURE, EXIT_OK, UsageError, require_file
from worldsim.cli.output import echo, warn


def add_dataset_subparser(
    subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Register ``dataset``."""
    parser = subparsers.add_parser(
        "dataset",
        parents=[common],
        help="render many clips (scenes x seeds) on Ray, resumably",
        description="Render every scene (YAML scene files, randomised or not, and the scenes and "
        "generators of dataset configs) at every seed into DIR/clips/<stem>-<seed>/, one Ray task per "
        "clip: a local Ray by default, an existing cluster with --address. Writes DIR/manifest.jsonl "
        "and DIR/dataset.yaml; re-running the same command renders only what is missing.",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="SCENE_OR_CONFIG", help="scene files and dataset configs"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset folder")
    parser.add_argument("--seeds", metavar="A:B", help="seeds A to B-1 (each clip's scene.seed; default 0:1)")
    parser.add_argument("--workers", type=int, metavar="N", help="local Ray CPUs (default: every core)")
    parser.add_argument(
        "--address", metavar="ADDR", help="join the Ray cluster at HOST:PORT (or ray://HOST:PORT, auto)"
    )
    appearance = parser.add_mutually_exclusive_group()
    appearance.add_argument("--renderer", metavar="NAME", help="appearance renderer (default: each scene's)")
    appearance.add_argument("--guidance-only", action="store_true", default=None, help="only guidance maps")
    parser.add_argument("--export", metavar="NAME,...", help="export formats, e.g. coco,boxes,pointcloud,exr")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="renderer option; repeatable"
    )
    parser.add_argument("--camera", metavar="NAME", help="camera to render (default: each scene's first)")
    parser.add_argument("--max-retries", type=int, metavar="N", help="attempts after the first (default 2)")
    parser.add_argument("--threads-per-worker", type=int, metavar="N", help="threads per worker (default 1)")
    parser.set_defaults(func=run_dataset)
    return parser


def dataset_config_from_args(args: argparse.Namespace) -> tuple[object, str | None]:
    """The dataset config the inputs and flags describe, and the config file (if one was given)."""
    from worldsim.cli.render_cmd import parse_options
    from worldsim.datasets.config import DatasetConfig, is_dataset_config, load_dataset_config

    config_files = []
    scenes = []
    for name in args.inputs:
        path = require_file(name)
        (config_files if is_dataset_config(path) else scenes).append(path)
    if len(config_files) > 1:
        raise UsageError(f"give at most one dataset config, got {', '.join(map(str, config_files))}")
    config_file = str(config_files[0].resolve()) if config_files else None
    config = load_dataset_config(config_file) if config_file else DatasetConfig()
    config.scenes = [*config.scenes, *(str(path.resolve()) for path in scenes)]
    if args.seeds is not None:
        config.seeds = args.seeds
    if args.workers is not None:
        if args.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {args.workers}")
        config.workers = args.workers
    if args.address is not None:
        config.address = args.address
    if args.renderer is not None:
        config.renderer, config.guidance_only = args.renderer, False
    if args.guidance_only:
        config.guidance_only = True
    if args.export is not None:
        config.exports = [name.strip() for name in args.export.split(",") if name.strip()]
    if args.option:
        config.options = {**config.options, **parse_options(args.option)}
    if args.camera is not None:
        config.camera = args.camera
    if args.max_retries is not None:
        config.max_retries = args.max_retries
    if args.threads_per_worker is not None:
        config.threads_per_worker = args.threads_per_worker
    return config, config_file


def run_dataset(args: argparse.Namespace) -> int:
    """Render the dataset; print the summary and any failed clips."""
    from worldsim.datasets.dataset import render_dataset

    config, config_file = dataset_config_from_args(args)
    summary = render_dataset(config, Path(args.out), progress=not args.quiet, config_file=config_file)  # type: ignore[arg-type]
    for entry in summary.failures:
        warn(f"failed: {entry.id}: {entry.error}")
    if not args.quiet:
        echo(summary.text())
    return EXIT_FAILURE if summary.failed else EXIT_OK
