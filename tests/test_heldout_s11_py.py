"""Classes the session 11 held-out round (helper heldout-e) found in new application code,
each generated over its shapes; filtered == full analysis throughout (the prefilter's
soundness, checked by the shared _findings). Fixtures: tests/fixtures/scan/python/heldout_s11/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

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


# --- engine_from_config(section, url=X): X is the engine's URL --------------------------

CONFIG_CALLS = (
    ("engine_from_config", "create_engine", "postgresql"),
    ("async_engine_from_config", "create_async_engine", "postgresql+asyncpg"),
)
# the section the call is given, with {ini} where alembic.ini's URL is read from
SECTIONS = (
    "config.get_section(config.config_ini_section)",
    "config.get_section(config.config_ini_section, {})",
    "{'sqlalchemy.url': 'postgresql://other@elsewhere.internal/app?sslmode=verify-full'}",
)
INI_URLS = (
    "",
    "postgresql://migrator@db.internal/app",
    "postgresql://m@db.internal/app?sslmode=disable",
)


def _alembic_project(tmp_path: Path, key: object, ini_url: str, env_py: str, twin: str) -> Path:
    ini = "[alembic]\nscript_location = migrations\n"
    if ini_url:
        ini += f"sqlalchemy.url = {ini_url}\n"
    root = _project(tmp_path, key, {"alembic.ini": ini, "twin.py": twin})
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "env.py").write_text(env_py, encoding="utf-8")
    return root


@_SETTINGS
@given(
    call=st.sampled_from(CONFIG_CALLS),
    section=st.sampled_from(SECTIONS),
    ini_url=st.sampled_from(INI_URLS),
    query=st.sampled_from(QUERIES),
    env=st.booleans(),
    prefix=st.booleans(),
)
def test_the_url_keyword_of_engine_from_config_is_the_engine_s_url(
    tmp_path: Path,
    call: tuple[str, str, str],
    section: str,
    ini_url: str,
    query: str,
    env: bool,
    prefix: bool,
) -> None:
    config_call, engine_call, scheme = call
    if "asyncpg" in scheme:
        query = query.replace("sslmode", "ssl")
    url = "os.environ['DATABASE_URL']" if env else f"'{scheme}://app@db.internal/app{query}'"
    given_prefix = ", prefix='sqlalchemy.'" if prefix else ""
    env_py = (
        "import os\n"
        "from alembic import context\n"
        f"from sqlalchemy import {config_call}, pool\n"
        "config = context.config\n"
        f"URL = {url}\n"
        f"connectable = {config_call}({section}{given_prefix}, poolclass=pool.NullPool, url=URL)\n"
    )
    twin = f"import os\nfrom sqlalchemy import {engine_call}\n\n\n\nengine = {engine_call}({url})\n"
    root = _alembic_project(
        tmp_path, (call, section, ini_url, query, env, prefix), ini_url, env_py, twin
    )
    # the same rules, env.py's at the URL (line 5) when it writes no TLS, else at the call
    in_env = _rules_on(root, "migrations/env.py", 5) | _rules_on(root, "migrations/env.py", 6)
    assert in_env == _rules_on(root, "twin.py", 6)
    # the ini's URL never reaches a connection: no finding of its own
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    assert not [
        f for f in result.report.findings if f.path == "alembic.ini" and f.rule_id in _TRANSPORT
    ]


# --- the SQLAlchemy a project pins, in the requirement file names projects use ------------

REQUIREMENT_FILES = (
    "req.txt",
    "reqs.txt",
    "requirement.txt",
    "requirements/base.txt",
    "requirements/prod.txt",
    "requirements-dev.txt",
)


@_SETTINGS
@given(
    name=st.sampled_from(REQUIREMENT_FILES),
    version=st.sampled_from(("1.3.23", "1.3.0", "1.4.0", "2.0.30")),
    scheme=st.sampled_from(("postgres", "postgresql")),
    spelling=st.sampled_from(("SQLAlchemy=={v}", "sqlalchemy == {v}", "SQLAlchemy[asyncio]=={v}")),
)
def test_the_pinned_sqlalchemy_decides_whether_postgres_scheme_loads(
    tmp_path: Path, name: str, version: str, scheme: str, spelling: str
) -> None:
    requirements = f"fastapi==0.66.1\n{spelling.format(v=version)}\npsycopg2==2.9.1\n"
    code = f"import sqlalchemy\n\nengine = sqlalchemy.create_engine('{scheme}://app@db.internal/app')\n"
    root = _project(tmp_path, (name, version, scheme, spelling), {"db.py": code})
    (root / name).parent.mkdir(exist_ok=True)
    (root / name).write_text(requirements, encoding="utf-8")
    removed = scheme == "postgres" and tuple(int(p) for p in version.split(".")) >= (1, 4)
    assert _rules_on(root, "db.py", 3) == ({"VF102", "VF105"} if removed else {"VF102"})
