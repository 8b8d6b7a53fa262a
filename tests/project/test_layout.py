"""The house's shape, read from the code with `ast`: imports go one way, no cycles, small modules and functions.

Tiers (utils/*/__init__.py says the same in words): a module may import from its own tier or a lower one.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TIERS = {
    "utils.core": 0,
    "utils.services": 1,
    "utils.delivery": 2,
    "utils.reporting": 3,
    "utils.sources": 4,
    "utils.monthly": 5,
}
SCRIPT_TIER = 6  # pull_info.py, build_report.py, send_reports.py, utils/client_manager.py, data_pullers/*.py
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def production_modules(folders: tuple[str, ...] = ("utils", "data_pullers")) -> dict[str, Path]:
    """{dotted name: path} of every production module (the scripts and utils/, data_pullers/)."""
    found = {path.stem: path for path in ROOT.glob("*.py")}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[dotted.removesuffix(".__init__")] = path
    return found


def tier_of(module: str) -> int:
    for package, tier in TIERS.items():
        if module == package or module.startswith(package + "."):
            return tier
    return SCRIPT_TIER


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported production module, line, inside a function) for every import of `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def in_function(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return True
        return False

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            target = resolve(name)
            if target is not None and target != module:
                found.append((target, node.lineno, in_function(node)))
    return found


MODULES = production_modules()


@functools.cache
def import_graph(with_simulators: bool = False) -> dict[str, list[tuple[str, int, bool]]]:
    """{module: its imports of the project's modules}; read when a test first asks (not at collection, in every worker).

    Cycles are looked for among the simulators too (the demo imports them)."""
    modules = production_modules(("utils", "data_pullers", "simulators")) if with_simulators else MODULES
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def test_imports_go_one_way():
    against = [f"{name}:{line} imports {target} (tier {tier_of(target)} above {tier_of(name)})"
               for name, edges in import_graph().items() for target, line, _ in edges
               if tier_of(target) > tier_of(name) and not target.startswith("simulators")]
    assert against == []


def test_no_import_hides_inside_a_function():
    hidden = [f"{name}:{line} imports {target} inside a function"
              for name, edges in import_graph().items() for target, line, inside in edges if inside]
    assert hidden == []


def test_no_import_cycle():
    graph = import_graph(with_simulators=True)
    edges = {name: {target for target, _, _ in found if target in graph} for name, found in graph.items()}
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert cycles == []


def test_modules_and_functions_stay_small():
    too_big = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_big.append(f"{name}.{node.name}: {length} lines")
    assert too_big == []


@pytest.mark.parametrize("package", sorted(TIERS))
def test_each_package_says_what_lives_there(package):
    init = ROOT / package.replace(".", "/") / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) if init.exists() else None
    assert doc and "import" in doc, f"{init} must say what lives there and what it may import"
