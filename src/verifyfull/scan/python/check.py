"""The Python file check: parse once, walk once, hand each node to the rules.

Scope is tracked during the walk so every rule resolves names where they are
used. A file that does not parse is reported as not checked (never a crash).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import CheckSkipped, ScanContext, SourceFile, file_check
from verifyfull.scan.python import credentials, sites, ssl_checks, weak_crypto
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope, parse_module

# Prefilter: a file containing none of these cannot raise any Python rule.
KEYWORDS = (
    "ssl",
    "SSL",
    "connect",
    "create_engine",
    "create_async_engine",
    "engine_from_config",
    "create_pool",
    "ConnectionPool",
    "Tortoise",
    "register_tortoise",
    "Database",
    "assword",
    "PASSWORD",
    "passwd",
    "PASSWD",
    "pwd",
    "PWD",
    "postgres",
    "cockroach",
    "random",
    "md5",
    "sha1",
    "hashlib",
)


class _Walker(ast.NodeVisitor):
    def __init__(self, analysis: Analysis) -> None:
        self.a = analysis
        self.scope: Scope = analysis.module.scope
        self.function: str | None = None

    def _enter(self, node: ast.AST, name: str | None) -> None:
        scope = self.a.module.scope_of(node)
        outer_scope, outer_function = self.scope, self.function
        if scope is not None:
            self.scope = scope
        if name is not None:
            self.function = name
        self.generic_visit(node)
        self.scope, self.function = outer_scope, outer_function

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._enter(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._enter(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._enter(node, None)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._enter(node, None)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        ssl_checks.on_assign(self.a, target, value, self.scope)
        credentials.on_assign(self.a, target, value, self.scope)
        weak_crypto.on_assign(self.a, target, value, self.scope)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assign(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        weak_crypto.on_return(self.a, node, self.function)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        ssl_checks.on_call(self.a, node, self.scope)
        credentials.on_call(self.a, node, self.scope)
        weak_crypto.on_call(self.a, node, self.scope, self.function)
        sites.on_call(self.a, node, self.scope)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        ssl_checks.on_reference(self.a, node, self.scope)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.a.module.aliases:
            ssl_checks.on_reference(self.a, node, self.scope)

    def visit_Constant(self, node: ast.Constant) -> None:
        credentials.on_constant(self.a, node)

    def visit_Dict(self, node: ast.Dict) -> None:
        credentials.on_dict(self.a, node, self.scope)
        weak_crypto.on_dict(self.a, node)
        self.generic_visit(node)


def analyse(source: SourceFile, ctx: ScanContext) -> list[Finding]:
    return run_analysis(source, ctx).findings


def run_analysis(source: SourceFile, ctx: ScanContext) -> Analysis:
    """The full analysis of one file: findings and the judged connection sites."""
    try:
        module = parse_module(source.path, ctx.root, source.text)
    except SyntaxError as exc:
        if exc.lineno is None:
            raise CheckSkipped("not parseable as Python; exclude the file") from None
        raise CheckSkipped(
            f"Python syntax error at line {exc.lineno}; fix it or exclude the file"
        ) from None
    except ValueError:  # NUL bytes and the like
        raise CheckSkipped("not parseable as Python; exclude the file") from None
    except MemoryError:
        raise CheckSkipped("too large or too deeply nested to parse; exclude it") from None
    analysis = Analysis(module, source, ctx)
    _Walker(analysis).visit(module.tree)
    return analysis


@file_check(suffixes=(".py",), keywords=KEYWORDS)
def check_python(source: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    return analyse(source, ctx)
