"""Classes the session 11 held-out round (helper heldout-e) found in new application code,
each generated over its shapes; filtered == full analysis throughout (the prefilter's
soundness, checked by the shared _findings). Fixtures: tests/fixtures/scan/python/heldout_s11/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project

_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}


def _rules_on(root: Path, relpath: str, line: int) -> set[str]:
    return {rule for rule, at in _findings(root, relpath) if at == line and rule in _TRANSPORT}


# --- connection wrappers: judged as the driver call they make ------------------------------

# (imports, the wrapper's call, the driver call it makes) with {u} for the connection
# string and {kw} for the TLS keywords (", sslmode='require'" and the like)
LIBPQ_WRAPPERS = (
    ("import aiopg", "aiopg.connect(dsn={u}{kw})"),
    ("import aiopg", "aiopg.create_pool({u}, minsize=1, maxsize=5, echo=False{kw})"),
    ("import aiopg", "aiopg.Pool.from_pool_fill({u}, 1, 10, 60.0, enable_json=True{kw})"),
    ("from aiopg.sa import create_engine", "create_engine(dsn={u}, minsize=1{kw})"),
)
LIBPQ_DRIVER = ("import psycopg2", "psycopg2.connect({u}{kw})")
ASYNCPG_WRAPPERS = (
    (
        "from fastapi_asyncpg import configure_asyncpg",
        "configure_asyncpg(app, {u}, init_db=None, max_size=5{kw})",
    ),
)
ASYNCPG_DRIVER = ("import asyncpg", "asyncpg.create_pool({u}, max_size=5{kw})")
PEEWEE_WRAPPERS = (
    ("import peewee_async", "peewee_async.PostgresqlDatabase('app', host={h}{kw})"),
    ("import peewee_async", "peewee_async.PooledPostgresqlDatabase('app', host={h}{kw})"),
    ("import peewee_asyncext", "peewee_asyncext.PostgresqlExtDatabase('app', host={h}{kw})"),
    (
        "from peewee_asyncext import PooledPostgresqlExtDatabase",
        "PooledPostgresqlExtDatabase('app', host={h}, max_connections=5{kw})",
    ),
)
PEEWEE_DRIVER = ("import peewee", "peewee.PostgresqlDatabase('app', host={h}{kw})")
UTILS_WRAPPERS = (
    ("from sqlalchemy_utils import database_exists", "database_exists({u})"),
    ("import sqlalchemy_utils", "sqlalchemy_utils.create_database({u})"),
    ("from sqlalchemy_utils.functions import drop_database", "drop_database({u})"),
)
UTILS_DRIVER = ("import sqlalchemy", "sqlalchemy.create_engine({u})")

HOSTS = ("'db.internal'", "'localhost'", "os.environ['DB_HOST']")
QUERIES = ("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-ca", "?sslmode=prefer")
LIBPQ_KEYWORDS = ("", ", sslmode='disable'", ", sslmode='require'", ", sslmode='allow'")
ASYNCPG_KEYWORDS = ("", ", ssl='require'", ", ssl=False", ", ssl='verify-ca'")


def _url(host: str, query: str, env: bool) -> str:
    if env:
        return "os.environ['DATABASE_URL']"
    return f"'postgresql://app@{host.strip(chr(39))}:5432/app{query}'"


def _pair(tmp_path: Path, imports: tuple[str, str], calls: tuple[str, str]) -> tuple[set, set]:
    """The transport rules at the wrapper's line and at the driver's, each alone in a file."""
    files = {}
    for name, first, call in (("w.py", imports[0], calls[0]), ("d.py", imports[1], calls[1])):
        files[name] = f"import os\n{first}\n\napp = object()\nsite = {call}\n"
    root = _project(tmp_path, (imports, calls), files)
    return _rules_on(root, "w.py", 5), _rules_on(root, "d.py", 5)


@_SETTINGS
@given(
    wrapper=st.sampled_from(LIBPQ_WRAPPERS + ASYNCPG_WRAPPERS + UTILS_WRAPPERS),
    host=st.sampled_from(HOSTS[:2]),
    query=st.sampled_from(QUERIES),
    env=st.booleans(),
    keyword=st.integers(0, 3),
)
def test_a_url_wrapper_is_judged_as_the_driver_call_it_makes(
    tmp_path: Path, wrapper: tuple[str, str], host: str, query: str, env: bool, keyword: int
) -> None:
    if wrapper in LIBPQ_WRAPPERS:
        driver, kw = LIBPQ_DRIVER, LIBPQ_KEYWORDS[keyword]
    elif wrapper in ASYNCPG_WRAPPERS:
        driver, kw = ASYNCPG_DRIVER, ASYNCPG_KEYWORDS[keyword]
        query = query.replace("sslmode=verify-ca", "sslmode=verify-full")
    else:
        driver, kw = UTILS_DRIVER, ""
    url = _url(host, query, env)
    calls = (wrapper[1].format(u=url, kw=kw), driver[1].format(u=url, kw=kw))
    wrapped, direct = _pair(tmp_path, (wrapper[0], driver[0]), calls)
    assert wrapped == direct, calls
    if not query and not kw:  # no TLS setting anywhere: the driver's default, or the env's
        assert direct == {"VF108" if env else "VF102"}, calls


@_SETTINGS
@given(
    wrapper=st.sampled_from(PEEWEE_WRAPPERS),
    host=st.sampled_from(HOSTS),
    keyword=st.sampled_from(LIBPQ_KEYWORDS),
)
def test_a_peewee_async_database_is_judged_as_peewee_s(
    tmp_path: Path, wrapper: tuple[str, str], host: str, keyword: str
) -> None:
    calls = (wrapper[1].format(h=host, kw=keyword), PEEWEE_DRIVER[1].format(h=host, kw=keyword))
    wrapped, direct = _pair(tmp_path, (wrapper[0], PEEWEE_DRIVER[0]), calls)
    assert direct, calls
    assert wrapped == direct, calls


def test_a_deferred_peewee_async_database_is_no_site(tmp_path: Path) -> None:
    source = "import peewee_async\n\ndb = peewee_async.PooledPostgresqlDatabase(None)\n"
    root = _project(tmp_path, "deferred", {"w.py": source})
    assert not _rules_on(root, "w.py", 3)
