"""The ``worldsim`` command line: ``validate``, ``info``, ``simulate``, ``render``, ``camera``,
``experiment``, ``evaluate``, ``provenance``, ``view``, ``export``.

Exit codes scripts can rely on: 0 success; 1 invalid input or a failed run (every worldsim
error, printed as one message without a traceback unless ``--debug``); 2 usage errors and
unreadable or missing input files; 130 interrupted (re-run the same command to resume a render).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from worldsim import __version__
from worldsim.cli.common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from worldsim.cli.output import warn

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

OPTIONAL_SUBCOMMANDS = (
    ("worldsim.cli.camera_cmd", "add_camera_subparser"),
    ("worldsim.cli.experiment_cmd", "add_experiment_subparser"),
    ("worldsim.cli.evaluate_cmd", "add_evaluate_subparser"),
    ("worldsim.cli.provenance_cmd", "add_provenance_subparser"),
    ("worldsim.cli.view_cmd", "add_view_subparsers"),
    ("worldsim.cli.diff_cmd", "add_diff_subparser"),
)
"""Subcommands contributed by other modules: ``module:function(subparsers, common)``; ``common``
is the parent parser carrying ``--quiet`` and ``--debug``."""


def _common_options(suppress: bool) -> argparse.ArgumentParser:
    # Sub-parsers get SUPPRESS defaults so `worldsim --quiet render ...` is not reset to False.
    default = argparse.SUPPRESS if suppress else False
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print only errors (no progress bars or summaries)",
    )
    parent.add_argument("--debug", action="store_true", default=default, help="show tracebacks of errors")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from worldsim.cli import render_cmd, scene_cmds

    parser = argparse.ArgumentParser(
        prog="worldsim",
        parents=[_common_options(suppress=False)],
        description="Object-centric world-model scene simulator with controllable rendering.",
        epilog="exit codes: 0 ok, 1 invalid input or failed run, 2 usage or unreadable file, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"worldsim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    common = _common_options(suppress=True)
    scene_cmds.add_subparsers(subparsers, common)
    render_cmd.add_subparser(subparsers, common)
    for module_name, function_name in OPTIONAL_SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        getattr(module, function_name)(subparsers, common)
    return parser


def _configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("worldsim")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False
    # Renderers log under their own package (to the root's handlers); libraries they drive show
    # their own bars and notices only where `renderers` logs at INFO (renderers/adapters/weights.py).
    logging.getLogger("renderers").setLevel(logging.WARNING if quiet else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from worldsim.errors import WorldsimError

    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet = getattr(args, "quiet", False)
    args.debug = getattr(args, "debug", False)
    _configure_logging(args.quiet)
    if getattr(args, "func", None) is None:
        parser.error(f"'{args.command}' needs an action; see 'worldsim {args.command} --help'")
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as error:
        if caused_by_interrupt(error):
            return _interrupted()
        if isinstance(error, UsageError | WorldsimError | OSError):
            _report(error, args.debug)
            return EXIT_FAILURE if isinstance(error, WorldsimError) else EXIT_USAGE
        raise
    return int(result or EXIT_OK)


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` was raised by a KeyboardInterrupt: libraries that call back into Python
    wrap it (Mitsuba's ``mi.render`` in a RuntimeError from Dr.Jit's custom operation)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _interrupted() -> int:
    warn("interrupted; run the same command again to continue where it stopped")
    return EXIT_INTERRUPTED


def _report(error: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    warn(f"error: {error}")


if __name__ == "__main__":
    sys.exit(main())
