"""Layering (docs/ARCHITECTURE.md), read off the source by walking imports (AST).

- ``worldsim`` reaches ``renderers`` only from the orchestration layer;
- no import cycle among the modules of ``worldsim`` and ``renderers`` at import time;
- no renderer builds a guidance backend or a ``GuidanceRenderer``: they receive a guidance source.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("worldsim", "renderers")
ORCHESTRATION = ("worldsim/render.py", "worldsim/cli/", "worldsim/experiments/", "worldsim/datasets/")
"""The only places in ``worldsim`` that may import ``renderers``."""
GUIDANCE_BUILDERS = {
    "create_backend",
    "GuidanceRenderer",
    "Open3DBackend",
    "PyTorch3DBackend",
    "ClipGuidance",
}
"""Names only ``renderers.guidance`` itself (and the orchestration layer) may import."""


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``PACKAGES``."""
    modules = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imports(path: Path, *, module_level_only: bool) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) of every import in ``path`` (``TYPE_CHECKING`` blocks
    excluded); with ``module_level_only`` those run at import time (not inside functions)."""
    found: list[tuple[str, list[str], int]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            wanted = not (module_level_only and in_function)
            if isinstance(child, ast.Import) and wanted:
                found.extend((alias.name, [], child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module and wanted:
                found.append((child.module, [alias.name for alias in child.names], child.lineno))
            visit(child, nested)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_worldsim_imports_renderers_only_in_the_orchestration_layer() -> None:
    offenders = []
    for name, path in module_files().items():
        relative = path.relative_to(REPO).as_posix()
        if not name.startswith("worldsim") or relative.startswith(ORCHESTRATION):
            continue
        for module, _, line in imports(path, module_level_only=False):
            if module == "renderers" or module.startswith("renderers."):
                offenders.append(f"{relative}:{line}: imports {module}")
    assert offenders == []


def test_no_import_cycles_at_import_time() -> None:
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for module, names, _ in imports(path, module_level_only=True):
            submodules = [f"{module}.{item}" for item in names if f"{module}.{item}" in modules]
            edges.update(submodules)  # `from package import submodule` depends on the submodule
            if module in modules and len(submodules) < max(len(names), 1):
                edges.add(module)
        graph[name] = edges - {name}
    cycles = _cycles(graph)
    assert cycles == [], cycles


def test_renderers_do_not_build_guidance() -> None:
    offenders = []
    for name, path in module_files().items():
        if not name.startswith("renderers.") or name.startswith("renderers.guidance"):
            continue
        for module, names, line in imports(path, module_level_only=False):
            built = GUIDANCE_BUILDERS.intersection(names)
            if module.startswith("renderers.guidance") and built:
                offenders.append(f"{path.relative_to(REPO)}:{line}: imports {', '.join(sorted(built))}")
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components
