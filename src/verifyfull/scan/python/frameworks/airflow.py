"""Airflow's Postgres provider: hooks and operators that connect through a connection
Airflow stores, not through anything the code says (session 15, held-out-s15).

Read in apache/airflow providers/postgres hooks/postgres.py: `PostgresHook.get_conn()`
takes the Connection named by `postgres_conn_id` (one positional argument is it too,
DbApiHook; default `postgres_default`) and runs `psycopg2.connect(host=…, user=…,
password=…, dbname=…, port=…, **extra)` (psycopg 3's Connection.connect with
SQLAlchemy 2), the extra's keys less Airflow's own (iam, cursor, …): sslmode and
sslrootcert come from the connection's extra, which the deployment's connection store
holds (the metastore, an `AIRFLOW_CONN_<ID>` variable, a secrets backend), so the
hook's TLS is decided at deploy: VF108 where the hook or operator is made, naming the
connection and how to check it. `get_sqlalchemy_engine()` and `get_uri()` build the URL
from the same Connection. `PostgresOperator(postgres_conn_id=…)` runs its SQL through
that hook. The generic `SQLExecuteQueryOperator(conn_id=…)` takes the hook of the
connection's type, known only from the store: it is a PostgreSQL site here only when its
conn_id is `postgres_default` (the postgres connection `airflow db init` creates) or one
a PostgresHook or PostgresOperator of the same module names.

An `AIRFLOW_CONN_<ID>` URL written in the tree (an env file, compose) is judged where it
is written by the config checks (Airflow turns its query into the extra, which the hook
passes to libpq as keywords: the same reading); the hook keeps its VF108, since which
store answers for the conn_id is the deployment's choice.
"""

from __future__ import annotations

import ast

from verifyfull.rules import RULES
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import call_argument, value_of
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import deploy_decided
from verifyfull.scan.python.values import Text

HOOKS = frozenset(
    {
        "airflow.providers.postgres.hooks.postgres.PostgresHook",
        "airflow.hooks.postgres_hook.PostgresHook",
        "airflow.hooks.PostgresHook",
    }
)
OPERATORS = frozenset(
    {
        "airflow.providers.postgres.operators.postgres.PostgresOperator",
        "airflow.operators.postgres_operator.PostgresOperator",
        "airflow.operators.PostgresOperator",
    }
)
SQL_OPERATORS = frozenset(
    {
        "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
        "airflow.operators.sql.SQLExecuteQueryOperator",
    }
)
# The connection airflow db init creates with conn_type postgres (create_default_connections)
DEFAULT_CONN_ID = "postgres_default"
# Words without one of which nothing here fires (the prefilter's test).
WORDS = ("PostgresHook", "PostgresOperator", "SQLExecuteQueryOperator")


def on_call(a: Analysis, call: ast.Call, scope: Scope, qual: str) -> bool:
    """A Postgres hook or operator made: VF108 at the call. True when it was one."""
    if qual in HOOKS:
        single = call.args[0] if len(call.args) == 1 else None
        given = call_argument(call, 99, "postgres_conn_id") or single
        _report(a, call, scope, f"{qual.rsplit('.', 1)[-1]}()", given)
        return True
    if qual in OPERATORS:
        _report(a, call, scope, "PostgresOperator()", call_argument(call, 99, "postgres_conn_id"))
        return True
    if qual in SQL_OPERATORS:
        given = call_argument(call, 99, "conn_id")
        conn_id = _literal(a, given, scope, call)
        if conn_id is not None and (conn_id == DEFAULT_CONN_ID or conn_id in _postgres_conn_ids(a)):
            _report(a, call, scope, "SQLExecuteQueryOperator()", given)
        return True
    return False


def _literal(a: Analysis, expr: ast.expr | None, scope: Scope, at: ast.AST) -> str | None:
    value = value_of(a, expr, scope, at) if expr is not None else None
    return value.known if isinstance(value, Text) else None


# The last module's answer (its tree kept, so the id stays its own).
_LAST: list[tuple[ast.AST, frozenset[str]]] = []


def _postgres_conn_ids(a: Analysis) -> frozenset[str]:
    """The conn_ids this module's Postgres hooks and operators name as literals (one
    walk of the module's tree, kept for its other SQLExecuteQueryOperators)."""
    tree = a.module.tree
    if _LAST and _LAST[0][0] is tree:
        return _LAST[0][1]
    found: set[str] = set()
    for node in ast.walk(a.module.tree):
        if not isinstance(node, ast.Call):
            continue
        qual = a.module.qualname(node.func) or ""
        if qual in HOOKS or qual in OPERATORS:
            named = call_argument(node, 99, "postgres_conn_id")
            if named is None and qual in HOOKS and len(node.args) == 1:
                named = node.args[0]
            if named is None:
                found.add(DEFAULT_CONN_ID)
            elif isinstance(named, ast.Constant) and isinstance(named.value, str):
                found.add(named.value)
    _LAST[:] = [(tree, frozenset(found))]
    return _LAST[0][1]


def _report(a: Analysis, call: ast.Call, scope: Scope, what: str, given: ast.expr | None) -> None:
    conn_id = DEFAULT_CONN_ID if given is None else _literal(a, given, scope, call)
    named = f"Airflow connection {conn_id!r}" if conn_id else "the Airflow connection named here"
    check = f"airflow connections get {conn_id}" if conn_id else "airflow connections get <id>"
    message = (
        f"Airflow {what}: TLS is decided at deploy time, not in the code: host and sslmode "
        f"come from {named} (psycopg2 gets the connection's extra as keywords)"
    )
    fix = (
        f"Check it where Airflow runs: `{check}` must show an extra with "
        '"sslmode": "verify-full" and "sslrootcert" (or an AIRFLOW_CONN_ URL with '
        "?sslmode=verify-full&sslrootcert=…); without it psycopg2 uses libpq's prefer. "
        f"{RULES['VF108'].fix}"
    )
    deploy_decided(
        call, lambda: a.report("VF108", call, message, evidence=a.segment(call), fix=fix)
    )
