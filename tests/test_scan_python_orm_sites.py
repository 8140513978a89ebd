"""ORM database objects that are connection sites (issue 12, held-out classes): peewee's
PostgreSQL databases pass their first argument as dbname and every keyword they do not
take themselves to psycopg2.connect, so each must be judged exactly as that
psycopg2.connect call is (one source of truth: conninfo), and the prefilter must keep
every such file. pandas' readers and DataFrame.to_sql given a string make
sqlalchemy.create_engine(con) of it: judged exactly as that call."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _ctx, _filtered, _full, _source

PEEWEE_CLASSES = (
    ("from peewee import PostgresqlDatabase", "PostgresqlDatabase"),
    ("import peewee", "peewee.PostgresqlDatabase"),
    ("from playhouse.pool import PooledPostgresqlDatabase as Pool", "Pool"),
    ("from playhouse.postgres_ext import PostgresqlExtDatabase", "PostgresqlExtDatabase"),
    ("from playhouse.cockroachdb import CockroachDatabase", "CockroachDatabase"),
)
# peewee's own keywords: never reach psycopg2
OWN = ("max_connections=8", "autorollback=True", "register_unicode=False", "stale_timeout=30")
TLS = (
    None,
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
)
HOSTS = ('"db.internal"', '"10.0.0.7"', 'os.getenv("DB_HOST", "localhost")', '"/tmp"')
FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def _scan(tmp_path: Path, text: str) -> list[tuple[str, int, int]]:
    path = tmp_path / "db.py"
    path.write_text(text, encoding="utf-8")
    source = _source(path, tmp_path)
    full = _full(source, _ctx(tmp_path))
    assert _filtered(source, _ctx(tmp_path)) == full, text
    return full


@st.composite
def peewee_calls(draw: st.DrawFn) -> tuple[str, str]:
    """(a peewee database, the psycopg2.connect call it makes), same lines."""
    imported, spelled = draw(st.sampled_from(PEEWEE_CLASSES))
    host = draw(st.sampled_from(HOSTS))
    mode = draw(st.sampled_from(TLS))
    options = [f"host={host}", 'user="app"', 'password=os.environ["PW"]']
    if draw(st.booleans()):
        options.append("port=5432")
    if mode is not None:
        options.append(f'sslmode="{mode}"')
        if mode.startswith("verify") and draw(st.booleans()):
            options.append('sslrootcert="/etc/ssl/db-ca.pem"')
    options = draw(st.permutations(options))
    own = draw(st.lists(st.sampled_from(OWN), unique=True, max_size=2))
    keyword = draw(st.booleans())
    first = 'database="app"' if keyword else '"app"'
    peewee = f"{spelled}({', '.join([first, *own, *options])})"
    driver_args = ", ".join(['dbname="app"', *options])
    driver = f"psycopg2.connect({driver_args})"
    head = "import os\nimport psycopg2\n" + imported + "\n\n"
    return head + f"db = {peewee}\n", head + f"db = {driver}\n"


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(case=peewee_calls())
def test_a_peewee_database_is_judged_as_the_psycopg2_connect_it_makes(
    tmp_path: Path, case: tuple[str, str]
) -> None:
    peewee, driver = case
    assert _scan(tmp_path, peewee) == _scan(tmp_path, driver), peewee


@st.composite
def peewee_urls(draw: st.DrawFn) -> tuple[str, str]:
    """(playhouse.db_url.connect(url), psycopg2.connect of the same libpq URL)."""
    scheme = draw(st.sampled_from(("postgres", "postgresql", "postgresql+pool", "postgresext")))
    mode = draw(st.sampled_from(TLS))
    query = "" if mode is None else f"?sslmode={mode}"
    if mode is not None and mode.startswith("verify"):
        query += "&sslrootcert=/etc/ssl/db-ca.pem"
    netloc = draw(st.sampled_from(("app@db.internal", "app@10.0.0.7:5433", "app@localhost")))
    path = f"{netloc}/app{query}"
    head = "import psycopg2\nfrom playhouse.db_url import connect\n\n"
    return (
        head + f'db = connect("{scheme}://{path}")\n',
        head + f'db = psycopg2.connect("postgresql://{path}")\n',
    )


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(case=peewee_urls())
def test_a_peewee_url_is_judged_as_the_libpq_url_it_becomes(
    tmp_path: Path, case: tuple[str, str]
) -> None:
    peewee, driver = case
    assert _scan(tmp_path, peewee) == _scan(tmp_path, driver), peewee


@settings(max_examples=10, deadline=None, suppress_health_check=FIXTURE_OK)
@given(scheme=st.sampled_from(("sqlite", "sqliteext", "mysql", "sqlite+pool")))
def test_another_backends_url_is_not_a_site(tmp_path: Path, scheme: str) -> None:
    text = f'from playhouse.db_url import connect\n\ndb = connect("{scheme}://app@h/app")\n'
    assert _scan(tmp_path, text) == []


PANDAS_CALLS = (
    ("from pandas import read_sql", 'read_sql("SELECT 1", {con})'),
    ("import pandas as pd", 'pd.read_sql_query("SELECT 1", con={con})'),
    ("import pandas", 'pandas.read_sql_table("events", {con}, schema="app")'),
    ("import pandas as pd", 'pd.DataFrame().to_sql("events", {con}, if_exists="append")'),
)
CONS = (
    '"postgresql://app@db.internal/app"',
    '"postgresql+psycopg2://app@10.0.0.7/app?sslmode=disable"',
    '"postgresql+psycopg://app@db.internal/app?sslmode=require"',
    '"postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem"',
    "f\"postgresql://app@{os.environ['DB_HOST']}/app?sslmode=allow\"",
    'os.environ["REPORTS_URL"]',
    '"sqlite:///local.db"',
)


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(call=st.sampled_from(PANDAS_CALLS), con=st.sampled_from(CONS))
def test_a_pandas_url_is_judged_as_the_engine_pandas_makes(
    tmp_path: Path, call: tuple[str, str], con: str
) -> None:
    imported, spelled = call
    head = f"import os\nimport sqlalchemy\n{imported}\n\n"
    pandas = head + "x = " + spelled.format(con=con) + "\n"
    engine = head + f"x = sqlalchemy.create_engine({con})\n"
    assert _scan(tmp_path, pandas) == _scan(tmp_path, engine), pandas


@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURE_OK)
@given(call=st.sampled_from(PANDAS_CALLS))
def test_a_pandas_engine_or_connection_is_not_a_site_of_its_own(
    tmp_path: Path, call: tuple[str, str]
) -> None:
    imported, spelled = call
    text = (
        f"import sqlite3\n{imported}\n\n\ndef load(engine, path):\n"
        f"    {spelled.format(con='engine')}\n"
        f"    {spelled.format(con='sqlite3.connect(path)')}\n"
    )
    assert _scan(tmp_path, text) == [], text
