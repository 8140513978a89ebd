"""Prefect's SQLAlchemy block (prefect-sqlalchemy): an engine the block builds.

Read in PrefectHQ/prefect src/integrations/prefect-sqlalchemy/prefect_sqlalchemy/
database.py: `SqlAlchemyConnector(connection_info=…, connect_args=…)` renders the URL
(`make_url(str(connection_info))`, or ConnectionComponents.create_url()) and its
get_engine() runs `create_engine(url=…, connect_args=connect_args or {})`, or
create_async_engine for an async driver: with a URL written here it is that
create_engine site. `SqlAlchemyConnector.load("name")` takes the block the Prefect
server stores (made once with `.save(name)`, by a script or the UI): its URL and
connect_args, TLS included, are decided where it is deployed: VF108 at the call, naming
the block and how to check it (held-out-s19, ftrtz/spotify-listening-habits: six
flows load one block). A load whose block is dropped at once (a statement of its own:
an existence check) opens nothing and is not reported.
"""

from __future__ import annotations

import ast

from verifyfull.rules import RULES
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import (
    Judged,
    call_argument,
    framework_engine,
    site,
    value_of,
)
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import deploy_decided
from verifyfull.scan.python.values import Text

CONNECTOR = frozenset(
    {
        "prefect_sqlalchemy.SqlAlchemyConnector",
        "prefect_sqlalchemy.database.SqlAlchemyConnector",
    }
)
LOADERS = frozenset(f"{name}.load" for name in CONNECTOR) | frozenset(
    f"{name}.aload" for name in CONNECTOR
)
# Words without one of which nothing here fires (the prefilter's test).
WORDS = ("SqlAlchemyConnector",)


def on_call(a: Analysis, call: ast.Call, scope: Scope, qual: str) -> bool:
    """The block made with a URL (a create_engine site) or loaded from the server
    (VF108). True when the call was one of them."""
    if qual in LOADERS:
        _loaded(a, call, scope)
        return True
    if qual not in CONNECTOR:
        return False
    info = call_argument(call, 0, "connection_info")
    if info is None or _components(a, info):
        return True  # pydantic refuses the block; components: URL.create's reading
    connect_args = call_argument(call, 1, "connect_args")
    site(
        a, call, "Prefect SqlAlchemyConnector()", lambda: _judge(a, call, info, connect_args, scope)
    )
    return True


def _components(a: Analysis, info: ast.expr) -> bool:
    return isinstance(info, ast.Call) and (a.module.qualname(info.func) or "").endswith(
        "ConnectionComponents"
    )


def _judge(
    a: Analysis, call: ast.Call, info: ast.expr, connect_args: ast.expr | None, scope: Scope
) -> Judged:
    options: ast.expr | None = None
    if connect_args is not None:
        # get_engine passes the field as create_engine's connect_args
        options = ast.copy_location(
            ast.Dict(keys=[ast.Constant("connect_args")], values=[connect_args]), connect_args
        )
    url = value_of(a, info, scope, call)
    return framework_engine(
        a, call, url, options, scope, "connect_args", options_at=connect_args or call
    )


# The last scope's dropped calls (its tree kept, so the ids stay its own): one walk of a
# scope for all of its loads, not one per load (a module of many loads stays linear).
_LAST: list[tuple[ast.AST, frozenset[int]]] = []


def _discarded(call: ast.Call, scope: Scope) -> bool:
    """The call is a statement of its own: its block is made and dropped, no engine
    (a block-writing script's existence check, create_pg_block.py)."""
    node = scope.node
    if not (_LAST and _LAST[0][0] is node):
        dropped = set()
        for statement in ast.walk(node):
            if isinstance(statement, ast.Expr):
                value = statement.value
                if isinstance(value, ast.Await):  # `await SqlAlchemyConnector.aload(name)`
                    value = value.value
                dropped.add(id(value))
        _LAST[:] = [(node, frozenset(dropped))]
    return id(call) in _LAST[0][1]


def _loaded(a: Analysis, call: ast.Call, scope: Scope) -> None:
    if _discarded(call, scope):
        return  # `SqlAlchemyConnector.load(name)` alone: whether the block exists
    given = call_argument(call, 0, "name")
    value = value_of(a, given, scope, call) if given is not None else None
    name = value.known if isinstance(value, Text) else None
    named = f"Prefect block {name!r}" if name else "the Prefect block named here"
    check = (
        f"prefect block inspect sqlalchemy-connector/{name}"
        if name
        else "prefect block inspect sqlalchemy-connector/<name>"
    )
    message = (
        "Prefect SqlAlchemyConnector.load(): TLS is decided at deploy time, not in the "
        f"code: the URL and connect_args come from {named}, stored on the Prefect server"
    )
    fix = (
        f"Check it where the flows run: `{check}` must show a URL with "
        "sslmode=verify-full and sslrootcert (psycopg) or connect_args with an "
        f"SSLContext (asyncpg); without them the driver's default is prefer. {RULES['VF108'].fix}"
    )
    deploy_decided(
        call, lambda: a.report("VF108", call, message, evidence=a.segment(call), fix=fix)
    )
