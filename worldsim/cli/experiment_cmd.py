"""``worldsim experiment CONFIG [--out DIR] [--quick]``: run a sweep and write CSV, plots, report."""

from __future__ import annotations

import argparse
import sys


def add_experiment_subparser(
    subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Register the ``experiment`` subcommand."""
    parser = subparsers.add_parser(
        "experiment",
        parents=[common],
        help="run a metrics sweep (scenes x renderers x seeds x clip lengths)",
        description="Run an experiment config (configs/experiments/*.yaml); finished runs are skipped.",
    )
    parser.add_argument("config", help="experiment YAML file")
    parser.add_argument("--out", default=None, help="output folder (default out/experiments/<name>)")
    parser.add_argument("--quick", action="store_true", help="tiny resolution and clip lengths (smoke run)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--workers", type=int, metavar="N", help="run the sweep as Ray tasks on a local Ray with N CPUs"
    )
    parser.add_argument("--address", metavar="ADDR", help="run the sweep on the Ray cluster at HOST:PORT")
    parser.set_defaults(func=run_experiment_command)
    return parser


def run_experiment_command(args: argparse.Namespace) -> int:
    """Handler: run the experiment; print where the report is; 0 on success."""
    from worldsim.cli.common import UsageError
    from worldsim.experiments.experiment import run_and_report

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    quiet = bool(getattr(args, "quiet", False))
    outputs = run_and_report(
        args.config,
        args.out,
        quick=args.quick,
        progress=not (args.no_progress or quiet),
        workers=args.workers,
        address=args.address,
    )
    if not quiet:
        sys.stdout.write(f"metrics: {outputs.metrics_csv}\nreport: {outputs.report}\n")
    return 0
