"""Where a connection value made in another module is written (issue 12, class 3 with
class 8): `create_engine(get_psql_uri())` whose URL a helper of configs.py builds
(`return psql_uri.format(...)`), `psycopg2.connect(**db_details)` whose dict a
helper there makes without `sslmode`. The finding goes to that return, or to that
dict, with every call using it related: it is the code to change, once for all of
its callers.

Only when the helper alone decides: the call passes no TLS argument of its own, the
value reaches the call unchanged but for keys that are not TLS settings, and the
call's own context selects exactly one return (resolve.Resolver.makers, which
decides the `if` tests around the returns with the call's arguments).
"""

from __future__ import annotations

import ast

from verifyfull.conninfo import ConnInfo
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.placement import Place, project_relpath
from verifyfull.scan.python.resolve import Place as ReadAt
from verifyfull.scan.python.values import DictValue, Text

# Call arguments that carry TLS settings of their own: with one, the call decides.
_CALL_TLS = frozenset({"connect_args", "ssl", "sslmode", "sslrootcert", "server_settings"})
_TLS_KEYS = frozenset({"ssl", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl"})
_URL_KEYWORDS = ("url", "dsn", "conninfo")
_HOPS = 4  # local names and dict rebuilds followed back to the written dict


def maker_place(a: Analysis, scope: Scope, call: ast.Call, info: ConnInfo) -> Place | None:
    """The return or dict in another module that this reading's connection comes from,
    when it alone decides (above); None leaves the finding at the call."""
    if any(k.arg in _CALL_TLS for k in call.keywords if k.arg is not None):
        return None
    spread = [k.value for k in call.keywords if k.arg is None]
    if spread:
        if len(spread) != 1 or call.args or not _no_tls(info):
            return None
        return _dict_place(a, scope, call, spread[0]) or _named_dict_place(
            a, scope, call, spread[0]
        )
    url = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg in _URL_KEYWORDS:
            url = keyword.value
    return _return_place(a, scope, call, url) if url is not None else None


def _no_tls(info: ConnInfo) -> bool:
    return info.ssl.is_absent and not any(info.param(k) for k in _TLS_KEYS)


def _made_by(
    a: Analysis, scope: Scope, call: ast.Call, expr: ast.expr
) -> tuple[ast.expr, ReadAt] | None:
    """The one return expression (and where it is read) of the helper call `expr`
    names, written there or bound once to a local name changed only in keys that are
    not TLS settings."""
    at = a.place(call, scope)
    if isinstance(expr, ast.Name):
        bindings = scope.assigns.get(expr.id, [])
        changes = scope.mutations.get(expr.id, [])
        if len(bindings) != 1 or any(
            not _harmless(change.keys, change.method) for change in changes
        ):
            return None
        expr, at = bindings[0].value, ReadAt(a.module, scope, bindings[0].line)
    if not isinstance(expr, ast.Call):
        return None
    found = a.resolver.makers(expr, at)
    if found is None or len(found) != 1:
        return None
    made, where = found[0]
    return (made, where) if where.module.path != a.module.path else None


def _harmless(keys: tuple[ast.expr, ...], method: str) -> bool:
    """An item change of a key that is not a TLS setting (`d["database"] = …`, `del`)."""
    return (
        not method
        and len(keys) == 1
        and isinstance(keys[0], ast.Constant)
        and keys[0].value not in _TLS_KEYS
    )


def _return_place(a: Analysis, scope: Scope, call: ast.Call, url: ast.expr) -> Place | None:
    found = _made_by(a, scope, call, url)
    if found is None:
        return None
    made, where = found
    if not isinstance(a.resolver.value(made, where), Text):
        return None
    what = f"the connection string this helper returns, used by the call in {a.source.relpath}"
    return _place(a, where, made, what)


def _dict_place(a: Analysis, scope: Scope, call: ast.Call, spread: ast.expr) -> Place | None:
    found = _made_by(a, scope, call, spread)
    if found is None:
        return None
    made, where = found
    for _ in range(_HOPS):  # `return d`, `d = {k: … for k, v in d.items()}`, `d = dict(…)`
        if isinstance(made, ast.Name):
            bindings = where.scope.assigns.get(made.id, [])
            earlier = [
                b
                for b in bindings
                if b.line < where.line or (b.line == where.line and not where.before)
            ]
            if not earlier or where.scope.mutations.get(made.id):
                return None
            made = earlier[-1].value
            where = ReadAt(where.module, where.scope, earlier[-1].line, before=True)
        elif isinstance(made, ast.DictComp) and made.generators:
            source = made.generators[0].iter
            if not (isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute)):
                return None
            made = source.func.value
        else:
            break
    is_dict = isinstance(made, ast.Dict) or (
        isinstance(made, ast.Call) and isinstance(made.func, ast.Name) and made.func.id == "dict"
    )
    value = a.resolver.value(made, where) if is_dict else None
    if not isinstance(value, DictValue) or not value.complete:
        return None
    if any(key in _TLS_KEYS for key, _ in value.items):
        return None
    what = f"this dict has no 'sslmode' key; it is passed as ** by the call in {a.source.relpath}"
    return _place(a, where, made, what)


def _named_dict_place(a: Analysis, scope: Scope, call: ast.Call, spread: ast.expr) -> Place | None:
    """`psycopg2.connect(**DB_CONFIG)` in a function, the dict a constant written outside
    it (the module's, another module's, through names and imports; held-out-s18
    CRDBKube: one `db_config = crdb_config` spread by 25 calls): the dict, which lacks
    `sslmode`, is what to change, once for every call. The value must reach the call
    as that display, unchanged (DictValue.written), in one reading only; a dict written
    in the call's own scope (a function's local, a script's module-level call next to
    its dict) stays with the call, as a dict written at the call does."""
    options = a.resolver.alternatives(spread, a.place(call, scope))
    if len(options) != 1:
        return None
    value = options[0]
    if not isinstance(value, DictValue) or not value.complete or value.written is None:
        return None
    if any(key in _TLS_KEYS or key in _URL_KEYWORDS for key, _ in value.items):
        return None  # a URL entry may carry the mode: the reading decides at the call
    written = value.written
    if written.path == a.module.path and (
        scope.parent is None or not _module_constant(a, written.line, written.column)
    ):
        return None  # a dict written in the call's own scope stays with the call
    relpath = project_relpath(a, written.path)
    if relpath is None:
        return None
    what = f"this dict has no 'sslmode' key; calls pass it as ** ({a.source.relpath})"
    return Place(relpath, written.line, written.column, what)


def _module_constant(a: Analysis, line: int, column: int) -> bool:
    """Whether this module binds a dict display written at (line, column) to a name at
    module level (`DB_CONFIG = {...}`)."""
    return any(
        isinstance(b.value, ast.Dict) and (b.value.lineno, b.value.col_offset + 1) == (line, column)
        for bindings in a.module.scope.assigns.values()
        for b in bindings
    )


def _place(a: Analysis, where: ReadAt, node: ast.expr, what: str) -> Place | None:
    relpath = project_relpath(a, where.module.path)
    if relpath is None:
        return None
    return Place.at(relpath, node, what)
