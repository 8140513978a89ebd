"""Run-time values made visible to the judge: `os.environ["X"]` -> a literal.

The scanner leaves a value read from the environment without a default unknown, so a
site whose fixed form takes its root certificate from `os.environ["DB_CA_PATH"]` (as
every fix that names no file does) could not be judged after the fix. For the
before/after comparison only (census.py, never in a written file), each such read is
replaced by a literal in both versions of a file: the value a config file of the
project sets for that variable when one does (a .env read by code), else a stand-in
name `run-env-name`. Both sides see the same environment, so the comparison is fair;
what the comparison cannot show is a site whose verdict depends on an environment
value that no file of the tree sets (docs/fix.md, "limits").
"""

from __future__ import annotations

import ast
import re
import urllib.parse
from collections.abc import Mapping

from verifyfull.scan.python.fstrings import parse_python

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_GETTERS = frozenset({"os.getenv", "getenv", "os.environ.get", "environ.get"})
_MAPPINGS = frozenset({"os.environ", "environ"})


def stand_in(name: str) -> str:
    """A value that reads as a file name (a root certificate) and as a host name alike:
    an absolute path would make a host read from the environment a Unix socket."""
    return f"run-env-{name.lower().replace('_', '-')}"


def _dotted(node: ast.expr) -> str | None:
    """`os.environ.get` for a chain of names and attributes (None for anything else)."""
    if isinstance(node, ast.Name | ast.Attribute):
        return ast.unparse(node)
    return None


def _read(node: ast.AST, values: Mapping[str, str]) -> ast.Constant | None:
    """The variable-name constant of an environment read: one without a default, or one
    whose variable `values` sets (the file's value wins over the code's default)."""
    if isinstance(node, ast.Call) and _dotted(node.func) in _GETTERS and node.args:
        key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            defaulted = len(node.args) > 1 or bool(node.keywords)
            return key if not defaulted or key.value in values else None
    if isinstance(node, ast.Subscript) and _dotted(node.value) in _MAPPINGS:
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key
    return None


# The certificate-file fields fixed code reads from a pydantic Settings object
# (fix/settings_source.py: `settings.DB_CA_PATH`, `settings.db_ca_path`): pydantic reads
# them from the environment, so they are judged as the environment reads they are.
_SETTINGS_FIELDS = frozenset({"db_ca_path", "db_cert_path", "db_key_path"})


def _field_read(node: ast.AST) -> str | None:
    """The variable a settings field read stands for (`settings.DB_CA_PATH`)."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and node.attr.lower() in _SETTINGS_FIELDS
        and isinstance(node.value, ast.Name | ast.Attribute)
    ):
        return node.attr.upper()
    return None


def _quoted(node: ast.AST) -> ast.expr | None:
    """The environment read inside `quote(os.environ…)`: what a fix writes into a URL's
    query (the path percent-encoded; fix/names.py's name for urllib.parse.quote, maybe
    aliased)."""
    if not (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords):
        return None
    if not (_dotted(node.func) or "").rsplit(".", 1)[-1].lstrip("_").startswith("quote"):
        return None
    inner = node.args[0]
    read = isinstance(inner, ast.Call) and _dotted(inner.func) in _GETTERS
    read = read or _field_read(inner) is not None
    return inner if read or isinstance(inner, ast.Subscript) else None


# What `fix --use-guard` writes: the guard builds a verify-full context from the DB_*
# settings or refuses to start (docs/guard.md), which the scanner cannot see through;
# judged as the verify-full context it is.
# (under whatever name fix/names.py chose for Guard, and for ssl in the stand-in)
GUARD_CONTEXT = re.compile(r"\b[A-Za-z_]\w*\.from_env\(\)\.ssl_context\(\)")
_GUARD_STAND_IN = "ssl.create_default_context()"  # the resolver reads the name, not its binding


def materialise(text: str, values: Mapping[str, str] | None = None) -> str:
    """`text` with every environment read without a default replaced by a literal
    (`values` first, else the stand-in path), every read of a variable `values` sets
    replaced by its value, and the guard's context by the verify-full context it is.
    Unchanged when it does not parse."""
    text = GUARD_CONTEXT.sub(_GUARD_STAND_IN, text)
    try:
        tree = parse_python(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text
    lines = _LINE.findall(text)  # the parser's own line ends (not str.splitlines')
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode("utf-8")))
    data = text.encode("utf-8")
    edits: list[tuple[int, int, bytes]] = []

    def span(node: ast.expr) -> tuple[int, int]:
        start = starts[node.lineno - 1] + node.col_offset
        return start, starts[(node.end_lineno or node.lineno) - 1] + (node.end_col_offset or 0)

    # f-strings' spans and quotes: a literal put inside one takes the other quote
    fstrings = [
        (*span(node), chr(next(b for b in data[span(node)[0] :] if b in b"'\"")))
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
    ]

    def source_literal(value: str, start: int, end: int, quote: str = '"') -> bytes:
        around = [q for s, e, q in fstrings if s <= start and end <= e]
        if around:
            quote = "'" if around[-1] == '"' else '"'
        escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
        return f"{quote}{escaped}{quote}".encode()

    for node in ast.walk(tree):  # outer nodes first: a quoted read before its read
        inner = _quoted(node)
        field = _field_read(inner if inner is not None else node)
        if field is not None and isinstance(node, ast.expr):
            start, end = span(node)
            if not any(s <= start and end <= e for s, e, _ in edits):
                value = (values or {}).get(field, stand_in(field))
                value = urllib.parse.quote(value) if inner is not None else value
                edits.append((start, end, source_literal(value, start, end)))
            continue
        key = _read(inner if inner is not None else node, values or {})
        if not isinstance(node, ast.expr) or (key is None and inner is None):
            continue
        start, end = span(node)
        if any(s <= start and end <= e for s, e, _ in edits):
            continue  # the read inside a quoted read, replaced with it
        if key is None:  # a quoted read with a default: judged as the read it quotes
            if inner is not None:
                edits.append((start, end, data[slice(*span(inner))]))
            continue
        key_end = span(key)[1]
        quote = chr(data[key_end - 1]) if key_end > 0 else ""
        if quote not in ("'", '"'):
            continue
        name = str(key.value)
        value = (values or {}).get(name, stand_in(name))
        value = urllib.parse.quote(value) if inner is not None else value
        escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
        edits.append((start, end, f"{quote}{escaped}{quote}".encode()))
    for start, end, literal in sorted(edits, reverse=True):
        data = data[:start] + literal + data[end:]
    return data.decode("utf-8")
