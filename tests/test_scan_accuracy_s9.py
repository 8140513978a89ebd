"""Classes the session 9 whole-corpus run left (helper accuracy, issues 12/13), each
generated over its shapes; filtered == full analysis throughout (the prefilter's
soundness)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _filtered
from verifyfull.policy import Policy
from verifyfull.scan import engine
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.placeholders import ROLE_WORDS
from verifyfull.scan.python.check import run_analysis
from verifyfull.scan.settings import ScanSettings

_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

Seen = tuple[str, int, str, str]


def _findings(root: Path, relpath: str) -> set[Seen]:
    """Every finding of one file, with its message and evidence (what a user reads)."""
    path = root / relpath
    source = SourceFile(path, relpath, path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=root, policy=Policy())).findings
    filtered = _filtered(source, ScanContext(root=root, policy=Policy()))
    assert filtered == sorted((f.rule_id, f.line or 0, f.column or 0) for f in found)
    return {(f.rule_id, f.line or 0, f.message, f.evidence) for f in found}


def _project(tmp_path: Path, key: object, files: dict[str, str]) -> Path:
    root = tmp_path / f"p{abs(hash(key))}"
    root.mkdir(exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)  # its own project, whatever encloses tmp_path
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# --- the connection string passed by keyword is read once ---------------------------

_MODES = ("", "disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_HOSTS = ("db.internal", "10.0.0.5", "/var/run/postgresql")


@st.composite
def _conninfo(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(_HOSTS))
    mode = draw(st.sampled_from(_MODES))
    password = draw(st.sampled_from(("", "Kq7vZp2xWm")))
    if draw(st.booleans()):
        query = f"?sslmode={mode}" if mode else ""
        auth = f"app:{password}@" if password else "app@"
        where = host if not host.startswith("/") else ""
        return f"postgresql://{auth}{where}/app{query}"
    parts = [f"host={host}", "dbname=app", "user=app"]
    parts += [f"password={password}"] if password else []
    parts += [f"sslmode={mode}"] if mode else []
    return " ".join(draw(st.permutations(parts)))


# (import line, call with {positional} / {keyword} for the connection string)
_LIBPQ_CALLS = (
    ("import psycopg2", "psycopg2.connect({dsn}{extra})", "dsn"),
    ("import psycopg", "psycopg.connect({dsn}{extra})", "conninfo"),
    ("from psycopg2 import pool", "pool.ThreadedConnectionPool(1, 10, {dsn}{extra})", "dsn"),
    ("from psycopg2 import pool", "pool.SimpleConnectionPool(1, 4, {dsn}{extra})", "dsn"),
)
_EXTRAS = ("", ", sslmode='require'", ", sslmode='disable'", ", connect_timeout=5")


@_SETTINGS
@given(
    call=st.sampled_from(_LIBPQ_CALLS),
    dsn=_conninfo(),
    extra=st.sampled_from(_EXTRAS),
    pool_keywords=st.booleans(),
)
def test_a_connection_string_by_keyword_reads_as_the_positional_one(
    tmp_path: Path, call: tuple[str, str, str], dsn: str, extra: str, pool_keywords: bool
) -> None:
    """`connect(dsn=X)` / `connect(conninfo=X)` is `connect(X)`: the string is one source,
    not also a libpq keyword option (its evidence printed the string twice); psycopg2.pool's
    `minconn=` / `maxconn=` are the pool's, never libpq options."""
    imports, template, name = call
    positional = template.format(dsn=repr(dsn), extra=extra)
    keyword = template.format(dsn=f"{name}={dsn!r}", extra=extra)
    if pool_keywords and "Pool(" in template:
        keyword = keyword.replace("(1, 10, ", "(minconn=1, maxconn=10, ")
        keyword = keyword.replace("(1, 4, ", "(minconn=1, maxconn=4, ")
    root = _project(
        tmp_path,
        (call, dsn, extra, pool_keywords),
        {
            "positional.py": f"{imports}\n\nDB = {positional}\n",
            "keyword.py": f"{imports}\n\nDB = {keyword}\n",
        },
    )
    by_position = _findings(root, "positional.py")
    assert by_position == _findings(root, "keyword.py"), (positional, keyword)
    tcp = "/var/run" not in dsn and "@/" not in dsn
    judged = "verify-full" in dsn and "sslmode=" not in extra
    assert any(rule.startswith("VF10") for rule, *_ in by_position) or not tcp or judged


# --- a Django entry whose fields a compose env_file gives ---------------------------

_ENGINES = (
    ("django.db.backends.postgresql", True),
    ("django.db.backends.postgresql_psycopg2", True),
    ("django.contrib.gis.db.backends.postgis", True),
    ("django.db.backends.mysql", False),
    ("django.db.backends.sqlite3", False),
)
_READS = ('os.environ.get("{v}")', 'os.getenv("{v}")', 'os.environ["{v}"]')
_ENV_FILES = (".env", "envs/prod.env", ".env.prod")
_COMPOSE_FILES = ("docker-compose.yml", "compose.yaml", "docker-compose.prod.yml")


@_SETTINGS
@given(
    engine=st.sampled_from(_ENGINES),
    host=st.sampled_from(("db", "10.1.2.3", "/var/run/postgresql")),
    read=st.sampled_from(_READS),
    env_file=st.sampled_from(_ENV_FILES),
    compose=st.sampled_from(_COMPOSE_FILES),
    as_list=st.booleans(),
    mode=st.sampled_from(("", "disable", "require")),
    named=st.sampled_from(("compose", "unnamed", "twice")),
)
def test_a_django_entry_takes_the_fields_a_compose_env_file_gives(
    tmp_path: Path,
    engine: tuple[str, bool],
    host: str,
    read: str,
    env_file: str,
    compose: str,
    as_list: bool,
    mode: str,
    named: str,
) -> None:
    """`"ENGINE": os.environ.get("SQL_ENGINE")`, `"HOST": os.getenv("SQL_HOST")` with the
    values in a committed env file that a compose service's `env_file:` names: the entry
    is judged with them (was: not a site, the engine unknown). An env file nothing names,
    or a variable two env files set, decides nothing (as before)."""
    name, postgres = engine
    options = f'\n        "OPTIONS": {{"sslmode": "{mode}"}},' if mode else ""
    fields = "".join(
        f'\n        "{key}": {read.format(v=var)},'
        for key, var in (("ENGINE", "SQL_ENGINE"), ("HOST", "SQL_HOST"), ("NAME", "SQL_DB"))
    )
    settings_py = f"import os\n\nDATABASES = {{\n    'default': {{{fields}{options}\n    }}\n}}\n"
    env_text = f"SQL_ENGINE={name}\nSQL_HOST={host}\nSQL_DB=app\nSECRET=x\n"
    entry = f"\n      - ./{env_file}" if as_list else f" ./{env_file}"
    compose_text = f"services:\n  web:\n    image: app:1\n    env_file:{entry}\n"
    files = {"app/settings.py": settings_py, env_file: env_text}
    if named != "unnamed":
        files[compose] = compose_text
    if named == "twice":
        files[".env.example"] = "SQL_ENGINE=django.db.backends.postgresql\nSQL_HOST=db\n"
    key = (engine, host, read, env_file, compose, as_list, mode, named)
    root = _project(tmp_path, key, files)
    found = {(rule, line) for rule, line, *_ in _findings(root, "app/settings.py")}
    decided = postgres and named == "compose" and (not host.startswith("/") or mode)
    if not decided:
        transport = {f for f in found if f[0].startswith("VF10") and f[0] != "VF108"}
        assert not transport or named != "compose", (key, found)
        return
    expected = {"": "VF102", "disable": "VF101", "require": "VF103"}[mode]
    if host.startswith("/"):
        expected = {"disable": "", "require": ""}[mode]  # a socket: TLS does not apply
    if expected:
        assert any(rule == expected for rule, _ in found), (key, found)
    else:
        assert not any(r.startswith("VF10") and r != "VF108" for r, _ in found), (key, found)


# --- a role word as a password's default is a placeholder, in code as in config ------

_ROLE_KEYS = ("POSTGRES_PASSWORD", "DB_PASSWORD", "DB_PASS", "PGPASSWORD", "SQL_PWD")
_REAL_WORDS = ("pass1", "Kq7vZp2x", "hunter2", "postgres", "s3cr3tpw")


def _credentials_by_file(root: Path) -> dict[str, set[int]]:
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found: dict[str, set[int]] = {}
    for item in result.report.findings:
        if item.rule_id == "VF401" and item.path is not None:
            found.setdefault(item.path, set()).add(item.line or 0)
    return found


@_SETTINGS
@given(
    key=st.sampled_from(_ROLE_KEYS),
    value=st.one_of(st.sampled_from(sorted(ROLE_WORDS)), st.sampled_from(_REAL_WORDS)),
    upper=st.booleans(),
)
def test_a_role_word_default_reads_the_same_in_code_and_config(
    tmp_path: Path, key: str, value: str, upper: bool
) -> None:
    """The session 9 ruling on `'PASSWORD': os.getenv('POSTGRES_PASSWORD', 'pass')`
    (liaozd/myweb): a value that is a role word (password, passwd, pass, pwd) for a
    key named by one is the key read aloud, a placeholder (scan/placeholders.py, the
    lead's ruling on issue 12 item 9 / issue 13 item 8), whether it is a getenv
    default, a Django PASSWORD literal, a settings default, an env file line or a
    compose value; any other word there is a password (VF401) in each of them."""
    written = value.upper() if upper else value
    files = {
        "app/settings.py": (
            "import os\n\nDATABASES = {\n    'default': {\n"
            "        'ENGINE': 'django.db.backends.postgresql',\n        'HOST': 'db',\n"
            f"        'PASSWORD': os.getenv({key!r}, {written!r}),\n    }},\n"
            "    'replica': {\n        'ENGINE': 'django.db.backends.postgresql',\n"
            f"        'HOST': 'db',\n        'PASSWORD': {written!r},\n    }},\n}}\n"
        ),
        "app/db.py": (
            f"import os\n\nimport psycopg2\n\n{key} = os.environ.get({key!r}, {written!r})\n"
            f"conn = psycopg2.connect(host='db', password={key})\n"
        ),
        ".env": f"{key}={written}\n",
        "docker-compose.yml": (
            f"services:\n  db:\n    image: postgres:16\n    environment:\n      {key}: {written}\n"
        ),
    }
    root = _project(tmp_path, (key, value, upper), files)
    found = _credentials_by_file(root)
    expected = {
        "app/settings.py": {7, 12},
        "app/db.py": {5},
        ".env": {1},
        "docker-compose.yml": {5},
    }
    if value in ROLE_WORDS:
        assert found == {}, (key, written, found)
    else:
        assert found == expected, (key, written, found)


# --- an Alembic engine reads an unseen URL as any engine call does -------------------

_ALEMBIC_ENGINES = (
    (
        "from sqlalchemy import engine_from_config",
        "engine_from_config(config.get_section(config.config_ini_section, {{}}), "
        'prefix="sqlalchemy."{extra})',
        "from sqlalchemy import create_engine",
        "create_engine(URL{extra})",
    ),
    (
        "from sqlalchemy.ext.asyncio import async_engine_from_config",
        "async_engine_from_config(config.get_section(config.config_ini_section, {{}}), "
        'prefix="sqlalchemy."{extra})',
        "from sqlalchemy.ext.asyncio import create_async_engine",
        "create_async_engine(URL{extra})",
    ),
    (
        "from sqlalchemy import create_engine",
        'create_engine(config.get_main_option("sqlalchemy.url"){extra})',
        "from sqlalchemy import create_engine",
        "create_engine(URL{extra})",
    ),
)
_UNSEEN_URLS = (
    # a template of deploy-time parts with no query: no TLS setting can be in it
    "f\"{os.environ['DB_SCHEME']}://{os.environ['DB_USER']}@{os.environ['DB_HOST']}/app\"",
    "f\"postgresql+{os.environ['DB_DRIVER']}://app@{os.environ['DB_HOST']}:5432/app\"",
    '"{}://{}@{}/{}".format(os.environ["S"], os.environ["U"], os.environ["H"], "app")',
    # the whole URL from the environment: it may say anything
    'os.environ["DATABASE_URL"]',
    'os.getenv("DATABASE_URL")',
)


@_SETTINGS
@given(
    engine=st.sampled_from(_ALEMBIC_ENGINES),
    url=st.sampled_from(_UNSEEN_URLS),
    extra=st.sampled_from(("", ", poolclass=pool.NullPool")),
)
def test_an_alembic_engine_reads_an_unseen_url_as_an_engine_call_does(
    tmp_path: Path, engine: tuple[str, str, str, str], url: str, extra: str
) -> None:
    """env.py's `config.set_main_option("sqlalchemy.url", X)` then `engine_from_config` /
    `async_engine_from_config` / `create_engine(config.get_main_option(...))`: an X the
    tree does not show is judged with the stand-ins of an engine call given X directly
    (a query-less template of deploy-time parts is VF102: no TLS setting can be in it;
    was VF108 at the Alembic site only), and stays VF108 where the environment may say
    anything."""
    alembic_import, alembic_call, engine_import, engine_call = engine
    env_py = (
        "import os\n\nfrom alembic import context\nfrom sqlalchemy import pool\n"
        f"{alembic_import}\n\n"
        f"config = context.config\nconfig.set_main_option('sqlalchemy.url', {url})\n\n\n"
        f"def run_migrations_online():\n    connectable = {alembic_call.format(extra=extra)}\n"
        "    return connectable\n"
    )
    plain_py = (
        f"import os\n\nfrom sqlalchemy import pool\n{engine_import}\n\nURL = {url}\n\n\n"
        f"def run_migrations_online():\n    connectable = {engine_call.format(extra=extra)}\n"
        "    return connectable\n"
    )
    root = _project(
        tmp_path,
        (engine, url, extra),
        {"migrations/env.py": env_py, "app/db.py": plain_py},
    )
    alembic = {rule for rule, *_ in _findings(root, "migrations/env.py") if rule.startswith("VF10")}
    plain = {rule for rule, *_ in _findings(root, "app/db.py") if rule.startswith("VF10")}
    assert alembic == plain, (url, alembic, plain)
    assert alembic == ({"VF108"} if "DATABASE_URL" in url else {"VF102"}), (url, alembic)
