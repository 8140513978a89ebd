"""A parsed Python module: import aliases, scopes with their assignments, classes.

Built once per file; modules imported from the same project (a settings module)
are parsed on demand and cached, so `from app.config import settings` can be
followed without scanning order mattering.
"""

from __future__ import annotations

import ast
import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from verifyfull.scan.python import passed_callables
from verifyfull.scan.python.fstrings import parse_python
from verifyfull.scan.walk import DEFAULT_SKIP_DIRS

# Modules followed through imports are settings modules, not libraries: a larger
# module is not parsed just to resolve one name (the name stays unknown).
MAX_FOLLOWED_MODULE = 256_000

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
ScopeNode = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef


# One arm of a compound statement a statement sits in: (id of the statement, arm,
# whether the arms exclude each other, how many arms cover every path: 2 for an `if`
# whose `else` may be empty, 0 when no set of arms does). The arms of an `if` or
# `match` exclude each other; a loop body, a try body and its handlers do not.
Arm = tuple[int, int, bool, int]


@dataclass
class Binding:
    line: int
    value: ast.expr
    augmented: bool = False  # x += value
    branch: tuple[Arm, ...] = ()  # the arms it is written in, outermost first
    column: int = 0  # 1-based, of the target; kept for `obj.attr = …` (a context's changes)


@dataclass(frozen=True)
class Mutation:
    """A change made to a named dict after it is built: `d["a"]["b"] = v` (keys, value),
    `del d["k"]` (keys, None), `d.update(...)` / `d.setdefault(...)` / `d.pop(...)` /
    `d |= {...}` (method and call or value)."""

    line: int
    branch: tuple[Arm, ...]
    keys: tuple[ast.expr, ...] = ()
    value: ast.expr | None = None
    method: str = ""  # "" for an item assignment or deletion
    call: ast.Call | None = None


def excludes(first: tuple[Arm, ...], second: tuple[Arm, ...]) -> bool:
    """Whether two places can never both run: different arms of the same if/match."""
    arms = {statement: arm for statement, arm, exclusive, _ in first if exclusive}
    return any(
        exclusive and arms.get(statement, arm) != arm for statement, arm, exclusive, _ in second
    )


def runs_whenever(later: tuple[Arm, ...], earlier: tuple[Arm, ...]) -> bool:
    """Whether a statement in `later` runs whenever one in `earlier` did (it is in the
    same arms or fewer): a binding there replaces the earlier one."""
    return later == earlier[: len(later)]


@dataclass
class Scope:
    node: ScopeNode
    parent: Scope | None
    name: str
    assigns: dict[str, list[Binding]] = field(default_factory=dict)
    params: dict[str, ast.expr | None] = field(default_factory=dict)
    # obj.attr = value, for objects named in this scope (ssl contexts)
    attr_assigns: dict[str, list[tuple[str, Binding]]] = field(default_factory=dict)
    # obj.method(...) calls, for objects named in this scope
    method_calls: dict[str, list[tuple[str, ast.Call]]] = field(default_factory=dict)
    returns: list[ast.expr] = field(default_factory=list)
    return_lines: list[int] = field(default_factory=list)
    # d["k"] = v, del d["k"], d.update(...): changes to dicts named in this scope
    mutations: dict[str, list[Mutation]] = field(default_factory=dict)
    # the exclusive arms (if/match) of this scope: (first line, last line, arm)
    arms: list[tuple[int, int, Arm]] = field(default_factory=list)

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, FunctionNode)

    def branch_at(self, line: int) -> tuple[Arm, ...]:
        """The exclusive arms a line of this scope is in (linear in the scope's arms;
        asked only when a name has several bindings)."""
        return tuple(arm for first, last, arm in self.arms if first <= line <= last)


def binding(scope: Scope | None, name: str) -> ast.expr | None:
    """The value `name` was last bound to in the scope or the nearest enclosing one."""
    while scope is not None:
        found = scope.assigns.get(name)
        if found:
            return found[-1].value
        scope = scope.parent
    return None


@dataclass(frozen=True)
class ImportRef:
    """Where an imported name comes from: module dotted name (with relative level)."""

    module: str  # "app.settings" ("" for `from . import x`)
    name: str | None  # the imported attribute, None for `import module`
    level: int = 0

    @property
    def dotted(self) -> str:
        base = "." * self.level + self.module
        if self.name is None:
            return base
        return f"{base}.{self.name}" if self.module else f"{base}{self.name}"


class _ScopeBuilder:
    """One pass over statements only (never into expressions: that is the cost of a
    full visit): bindings, parameters, returns, `obj.attr = …` and `obj.method(…)`
    statements, imports, classes and functions, per scope."""

    def __init__(self, module: ast.Module) -> None:
        self.aliases: dict[str, ImportRef] = {}
        self.star_imports: list[ImportRef] = []  # `from settings import *` (module level)
        self.classes: dict[str, ast.ClassDef] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.root = Scope(module, None, "<module>")
        self.scopes: dict[int, Scope] = {id(module): self.root}
        self.current = self.root
        self.branch: tuple[Arm, ...] = ()

    def statements(self, body: list[ast.stmt]) -> None:
        for node in body:
            kind = type(node)
            if kind is ast.Assign:
                assert isinstance(node, ast.Assign)
                for target in node.targets:
                    self._target(target, node.value, node.lineno)
            elif kind is ast.AnnAssign:
                assert isinstance(node, ast.AnnAssign)
                if node.value is not None:
                    self._target(node.target, node.value, node.lineno)
            elif kind is ast.Expr:
                assert isinstance(node, ast.Expr)
                self._method_call(node.value)
            elif kind is ast.Return:
                assert isinstance(node, ast.Return)
                if node.value is not None:
                    self.current.returns.append(node.value)
                    self.current.return_lines.append(node.lineno)
            elif kind is ast.AugAssign:
                assert isinstance(node, ast.AugAssign)
                if isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add):
                    self.current.assigns.setdefault(node.target.id, []).append(
                        Binding(node.lineno, node.value, augmented=True, branch=self.branch)
                    )
                elif isinstance(node.target, ast.Name) and isinstance(node.op, ast.BitOr):
                    self._mutation(
                        node.target.id,
                        Mutation(node.lineno, self.branch, value=node.value, method="update"),
                    )
            elif kind is ast.Delete:
                assert isinstance(node, ast.Delete)
                for target in node.targets:
                    path = _item_path(target)
                    if path is not None:
                        self._mutation(path[0], Mutation(node.lineno, self.branch, path[1]))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, node)
                self._enter(node, node.name)
            elif kind is ast.ClassDef:
                assert isinstance(node, ast.ClassDef)
                self.classes.setdefault(node.name, node)
                self._enter(node, node.name)
            elif kind is ast.Import:
                assert isinstance(node, ast.Import)
                self._import(node)
            elif kind is ast.ImportFrom:
                assert isinstance(node, ast.ImportFrom)
                self._import_from(node)
            else:
                self._nested(node)

    def _nested(self, node: ast.stmt) -> None:
        """The statement lists inside if/for/while/with/try/match, each in its arm."""
        exclusive = isinstance(node, ast.If)
        arms: list[list[ast.stmt]] = []
        for name in ("body", "orelse"):
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                arms.append(inner)
        arms += [handler.body for handler in getattr(node, "handlers", ())]
        cases = getattr(node, "cases", ())
        if cases:
            exclusive = True
            arms += [case.body for case in cases]
        compound = not isinstance(node, ast.With | ast.AsyncWith)
        if not compound:  # `with open("config.yml") as stream`: stream is what it opens
            for item in node.items:  # type: ignore[attr-defined]
                if isinstance(item.optional_vars, ast.Name):
                    self._target(item.optional_vars, item.context_expr, node.lineno)
        covering = 2 if isinstance(node, ast.If) else 0
        for index, body in enumerate(arms):
            if not body:
                continue
            outer = self.branch
            if compound:
                arm: Arm = (id(node), index, exclusive, covering)
                self.branch = (*outer, arm)
                if exclusive:
                    last = getattr(body[-1], "end_lineno", None) or body[-1].lineno
                    self.current.arms.append((body[0].lineno, last, arm))
            self.statements(body)
            self.branch = outer
        finalbody = getattr(node, "finalbody", None)
        if isinstance(finalbody, list):
            self.statements(finalbody)  # runs whatever the arms did

    def _method_call(self, value: ast.expr) -> None:
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            func = value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                self.current.method_calls.setdefault(func.value.id, []).append((func.attr, value))
                if func.attr in DICT_METHODS:
                    self._mutation(
                        func.value.id,
                        Mutation(value.lineno, self.branch, method=func.attr, call=value),
                    )
            elif isinstance(func, ast.Attribute) and func.attr in DICT_METHODS:
                path = _item_path(func.value)  # CONF["db"].update(...)
                if path is not None:
                    self._mutation(
                        path[0],
                        Mutation(value.lineno, self.branch, path[1], method=func.attr, call=value),
                    )

    def _mutation(self, name: str, mutation: Mutation) -> None:
        self.current.mutations.setdefault(name, []).append(mutation)

    def _enter(self, node: ScopeNode, name: str) -> None:
        scope = Scope(node, self.current, name)
        self.scopes[id(node)] = scope
        outer, self.current = self.current, scope
        if isinstance(node, FunctionNode):
            self._params(node, scope)
        if not isinstance(node, ast.Lambda):
            self.statements(node.body)
        self.current = outer

    @staticmethod
    def _params(node: FunctionNode, scope: Scope) -> None:
        args = node.args
        positional = args.posonlyargs + args.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults += list(args.defaults)
        for arg, default in zip(positional, defaults, strict=True):
            scope.params[arg.arg] = default
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            scope.params[arg.arg] = kw_default
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                scope.params[extra.arg] = None

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = ImportRef(alias.name, None)
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = ImportRef(top, None)

    def _import_from(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*" and self.current is self.root:
                self.star_imports.append(ImportRef(node.module or "", None, node.level))
            elif alias.name != "*":
                self.aliases[alias.asname or alias.name] = ImportRef(
                    node.module or "", alias.name, node.level
                )

    def _target(self, target: ast.expr, value: ast.expr, line: int) -> None:
        if isinstance(target, ast.Name):
            self.current.assigns.setdefault(target.id, []).append(
                Binding(line, value, branch=self.branch)
            )
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            self.current.attr_assigns.setdefault(target.value.id, []).append(
                (
                    target.attr,
                    Binding(line, value, branch=self.branch, column=target.col_offset + 1),
                )
            )
        elif isinstance(target, ast.Subscript):
            path = _item_path(target)
            if path is not None:
                self._mutation(path[0], Mutation(line, self.branch, path[1], value))
        elif (
            isinstance(target, ast.Tuple | ast.List)
            and isinstance(value, ast.Tuple | ast.List)
            and len(target.elts) == len(value.elts)
        ):
            for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
                self._target(sub_target, sub_value, line)
        elif isinstance(target, ast.Tuple | ast.List) and not isinstance(
            value, ast.Tuple | ast.List
        ):
            # `scheme, netloc, path, query, fragment = urlsplit(url)`: each name is the
            # value's item at its place (held-out-s22 pgworkload), up to a starred name
            # (whose items are not known by place); before, such names were not bound
            # here at all and read an outer binding of the same name
            for index, sub_target in enumerate(target.elts):
                if isinstance(sub_target, ast.Starred):
                    break
                place = ast.copy_location(ast.Constant(index), value)
                item = ast.Subscript(value=value, slice=place, ctx=ast.Load())
                self._target(sub_target, ast.copy_location(item, value), line)


DICT_METHODS = frozenset({"update", "setdefault", "pop"})


def _item_path(target: ast.expr) -> tuple[str, tuple[ast.expr, ...]] | None:
    """`CONF["a"]["b"]` -> ("CONF", (a, b)): the dict's name and the keys, outermost
    first; None for anything else (an attribute's item, a computed container)."""
    keys: list[ast.expr] = []
    while isinstance(target, ast.Subscript):
        keys.append(target.slice)
        target = target.value
    if not keys or not isinstance(target, ast.Name):
        return None
    return target.id, tuple(reversed(keys))


@dataclass
class ParsedModule:
    path: Path
    root: Path  # the project root: imports are looked for up to here
    tree: ast.Module
    aliases: dict[str, ImportRef]
    scopes: dict[int, Scope]
    classes: dict[str, ast.ClassDef]
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
    _imports: dict[ImportRef, tuple[ParsedModule, str | None] | None] = field(
        default_factory=dict, repr=False
    )
    _calls: dict[str, list[tuple[ast.Call, Scope]]] | None = field(default=None, repr=False)

    def calls_of(self, name: str) -> list[tuple[ast.Call, Scope]]:
        """The calls `name(...)` and `self.name(...)` in this module, with the scope each
        is in: the callers whose arguments a parameter may hold. The module is walked
        once, the first time a parameter's callers are asked for."""
        if self._calls is None:
            self._calls = _call_index(self.tree, self.scopes)
        return self._calls.get(name, [])

    @property
    def scope(self) -> Scope:
        return self.scopes[id(self.tree)]

    def scope_of(self, node: ast.AST) -> Scope | None:
        return self.scopes.get(id(node))

    def qualname(self, expr: ast.expr) -> str | None:
        """The dotted name an expression refers to, through import aliases."""
        if isinstance(expr, ast.Name):
            ref = self.aliases.get(expr.id)
            return ref.dotted.lstrip(".") if ref else expr.id
        if isinstance(expr, ast.Attribute):
            base = self.qualname(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    def _import_bases(self, level: int) -> list[Path]:
        here = self.path.parent
        if level:
            base = here
            for _ in range(level - 1):
                base = base.parent
            return [base]
        bases = []
        directory = here
        while True:
            bases.append(directory)
            if directory == self.root or self.root not in directory.parents:
                break
            directory = directory.parent
        bases.append(self.root / "src")
        return bases

    def find_import(self, ref: ImportRef) -> tuple[ParsedModule, str | None] | None:
        """The project module an import refers to, and the name to read in it (None: the
        module itself). None for libraries and modules that cannot be read. Cached."""
        if ref not in self._imports:
            self._imports[ref] = self._find_import(ref)
        return self._imports[ref]

    def _find_import(self, ref: ImportRef) -> tuple[ParsedModule, str | None] | None:
        parts = [p for p in ref.module.split(".") if p]
        bases = self._import_bases(ref.level)
        if not ref.level and parts:  # then the sub-projects holding that top-level name
            bases += [b for b in package_roots(str(self.root)).get(parts[0], ()) if b not in bases]
        for base in bases:
            target = base.joinpath(*parts)
            if ref.name is not None:  # `from pkg import module` names a submodule first
                for candidate in (target / f"{ref.name}.py", target / ref.name / "__init__.py"):
                    if candidate != self.path and _is_file(candidate):
                        found = load_module(candidate, self.root)
                        return (found, None) if found else None
            if not parts:
                continue
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate != self.path and _is_file(candidate):
                    found = load_module(candidate, self.root)
                    return (found, ref.name) if found else None
        return None


# A project's own packages may sit in sub-projects of a monorepo or workspace
# (`libs/subflow/subflow`, installed by its own pyproject.toml: held-out-s20
# zji996/SubFlow's scripts import `subflow.config`): those directories, and their
# `src/`, are import bases too. Bounded: directories MAX_PACKAGE_DEPTH deep, at most
# MAX_PACKAGE_ROOTS of them.
MAX_PACKAGE_DEPTH = 3
MAX_PACKAGE_ROOTS = 64
_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@lru_cache(maxsize=16)
def package_roots(root: str) -> dict[str, tuple[Path, ...]]:
    """The sub-project directories of the tree (below the root, holding a pyproject.toml,
    setup.py or setup.cfg) and their `src/` directories, nearest first, by the top-level
    modules each holds (a package directory or a `.py` file): an import is looked for
    only in the sub-projects that hold its first name."""
    by_name: dict[str, list[Path]] = {}
    for base in _sub_projects(root):
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for entry in entries:
            name = entry.name[:-3] if entry.name.endswith(".py") else entry.name
            if name.isidentifier() and base not in by_name.get(name, []):
                by_name.setdefault(name, []).append(base)
    return {name: tuple(bases) for name, bases in by_name.items()}


def _sub_projects(root: str) -> tuple[Path, ...]:
    found: list[Path] = []
    level = [root]
    for _ in range(MAX_PACKAGE_DEPTH):
        below: list[str] = []
        for directory in level:
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                try:
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                except OSError:
                    continue
                if entry.name in DEFAULT_SKIP_DIRS or entry.name.startswith("."):
                    continue
                below.append(entry.path)
                if any(_is_file(Path(entry.path, name)) for name in _PROJECT_FILES):
                    found.append(Path(entry.path))
                    if os.path.isdir(os.path.join(entry.path, "src")):
                        found.append(Path(entry.path, "src"))
                if len(found) >= MAX_PACKAGE_ROOTS:
                    return tuple(found[:MAX_PACKAGE_ROOTS])
        level = below
    return tuple(found)


def _is_file(path: Path) -> bool:
    """Path.is_file, with every OSError a "no" (Python 3.11 raises for a name longer than
    the file system allows, which any `import` line can spell)."""
    try:
        return path.is_file()
    except OSError:
        return False


# The index key prefix of `receiver.name(...)` calls whose receiver is not self/cls:
# calls_of(QUALIFIED + name) lists them (each maybe of a module's function, callers.py).
QUALIFIED = "."


def _index_call(
    index: dict[str, list[tuple[ast.Call, Scope]]], call: ast.Call, scope: Scope
) -> None:
    """`name(...)` under name, `self.name(...)` and `cls.name(...)` under name; the call
    a runner makes of a function it is handed (`Process(target=name, args=…)`:
    passed_callables.handed_call) under the function's name."""
    handed = passed_callables.handed_call(call)
    if handed is not None and isinstance(handed.func, ast.Name):
        index.setdefault(handed.func.id, []).append((handed, scope))
    func = call.func
    if isinstance(func, ast.Name):
        index.setdefault(func.id, []).append((call, scope))
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id in ("self", "cls"):
            index.setdefault(func.attr, []).append((call, scope))
        else:  # `module.name(...)`: a call through an imported module (callers.py)
            index.setdefault(QUALIFIED + func.attr, []).append((call, scope))
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):
        index.setdefault(QUALIFIED + func.attr, []).append((call, scope))  # `pkg.mod.name()`


_CALLLESS_LEAVES = (
    ast.expr_context,
    ast.Constant,
    ast.Name,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
    ast.boolop,
)


def _call_index(
    tree: ast.Module, scopes: dict[int, Scope]
) -> dict[str, list[tuple[ast.Call, Scope]]]:
    index: dict[str, list[tuple[ast.Call, Scope]]] = {}
    stack: list[tuple[ast.AST, Scope]] = [(tree, scopes[id(tree)])]
    push = stack.append
    while stack:
        node, scope = stack.pop()
        scope = scopes.get(id(node), scope)
        if isinstance(node, ast.Call):
            _index_call(index, node, scope)
        # ast.iter_child_nodes' children in its order (calls at one place keep their
        # order through the sort below), without its generators and without the
        # leaves no call is under: 2.5x faster over a large module.
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, _CALLLESS_LEAVES):
                        push((item, scope))
            elif isinstance(value, ast.AST) and not isinstance(value, _CALLLESS_LEAVES):
                push((value, scope))
    for calls in index.values():
        calls.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
    return index


def parse_module(path: Path, root: Path, text: str) -> ParsedModule:
    """The module of this text, parsed once: the analysed file and the same file read
    again as another's import (_load), or by the subprocess check, share one parse
    (_Parsed). A module with an `import *` is shared only at the star-import depth it
    was parsed at: inside another's `import *` it follows fewer hops, as it always did."""
    key = (str(path), str(root), text)
    found = _PARSED.get(key, _star_depth[0])
    if found is None:
        depth = _star_depth[0]
        found, stars = _parse_module(path, root, text)
        _PARSED.put(key, (found, depth if stars else None))
    return found


def parsed_tree(path: Path, root: Path, text: str) -> ast.Module | None:
    """The syntax tree of this file's text if it was parsed already in this scan (the
    Python check parses it before the file's other checks run), else None."""
    found = _PARSED.get((str(path), str(root), text), 0)
    return found.tree if found is not None else None


_Key = tuple[str, str, str]  # path, root, text
# The module, and the star-import depth it was parsed at if it has an `import *`.
_Entry = tuple["ParsedModule", int | None]


class _Parsed:
    """The modules parsed lately, by (path, root, text): up to `size` of them no
    larger than MAX_FOLLOWED_MODULE (what _load may ask for again), and the last
    larger one (only the file's own later checks ask for it; a followed import is
    never that large, so it does not push it out). The text is in the key: a hit is
    the very text the parse would read, so no answer changes, a parse is saved."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.small: OrderedDict[_Key, _Entry] = OrderedDict()
        self.large: tuple[_Key, _Entry] | None = None

    def get(self, key: _Key, depth: int) -> ParsedModule | None:
        if self.large is not None and self.large[0] == key:
            entry: _Entry | None = self.large[1]
        else:
            entry = self.small.get(key)
            if entry is not None:
                self.small.move_to_end(key)
        if entry is None or entry[1] not in (None, depth):
            return None
        return entry[0]

    def put(self, key: _Key, entry: _Entry) -> None:
        if len(key[2]) > MAX_FOLLOWED_MODULE:
            self.large = (key, entry)
            return
        self.small[key] = entry
        if len(self.small) > self.size:
            self.small.popitem(last=False)

    def clear(self) -> None:
        self.small.clear()
        self.large = None


_PARSED = _Parsed(64)


def release_parsed() -> None:
    """Drop every parsed module kept (_load's cache and _PARSED): see
    engine._release_parsed_modules."""
    _load.cache_clear()
    _PARSED.clear()


def _parse_module(path: Path, root: Path, text: str) -> tuple[ParsedModule, bool]:
    """The module, and whether it has an `import *`."""
    tree = parse_python(text, filename=str(path))  # 3.12 f-strings on older interpreters too
    builder = _ScopeBuilder(tree)
    builder.statements(tree.body)
    module = ParsedModule(
        path, root, tree, builder.aliases, builder.scopes, builder.classes, builder.functions
    )
    _star_aliases(module, builder.star_imports)
    return module, bool(builder.star_imports)


# The names a library's `import *` brings that the scanner knows as sites (registered by
# sites.py and the framework handlers, each as its qualified name): `from peewee import *`
# then `PostgresqlDatabase(...)` is peewee's database, as with the import written out. The
# library itself is not read (it is not in the tree); a name its `__all__` leaves out is
# still taken, so a site is never missed for it (one bound here wins, as for any import).
_LIBRARY_EXPORTS: dict[str, set[str]] = {}


def register_library_names(qualnames: Iterable[str]) -> None:
    """Make each `module.Name` known as a name `from module import *` brings."""
    for qualname in qualnames:
        library, _, name = qualname.rpartition(".")
        if library and name and not name.startswith("_"):
            _LIBRARY_EXPORTS.setdefault(library, set()).add(name)
    release_parsed()  # modules parsed before now did not know the names


# How many `import *` hops are followed (a chain of settings modules re-exporting each
# other; a cycle stops here too, as _load's cache only holds finished modules).
_STAR_HOPS = 3
_star_depth = [0]


def _star_aliases(module: ParsedModule, stars: list[ImportRef]) -> None:
    """`from piccolo_conf import *`: the names a project module imports become this
    module's too (`PostgresEngine` is then piccolo's), unless bound here. Absolute
    imports only: a relative one in the other module names a place relative to it.
    Its own functions and classes too (not its other names: a settings module's
    `from .base import *` keeps reading its own constants as it does)."""
    if not stars or _star_depth[0] >= _STAR_HOPS:
        return
    _star_depth[0] += 1
    try:
        for ref in stars:
            bound = module.scope.assigns.keys() | module.classes.keys() | module.functions.keys()
            found = module.find_import(ref)
            if found is None and ref.level == 0:  # a library's star (not in the tree)
                for name in _LIBRARY_EXPORTS.get(ref.module, ()):
                    if name not in bound:
                        module.aliases.setdefault(name, ImportRef(ref.module, name, 0))
                continue
            if found is None or found[1] is not None:
                continue
            for name, imported in found[0].aliases.items():
                if imported.level == 0 and not name.startswith("_") and name not in bound:
                    module.aliases.setdefault(name, imported)
            # and the functions and classes it defines (`from helpers import *` then
            # `pick(...)`: the helper is followed as if imported by name)
            other = found[0]
            for name in other.functions.keys() | other.classes.keys():
                if not name.startswith("_") and name not in bound:
                    module.aliases.setdefault(name, ImportRef(ref.module, name, ref.level))
    finally:
        _star_depth[0] -= 1


@lru_cache(maxsize=128)
def _load(path_text: str, root_text: str, mtime_ns: int, size: int) -> ParsedModule | None:
    path = Path(path_text)
    try:
        if size > MAX_FOLLOWED_MODULE:
            return None
        text = path.read_text(encoding="utf-8")
        return parse_module(path, Path(root_text), text)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None


def load_module(path: Path, root: Path) -> ParsedModule | None:
    """Parse another module of the project (cached; None when it cannot be read)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return _load(str(path), str(root), info.st_mtime_ns, info.st_size)
