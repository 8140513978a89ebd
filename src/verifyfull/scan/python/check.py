"""The Python file check: parse once, walk once, hand each node to the rules.

Scope is tracked during the walk so every rule resolves names where they are
used. A file that does not parse is reported as not checked (never a crash).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any

from verifyfull.findings import Finding
from verifyfull.scan import suppress
from verifyfull.scan.api import (
    CheckIncomplete,
    CheckSkipped,
    ScanContext,
    SourceFile,
    file_check,
)
from verifyfull.scan.python import (
    credentials,
    env_settings,
    frameworks,
    passed_callables,
    sites,
    ssl_checks,
    tolerant,
    weak_crypto,
)
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.effort import budget_for
from verifyfull.scan.python.frameworks import aerich_reach
from verifyfull.scan.python.module import Scope, parse_module
from verifyfull.scan.python.prefilter import (
    ALL_FAMILIES,
    NEEDLES,
    PASSWORD_SPELLINGS,
    Plan,
    plan,
    trigger_words,
)
from verifyfull.scan.python.resolve import Resolver


def _ignore(walker: _Walker, node: ast.AST) -> None:
    return None


_LEAVES: tuple[type[ast.AST], ...] = (
    ast.Load,
    ast.Store,
    ast.Del,
    *(ast.operator.__subclasses__()),
    *(ast.boolop.__subclasses__()),
    *(ast.cmpop.__subclasses__()),
    *(ast.unaryop.__subclasses__()),
)


class _Walker(ast.NodeVisitor):
    def __init__(self, analysis: Analysis, wanted: frozenset[str], planned: Plan | None) -> None:
        self.a = analysis
        self.filtered = planned is not None
        # Where a body's trigger words are looked for: the file without docstrings and
        # comments (Plan.document), line for line.
        document = planned.document if planned is not None else ""
        self._document_lines = document.splitlines(keepends=True)
        self.sites = "sites" in wanted
        self.ssl = "ssl" in wanted
        self.credentials = "credentials" in wanted or self.sites
        self.crypto = "crypto" in wanted
        self.env = "env" in wanted
        self.env_written: list[env_settings.Written] = []  # judged after the walk
        self.frameworks = "frameworks" in wanted  # settings a framework connects with
        self.scope: Scope = analysis.module.scope
        self.function: str | None = None
        # The first part of the dotted name an alias stands for, as qualname() reads
        # it (`from . import asyncpg` stands for asyncpg).
        imported = {
            alias: ref.dotted.lstrip(".").split(".")[0]
            for alias, ref in analysis.module.aliases.items()
        }
        spellings = planned.spellings if planned is not None else PASSWORD_SPELLINGS
        self._triggers = trigger_words(wanted, document, imported, spellings)

    def _worth_walking(self, node: ast.AST) -> bool:
        if not self.filtered:
            return True
        start = getattr(node, "lineno", None)
        end = getattr(node, "end_lineno", None)
        if start is None or end is None:
            return True
        text = "".join(self._document_lines[start - 1 : end])
        return any(word in text for word in self._triggers)

    def visit(self, node: ast.AST) -> None:
        method = _DISPATCH.get(type(node))
        if method is None:
            self.generic_visit(node)
        else:
            method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        # ast.iter_child_nodes, without its generator frames (a tenth of the walk).
        for field in node._fields:
            value = getattr(node, field, None)
            for child in value if isinstance(value, list) else (value,):
                if isinstance(child, ast.AST):
                    method = _DISPATCH.get(type(child))
                    if method is None:
                        self.generic_visit(child)
                    else:
                        method(self, child)

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
        if self._worth_walking(node):
            self._enter(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        if self._worth_walking(node):
            self._enter(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._enter(node, None)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self._worth_walking(node):
            self._enter(node, None)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if self.ssl:
            ssl_checks.on_assign(self.a, target, value, self.scope)
        if self.credentials:
            credentials.on_assign(self.a, target, value, self.scope)
        if self.crypto:
            weak_crypto.on_assign(self.a, target, value, self.scope)
        if self.env:
            env_settings.on_assign(self.a, target, value, self.scope, self.env_written)
        if self.frameworks:
            frameworks.on_assign(self.a, target, value, self.scope)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assign(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value)
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        # A string standing alone as a statement (a docstring) is documentation: no
        # rule reads it, and the prefilter blanks it (lexical.py).
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.visit(node.value)

    def visit_Return(self, node: ast.Return) -> None:
        if self.crypto:
            weak_crypto.on_return(self.a, node, self.function)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if self.ssl:
            ssl_checks.on_call(self.a, node, self.scope)
        if self.credentials:
            credentials.on_call(self.a, node, self.scope)
        if self.crypto:
            weak_crypto.on_call(self.a, node, self.scope, self.function)
        if self.sites:
            claimed = self.frameworks and frameworks.claims(self.a, node, self.scope)
            sites.on_call(self.a, node, self.scope, deferred=claimed)
        if self.env:
            env_settings.on_call(self.a, node, self.scope, self.env_written)
        if self.frameworks:
            frameworks.on_call(self.a, node, self.scope)
        inner = passed_callables.inner_call(node) if self.sites or self.frameworks else None
        if inner is not None:  # `retry(db.set_bind, bind=DSN)`: the call it makes
            if self.sites:
                claimed = self.frameworks and frameworks.claims(self.a, inner, self.scope)
                sites.on_call(self.a, inner, self.scope, deferred=claimed)
            if self.frameworks:
                frameworks.on_call(self.a, inner, self.scope)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.ssl:
            ssl_checks.on_reference(self.a, node, self.scope)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if self.ssl and node.id in self.a.module.aliases:
            ssl_checks.on_reference(self.a, node, self.scope)

    def visit_Constant(self, node: ast.Constant) -> None:
        if self.credentials:
            credentials.on_constant(self.a, node)

    def visit_Dict(self, node: ast.Dict) -> None:
        if self.credentials:
            credentials.on_dict(self.a, node, self.scope)
        if self.crypto:
            weak_crypto.on_dict(self.a, node)
        if self.frameworks:
            frameworks.on_dict(self.a, node, self.scope)
        self.generic_visit(node)


def _dispatch_table() -> dict[type[ast.AST], Callable[[_Walker, Any], None]]:
    """Node type -> unbound visit method, built once. Dispatch by type, not
    NodeVisitor's per-node name lookup (the walk is most of the analysis time);
    context and operator leaves are skipped. Unbound, so a walker holds no
    reference cycle to itself and is freed without the cyclic collector."""
    table: dict[type[ast.AST], Callable[[_Walker, Any], None]] = dict.fromkeys(_LEAVES, _ignore)
    for name, method in vars(_Walker).items():
        kind = (
            getattr(ast, name.removeprefix("visit_"), None) if name.startswith("visit_") else None
        )
        if isinstance(kind, type) and issubclass(kind, ast.AST) and callable(method):
            table[kind] = method
    return table


_DISPATCH = _dispatch_table()


def analyse(source: SourceFile, ctx: ScanContext, *, tolerate: bool = True) -> list[Finding]:
    """The file's findings. tolerate: a file Python 3 refuses in a few lines is read but
    for them (tolerant.py); off for text that may be no Python at all (a shell here-
    document handed to `python`: scan/shell/python_code.py)."""
    planned = plan(
        source.text,
        source.path.stem,
        source.data,
        source.words,
        aerich=lambda: aerich_reach.may_configure(ctx.root, source.relpath),
    )
    if not planned.families:
        return []
    analysis = run_analysis(source, ctx, planned.families, planned=planned, tolerate=tolerate)
    if analysis.stood_in is not None:
        error_line, lines = analysis.stood_in
        shown = ", ".join(map(str, lines[:8])) + (", ..." if len(lines) > 8 else "")
        raise CheckIncomplete(
            f"Python syntax error at line {error_line}: {len(lines)} line(s) Python 3 "
            f"cannot parse (line {shown}: Python 2, a template, or nesting past the "
            "parser's limit) were read as `pass` and what they hold is not judged; port "
            "them or exclude the file",
            analysis.findings,
        )
    limit = analysis.resolver.incomplete
    if limit is not None:
        raise CheckIncomplete(
            f"{limit}: the values past it were not followed and what needs them "
            "(connection sites, contexts) is not judged; simplify how they are built "
            "or exclude the file",
            analysis.findings,
        )
    return analysis.findings


def run_analysis(
    source: SourceFile,
    ctx: ScanContext,
    wanted: frozenset[str] = ALL_FAMILIES,
    *,
    planned: Plan | None = None,
    tolerate: bool = True,
) -> Analysis:
    """The analysis of one file: findings and the judged connection sites.

    planned: the prefilter's Plan, to walk only the bodies whose document lines hold
    a trigger word; None walks every body (the reference the prefilter is tested
    against)."""
    stood_in: tuple[int, tuple[int, ...]] | None = None
    try:
        module = parse_module(source.path, ctx.root, source.text)
    except SyntaxError as exc:
        if exc.lineno is None:
            raise CheckSkipped("not parseable as Python; exclude the file") from None
        fixed = tolerant.repaired(source.text, str(source.path)) if tolerate else None
        if fixed is None:
            raise CheckSkipped(
                f"Python syntax error at line {exc.lineno}; fix it or exclude the file"
            ) from None
        # a Python 2 module or a template: its other lines are read (tolerant.py)
        text, lines = fixed
        module = parse_module(source.path, ctx.root, text)
        stood_in = (exc.lineno, lines)
    except ValueError:  # NUL bytes and the like
        raise CheckSkipped("not parseable as Python; exclude the file") from None
    except MemoryError:
        raise CheckSkipped("too large or too deeply nested to parse; exclude it") from None
    analysis = Analysis(module, source, ctx, Resolver(budget_for(len(source.text))))
    analysis.stood_in = stood_in
    walker = _Walker(analysis, wanted, planned)
    walker.visit(module.tree)
    env_settings.finish(analysis, walker.env_written)
    _suppress_over_spans(analysis)
    return analysis


def _suppress_over_spans(analysis: Analysis) -> None:
    """A call written over several lines may carry its suppression on any of them (code
    formatters move a trailing comment to the closing line); the engine looks only at
    the finding's own line, so the call's other lines are honoured here (a finding
    placed at the URL written inside the call, too: placement.report_at)."""
    if not analysis.spans or suppress.MARKER not in analysis.source.text:
        return
    marks = suppress.parse(analysis.source.text)
    kept = []
    for index, item in enumerate(analysis.findings):
        span = analysis.spans.get(index)
        if span is not None and any(
            marks.silences(item.rule_id, line)
            for line in range(span[0], span[1] + 1)
            if line != item.line
        ):
            continue
        kept.append(item)
    analysis.findings = kept


# No registration keywords: the prefilter's own stage one (KEYWORDS among its needles,
# found in the file's bytes in the engine's one pass, SourceFile.words) decides,
# before anything else is computed.
@file_check(suffixes=(".py",), needles=NEEDLES)
def check_python(source: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    return analyse(source, ctx)


# Shell run from Python (issue 13, class 1) is a check of its own; importing it registers it.
from verifyfull.scan.python import subprocess_sites as _subprocess_sites  # noqa: E402, F401
