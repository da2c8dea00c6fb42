"""The project documents itself: no source file points outside the repository, and
docs/ARCHITECTURE.md lists every entry of the tables a newcomer extends."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
OUTSIDE = ("../shared", "DESIGN.md", "STYLE.md")
SUFFIXES = (".py", ".md", ".yaml", ".sh")


def source_files() -> list[Path]:
    files = []
    for folder in ("worldsim", "renderers", "tools", "scenes", "configs", "tests"):
        files += [path for path in (REPO / folder).rglob("*") if path.suffix in SUFFIXES]
    return [path for path in files if path.resolve() != Path(__file__).resolve()]


def test_no_file_points_outside_the_repository():
    files = [*source_files(), REPO / "README.md"]
    assert len(files) > 100
    offenders = [
        f"{path.relative_to(REPO)}: {needle}"
        for path in files
        for needle in OUTSIDE
        if needle in path.read_text(errors="replace")
    ]
    assert offenders == []


def test_docs_named_in_the_code_exist():
    named = set()
    for path in source_files():
        named |= set(re.findall(r"docs/[A-Za-z_]+\.md", path.read_text(errors="replace")))
    assert "docs/ARCHITECTURE.md" in named
    assert [name for name in sorted(named) if not (REPO / name).is_file()] == []


def test_the_architecture_page_lists_every_table_entry():
    from renderers.base import available
    from worldsim.exports.registry import EXPORT_FORMATS
    from worldsim.metrics.registry import METRICS

    text = ARCHITECTURE.read_text()
    assert [name for name in [*available(), *METRICS, *EXPORT_FORMATS] if f"`{name}`" not in text] == []
    assert "`MOVES`" in text and "`METRICS`" in text and "`_REGISTRY`" in text and "`EXPORT_TABLE`" in text
