"""Connection sites the session 15 held-out round found that the scanner did not know
(helper s15-sites), each generated over its shapes and, where the library makes a driver
call the scanner judges, compared with that call written out; filtered == full analysis
throughout (the prefilter's soundness, checked by the shared _findings).
Fixtures: tests/fixtures/scan/python/heldout_s15_sites/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}

HOSTS = ("db.internal", "localhost", "10.0.0.5")
QUERIES = ("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full&sslrootcert=ca.crt")


def _rules(root: Path, relpath: str, line: int) -> set[str]:
    return {rule for rule, at in _findings(root, relpath) if at == line and rule in _TRANSPORT}


def _pair(
    tmp_path: Path, key: object, wrapped: tuple[str, str], direct: tuple[str, str]
) -> tuple[set[str], set[str]]:
    """The transport rules of each (imports, call) at its line 5, each alone in a file."""
    files = {
        name: f"import os\n{imports.replace(chr(10), '; ')}\n\napp = object()\nsite = {call}\n"
        for name, (imports, call) in (("w.py", wrapped), ("d.py", direct))
    }
    root = _project(tmp_path, (key, wrapped, direct), files)
    return _rules(root, "w.py", 5), _rules(root, "d.py", 5)


def _url(scheme: str, host: str, query: str, env: bool) -> str:
    return "os.environ['DATABASE_URL']" if env else f"'{scheme}://app@{host}:5432/app{query}'"


# --- 1. the session middlewares: create_(async_)engine(db_url, **engine_args) ------------

# (imports, the registration with {u} the URL and {e} the engine_args keyword)
SYNC_MIDDLEWARES = (
    (
        "from fastapi_sqlalchemy import DBSessionMiddleware",
        "app.add_middleware(DBSessionMiddleware, db_url={u}{e})",
    ),
    (
        "from fastapi_sqlalchemy.middleware import DBSessionMiddleware as Sessions",
        "app.add_middleware(Sessions, {u}{e})",
    ),
    (
        "import fastapi_sqlalchemy\nfrom starlette.middleware import Middleware",
        "[Middleware(fastapi_sqlalchemy.DBSessionMiddleware, db_url={u}{e})]",
    ),
    ("from fastapi_sqlalchemy import DBSessionMiddleware", "DBSessionMiddleware(app, {u}{e})"),
)
ASYNC_MIDDLEWARES = (
    (
        "from fastapi_async_sqlalchemy import SQLAlchemyMiddleware",
        "app.add_middleware(SQLAlchemyMiddleware, db_url={u}{e})",
    ),
    (
        "from fastapi.middleware import Middleware\n"
        "from fastapi_async_sqlalchemy.middleware import SQLAlchemyMiddleware",
        "[Middleware(SQLAlchemyMiddleware, db_url={u}{e})]",
    ),
)
ENGINE_ARGS = (
    "",
    "{'echo': True}",
    "{'connect_args': {'sslmode': 'require'}}",
    "{'connect_args': {'sslmode': 'verify-full', 'sslrootcert': 'ca.crt'}}",
    "{'pool_pre_ping': True, 'connect_args': {'ssl': 'require'}}",
)


@_SETTINGS
@given(
    asynchronous=st.booleans(),
    shape=st.integers(0, 3),
    host=st.sampled_from(HOSTS),
    query=st.sampled_from(QUERIES),
    env=st.booleans(),
    engine_args=st.sampled_from(ENGINE_ARGS),
)
def test_a_session_middleware_is_judged_as_the_engine_it_makes(
    tmp_path: Path,
    asynchronous: bool,
    shape: int,
    host: str,
    query: str,
    env: bool,
    engine_args: str,
) -> None:
    shapes = ASYNC_MIDDLEWARES if asynchronous else SYNC_MIDDLEWARES
    imports, call = shapes[shape % len(shapes)]
    scheme = "postgresql+asyncpg" if asynchronous else "postgresql"
    url = _url(scheme, host, query, env)
    positional = call.endswith("({u}{e})") or ", {u}{e}" in call
    written = f", None, {engine_args}" if positional else f", engine_args={engine_args}"
    registered = call.format(u=url, e=written if engine_args else "")
    engine = "create_async_engine" if asynchronous else "create_engine"
    spread = f", **{engine_args}" if engine_args else ""
    direct = (
        f"from sqlalchemy.ext.asyncio import {engine}"
        if asynchronous
        else f"from sqlalchemy import {engine}",
        f"{engine}({url}{spread})",
    )
    if registered.startswith("["):  # a Middleware list: its first item is the site
        registered = registered[1:-1]
    wrapped, driver = _pair(tmp_path, "middleware", (imports, registered), direct)
    assert wrapped == driver, registered
    if env and not engine_args:
        assert wrapped == {"VF108"}, registered  # the URL from the environment decides
    if not env and not query and "connect_args" not in engine_args:
        assert "VF102" in wrapped, registered  # no TLS setting: the driver's prefer


@_SETTINGS
@given(
    form=st.sampled_from(
        (
            "app.add_middleware(DBSessionMiddleware, custom_engine=engine)",
            "app.add_middleware(DBSessionMiddleware, db_url='sqlite:///app.db')",
            "app.add_middleware(GZipMiddleware, minimum_size=1000)",
            "app.add_middleware(DBSessionMiddleware, 'postgresql://db.internal/a?sslmode=verify-full"
            "&sslrootcert=ca.crt')",
        )
    )
)
def test_a_middleware_with_no_weak_engine_is_quiet(tmp_path: Path, form: str) -> None:
    source = (
        "from fastapi_sqlalchemy import DBSessionMiddleware\n"
        "from starlette.middleware.gzip import GZipMiddleware\n"
        "engine = object()\n"
        f"{form}\n"
    )
    root = _project(tmp_path, form, {"m.py": source})
    assert not _rules(root, "m.py", 4), form


# --- 2. Pony ORM: psycopg2.connect(*args, **kwargs) for postgres and cockroach ----------

# (the keywords psycopg2.connect is given, the TLS keyword) written out
PONY_KEYWORDS = (
    "host='{h}', user='app', database='app'",
    "host='{h}', port=26257, user='root', database='defaultdb', password=os.environ['PW']",
)
PONY_TLS = ("", ", sslmode='disable'", ", sslmode='require'", ", sslmode='verify-ca'")


def _pony_sources(form: str, provider: str, arguments: str) -> dict[str, str]:
    """The files of a project binding a Pony Database the `form` way (main.py's line 5
    is the site)."""
    if form == "constructor":
        line = f"db = Database({provider}, {arguments})"
        return {"main.py": f"import os\nfrom pony.orm import Database\n\n\n{line}\n"}
    if form == "bind":
        return {
            "main.py": "import os\nfrom pony.orm import Database\ndb = Database()\n\n"
            f"db.bind({provider}, {arguments})\n"
        }
    if form == "star":
        return {
            "main.py": "import os\nfrom pony.orm import *\ndb = Database()\n\n"
            f"db.bind(provider={provider}, {arguments})\n"
        }
    if form == "function":
        return {
            "main.py": "import os\nfrom pony import orm\ndb = orm.Database()\ndef setup():\n"
            f"    db.bind({provider}, {arguments})\n"
        }
    # the Database made in a project module, bound in another: no Pony word in main.py
    return {
        "models.py": "from pony.orm import Database\n\ndb = Database()\n",
        "main.py": "import os\nfrom models import db\n\nsettings = dict(provider="
        f"{provider}, {arguments})\ndb.bind(**settings)\n",
    }


@_SETTINGS
@given(
    form=st.sampled_from(("constructor", "bind", "star", "function", "imported")),
    provider=st.sampled_from(("'postgres'", "'cockroach'")),
    keywords=st.sampled_from(PONY_KEYWORDS),
    tls=st.sampled_from(PONY_TLS),
    host=st.sampled_from(HOSTS),
)
def test_a_pony_database_is_judged_as_the_psycopg2_connect_it_makes(
    tmp_path: Path, form: str, provider: str, keywords: str, tls: str, host: str
) -> None:
    arguments = keywords.format(h=host) + tls
    root = _project(
        tmp_path, ("pony", form, provider, arguments), _pony_sources(form, provider, arguments)
    )
    direct = f"import os\nimport psycopg2\n\n\nconn = psycopg2.connect({arguments})\n"
    (root / "direct.py").write_text(direct, encoding="utf-8")
    wrapped, driver = _rules(root, "main.py", 5), _rules(root, "direct.py", 5)
    if form == "imported":  # a mode written in `settings = dict(...)` is reported there
        wrapped |= _rules(root, "main.py", 4)
    assert wrapped == driver, (form, arguments)
    assert wrapped, (form, arguments)  # none of these is verify-full


@_SETTINGS
@given(
    form=st.sampled_from(("constructor", "bind", "star", "function", "imported")),
    dsn=st.sampled_from(
        (
            "os.environ['PG_CONN_STRING']",
            "'postgresql://root@db.internal:26257/defaultdb?sslmode=verify-full&sslrootcert=ca.crt'",
            "'host=db.internal dbname=app sslmode=require'",
            "'postgresql://app@db.internal/app'",
        )
    ),
)
def test_a_pony_dsn_is_the_connection_string_psycopg2_reads(
    tmp_path: Path, form: str, dsn: str
) -> None:
    arguments = f"dsn={dsn}" if form in ("star", "imported") else dsn
    root = _project(tmp_path, ("pony-dsn", form, dsn), _pony_sources(form, "'postgres'", arguments))
    (root / "direct.py").write_text(
        f"import os\nimport psycopg2\n\n\nconn = psycopg2.connect({dsn})\n", encoding="utf-8"
    )
    assert _rules(root, "main.py", 5) == _rules(root, "direct.py", 5), (form, dsn)
    if "environ" in dsn:
        assert _rules(root, "main.py", 5) == {"VF108"}


@_SETTINGS
@given(
    provider=st.sampled_from(("'sqlite'", "'mysql'", "'oracle'", "os.environ['PROVIDER']")),
    form=st.sampled_from(("constructor", "bind", "imported")),
)
def test_a_pony_database_of_another_provider_is_no_site(
    tmp_path: Path, provider: str, form: str
) -> None:
    sources = _pony_sources(form, provider, "host='db.internal', user='app'")
    root = _project(tmp_path, ("pony-other", provider, form), sources)
    assert not _rules(root, "main.py", 5), (provider, form)


# --- 3. asyncpgsa: asyncpg.create_pool(*args, **kwargs) -----------------------------------

ASYNCPGSA_CALLS = (
    ("from asyncpgsa import pg", "pg.init({a})"),
    ("import asyncpgsa", "asyncpgsa.pg.init({a}, dialect=None)"),
    ("import asyncpgsa", "asyncpgsa.create_pool({a})"),
    ("from asyncpgsa import create_pool as make_pool", "make_pool({a}, min_size=2)"),
    ("from asyncpgsa.pool import create_pool", "create_pool({a}, connection_class=None)"),
)
ASYNCPG_ARGUMENTS = (
    "host='{h}', port='5432', database='example', user='app'",
    "dsn='postgresql://app@{h}/app'",
    "'postgresql://app@{h}/app?sslmode=verify-full&sslrootcert=ca.crt'",
    "os.environ['DATABASE_URL']",
)
ASYNCPG_TLS = ("", ", ssl='require'", ", ssl=False", ", ssl='verify-ca'")


@_SETTINGS
@given(
    call=st.sampled_from(ASYNCPGSA_CALLS),
    arguments=st.sampled_from(ASYNCPG_ARGUMENTS),
    tls=st.sampled_from(ASYNCPG_TLS),
    host=st.sampled_from(HOSTS),
)
def test_asyncpgsa_is_judged_as_asyncpg_create_pool(
    tmp_path: Path, call: tuple[str, str], arguments: str, tls: str, host: str
) -> None:
    given_arguments = arguments.format(h=host) + tls
    wrapped = (call[0], call[1].format(a=given_arguments))
    direct = ("import asyncpg", f"asyncpg.create_pool({given_arguments})")
    found, driver = _pair(tmp_path, "asyncpgsa", wrapped, direct)
    assert found == driver, wrapped
    if not tls and "sslmode" not in arguments:
        assert found, wrapped  # asyncpg's prefer, or the environment's URL


# --- 4. Airflow's Postgres provider: the connection Airflow stores ----------------------

HOOK_IMPORTS = (
    "from airflow.providers.postgres.hooks.postgres import PostgresHook",
    "from airflow.hooks.postgres_hook import PostgresHook",
)
OPERATOR_IMPORTS = (
    "from airflow.providers.postgres.operators.postgres import PostgresOperator",
    "from airflow.operators.postgres_operator import PostgresOperator",
)


def _analysed(root: Path, relpath: str) -> list[tuple[str, int, str]]:
    _findings(root, relpath)  # filtered == full
    path = root / relpath
    source = SourceFile(path, relpath, path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=root, policy=Policy())).findings
    return [(f.rule_id, f.line or 0, f.message) for f in found]


@_SETTINGS
@given(
    hook=st.sampled_from(HOOK_IMPORTS),
    operator=st.sampled_from(OPERATOR_IMPORTS),
    conn=st.sampled_from(("postgres_conn_id='{c}'", "'{c}'", "")),
    conn_id=st.sampled_from(("warehouse", "postgres_connexion", "pg-main")),
    in_function=st.booleans(),
    then=st.sampled_from(("", ".get_conn()", ".get_sqlalchemy_engine()", ".get_uri()")),
)
def test_an_airflow_postgres_hook_or_operator_is_decided_by_its_connection(
    tmp_path: Path,
    hook: str,
    operator: str,
    conn: str,
    conn_id: str,
    in_function: bool,
    then: str,
) -> None:
    written = conn.format(c=conn_id)
    named = conn_id if written else "postgres_default"
    made = f"PostgresHook({written}){then}"
    hook_line = f"def load():\n    hook = {made}\n" if in_function else f"\nhook = {made}\n"
    operator_kw = f", postgres_conn_id='{conn_id}'" if written else ""
    source = (
        f"{hook}\n{operator}\n{hook_line}"
        f"task = PostgresOperator(task_id='t', sql='create.sql'{operator_kw})\n"
    )
    root = _project(tmp_path, ("airflow", source), {"dags.py": source})
    found = _analysed(root, "dags.py")
    assert sorted((rule, line) for rule, line, _ in found) == [("VF108", 4), ("VF108", 5)]
    assert all(f"connection {named!r}" in message for _, _, message in found), found


@_SETTINGS
@given(
    conn_id=st.sampled_from(("warehouse", "postgres_default", "mysql_shop", "snowflake")),
    hooked=st.sampled_from(("warehouse", "other")),
)
def test_a_generic_sql_operator_is_a_site_only_on_a_postgres_connection(
    tmp_path: Path, conn_id: str, hooked: str
) -> None:
    source = (
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n"
        "from airflow.providers.postgres.hooks.postgres import PostgresHook\n"
        f"hook = PostgresHook(postgres_conn_id='{hooked}')\n"
        f"query = SQLExecuteQueryOperator(task_id='q', conn_id='{conn_id}', sql='select 1')\n"
    )
    root = _project(tmp_path, ("sql-operator", source), {"dags.py": source})
    lines = {line for rule, line, _ in _analysed(root, "dags.py") if rule == "VF108"}
    postgres = conn_id in ("postgres_default", hooked)
    assert lines == ({3, 4} if postgres else {3}), source


# --- 5. django-heroku: dj_database_url.config(ssl_require=True) when DATABASE_URL is set --

HEROKU_CALLS = (
    ("import django_heroku", "django_heroku.settings(locals(){k})"),
    ("from django_heroku import settings as heroku", "heroku(locals(){k})"),
    ("import django_heroku.core", "django_heroku.core.settings(config=locals(){k})"),
)
HEROKU_KEYWORDS = ("", ", test_runner=False", ", databases=True", ", databases=False")
# a later change of the entry, and the rule the call then has (None: as without one).
# Deleting the OPTIONS sslmode drops the URL's too (dj_database_url parses the query
# into the same OPTIONS dict ssl_require writes into): libpq's prefer, reported at the
# deleting line (s15b: a strip is reported where it is written).
HEROKU_CHANGES = (
    ("", None),
    ("del DATABASES['default']['OPTIONS']['sslmode']", "VF102"),
    ("DATABASES['default']['OPTIONS'].pop('sslmode', None)", "VF102"),
    ("DATABASES['default']['OPTIONS']['sslmode'] = 'disable'", "VF101"),
    ("DATABASES['default']['CONN_MAX_AGE'] = 60", None),
)


@_SETTINGS
@given(
    call=st.sampled_from(HEROKU_CALLS),
    keyword=st.sampled_from(HEROKU_KEYWORDS),
    change=st.sampled_from(HEROKU_CHANGES),
    own_entry=st.booleans(),
)
def test_django_heroku_settings_is_the_entry_it_writes(
    tmp_path: Path,
    call: tuple[str, str],
    keyword: str,
    change: tuple[str, str | None],
    own_entry: bool,
) -> None:
    entry = (
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'HOST': 'db'}}"
        if own_entry
        else "DEBUG = False"
    )
    source = f"{call[0]}\n{entry}\n\n{call[1].format(k=keyword)}\n{change[0]}\n"
    root = _project(tmp_path, ("heroku", source), {"settings.py": source})
    found = _findings(root, "settings.py")
    decides = 5 if change[1] == "VF102" else 4  # a strip's line, else the call's
    at_call = {rule for rule, line in found if line == decides and rule in _TRANSPORT}
    expected = set() if "databases=False" in keyword else {change[1] or "VF103"}
    assert at_call == expected, source
    if own_entry and not change[0]:  # the module's own entry: without DATABASE_URL
        assert ("VF102", 2) in found, source
