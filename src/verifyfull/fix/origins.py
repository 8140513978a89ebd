"""Where a reported value is written, when that is not at the reported call.

`register_tortoise(app, config=TORTOISE_ORM)` with `from app.settings import TORTOISE_ORM`,
or `Tortoise.init(config=get_config())`: the scanner reports the call, but the
connection settings are written in the dict the name is bound to, or the dict the
helper returns, perhaps in another module. The fix belongs there ("fix in the helper,
where the value is written"); this module finds that place: the project file and the
line of the module-level assignment, or of the helper's `return {...}`.

One rule for every call keyword the fixers rewrite through (`config=`): a Name bound at
module level in the same file is followed by the fixer itself; a Name imported from a
module of the project, or a call of a function without arguments defined in the file
or imported from one, is followed here. Anything else (an attribute, a call with
arguments, a module outside the tree) is left where it is.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from verifyfull.scan.python.fstrings import parse_python

# Calls whose keyword names a value the fixers rewrite where it is written.
_FOLLOWED = {"config"}
_MAX_FILE = 1_000_000  # bytes: a module larger than this is not followed into


@dataclass(frozen=True)
class Origin:
    relpath: str  # relative to the project root, as findings name files
    line: int


def parse_file(path: Path) -> ast.Module | None:
    try:
        if path.stat().st_size > _MAX_FILE:
            return None
        return parse_python(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None


def top_imports(tree: ast.Module) -> dict[str, tuple[str, int, str]]:
    """name -> (module, level, name in that module) for the module's `from` imports."""
    out: dict[str, tuple[str, int, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                out[alias.asname or alias.name] = (node.module or "", node.level, alias.name)
    return out


def module_file(root: Path, here: Path, module: str, level: int) -> Path | None:
    """The project file of `module`: relative to the importing file's package for a
    relative import, else to the project root, its src/ directory or the importing
    file's own directory (a script run from there)."""
    parts = module.split(".") if module else []
    if level:
        bases = [here.parent.parents[level - 2] if level > 1 else here.parent]
    else:
        bases = [root, root / "src", here.parent]
    for base in bases:
        for candidate in (
            base.joinpath(*parts).with_suffix(".py"),
            base.joinpath(*parts, "__init__.py"),
        ):
            if parts and candidate.is_file():
                try:
                    candidate.resolve().relative_to(root.resolve())
                except ValueError:
                    continue
                return candidate
    return None


def imported(
    root: Path, here: Path, imports: dict[str, tuple[str, int, str]], name: str
) -> tuple[Path, ast.Module, str] | None:
    """The project module `name` is imported from (its file, its tree) and the name it has
    there (None: not imported, outside the tree, or unreadable)."""
    if name not in imports:
        return None
    module, level, original = imports[name]
    target = module_file(root, here, module, level)
    tree = parse_file(target) if target is not None else None
    if target is None or tree is None:
        return None
    return target, tree, original


def _written(tree: ast.Module, name: str, *, call: bool) -> int | None:
    """The line where `name` (a module-level dict) or the dict `name()` returns is
    written."""
    for node in tree.body:
        if not call and isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and isinstance(
                node.value, ast.Dict
            ):
                return node.lineno
        if call and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            if node.args.args or node.args.posonlyargs or node.args.kwonlyargs:
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Dict):
                    return inner.lineno
    return None


def origins(root: Path, relpath: str, lines: Iterable[int]) -> list[tuple[int, Origin]]:
    """For each reported line of `relpath` whose call passes `config=` a value written
    elsewhere: (the reported line, where the value is written)."""
    here = root / relpath
    tree = parse_file(here)
    if tree is None:
        return []
    wanted = set(lines)
    imports = top_imports(tree)
    out: list[tuple[int, Origin]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.end_lineno is None:
            continue
        reported = [n for n in wanted if node.lineno <= n <= node.end_lineno]
        if not reported:
            continue
        for keyword in node.keywords:
            origin = _origin(root, here, tree, imports, keyword)
            if keyword.arg in _FOLLOWED and origin is not None:
                out.append((reported[0], origin))
    return out


def _origin(
    root: Path,
    here: Path,
    tree: ast.Module,
    imports: dict[str, tuple[str, int, str]],
    keyword: ast.keyword,
) -> Origin | None:
    value, call = keyword.value, False
    if isinstance(value, ast.Call) and not value.args and not value.keywords:
        value, call = value.func, True
    if not isinstance(value, ast.Name):
        return None
    if value.id in imports:
        found = imported(root, here, imports, value.id)
        if found is None:
            return None
        target, target_tree, name = found
        line = _written(target_tree, name, call=call)
        relpath = target.resolve().relative_to(root.resolve()).as_posix()
        return Origin(relpath, line) if line else None
    if call:  # a helper of this module (a module-level Name the fixer follows itself)
        line = _written(tree, value.id, call=True)
        relpath = here.resolve().relative_to(root.resolve()).as_posix()
        return Origin(relpath, line) if line else None
    return None
