"""The house's one-way doors, checked on the source: no import cycles, no upward imports from the lowest modules,
no module reaching into another's private names, and a light ``import sdsrules.events``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: source folder -> the package it installs as (pyproject's package-dir)
PACKAGES = {"sdsrules": "sdsrules", "cli": "sdsrules.cli"}

#: the lowest modules: the vocabulary of the house. They may import each other (downwards in this order) but
#: nothing above them (replay, engines, pipeline, formats, API, service, command line).
LOWEST = ("sdsrules.calendar", "sdsrules.datafile", "sdsrules.findings", "sdsrules.vocabulary.kinds",
          "sdsrules.vocabulary", "sdsrules.events", "sdsrules.conditions")


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> list[tuple[str, tuple[str, ...], int]]:
    """(module imported, names taken from it, line) for every import in the module, at any depth (a lazy import
    inside a function is still a door)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((a.name, (), node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, tuple(a.name for a in node.names), node.lineno))
    return found


def _internal_edges() -> dict[str, set[str]]:
    """module -> the package modules it imports (``from pkg import mod`` counts as importing ``pkg.mod``)."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for name in MODULES:
        for target, names, _ in _runtime_imports(name):
            if target in MODULES and target != name:
                edges[name].add(target)
            for n in names:
                sub = f"{target}.{n}"
                if sub in MODULES and sub != name:
                    edges[name].add(sub)
    return edges


def _runtime_imports(name: str) -> list[tuple[str, tuple[str, ...], int]]:
    """Imports outside ``if TYPE_CHECKING:`` blocks (those never run)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                for inner in ast.walk(sub):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        hidden.add(inner.lineno)
    return [imp for imp in _imports(name) if imp[2] not in hidden]


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle between modules (ignoring a package's own ``__init__`` re-exporting its children), or
    None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(edges, WHITE)
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        colour[m] = GREY
        stack.append(m)
        for n in sorted(edges[m]):
            if _is_package(n) and m.startswith(n + "."):
                continue  # a module importing its own package's face: the face is loaded first anyway
            if colour[n] == GREY:
                return [*stack[stack.index(n):], n]
            if colour[n] == WHITE:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        colour[m] = BLACK
        return None

    for m in sorted(edges):
        if colour[m] == WHITE:
            found = visit(m)
            if found:
                return found
    return None


class TestImportGraph:
    def test_there_is_no_import_cycle(self):
        """No chain of imports, lazy ones included, leads from a module back to itself."""
        edges = _internal_edges()
        # a package face that re-exports its children is not a cycle with them
        for m in edges:
            if _is_package(m):
                edges[m] = {n for n in edges[m] if not n.startswith(m + ".")}
        assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])

    @pytest.mark.parametrize("low", LOWEST)
    def test_the_lowest_modules_import_nothing_above_them(self, low):
        """The house's vocabulary depends on nothing built on top of it."""
        allowed = set(LOWEST) | {"sdsrules"}
        above = sorted(n for n in _internal_edges()[low] if n not in allowed)
        assert above == [], f"{low} imports {above}"

    def test_no_module_takes_another_modules_private_names(self):
        """Modules talk through public names."""
        leaks = []
        for name in MODULES:
            for target, names, line in _imports(name):
                if not target.startswith("sdsrules") or target == name:
                    continue
                for n in names:
                    if n.startswith("_") and not n.startswith("__"):
                        leaks.append(f"{MODULES[name].relative_to(ROOT)}:{line} takes {n} from {target}")
        assert leaks == []

    def test_importing_the_event_contract_loads_nothing_heavy(self):
        """``import sdsrules.events`` loads the contract alone: no engine, no state machine, no web stack."""
        code = ("import sys, sdsrules.events; heavy = ('durable_rules_engine', 'durable', 'transitions', 'starlette',"
                " 'uvicorn', 'jinja2', 'sdsrules.pipeline', 'sdsrules.engine', 'sdsrules.api');"
                " print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]"


def test_the_rule_loader_knows_every_named_function():
    """rules.FUNCTION_NAMES (what a rule may name) and functions.FUNCTIONS (what runs) are the same list."""
    from sdsrules.engine.functions import FUNCTIONS
    from sdsrules.engine.rules import FUNCTION_NAMES

    assert sorted(FUNCTIONS) == sorted(FUNCTION_NAMES)
