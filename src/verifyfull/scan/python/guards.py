"""Whether the code around a connection site says its URL is another backend's.

`if "sqlite" in uri.split("://")[0]: create_async_engine(uri)` runs only for a SQLite
URL; `if url.startswith("postgresql"): … else: engine = create_engine(url)` runs only
for one that is not PostgreSQL. Such a site is not a PostgreSQL connection, whatever
the deployment sets the URL to (issue 12, held-out class 5).

A test counts when it names the very expression the site passes as its URL (`uri`,
`self._uri`, `cfg.url`) and compares it with a literal that names a backend: `"x" in
url`, `"x" not in url`, `url.startswith("x")` / `(…, …)`, `url == "x"`, `not …`, and
`or` of such tests (an `and` may be true for PostgreSQL URLs too: not read). Only the
`if` statements that hold the site in the same function are looked at (found by its
line: no walk of the module per site).
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from functools import lru_cache

# Scheme words of other backends (SQLAlchemy dialects, Tortoise and peewee schemes).
OTHER_BACKENDS = ("sqlite", "mysql", "mariadb", "oracle", "mssql", "aiosqlite")
POSTGRES_WORDS = ("postgres", "cockroach", "asyncpg", "psycopg")
# URL schemes (the part before `+driver`) of databases and stores that are not
# PostgreSQL-wire: a connection string that starts with one is another backend's
# connection (a SQLite test database, a Redis cache), not a PostgreSQL one, whatever
# driver it is handed to. PostgreSQL-wire products (redshift, timescale, postgis,
# cockroach, yugabyte) are not here: their URLs are libpq's.
OTHER_DATABASE_SCHEMES = frozenset(
    {
        *OTHER_BACKENDS,
        *("sqlite3", "sqlserver", "redis", "rediss", "valkey", "mongodb", "memcached"),
        *("cassandra", "clickhouse", "duckdb", "firebird", "sybase", "snowflake"),
        *("bigquery", "elasticsearch", "couchdb", "neo4j", "influxdb", "db2", "ibm_db_sa"),
        *("amqp", "amqps", "teradata", "access", "hana", "trino", "presto", "hive"),
    }
)


def other_database_url(text: str) -> str | None:
    """The scheme of a URL that names another database (`sqlite://:memory:`,
    `mysql+aiomysql://…`, `redis://…`), None for any other text (a PostgreSQL URL, a
    misspelt scheme, a keyword string): what conninfo cannot read then is a real
    VF105."""
    scheme, sep, _ = text.partition("://")
    base = scheme.split("+", 1)[0].strip().lower()
    return base if sep and base in OTHER_DATABASE_SCHEMES else None


def other_backend(scope_node: ast.AST, site: ast.Call, url: ast.expr | None) -> bool:
    """Whether an `if` around the site holds it only for another backend's URL: the
    test names the URL, a name the URL is derived from (`sqlite_url = url.replace(…)`),
    or a flag bound to such a test (`is_sqlite = "sqlite" in url.lower()` … `if
    is_sqlite:`; held-out-s18 shiny-couscous: its SQLite engine was flagged)."""
    if url is None or not isinstance(url, ast.Name | ast.Attribute):
        return False
    ifs = _enclosing_ifs(scope_node, site)
    if not ifs:
        return False
    spelled = {_spell(url)}
    derived = False
    for node in ifs:
        test = _flag_test(scope_node, node.test)
        verdict = _any_backend_test(test, spelled)
        if verdict is None and not derived:
            spelled |= _derived_from(scope_node, url)
            derived = True
            verdict = _any_backend_test(test, spelled)
        if verdict is None:
            continue
        if verdict and _holds(node.body, site):
            return True
        if not verdict and _holds(node.orelse, site):
            return True
    return False


def backend_subjects(scope_node: ast.AST, site: ast.Call) -> list[ast.expr]:
    """The names or attributes an `if` around the site tests against another backend's
    word, such that the site runs only when they name that backend: `if configs.DB_TYPE
    == "sqlite":` holds its engine for SQLite (held-out-s22 Zerohertz/fastapi-cookbook).
    What they have to do with the URL is the caller's to decide (sites._scheme_guarded)."""
    subjects: list[ast.expr] = []
    for node in _enclosing_ifs(scope_node, site):
        subject, other = _subject_test(node.test)
        if subject is None or other is None:
            continue
        if (other and _holds(node.body, site)) or (not other and _holds(node.orelse, site)):
            subjects.append(subject)
    return subjects


def _subject_test(test: ast.expr) -> tuple[ast.expr | None, bool | None]:
    """(X, True) for a test that holds only when X names another backend (`X ==
    "sqlite"`, `X in ("sqlite", "mysql")`, `X.startswith("sqlite")`), (X, False) when
    only when it names PostgreSQL (`X != "sqlite"`, `X == "postgresql"`), else None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner, other = _subject_test(test.operand)
        return inner, None if other is None else not other
    words: list[str] = []
    negated = False
    subject: ast.expr | None = None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            subject, words = test.left, _literals(right)
            negated = isinstance(op, ast.NotEq | ast.NotIn)
    elif (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and len(test.args) == 1
    ):
        subject, words = test.func.value, _literals(test.args[0])
    if not isinstance(subject, ast.Name | ast.Attribute) or not words:
        return None, None
    kinds = {_kind(word) for word in words}
    if len(kinds) != 1 or None in kinds:
        return None, None
    return subject, (kinds.pop() == "other") != negated


_DERIVATION_HOPS = 4
_MAX_SOURCES = 16


def _spell(node: ast.expr) -> str:
    return ast.dump(node, annotate_fields=False, include_attributes=False).replace("Load()", "")


def _any_backend_test(test: ast.expr, spelled: set[str]) -> bool | None:
    verdicts = {_backend_test(test, url) for url in spelled} - {None}
    return verdicts.pop() if len(verdicts) == 1 else None


def _flag_test(scope_node: ast.AST, test: ast.expr) -> ast.expr:
    """The test a flag name stands for when it is bound once, to a comparison, in the
    scope (`is_sqlite = "sqlite" in url`; `not is_sqlite` too); else the test itself."""
    negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
    name = test.operand if negated and isinstance(test, ast.UnaryOp) else test
    if not isinstance(name, ast.Name):
        return test
    bound = _bindings(scope_node, name.id)
    if len(bound) != 1 or not isinstance(bound[0], ast.Compare | ast.Call | ast.BoolOp):
        return test
    return ast.UnaryOp(ast.Not(), bound[0]) if negated else bound[0]


def _bindings(scope_node: ast.AST, name: str) -> list[ast.expr]:
    """The values `name = …` is given in the scope's own statements (not nested defs)."""
    return _scope_bindings(scope_node).get(name, [])


@lru_cache(maxsize=16)
def _scope_bindings(scope_node: ast.AST) -> dict[str, list[ast.expr]]:
    """Every name's values in the scope's own statements, gathered once per scope (asked
    for each guarded site: a walk per ask grew with sites x scope size)."""
    found: dict[str, list[ast.expr]] = {}
    stack = list(ast.iter_child_nodes(scope_node))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        value = getattr(node, "value", None) if targets else None
        if isinstance(value, ast.expr):
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(value)
        if isinstance(node, ast.stmt):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _derived_from(scope_node: ast.AST, url: ast.expr) -> set[str]:
    """The names the URL is made from in the scope, a few hops back (`sqlite_url =
    database_url.replace(…)`, `database_url = database_url_str`): a test of one of them
    tests the URL. A binding that writes a PostgreSQL word (`.replace("sqlite",
    "postgresql")`) could change the backend: not followed."""
    found: set[str] = set()
    todo = [url.id] if isinstance(url, ast.Name) else []
    seen: set[str] = set()
    for _ in range(_DERIVATION_HOPS):
        following: list[str] = []
        for name in todo:
            if name in seen:
                continue
            seen.add(name)
            for value in _bindings(scope_node, name):
                if any(
                    isinstance(n, ast.Constant)
                    and isinstance(n.value, str)
                    and _kind(n.value) == "postgres"
                    for n in ast.walk(value)
                ):
                    continue
                for part in ast.walk(value):
                    if isinstance(part, ast.Name) and isinstance(part.ctx, ast.Load):
                        found.add(_spell(part))
                        following.append(part.id)
                    elif isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Load):
                        found.add(_spell(part))
                if len(found) >= _MAX_SOURCES:
                    return found
        todo = following
    return found


def _enclosing_ifs(scope_node: ast.AST, site: ast.Call) -> list[ast.If]:
    """The `if` statements whose lines hold the site, found by descending only into
    the statement that spans its line in each statement list, by a binary search of
    the list's first lines (not a walk of the whole module, nor of its top-level
    statements, per site)."""
    found: list[ast.If] = []
    stack = [scope_node]
    while stack:
        node = stack.pop()
        for field in _STATEMENT_LISTS:
            statements = getattr(node, field, None)
            if not isinstance(statements, list) or not statements:
                continue
            index = bisect_right(_first_lines(node, field), site.lineno) - 1
            child = statements[index] if index >= 0 else None
            if not isinstance(child, ast.stmt):
                continue
            end = getattr(child, "end_lineno", None) or child.lineno
            if child.lineno <= site.lineno <= end:
                if isinstance(child, ast.If):
                    found.append(child)
                if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    stack.append(child)
    return found


# The fields that hold a statement's own statements, in line order each.
_STATEMENT_LISTS = ("body", "orelse", "finalbody")


@lru_cache(maxsize=1024)
def _first_lines(node: ast.AST, field: str) -> tuple[int, ...]:
    return tuple(getattr(child, "lineno", 0) for child in getattr(node, field))


def _holds(body: list[ast.stmt], site: ast.Call) -> bool:
    return any(node is site for statement in body for node in ast.walk(statement))


def _backend_test(test: ast.expr, url: str) -> bool | None:
    """True: the test holds only for another backend's URL; False: only for a
    PostgreSQL one; None: it says neither (or is not about the URL)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _backend_test(test.operand, url)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        verdicts = {_backend_test(value, url) for value in test.values}
        return verdicts.pop() if len(verdicts) == 1 else None
    words, negated = _compared(test, url)
    if not words:
        return None
    kinds = {_kind(word) for word in words}
    if len(kinds) != 1 or None in kinds:
        return None
    other = kinds.pop() == "other"
    return other != negated


def _compared(test: ast.expr, url: str) -> tuple[list[str], bool]:
    """The literal words a test compares the URL with, and whether it is negated."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, ast.In | ast.NotIn) and _mentions(right, url):
            return _literals(left), isinstance(op, ast.NotIn)
        if isinstance(op, ast.Eq | ast.NotEq) and _mentions(left, url):
            return _literals(right), isinstance(op, ast.NotEq)
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and _mentions(test.func.value, url)
        and len(test.args) == 1
    ):
        return _literals(test.args[0]), False
    return [], False


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple):
        found = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        strings = [v for v in found if isinstance(v, str)]
        return strings if len(strings) == len(node.elts) else []
    return []


def _mentions(node: ast.expr, url: str) -> bool:
    """The URL expression itself, or a call/slice of it (`uri.split("://")[0]`)."""
    for part in ast.walk(node):
        if isinstance(part, ast.Name | ast.Attribute):
            dumped = ast.dump(part, annotate_fields=False, include_attributes=False)
            if dumped.replace("Load()", "") == url:
                return True
    return False


def _kind(word: str) -> str | None:
    lowered = word.lower()
    if any(lowered.startswith(w) for w in OTHER_BACKENDS):
        return "other"
    if any(lowered.startswith(w) for w in POSTGRES_WORDS):
        return "postgres"
    return None
