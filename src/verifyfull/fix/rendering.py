"""What a string the fixer edits IS at run time: a URL or a libpq keyword string, and
whether a URL has a query yet.

The source text does not say. `f"{PG_DATABASE_URL}/{TEST_DATABASE}"` is a URL when
PG_DATABASE_URL is one (rrobledo's conftest.py: the default of a starlette Config read
in another module), and keywords appended to it (` sslmode=verify-full`) are read by no
driver: the project fixed in session 7 could not connect. So the shape comes from the
value: the scanner's resolver renders the string (module constants, defaults of
environment readers and Config, names imported from project modules, f-strings, `+`,
`.format`: scan/python/resolve.py), and conninfo's grammar reads the rendering (a URL
starts with a scheme and `://`, conninfo.libpq.url_scheme; anything else is a keyword
string).

A string whose shape the rendering cannot tell is not edited (`shape` says why): it
starts with a value not known here, or, for a URL, its query may be in such a value
(the scanner's own rule, sites.dsn_text: an edit would not know whether to write `?`
or `&`). The caller then passes the TLS another way (keyword arguments, connect_args)
or leaves the site for a person with the reason. And every edit is read back before it
is made (`checked`): the edited string, rendered the same way, must be verify-full to
the same hosts and ports as before (conninfo), with each TLS key written once.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from verifyfull.conninfo import ConnInfo, ConnStringError, parse_dsn
from verifyfull.conninfo.libpq import split, url_scheme
from verifyfull.fix.dsn_edit import TLS_KEYS
from verifyfull.scan.python.module import ParsedModule, Scope, parse_module
from verifyfull.scan.python.resolve import Place, Resolver
from verifyfull.scan.python.rootfiles import PLACEHOLDER
from verifyfull.scan.python.sites import Undetermined, dsn_text
from verifyfull.scan.python.values import Text, Unknown, Value

__all__ = ["Shape", "Strings", "Value", "checked", "names_root", "scheme_of", "shape_of"]

# What may still become `scheme://` when more text follows (a value not known here).
_SCHEME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*(?::/?)?")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class Shape:
    """A string's shape as the driver reads it."""

    url: bool  # a URL; else a libpq keyword string
    scheme: str | None = None  # the URL's scheme with its +driver, lower case
    query: bool = False  # a URL with a query written (parameters join with '&')


def scheme_of(value: Value) -> str | None:
    """The scheme (with its +driver, lower case) a rendered string starts with, or None."""
    head = ""
    for part in value.parts if isinstance(value, Text) else ():
        if not isinstance(part, str):
            break
        head += part
    scheme = url_scheme(head.lstrip()) if "://" in head else None
    return (scheme[0] + (f"+{scheme[1]}" if scheme[1] else "")).lower() if scheme else None


def shape_of(value: Value) -> Shape | str:
    """The shape of a rendered string, or why it cannot be told."""
    if isinstance(value, Unknown):
        return f"its value is {value.why}"
    if not isinstance(value, Text):
        return "it is not a string"
    head = ""
    for part in value.parts:
        if not isinstance(part, str):
            break
        head += part
    hole = next((p for p in value.parts if isinstance(p, Unknown)), None)
    lead = head.lstrip()
    scheme = url_scheme(lead) if "://" in lead else None
    if scheme is not None:
        try:
            rendered, _ = dsn_text(value, "its value")
        except Undetermined as exc:
            return str(exc)
        if "#" in rendered:
            return "its URL has a fragment ('#')"
        return Shape(True, scheme_of(value), "?" in rendered)
    if hole is not None and (not lead or _SCHEME_PREFIX.fullmatch(lead)):
        return f"it starts with {hole.why}: a URL or a keyword string, not known here"
    if not lead or "=" not in lead.split()[0]:
        return "it is neither a URL nor a keyword string"
    return Shape(False)


def _placeholders(value: Value) -> str | None:
    """The rendering with the scanner's placeholder where a part is not known."""
    if not isinstance(value, Text):
        return None
    return "".join(p if isinstance(p, str) else PLACEHOLDER for p in value.parts)


def _read(text: str) -> ConnInfo | None:
    try:
        return parse_dsn(text)
    except (ConnStringError, ValueError):
        return None


def names_root(value: Value) -> bool:
    """Whether the rendered string names its own root certificate (sslrootcert)."""
    text = _placeholders(value)
    info = _read(text) if text is not None else None
    return info is not None and bool(info.param("sslrootcert"))


def checked(before: Value, after: Value, *, root: bool = True) -> str | None:
    """Why the edited string must not be written (None: it may): rendered, it must read as
    sslmode=verify-full (and name a root, unless `root` is False: the call passes it
    another way) to the same hosts and ports, each TLS key once."""
    shape = shape_of(before)
    if isinstance(shape, str):
        return f"its shape is not known ({shape})"
    text_before, text_after = _placeholders(before), _placeholders(after)
    if shape.url:  # the scanner's own rendering of a URL's unknown parts
        try:
            text_before = dsn_text(before, "the string")[0]
            text_after = dsn_text(after, "the edited string")[0]
        except Undetermined as exc:
            return f"the edit cannot be read back ({exc})"
    if text_before is None or text_after is None:
        return "the edit cannot be read back"
    old, new = _read(text_before), _read(text_after)
    if old is None or new is None:
        return "the edited string is not one the drivers read"
    if split(text_after).is_url != shape.url:
        return "the edit changed the string's shape"
    keys = [key for key, _ in split(text_after).pairs]
    repeated = sorted({key for key in keys if key in TLS_KEYS and keys.count(key) > 1})
    if repeated:
        return f"{', '.join(repeated)} would be written twice (once in a value not edited)"
    if new.param("sslmode") != "verify-full":
        return "it would not read as sslmode=verify-full"
    if root and not new.param("sslrootcert"):
        return "it would name no root certificate"
    if new.hosts != old.hosts:
        return "it would change the hosts or ports"
    return None


class Strings:
    """The values of one module's expressions, as the scanner resolves them: a string
    expression's source is resolved where it is written (its line and scope)."""

    def __init__(self, text: str, path: Path | None = None, root: Path | None = None) -> None:
        self._text = text
        self._path = path or Path("module.py")
        self._root = root or self._path.parent
        self._module: ParsedModule | None = None
        self._parsed = False
        self._resolver = Resolver()

    def _parsed_module(self) -> ParsedModule | None:
        if not self._parsed:
            self._parsed = True
            try:
                self._module = parse_module(self._path, self._root, self._text)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                self._module = None
        return self._module

    def value(self, code: str, line: int) -> Value:
        """The value of the expression `code` (a string literal as libcst prints it, edited
        or not) written at `line`."""
        module = self._parsed_module()
        if module is None:
            return Unknown("a module that does not parse")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expr = ast.parse(f"(\n{code}\n)", mode="eval").body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return Unknown("an expression that does not parse")
        for node in ast.walk(expr):  # read where it is written: names bound before it
            if hasattr(node, "lineno"):
                node.lineno = node.end_lineno = line  # type: ignore[attr-defined]
        place = Place(module, self._scope_at(module, line), line, before=True)
        try:
            return self._resolver.value(expr, place)
        except RecursionError:
            return Unknown("an expression nested too deeply")

    @staticmethod
    def _scope_at(module: ParsedModule, line: int) -> Scope:
        """The innermost function, class or lambda scope holding `line` (the module's when
        none does)."""
        best: tuple[int, int] | None = None
        scope = module.scope
        for node in ast.walk(module.tree):
            if not isinstance(node, _SCOPES):
                continue
            first, last = node.lineno, node.end_lineno or node.lineno
            found = module.scope_of(node)
            if first <= line <= last and found is not None:
                span = (last - first, -first)
                if best is None or span < best:
                    best, scope = span, found
        return scope
