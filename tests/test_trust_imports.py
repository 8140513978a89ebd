"""Issue 11, class 7: the library users import carries no test harness, and no module
imports itself through others.

The import graph is built from the AST of every module under src/verifyfull.
Every import counts, wherever it stands: module level, inside a function,
under `if TYPE_CHECKING:`, and a module named by a string (the CLI loads its
commands by name, which is an import made later). TYPE_CHECKING imports count
because the cycles the issue names close only through such imports (and a
function-level one): they still tie the two modules together for mypy, for
readers and for every refactoring, and they become real imports the day an
annotation is evaluated. An edge goes to the most specific module named
(`from verifyfull.probe import tls` -> verifyfull.probe.tls); a package's
own __init__ is not an edge of its submodules (Python imports parents first,
by design).

A runtime check confirms it: importing every guard module loads no harness.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "verifyfull"

# Cycles another branch of the same issue removes (guard/settings <-> guard/url, the
# `guard` work, is gone). Each entry must still exist: once fixed, delete it here, so
# that the allowance cannot outlive the cycle and let it come back.
PENDING_ELSEWHERE: frozenset[frozenset[str]] = frozenset()

# Only these modules outside verifyfull.lab may import it: the CLI's command table
# names `verifyfull.lab.cli` as the `verifyfull lab` command (loaded on use only).
LAB_IMPORTERS_ALLOWED = frozenset({"verifyfull.cli"})

# What the production library must never load, directly or through anything it imports.
NOT_FOR_THE_GUARD = ("verifyfull.lab", "verifyfull.scan", "verifyfull.fix", "verifyfull.probe")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _named(target: str, known: dict[str, Path]) -> str | None:
    """The most specific known module `target` names (a.b.c, else a.b, ...)."""
    while target:
        if target in known:
            return target
        target = target.rpartition(".")[0]
    return None


def imports_of(name: str) -> set[str]:
    known = modules()
    path = known[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
            targets = [node.value]  # importlib.import_module("verifyfull....") and the like
        for target in targets:
            module = _named(target, known)
            if module is not None and module != name and not name.startswith(module + "."):
                found.add(module)
    return found


@cache
def graph() -> dict[str, frozenset[str]]:
    return {name: frozenset(imports_of(name)) for name in modules()}


def cycles(edges: dict[str, frozenset[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def closure(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph()[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_graph_sees_every_kind_of_import() -> None:
    """The builder itself: function-level, TYPE_CHECKING, relative and by-name imports."""
    assert "verifyfull.lab.cli" in graph()["verifyfull.cli"]  # named in the command table
    assert "verifyfull.conninfo.target" in graph()["verifyfull.conninfo.corrected"]  # TYPE_CHECKING
    assert "verifyfull.certs.inspect" in graph()["verifyfull.guard.core"]  # in a function
    assert "verifyfull.probe.tls" in graph()["verifyfull.probe.tlschecks"]  # from pkg import mod


def test_cycle_finder_finds_a_known_cycle() -> None:
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert cycles(edges) == [frozenset({"a", "b", "c"})]


def test_no_import_cycles() -> None:
    found = set(cycles(graph()))
    new = [sorted(c) for c in found - PENDING_ELSEWHERE]
    assert not new, f"import cycles: {new}"
    stale = [sorted(c) for c in PENDING_ELSEWHERE - found]
    assert not stale, f"fixed, remove from PENDING_ELSEWHERE: {stale}"


def test_only_the_lab_and_its_cli_command_import_the_lab() -> None:
    importers = {
        name
        for name, targets in graph().items()
        if not _under(name, "verifyfull.lab") and any(_under(t, "verifyfull.lab") for t in targets)
    }
    assert importers <= LAB_IMPORTERS_ALLOWED, importers


@pytest.mark.parametrize("module", sorted(m for m in modules() if _under(m, "verifyfull.guard")))
def test_the_guard_loads_no_harness_scanner_fixer_or_probe(module: str) -> None:
    loaded = closure(module)
    assert not [m for m in loaded if any(_under(m, bad) for bad in NOT_FOR_THE_GUARD)]


def test_the_wire_module_is_neutral() -> None:
    """Used by the guard, the probe and the lab alike: it may import only itself and errors."""
    for name in (m for m in modules() if _under(m, "verifyfull.wire")):
        outside = {m for m in closure(name) if not _under(m, "verifyfull.wire")}
        # verifyfull.scrub: imported by errors, a leaf importing nothing of ours
        assert outside <= {"verifyfull.errors", "verifyfull.scrub"}, (name, outside)


def test_importing_the_guard_loads_no_harness_at_run_time() -> None:
    guard = sorted(m for m in modules() if _under(m, "verifyfull.guard"))
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in guard)
        + f"bad = sorted(m for m in sys.modules if m.startswith({NOT_FOR_THE_GUARD!r}))\n"
        + "assert not bad, bad\n"
        + "print(len([m for m in sys.modules if m.startswith('verifyfull')]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) >= len(guard)  # the modules were really imported
