"""A parsed Python module: import aliases, scopes with their assignments, classes.

Built once per file; modules imported from the same project (a settings module)
are parsed on demand and cached, so `from app.config import settings` can be
followed without scanning order mattering.
"""

from __future__ import annotations

import ast
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
ScopeNode = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef


@dataclass
class Binding:
    line: int
    value: ast.expr
    augmented: bool = False  # x += value


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

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, FunctionNode)


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


class _ScopeBuilder(ast.NodeVisitor):
    def __init__(self, module: ast.Module) -> None:
        self.aliases: dict[str, ImportRef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.root = Scope(module, None, "<module>")
        self.scopes: dict[int, Scope] = {id(module): self.root}
        self.current = self.root

    def _enter(self, node: ScopeNode, name: str) -> None:
        scope = Scope(node, self.current, name)
        self.scopes[id(node)] = scope
        outer, self.current = self.current, scope
        if isinstance(node, FunctionNode):
            self._params(node, scope)
        body = node.body if not isinstance(node, ast.Lambda) else [node.body]
        for child in body:
            self.visit(child)
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

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = ImportRef(alias.name, None)
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = ImportRef(top, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = ImportRef(
                    node.module or "", alias.name, node.level
                )

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.setdefault(node.name, node)
        for expr in (*node.decorator_list, *node.args.defaults):
            self.visit(expr)
        self._enter(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.functions.setdefault(node.name, node)
        for expr in (*node.decorator_list, *node.args.defaults):
            self.visit(expr)
        self._enter(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._enter(node, "<lambda>")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.setdefault(node.name, node)
        for expr in (*node.decorator_list, *node.bases):
            self.visit(expr)
        self._enter(node, node.name)

    def _bind(self, name: str, line: int, value: ast.expr) -> None:
        self.current.assigns.setdefault(name, []).append(Binding(line, value))

    def _target(self, target: ast.expr, value: ast.expr, line: int) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, line, value)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            self.current.attr_assigns.setdefault(target.value.id, []).append(
                (target.attr, Binding(line, value))
            )
        elif (
            isinstance(target, ast.Tuple | ast.List)
            and isinstance(value, ast.Tuple | ast.List)
            and len(target.elts) == len(value.elts)
        ):
            for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
                self._target(sub_target, sub_value, line)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(target, node.value, node.lineno)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._target(node.target, node.value, node.lineno)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add):
            self.current.assigns.setdefault(node.target.id, []).append(
                Binding(node.lineno, node.value, augmented=True)
            )
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind(node.target.id, node.lineno, node.value)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.current.returns.append(node.value)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            self.current.method_calls.setdefault(func.value.id, []).append((func.attr, node))
        self.generic_visit(node)


@dataclass
class ParsedModule:
    path: Path
    root: Path  # the project root: imports are looked for up to here
    tree: ast.Module
    aliases: dict[str, ImportRef]
    scopes: dict[int, Scope]
    classes: dict[str, ast.ClassDef]
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]

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
        module itself). None for libraries and modules that cannot be read."""
        parts = [p for p in ref.module.split(".") if p]
        for base in self._import_bases(ref.level):
            target = base.joinpath(*parts)
            if ref.name is not None:  # `from pkg import module` names a submodule first
                for candidate in (target / f"{ref.name}.py", target / ref.name / "__init__.py"):
                    if candidate != self.path and candidate.is_file():
                        found = load_module(candidate, self.root)
                        return (found, None) if found else None
            if not parts:
                continue
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate != self.path and candidate.is_file():
                    found = load_module(candidate, self.root)
                    return (found, ref.name) if found else None
        return None


def parse_module(path: Path, root: Path, text: str) -> ParsedModule:
    with warnings.catch_warnings():  # invalid escapes etc. in scanned code are not ours
        warnings.simplefilter("ignore")
        tree = ast.parse(text, filename=str(path))
    builder = _ScopeBuilder(tree)
    for statement in tree.body:
        builder.visit(statement)
    return ParsedModule(
        path, root, tree, builder.aliases, builder.scopes, builder.classes, builder.functions
    )


@lru_cache(maxsize=128)
def _load(path_text: str, root_text: str, mtime_ns: int, size: int) -> ParsedModule | None:
    path = Path(path_text)
    try:
        if size > 2_000_000:
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
