"""Callers of a function in the project's other modules (issue 12, class 3).

`async def create_pool(dsn): return await asyncpg.create_pool(dsn=dsn)` in db/pool.py
is judged by what its callers pass, and they are in main.py and scripts/seed.py
(`from .db.pool import create_pool`, or through the package's `__init__` re-export).
A caller imports the function by name, so only files whose bytes hold that name are
parsed (module.py's cache), and a call counts only when its name resolves, through
the caller's imports (and one re-export), to this very function.

Bounded, so a library tree costs little: the files searched are those of the
function's source root (the directory its top-level package sits in; when that is
the scan root, only the top-level package and the root's own entry scripts), at most
MAX_FILES of them and MAX_CALLERS calls; past a bound the answer is
incomplete and the parameter stays unjudged (a VF108 that says why). Callers outside
the tree cannot be seen: a function the tree never calls keeps its VF108.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from verifyfull.scan.python import passed_callables
from verifyfull.scan.python.module import (
    MAX_FOLLOWED_MODULE,
    QUALIFIED,
    ImportRef,
    ParsedModule,
    Scope,
    load_module,
)
from verifyfull.scan.walk import DEFAULT_SKIP_DIRS

MAX_FILES = 400  # files searched for one function's callers
MAX_CALLERS = 16  # calls followed for one function
_REEXPORT_HOPS = 2  # `from .db import create_pool`, db/__init__.py `from .pool import …`


@dataclass(frozen=True)
class Callers:
    calls: tuple[tuple[ParsedModule, ast.Call, Scope], ...]
    complete: bool  # False: a bound was reached, some callers may be missing
    why: str = ""  # what bound, for the evidence


@lru_cache(maxsize=64)
def _files_under(directory: str, recursive: bool) -> tuple[tuple[str, ...], bool]:
    """The `.py` files of a directory (sorted; skipped directories as the walk skips
    them), and whether all were listed within MAX_FILES."""
    found: list[str] = []
    stack = [directory]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:  # a symlink loop or a name too long raises here
                is_module = entry.is_file() and entry.name.endswith(".py")
            except OSError:
                continue
            if is_module:
                found.append(entry.path)
                if len(found) > MAX_FILES:
                    return tuple(found[:MAX_FILES]), False
            elif (
                recursive
                and entry.is_dir(follow_symlinks=False)
                and entry.name not in DEFAULT_SKIP_DIRS
                and not entry.name.startswith(".")
            ):
                stack.append(entry.path)
    return tuple(found), True


def _candidates(module: ParsedModule) -> tuple[tuple[str, ...], bool]:
    """The files that may call into the module: its source root (the directory its
    top-level package sits in, climbing `__init__.py` files) searched whole, or, when
    that is the scan root itself (a library tree), the top-level package and the
    root's own files."""
    root = module.root
    top = module.path.parent
    while (top.parent / "__init__.py").is_file() and top.parent != root:
        top = top.parent
    if root not in top.parents and top != root:
        return (), False
    base = top.parent if (top / "__init__.py").is_file() else top
    if base != root and root in base.parents:
        return _files_under(str(base), True)
    own, own_complete = _files_under(str(root), False)
    if top == root:
        return own, own_complete
    package, complete = _files_under(str(top), True)
    files = tuple(dict.fromkeys((*own, *package)))
    if len(files) > MAX_FILES:
        return files[:MAX_FILES], False
    return files, complete and own_complete


def _refers_to(caller: ParsedModule, ref: ImportRef, target: ParsedModule, name: str) -> bool:
    """Whether an import names the function `name` of `target`, directly or through a
    package that re-exports it."""
    for _ in range(_REEXPORT_HOPS):
        found = caller.find_import(ref)
        if found is None:
            return False
        module, attr = found
        if attr is None:
            return False
        if module.path == target.path:
            return attr == name
        reexported = module.aliases.get(attr)
        if reexported is None or module.scope.assigns.get(attr) or attr in module.functions:
            return False
        caller, ref = module, reexported
    return False


def _through_module(
    caller: ParsedModule, target: ParsedModule, name: str
) -> Iterator[tuple[ast.Call, Scope]]:
    """`pkg.models.run.run(...)` after `import pkg.models.run` (held-out-s22 pgworkload),
    `mod.name(...)` after `from pkg import mod`: calls of target's function through the
    imported module, each as the plain call `name(...)` the parameter search reads."""
    for call, scope in caller.calls_of(QUALIFIED + name):
        assert isinstance(call.func, ast.Attribute)
        dotted = caller.qualname(call.func.value)
        if not dotted:
            continue
        found = caller.find_import(ImportRef(dotted, None))
        if found is None or found[1] is not None or found[0].path != target.path:
            continue
        plain = ast.Call(
            func=ast.Name(id=name, ctx=ast.Load()), args=call.args, keywords=call.keywords
        )
        yield ast.copy_location(plain, call), scope


def elsewhere(module: ParsedModule, name: str) -> Callers:
    """The calls `name(...)` in the project's other modules that call this module's
    function `name`, each with its module and scope (cached per function and file
    version: every reading of every site in the file asks the same question)."""
    try:
        info = os.stat(module.path)
    except OSError:
        return Callers((), False, "the module cannot be read")
    key = (str(module.path), str(module.root), info.st_mtime_ns, name)
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        found = _CACHE[key] = _search(module, name)
    return found


def modules_holding(directory: Path, root: Path, needle: bytes) -> tuple[list[ParsedModule], bool]:
    """The project modules under `directory` whose bytes hold `needle`, parsed (the same
    bounds as a caller search: MAX_FILES files listed, MAX_FOLLOWED_MODULE bytes each),
    and whether every file could be looked at. Never above the project root (a module
    at the root asks for its parent's parent: the search then stays in the project)."""
    if directory != root and root not in directory.parents:
        directory = root
    files, complete = _files_under(str(directory), True)
    found: list[ParsedModule] = []
    for path_text in files:
        try:
            with open(path_text, "rb") as handle:
                data = handle.read(MAX_FOLLOWED_MODULE + 1)
        except OSError:
            continue
        if len(data) > MAX_FOLLOWED_MODULE or needle not in data:
            continue
        module = load_module(Path(path_text), root)
        if module is not None:
            found.append(module)
    return found, complete


# (path, root, mtime, function) -> its callers: per process, like module.py's cache.
_CACHE: dict[tuple[str, str, int, str], Callers] = {}
_CACHE_SIZE = 256


def may_call(name: str) -> re.Pattern[bytes]:
    """Text a module must hold to call `name` by a plain name: the name followed by
    `(` (across white space, line continuations, comments and closing parentheses:
    `(name)(x)`), or imported under another name (`name as other`, then `other(...)`).
    A module without it has no call _search counts, so it is neither parsed nor
    indexed (a third of the library modules a search used to parse; docs/scan.md,
    Benchmark, session 15). Each piece between the name and `(` splits one way only: linear."""
    word = re.escape(name.encode())
    # a comment runs to its line's end (and takes it): `#a#b` splits one way only
    return re.compile(rb"\b" + word + rb"(?:(?:[\s\\)]|#[^\n]*\n)*\(|\s+as\b)")


def _caller_tests(module: ParsedModule, name: str) -> list[re.Pattern[bytes]]:
    """The text a caller of module's `name` holds: (an import of the name, a call of it
    through its module `pkg.mod.name(` and an import naming that module (_through_module),
    a call of the name, the name handed to a runner `Thread(target=name, …)`)."""
    word = re.escape(name.encode())
    stem = module.path.parent.name if module.path.name == "__init__.py" else module.path.stem
    return [
        # `from x import a, name` (or in parentheses over lines)
        re.compile(rb"\bimport\b[^;]{0,400}?\b" + word + rb"\b"),
        re.compile(rb"\w\.\s*" + word + rb"\s*\("),
        re.compile(rb"\bimport\b[^;\n]{0,400}?\b" + re.escape(stem.encode()) + rb"\b"),
        may_call(name),
        passed_callables.may_hand(name),
    ]


def _search(module: ParsedModule, name: str) -> Callers:
    files, complete = _candidates(module)
    needle = name.encode()
    tests: list[re.Pattern[bytes]] = []  # compiled for the first file holding the name:
    # most searches meet none, and a pattern per name overflows re's cache
    calls: list[tuple[ParsedModule, ast.Call, Scope]] = []
    own = str(module.path)
    for path_text in files:
        if path_text == own:
            continue
        try:
            with open(path_text, "rb") as handle:  # module.py parses no larger module
                data = handle.read(MAX_FOLLOWED_MODULE + 1)
        except OSError:
            continue
        if len(data) > MAX_FOLLOWED_MODULE or needle not in data:
            continue
        if not tests:
            tests += _caller_tests(module, name)
        imports, qualified, through, called, handed = tests
        if not (imports.search(data) or (qualified.search(data) and through.search(data))) or not (
            called.search(data) or handed.search(data)
        ):
            continue
        caller = load_module(Path(path_text), module.root)
        if caller is None:
            continue
        for alias, ref in caller.aliases.items():
            # the imported name is the function's (`as` renames only the alias)
            if ref.name != name or not _refers_to(caller, ref, module, name):
                continue
            for call, scope in caller.calls_of(alias):
                if isinstance(call.func, ast.Name):
                    calls.append((caller, call, scope))
                    if len(calls) >= MAX_CALLERS:
                        return Callers(tuple(calls), False, f"over {MAX_CALLERS} callers")
        for call, scope in _through_module(caller, module, name):
            calls.append((caller, call, scope))
            if len(calls) >= MAX_CALLERS:
                return Callers(tuple(calls), False, f"over {MAX_CALLERS} callers")
    why = "" if complete else f"over {MAX_FILES} files to search for callers"
    return Callers(tuple(calls), complete, why)
