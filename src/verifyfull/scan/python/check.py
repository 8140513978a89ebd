"""The Python file check: parse once, walk once, hand each node to the rules.

Scope is tracked during the walk so every rule resolves names where they are
used. A file that does not parse is reported as not checked (never a crash).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from typing import Any

from verifyfull.findings import Finding
from verifyfull.scan import suppress
from verifyfull.scan.api import CheckSkipped, ScanContext, SourceFile, file_check
from verifyfull.scan.python import credentials, sites, ssl_checks, weak_crypto
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope, parse_module

# Prefilter, in two stages, both plain substring tests (parsing is the cost; most
# files of a large tree need none). Stage one, in the registration: a file with none
# of these words cannot raise any Python rule. Stage two, `families`: which rule
# families can fire at all; a file with none is not parsed.
KEYWORDS: tuple[str, ...] = (
    *("ssl", "connect", "Tortoise", "Database", "ssword", "SSWORD", "sswd", "pwd", "PWD"),
    *("postgres", "cockroach", "random", "hashlib", "create_engine", "ConnectionPool"),
)

_DRIVERS = ("asyncpg", "psycopg", "sqlalchemy", "sqlmodel", "tortoise", "databases")
_SITE_CALLS = (
    "connect(",
    "create_engine(",
    "create_async_engine(",
    "engine_from_config(",
    "create_pool(",
    "Tortoise.init(",
    "register_tortoise(",
    "RegisterTortoise(",
    "Database(",
    "ConnectionPool(",
)
_SSL_WORDS = (
    "CERT_NONE",
    "check_hostname",
    "minimum_version",
    "set_ciphers",
    "_create_unverified_context",
    "PROTOCOL_TLSv1",
    "PROTOCOL_SSL",
    "wrap_socket",
)
_PASSWORD_WORDS = ("assword", "ASSWORD", "passwd", "PASSWD", "pwd", "PWD", "_PASS", "_pass")
_DB_WORDS = (
    *("db_", "DB_", "_db", "_DB", "db.", "PG", "pg_", "ostgres", "OSTGRES", "atabase"),
    *("ATABASE", "ockroach", "OCKROACH", "dsn", "DSN", "sql_", "SQL_", "_sql", "_SQL", "crdb"),
)
# A password-like name bound to a literal, or to a decoding call, in the text.
_PW_NAME_RE = r"(?:\b\w*pass(?:word|wd)\w*|\b(?:\w+_)?pwd(?:_\w+)?\b|\b\w+_pass\b|\bpass_\w+)"
_PASSWORD_LITERAL = re.compile(
    _PW_NAME_RE + r"['\"]?\s*(?::\s*[\w\[\]|. ]+?\s*=|[=:,])\s*[rbuf]{0,2}['\"][^'\"]",
    re.IGNORECASE,
)
_PASSWORD_DECODED = re.compile(
    _PW_NAME_RE + r"[^\n]*(?:b64decode|unhexlify|fromhex|a2b_|codecs\.decode|b\d\ddecode)",
    re.IGNORECASE,
)
_DECODERS = ("b64decode", "unhexlify", "fromhex", "a2b_", "codecs", "b32decode", "b16decode")
# Every match of the two patterns above starts at the beginning of a word holding
# "pass" or "pwd": they are tried only there (searching the whole text from every
# position made them a tenth of the scan time on a large tree).
_PW_HINT = re.compile("pass|pwd", re.IGNORECASE)


def _matches_at_password_word(pattern: re.Pattern[str], text: str) -> bool:
    tried = -1
    for hint in _PW_HINT.finditer(text):
        start = hint.start()
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        if start != tried:
            tried = start
            if pattern.match(text, start):
                return True
    return False


# Libraries whose imported names make a function worth walking (aliases included).
_TRIGGER_MODULES = frozenset(
    {
        *("asyncpg", "psycopg", "psycopg2", "psycopg_pool", "sqlalchemy", "sqlmodel"),
        *("tortoise", "databases", "ssl", "random", "hashlib", "base64", "binascii", "codecs"),
    }
)
ALL_FAMILIES = frozenset({"sites", "ssl", "credentials", "crypto"})


def families(text: str, stem: str) -> frozenset[str]:
    """The rule families that can fire in this text (empty: nothing to parse for)."""
    found = set()
    if any(d in text for d in _DRIVERS) and any(c in text for c in _SITE_CALLS):
        found.add("sites")
    if "ssl" in text and any(w in text for w in _SSL_WORDS):
        found.add("ssl")
    if _credentials_possible(text, stem):
        found.add("credentials")
    if "hashlib" in text and ("md5" in text or "sha1" in text):
        found.add("crypto")
    if "random" in text and ("import random" in text or "from random" in text):
        found.add("crypto")
    return frozenset(found)


def _credentials_possible(text: str, stem: str) -> bool:
    if ("ostgres" in text or "ockroach" in text) and "://" in text and "@" in text:
        return True  # a DSN literal may carry a password
    if not any(w in text for w in _PASSWORD_WORDS):
        return False
    if any(w in text for w in _DECODERS) and _matches_at_password_word(_PASSWORD_DECODED, text):
        return True
    db_context = any(w in text for w in _DB_WORDS) or any(
        w in stem.lower() for w in ("db", "database", "settings", "config")
    )
    return db_context and _matches_at_password_word(_PASSWORD_LITERAL, text)


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
    def __init__(self, analysis: Analysis, wanted: frozenset[str] = ALL_FAMILIES) -> None:
        self.a = analysis
        self.sites = "sites" in wanted
        self.ssl = "ssl" in wanted
        self.credentials = "credentials" in wanted or self.sites
        self.crypto = "crypto" in wanted
        self.scope: Scope = analysis.module.scope
        self.function: str | None = None
        self._triggers = self._trigger_words()

    def _trigger_words(self) -> tuple[str, ...]:
        """Words without which a function or class body cannot raise a wanted rule (its
        text is tested before it is walked; names imported from the libraries count)."""
        words: set[str] = set()
        if self.sites:
            words.update(_SITE_CALLS)
        if self.ssl:
            words.update(_SSL_WORDS)
        if self.credentials:
            # "://" and not "@": a DSN literal reported by credentials.on_constant holds
            # both, and "@" alone would pass every decorated function.
            words.update((*_PASSWORD_WORDS, *_DECODERS, "://"))
        if self.crypto:
            words.update(("md5", "sha1", "random", "hashlib"))
        for alias, ref in self.a.module.aliases.items():
            if ref.module.split(".")[0] in _TRIGGER_MODULES:
                words.add(alias)
        return tuple(words)

    def _worth_walking(self, node: ast.AST) -> bool:
        start = getattr(node, "lineno", None)
        end = getattr(node, "end_lineno", None)
        if start is None or end is None:
            return True
        text = "".join(self.a.lines()[start - 1 : end])
        return any(word in text for word in self._triggers)

    def visit(self, node: ast.AST) -> None:
        method = _DISPATCH.get(type(node))
        if method is None:
            self.generic_visit(node)
        else:
            method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self.visit(child)

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

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assign(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value)
        self.generic_visit(node)

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
            sites.on_call(self.a, node, self.scope)
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


def analyse(source: SourceFile, ctx: ScanContext) -> list[Finding]:
    wanted = families(source.text, source.path.stem)
    if not wanted:
        return []
    return run_analysis(source, ctx, wanted).findings


def run_analysis(
    source: SourceFile, ctx: ScanContext, wanted: frozenset[str] = ALL_FAMILIES
) -> Analysis:
    """The analysis of one file: findings and the judged connection sites."""
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
    _Walker(analysis, wanted).visit(module.tree)
    _suppress_over_spans(analysis)
    return analysis


def _suppress_over_spans(analysis: Analysis) -> None:
    """A call written over several lines may carry its suppression on any of them (code
    formatters move a trailing comment to the closing line); the engine looks only at
    the first line, so the other lines are honoured here."""
    if not analysis.spans or suppress.MARKER not in analysis.source.text:
        return
    marks = suppress.parse(analysis.source.text)
    kept = []
    for index, item in enumerate(analysis.findings):
        end = analysis.spans.get(index)
        start = item.line or 0
        if end is not None and any(
            marks.silences(item.rule_id, line) for line in range(start + 1, end + 1)
        ):
            continue
        kept.append(item)
    analysis.findings = kept


@file_check(suffixes=(".py",), keywords=KEYWORDS)
def check_python(source: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    return analyse(source, ctx)
