"""The subcommand modules share helpers through ``worldsim.cli.common``, never ``cli.main``, which
imports them (a cycle: ``main`` -> ``render_cmd`` -> ``main``)."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "worldsim" / "cli"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_subcommand_module_imports_the_entry_point():
    modules = sorted(path for path in CLI.glob("*.py") if path.name != "main.py")
    assert len(modules) >= 5
    offenders = {path.name for path in modules if "worldsim.cli.main" in imported_modules(path)}
    assert offenders == set()
    assert "worldsim.cli" not in {m.rsplit(".", 1)[0] for m in imported_modules(CLI / "common.py")}
