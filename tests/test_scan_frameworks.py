"""Framework connection sites (scan/python/frameworks.py): generated settings judged
the way the framework really connects, and alembic.ini's URL moot when env.py
always replaces it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.conninfo import Driver, Environment, evaluate, parse_dsn
from verifyfull.scan import engine
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis
from verifyfull.scan.settings import ScanSettings

FIXTURES = Path(__file__).parent / "fixtures" / "scan" / "python"
TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF106", "VF107", "VF108"}


def _analyse(tmp_path: Path, text: str, name: str = "settings.py") -> set[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    analysis = run_analysis(SourceFile(path, name, text), ScanContext(root=tmp_path))
    return {f.rule_id for f in analysis.findings if f.rule_id in TRANSPORT}


def _libpq_rules(pairs: dict[str, str], driver: Driver = Driver.PSYCOPG) -> set[str]:
    """The oracle: conninfo's verdict on the libpq keywords the framework passes."""
    text = " ".join(f"{k}='{v}'" for k, v in pairs.items()) or "dbname=postgres"
    return set(evaluate(parse_dsn(text), driver, Environment.empty()).rule_ids) - {"VF401"}


# --- Django DATABASES: every written form, judged as Django's conn_params -----------

HOSTS = st.sampled_from(["db.internal", "localhost", "10.0.0.7", "", "/var/run/postgresql", None])
MODES = st.sampled_from([None, "disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
ROOTS = st.sampled_from([None, "system"])
PORTS = st.sampled_from([None, 5432, "26257"])
# How the entry reaches DATABASES, and how a value is written into it.
SHAPES = st.sampled_from(["inline", "named", "dict_call", "options_named", "subscript"])
VALUE_FORMS = st.sampled_from(["literal", "getenv_default"])


def _written(value: object, form: str, variable: str) -> str:
    if form == "getenv_default":
        return f"os.environ.get({variable!r}, {value!r})"
    return repr(value)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    host=HOSTS,
    mode=MODES,
    root=ROOTS,
    port=PORTS,
    shape=SHAPES,
    form=VALUE_FORMS,
    psycopg2=st.booleans(),
)
def test_django_entry_is_judged_as_its_libpq_keywords(
    tmp_path: Path,
    host: str | None,
    mode: str | None,
    root: str | None,
    port: int | str | None,
    shape: str,
    form: str,
    psycopg2: bool,
) -> None:
    backend = "postgresql_psycopg2" if psycopg2 else "postgresql"
    fields = [f'"ENGINE": "django.db.backends.{backend}"', '"NAME": "shop"']
    if host is not None:
        fields.append(f'"HOST": {_written(host, form, "DB_HOST")}')
    if port is not None:
        fields.append(f'"PORT": {_written(port, form, "DB_PORT")}')
    options = {}
    if mode is not None:
        options["sslmode"] = mode
    if root is not None:
        options["sslrootcert"] = root
    options_text = (
        "{" + ", ".join(f"{k!r}: {_written(v, form, k)}" for k, v in options.items()) + "}"
    )
    lines = ["import os", ""]
    if options:
        if shape == "options_named":
            lines.append(f"DB_OPTIONS = {options_text}")
            fields.append('"OPTIONS": DB_OPTIONS')
        else:
            fields.append(f'"OPTIONS": {options_text}')
    entry = "{" + ", ".join(fields) + "}"
    if shape == "named":
        lines += [f"PRIMARY = {entry}", 'DATABASES = {"default": PRIMARY}']
    elif shape == "dict_call":
        lines.append(f"DATABASES = dict(default={entry})")
    elif shape == "subscript":
        lines += ["DATABASES = {}", f'DATABASES["default"] = {entry}']
    else:
        lines.append(f'DATABASES = {{"default": {entry}}}')
    # Django: conn_params = {database, **OPTIONS, user, password, host, port} (not empty)
    pairs = {"dbname": "shop", **{k: str(v) for k, v in options.items()}}
    if host:
        pairs["host"] = host
    if port is not None:
        pairs["port"] = str(port)
    driver = Driver.PSYCOPG2 if psycopg2 else Driver.PSYCOPG
    expected = _libpq_rules(pairs, driver)
    if form == "getenv_default" and host == "":
        # an empty default configures nothing: the deployment's host (a TCP host) is
        # judged too (test_scan_env_empty_default.py)
        expected |= _libpq_rules({**pairs, "host": "db.internal"}, driver)
    assert _analyse(tmp_path, "\n".join(lines) + "\n") == expected


def test_django_host_from_the_environment_is_a_tcp_host(tmp_path: Path) -> None:
    text = (
        "import os\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql",'
        ' "HOST": os.environ["PGHOST"]}}\n'
    )
    assert _analyse(tmp_path, text) == {"VF102"}


def test_django_sslmode_only_the_deployment_knows_is_vf108(tmp_path: Path) -> None:
    text = (
        "import os\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "db",'
        ' "OPTIONS": {"sslmode": os.environ["PGSSLMODE"]}}}\n'
    )
    assert _analyse(tmp_path, text) == {"VF108"}


# --- dj_database_url: the URL's query is OPTIONS, ssl_require forces require --------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mode=MODES, root=ROOTS, ssl_require=st.booleans(), call=st.sampled_from(["config", "parse"]))
def test_dj_database_url_is_judged_as_django_would_connect(
    tmp_path: Path, mode: str | None, root: str | None, ssl_require: bool, call: str
) -> None:
    query = "&".join(
        f"{k}={v}" for k, v in (("sslmode", mode), ("sslrootcert", root)) if v is not None
    )
    url = "postgres://app@db.internal/app" + (f"?{query}" if query else "")
    argument = f"default={url!r}" if call == "config" else repr(url)
    made = f"dj_database_url.{call}({argument}, ssl_require={ssl_require})"
    text = f"import dj_database_url\nDATABASES = {{'default': {made}}}\n"
    pairs = {"host": "db.internal", "user": "app", "dbname": "app"}
    pairs.update({k: v for k, v in (("sslmode", mode), ("sslrootcert", root)) if v is not None})
    if ssl_require:
        pairs["sslmode"] = "require"
    assert _analyse(tmp_path, text) == _libpq_rules(pairs)


def test_dj_database_url_from_the_environment_only_is_vf108(tmp_path: Path) -> None:
    text = "import dj_database_url\nDATABASES = {'default': dj_database_url.config()}\n"
    assert _analyse(tmp_path, text) == {"VF108"}


# --- GINO: the URL's query never reaches asyncpg -----------------------------------


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mode=MODES, host=st.sampled_from(["db.internal", "localhost", "10.0.0.7"]))
def test_gino_drops_the_url_query(tmp_path: Path, mode: str | None, host: str) -> None:
    query = f"?sslmode={mode}" if mode else ""
    text = (
        "from gino import Gino\ndb = Gino()\n"
        f"async def main():\n    await db.set_bind('postgresql://app@{host}/app{query}')\n"
    )
    # asyncpg without ssl= (the query is dropped): its default, prefer
    assert _analyse(tmp_path, text) == {"VF102"}


# --- Alembic: alembic.ini's URL is moot when env.py always replaces it --------------


def _ini_rules(root: Path) -> dict[str, set[str]]:
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found: dict[str, set[str]] = {}
    for item in result.report.findings:
        if item.path and item.path.endswith("alembic.ini"):
            found.setdefault(item.path, set()).add(item.rule_id)
    return found


def test_alembic_ini_url_replaced_by_env_py_is_not_reported(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "alembic", tmp_path / "alembic")
    found = _ini_rules(tmp_path)
    assert "alembic/replaced/alembic.ini" not in found
    # env.py's engine uses the ini's URL: one finding, at that call (the fixture's)
    assert "alembic/from_ini/alembic.ini" not in found


@pytest.mark.parametrize(
    "call",
    [
        'engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.")',
        'create_engine(config.get_main_option("sqlalchemy.url"))',
        "engine_from_config(section, prefix='sqlalchemy.')",
    ],
)
def test_alembic_ini_url_used_by_env_py_is_reported_once(tmp_path: Path, call: str) -> None:
    """The ini's URL that env.py's engine is made from is one finding, at the engine
    call, not a second copy at the ini (issue 12 item 6)."""
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\n"
        "sqlalchemy.url = postgresql://migrator@db.internal/app\n"
    )
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "env.py").write_text(
        "from alembic import context\n"
        "from sqlalchemy import create_engine, engine_from_config\n"
        "config = context.config\n"
        "def run_migrations_online():\n"
        "    section = config.get_section(config.config_ini_section)\n"
        f"    connectable = {call}\n"
    )
    result = engine.scan([tmp_path], ScanSettings(project_root=tmp_path), jobs=1)
    places = {(f.path, f.line, f.rule_id) for f in result.report.findings if f.rule_id == "VF102"}
    assert places == {("migrations/env.py", 6, "VF102")}


def test_alembic_ini_url_is_live_without_a_replacing_env_py(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "alembic" / "replaced", project)
    env_py = project / "migrations" / "env.py"
    # The replacement only under a condition: the ini's URL may still be the one used.
    env_py.write_text(
        env_py.read_text().replace(
            'config.set_main_option("sqlalchemy.url", APP_URL)',
            'if not config.get_main_option("sqlalchemy.url"):\n'
            '    config.set_main_option("sqlalchemy.url", APP_URL)',
        )
    )
    assert _ini_rules(project) == {"alembic.ini": {"VF102"}}
    env_py.unlink()
    assert _ini_rules(project) == {"alembic.ini": {"VF102"}}


# --- Alembic: an ini URL that env.py never consults is no live setting -------------

# Statements of an env.py that cannot read alembic.ini's sqlalchemy.url.
_ENV_PY_QUIET = (
    "fileConfig(config.config_file_name)",
    "target_metadata = None",
    "connectable = engine",
    'location = config.get_main_option("script_location")',
    'config.set_main_option("version_table", "alembic_version")',
    'config.attributes["connection"] = None',
    "cfg = context.config\nname = cfg.config_file_name",
    "with engine.connect() as connection:\n    context.configure(connection=connection)",
    'if context.is_offline_mode():\n    context.configure(url="sqlite://")',
)
# Statements that read it (or may: the config handed to a helper).
_ENV_PY_READERS = (
    'url = config.get_main_option("sqlalchemy.url")',
    "section = config.get_section(config.config_ini_section)",
    'url = context.config.get_section_option("alembic", "sqlalchemy.url")',
    'key = "sqlalchemy.url"\nurl = config.get_main_option(key)',
    "run_migrations(config)",
    "cfg = context.config\nhelper(cfg)",
    'connectable = engine_from_config({}, prefix="sqlalchemy.")',
    "raw = config.file_config",
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    quiet=st.lists(st.sampled_from(_ENV_PY_QUIET), max_size=4),
    reader=st.one_of(st.none(), st.sampled_from(_ENV_PY_READERS)),
    in_function=st.booleans(),
)
def test_alembic_ini_url_is_live_only_when_env_py_consults_it(
    tmp_path_factory: pytest.TempPathFactory,
    quiet: list[str],
    reader: str | None,
    in_function: bool,
) -> None:
    """An env.py that never reads the ini's URL (it connects through the app's engine,
    djabbat/Caulong) leaves that URL unread: no transport finding for it anywhere. One
    that reads it, or hands the config to a helper that may, keeps it live (at the ini,
    or once at env.py's engine call). On the code before this test, every example
    without a reader reported the ini's VF101."""
    root = tmp_path_factory.mktemp("alembic")
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\n"
        "sqlalchemy.url = postgresql://migrator@db.internal/app?sslmode=disable\n"
    )
    body = [*quiet, *([reader] if reader else [])]
    if in_function:
        lines = ["def run_migrations_online():"]
        lines += ["    " + line for s in body or ["pass"] for line in s.splitlines()]
        body = ["\n".join(lines), "run_migrations_online()"]
    (root / "migrations").mkdir()
    (root / "migrations" / "env.py").write_text(
        "from logging.config import fileConfig\n"
        "from alembic import context\n"
        "from sqlalchemy import engine_from_config\n"
        "from app.database import engine, helper, run_migrations\n"
        "config = context.config\n" + "\n".join(body) + "\n"
    )
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    transport = {f.rule_id for f in result.report.findings if f.rule_id in TRANSPORT}
    assert ("VF101" in transport) == (reader is not None), (body, transport)


def test_alembic_ini_url_unread_by_env_py_fixture(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "alembic" / "app_engine", tmp_path / "app_engine")
    assert _ini_rules(tmp_path) == {}
