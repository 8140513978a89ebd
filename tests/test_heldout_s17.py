"""Classes the session 16/17 held-out rounds found (a connection library no site table
knew, an unverified context reported once where it is made, an environment reader's
placeholder default, a finding placed at the binding that reaches the call), each
generated over its shapes and compared with the driver call or the reading written out;
filtered == full analysis throughout (the prefilter's soundness, checked by the shared
_findings). Fixtures: tests/fixtures/scan/python/heldout_s17/."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from real_secrets import real_password
from test_heldout_s8_py import _findings, _project
from test_heldout_s15_sites import _SETTINGS, _rules
from verifyfull.findings import Finding
from verifyfull.scan import engine
from verifyfull.scan.python import typeparams
from verifyfull.scan.python.fstrings import MAX_REWRITE
from verifyfull.scan.settings import ScanSettings

# --- 1. litestar-asyncpg: PoolConfig(...) is asyncpg.create_pool(**fields) -------------

POOL_CONFIG_IMPORTS = (
    ("from litestar_asyncpg import AsyncpgConfig, PoolConfig", "PoolConfig"),
    ("from litestar_asyncpg.config import PoolConfig as Pool", "Pool"),
    ("import litestar_asyncpg", "litestar_asyncpg.PoolConfig"),
)
DSNS = (
    "'postgresql://app@db.internal:5432/app'",
    "'postgresql://app@db.internal:5432/app?sslmode=disable'",
    "'postgresql://app@db.internal:5432/app?sslmode=require'",
    "'postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=/ca.crt'",
    "os.environ['DATABASE_URL']",
)
POOL_FIELDS = ("", ", min_size=4, max_size=12", ", max_inactive_connection_lifetime=300")
CONNECT_KWARGS = (
    None,
    "{}",
    "{'ssl': 'require'}",
    "{'ssl': 'disable', 'timeout': 5}",
    "{'command_timeout': 60}",
    "{'ssl': ssl.create_default_context(cafile='/ca.crt')}",
)


@_SETTINGS
@given(
    imports=st.sampled_from(POOL_CONFIG_IMPORTS),
    dsn=st.sampled_from(DSNS),
    fields=st.sampled_from(POOL_FIELDS),
    connect_kwargs=st.sampled_from(CONNECT_KWARGS),
    by_keyword=st.booleans(),
    wrapped_in_config=st.booleans(),
)
def test_a_litestar_pool_config_is_judged_as_the_pool_it_makes(
    tmp_path: Path,
    imports: tuple[str, str],
    dsn: str,
    fields: str,
    connect_kwargs: str | None,
    by_keyword: bool,
    wrapped_in_config: bool,
) -> None:
    statement, name = imports
    given_dsn = f"dsn={dsn}" if by_keyword else dsn
    spread = f", connect_kwargs={connect_kwargs}" if connect_kwargs is not None else ""
    made = f"{name}({given_dsn}{fields}{spread})"
    if wrapped_in_config:  # AsyncpgConfig(pool_config=PoolConfig(...)) on the same line
        made = f"AsyncpgConfig(pool_config={made})"
        statement = f"{statement}\nfrom litestar_asyncpg import AsyncpgConfig"
    direct_spread = f", **{connect_kwargs}" if connect_kwargs is not None else ""
    direct = f"asyncpg.create_pool(dsn={dsn}{fields}{direct_spread})"
    files = {
        name_: f"import os, ssl\n{head.replace(chr(10), '; ')}\n\napp = object()\nsite = {call}\n"
        for name_, head, call in (
            ("w.py", statement, made),
            ("d.py", "import asyncpg", direct),
        )
    }
    root = _project(tmp_path, (statement, made), files)
    wrapped, driver = _rules(root, "w.py", 5), _rules(root, "d.py", 5)
    assert wrapped == driver, made
    given = connect_kwargs or ""
    verified = "create_default_context" in given or ("verify-full" in dsn and "'ssl'" not in given)
    # a verified pool is quiet; any other PostgreSQL pool has a verdict (or VF108)
    assert bool(wrapped) != verified, made


def test_a_pool_config_of_another_library_is_no_site(tmp_path: Path) -> None:
    """A PoolConfig the project defines (or another library's) makes no pool here."""
    source = "from myapp.db import PoolConfig\nsite = PoolConfig(dsn='postgresql://db/app')\n"
    root = _project(tmp_path, "other", {"m.py": source})
    assert not _rules(root, "m.py", 2)


# --- 2. an unverified SSLContext: one finding where it is made, every call related -----

# (imports, statements making `ctx` in a function body or at module level, the rule, the
# offset of the deciding line within the statements: the factory, the last CERT_NONE or
# the check_hostname = False line)
MADE_CONTEXTS = (
    ("import ssl", ("ctx = ssl._create_unverified_context()",), "VF103", 0),
    (
        "from ssl import _create_unverified_context as unverified",
        ("ctx = unverified()",),
        "VF103",
        0,
    ),
    (
        "import ssl",
        (
            "ctx = ssl.create_default_context()",
            "ctx.check_hostname = False",
            "ctx.verify_mode = ssl.CERT_NONE",
        ),
        "VF103",
        2,
    ),
    (
        "import ssl",
        (
            "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)",
            "ctx.load_verify_locations('certs/ca.crt')",
            "ctx.check_hostname = False",
        ),
        "VF104",
        2,
    ),
)
# how a connection site is given the context: {ctx} is the name or the helper's call
CONTEXT_USES = (
    "await asyncpg.connect('postgresql://app@{host}/app', ssl={ctx})",
    "await asyncpg.create_pool(dsn='postgresql://app@{host}/app', ssl={ctx})",
    "create_async_engine('postgresql+asyncpg://app@{host}/app', connect_args={{'ssl': {ctx}}})",
)
SITE_HEAD = (
    "import asyncpg\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
    "from tls import CTX, make_ctx\n"
)


def _scan(root: Path) -> list[Finding]:
    return list(engine.scan([root], ScanSettings(project_root=root), jobs=1).report.findings)


@_SETTINGS
@given(
    made=st.sampled_from(MADE_CONTEXTS),
    in_helper=st.booleans(),
    uses=st.lists(
        st.tuples(st.sampled_from(CONTEXT_USES), st.booleans(), st.integers(0, 2)),
        min_size=1,
        max_size=4,
    ),
)
def test_a_context_made_unverified_is_one_finding_where_it_is_made(
    tmp_path: Path,
    made: tuple[str, tuple[str, ...], str, int],
    in_helper: bool,
    uses: list[tuple[str, bool, int]],
) -> None:
    imports, statements, rule, deciding = made
    if in_helper:  # def make_ctx(): ... return ctx; CTX = make_ctx()
        body = "".join(f"    {s}\n" for s in statements)
        tls = f"{imports}\n\n\ndef make_ctx():\n{body}    return ctx\n\n\nCTX = make_ctx()\n"
        decided_line = 5 + deciding
    else:  # module level; make_ctx hands the same context out
        body = "".join(f"{s}\n" for s in statements).replace("ctx", "CTX")
        tls = f"{imports}\n{body}\n\ndef make_ctx():\n    return CTX\n"
        decided_line = 2 + deciding
    sites: dict[str, list[str]] = {}
    calls: set[tuple[str, int]] = set()
    for index, (use, by_name, module) in enumerate(uses):
        call = use.format(host=f"db{index}.internal", ctx="CTX" if by_name else "make_ctx()")
        sites.setdefault(f"site{module}.py", []).append(call)
    files = {"tls.py": tls}
    for name, site_calls in sites.items():
        text = SITE_HEAD
        for number, call in enumerate(site_calls):
            text += f"\n\nasync def open_{number}():\n    return {call}\n"
            calls.add((name, SITE_HEAD.count("\n") + 4 * number + 4))
        files[name] = text
    root = _project(tmp_path, (made, in_helper, tuple(uses)), files)
    for name in files:
        _findings(root, name)  # filtered == full analysis, file by file
    found = [f for f in _scan(root) if f.rule_id in {"VF103", "VF104"}]
    assert [(f.rule_id, f.path, f.line) for f in found] == [(rule, "tls.py", decided_line)], files
    related = {(r.path, r.line) for r in found[0].related}
    assert calls <= related, (files, related)


# --- 3. a config dict constant spread by several calls: one finding at the dict ---------

# (driver import, call) spreading the dict; {name} is the dict's name at the call
SPREAD_CALLS = (
    ("import psycopg2", "psycopg2.connect(**{name})"),
    ("import psycopg", "psycopg.connect(**{name})"),
    ("import asyncpg", "await asyncpg.connect(**{name})"),
)
# the dict's entries (the TLS entry, if any, decides: then nothing moves)
DICT_ENTRIES = (
    ("'host': 'db.internal', 'dbname': 'app', 'user': 'app'", "VF102"),
    ("'host': '10.0.0.5', 'port': 26257, 'dbname': 'defaultdb'", "VF102"),
    ("'host': 'db.internal', 'dbname': 'app', 'sslmode': 'require'", None),
)


@_SETTINGS
@given(
    call=st.sampled_from(SPREAD_CALLS),
    entries=st.sampled_from(DICT_ENTRIES),
    aliased=st.booleans(),
    imported=st.booleans(),
    functions=st.integers(1, 4),
)
def test_a_config_dict_spread_by_several_calls_is_one_finding_at_the_dict(
    tmp_path: Path,
    call: tuple[str, str],
    entries: tuple[str, str | None],
    aliased: bool,
    imported: bool,
    functions: int,
) -> None:
    driver, spread = call
    body, rule = entries
    config = f"CRDB_CONFIG = {{{body}}}\n"
    name = "CRDB_CONFIG"
    if aliased:  # db_config = crdb_config (held-out-s18 CRDBKube)
        config += "DB_CONFIG = CRDB_CONFIG\n"
        name = "DB_CONFIG"
    head = f"import os\n{driver}\n"
    if imported:
        files = {"settings.py": config}
        head += f"from settings import {name}\n"
        dict_file, dict_line = "settings.py", 1
    else:
        head += config
        files = {}
        dict_file, dict_line = "app.py", 3
    text = head
    calls = []
    for index in range(functions):
        text += f"\n\nasync def job_{index}():\n    return {spread.format(name=name)}\n"
        calls.append(text.count("\n"))
    files["app.py"] = text
    root = _project(tmp_path, (call, entries, aliased, imported, functions), files)
    for file in files:
        _findings(root, file)  # filtered == full analysis, file by file
    found = [f for f in _scan(root) if f.rule_id in {"VF101", "VF102", "VF103", "VF108"}]
    if rule is None:  # the dict's own sslmode decides: one finding at that key (VF103)
        assert {f.rule_id for f in found} == {"VF103"}, files
        return
    assert [(f.rule_id, f.path, f.line) for f in found] == [(rule, dict_file, dict_line)], files
    assert {("app.py", line) for line in calls} <= {(r.path, r.line) for r in found[0].related}


def test_a_dict_a_function_writes_for_its_own_call_stays_at_the_call(tmp_path: Path) -> None:
    source = (
        "import psycopg2\n\n\ndef open_db():\n"
        "    params = {'host': 'db.internal', 'dbname': 'app'}\n"
        "    return psycopg2.connect(**params)\n"
    )
    root = _project(tmp_path, "local", {"app.py": source})
    assert [(f.rule_id, f.line) for f in _scan(root)] == [("VF102", 6)]


# --- 4. a Settings default in another module, whichever argument the site takes it in ----

# (import, call) with {url} where the settings attribute goes
SETTINGS_SITES = (
    ("from sqlalchemy import create_engine", "create_engine({url})"),
    ("from sqlalchemy.ext.asyncio import create_async_engine", "create_async_engine(url={url})"),
    ("import asyncpg", "asyncpg.create_pool(dsn={url})"),
    ("import psycopg", "psycopg.connect(conninfo={url})"),
    (
        "from litestar.plugins.sqlalchemy import SQLAlchemySyncConfig",
        "SQLAlchemySyncConfig(connection_string={url}, create_all=True)",
    ),
    (
        "from advanced_alchemy.config import SQLAlchemyAsyncConfig",
        "SQLAlchemyAsyncConfig(connection_string={url})",
    ),
)
SETTINGS_DEFAULTS = (
    ("postgresql://app@db.internal/app", "VF102"),
    ("postgresql://app@db.internal/app?sslmode=disable", "VF101"),
    ("postgresql://app@10.0.0.5:5432/app?sslmode=require", "VF103"),
)


@_SETTINGS
@given(
    site=st.sampled_from(SETTINGS_SITES),
    default=st.sampled_from(SETTINGS_DEFAULTS),
    as_str=st.booleans(),
)
def test_a_settings_default_is_the_place_whatever_argument_carries_it(
    tmp_path: Path, site: tuple[str, str], default: tuple[str, str], as_str: bool
) -> None:
    statement, call = site
    url, rule = default
    config = (
        "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
        f"    database_url: str = {url!r}\n\n\nsettings = Settings()\n"
    )
    given = "str(settings.database_url)" if as_str else "settings.database_url"
    made = call.format(url=given)
    app = f"{statement}\nfrom config import settings\n\nsite = {made}\n"
    root = _project(tmp_path, (site, default, as_str), {"config.py": config, "app.py": app})
    for file in ("config.py", "app.py"):
        _findings(root, file)  # filtered == full analysis
    transport = {"VF101", "VF102", "VF103", "VF104", "VF108"}
    found = [f for f in _scan(root) if f.rule_id in transport]
    assert [(f.rule_id, f.path, f.line) for f in found] == [(rule, "config.py", 5)], made
    assert ("app.py", 4) in {(r.path, r.line) for r in found[0].related}, made


# --- 5. an environment reader's placeholder default: only the deployment's world is real -

PLACEHOLDER_HOSTS = st.one_of(
    st.sampled_from(("HOST", "host", "<host>", "${DB_HOST}", "your-db-host", "<db-host>")),
    st.from_regex(r"your[-_][a-z]{2,8}[-_]host", fullmatch=True),
    st.from_regex(r"<[a-z_]{2,10}>", fullmatch=True),
)
WHOLE_PLACEHOLDERS = st.one_of(
    st.sampled_from(("your_database_url_here", "changeme", "<database-url>", "database_url")),
    st.from_regex(r"your[-_][a-z]{2,10}[-_]url", fullmatch=True),
    st.from_regex(r"\$\{[A-Z_]{2,12}\}", fullmatch=True),
)
# (the site with {value} where the env read goes, the variable read, the part it is)
READ_SITES = (
    ("create_engine({value})", "DATABASE_URL", "url"),
    ("psycopg2.connect({value})", "DATABASE_URL", "url"),
    ("psycopg2.connect(host='db.internal', dbname='app', sslmode={value})", "DB_SSLMODE", "mode"),
)


@_SETTINGS
@given(
    site=st.sampled_from(READ_SITES),
    host=PLACEHOLDER_HOSTS,
    whole=WHOLE_PLACEHOLDERS,
    by_host=st.booleans(),
    reader=st.sampled_from(("os.getenv", "os.environ.get")),
)
def test_a_placeholder_default_is_judged_as_the_deployed_value(
    tmp_path: Path,
    site: tuple[str, str, str],
    host: str,
    whole: str,
    by_host: bool,
    reader: str,
) -> None:
    call, variable, part = site
    if part == "url" and by_host:
        default = f"postgresql://user:password@{host}:5432/dbname"
    else:
        default = whole if part == "url" else f"<{host.strip('<>${}').lower() or 'mode'}>"
    head = "import os\nimport psycopg2\nfrom sqlalchemy import create_engine\n"
    files = {
        "p.py": f"{head}site = {call.format(value=f'{reader}({variable!r}, {default!r})')}\n",
        "d.py": f"{head}site = {call.format(value=f'os.environ[{variable!r}]')}\n",
    }
    root = _project(tmp_path, (site, default, reader), files)
    placeholder, deployed = _rules(root, "p.py", 4), _rules(root, "d.py", 4)
    assert placeholder == deployed, files["p.py"]
    assert placeholder, files["p.py"]  # judged (VF108 at least), never dropped


@_SETTINGS
@given(
    host=PLACEHOLDER_HOSTS,
    mode=st.sampled_from(("disable", "require", "verify-full&sslrootcert=/etc/ca.crt")),
)
def test_a_template_default_that_writes_sslmode_is_judged_as_written(
    tmp_path: Path, host: str, mode: str
) -> None:
    """A placeholder host, but the template tells deployers which sslmode to use: that
    mode is judged where it is written, as any default is."""
    default = f"postgresql://user:password@{host}:5432/app?sslmode={mode}"
    read = f"os.getenv('DB_URL', {default!r})"
    text = f"import os\nimport psycopg2\n\nsite = psycopg2.connect({read})\n"
    written = f"import psycopg2\n\nsite = psycopg2.connect({default!r})\n"
    root = _project(tmp_path, (host, mode), {"p.py": text, "w.py": written})
    assert _rules(root, "p.py", 4) == _rules(root, "w.py", 3), text


# --- 6. Alembic: the engine call's finding names where its URL is written -----------------

ENGINE_CALLS = (
    'engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.")',
    'create_engine(config.get_main_option("sqlalchemy.url"))',
    "engine_from_config(section, prefix='sqlalchemy.')",
)
ALEMBIC_URLS = (
    ("postgresql+psycopg2://migrator@db.internal/app", "VF102"),
    ("postgresql://migrator@db.internal/app?sslmode=disable", "VF101"),
    ("postgresql://migrator@10.0.0.5/app?sslmode=require", "VF103"),
)


@_SETTINGS
@given(
    call=st.sampled_from(ENGINE_CALLS),
    url=st.sampled_from(ALEMBIC_URLS),
    in_env_py=st.booleans(),
    ini_padding=st.integers(0, 6),
)
def test_an_alembic_engine_finding_names_where_its_url_is_written(
    tmp_path: Path, call: str, url: tuple[str, str], in_env_py: bool, ini_padding: int
) -> None:
    written, rule = url
    ini_url = "driver://user:pass@localhost/dbname" if in_env_py else written
    ini = "[alembic]\nscript_location = migrations\n" + "# a comment\n" * ini_padding
    ini += f"sqlalchemy.url = {ini_url}\n"
    setting = f"config.set_main_option('sqlalchemy.url', {written!r})\n" if in_env_py else ""
    env_py = (
        "from alembic import context\nfrom sqlalchemy import create_engine, engine_from_config\n"
        f"config = context.config\n{setting}"
        "def run_migrations_online():\n"
        "    section = config.get_section(config.config_ini_section)\n"
        f"    connectable = {call}\n"
    )
    root = _project(tmp_path, (call, url, in_env_py, ini_padding), {"alembic.ini": ini})
    (root / "migrations").mkdir(exist_ok=True)
    (root / "migrations" / "env.py").write_text(env_py, encoding="utf-8")
    call_line = env_py.count("\n")
    found = [f for f in _scan(root) if f.rule_id in {"VF101", "VF102", "VF103", "VF108"}]
    assert [(f.rule_id, f.path, f.line) for f in found] == [
        (rule, "migrations/env.py", call_line)
    ], env_py
    place = ("migrations/env.py", 4) if in_env_py else ("alembic.ini", 3 + ini_padding)
    assert place in {(r.path, r.line) for r in found[0].related}, (env_py, ini)


# --- 7. a flag inside a folded YAML scalar is reported on its own line ---------------------

FLAGS_BEFORE = ("--logtostderr", "--cache=.25", "--max-sql-memory=.25", "--store=/data")


@_SETTINGS
@given(
    before=st.lists(st.sampled_from(FLAGS_BEFORE), max_size=4),
    indent=st.integers(2, 8),
    style=st.sampled_from(("plain", "folded")),
    shell=st.booleans(),
)
def test_an_insecure_flag_in_a_folded_command_is_reported_on_its_line(
    tmp_path: Path, before: list[str], indent: int, style: str, shell: bool
) -> None:
    """A Kubernetes/compose command item written over several lines (a plain or `>`
    scalar, as held-out-s18 CRDBKube's StatefulSet): the shell reads it as one line;
    the finding still points at the line `--insecure` is written on."""
    pad = " " * indent
    lines = ["exec", "/cockroach/cockroach", "start", *before, "--insecure", "--join=crdb-0"]
    head = "apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  template:\n    spec:\n"
    head += "      containers:\n        - name: crdb\n          image: cockroachdb/cockroach\n"
    head += "          command:\n"
    if shell:
        head += '            - "/bin/bash"\n            - "-ecx"\n'
    if style == "plain":
        body = f"            - {lines[0]}\n" + "".join(f"            {pad}{w}\n" for w in lines[1:])
    else:
        body = "            - >\n" + "".join(f"              {w}\n" for w in lines)
    if not shell:  # the item is the program's argv itself: one word per item instead
        body = "".join(f"            - {w}\n" for w in lines[1:])
    text = head + body
    root = _project(tmp_path, (tuple(before), indent, style, shell), {"crdb.yaml": text})
    expected = (
        text.splitlines().index(
            next(line for line in text.splitlines() if line.strip().endswith("--insecure"))
        )
        + 1
    )
    found = [(f.rule_id, f.line) for f in _scan(root) if f.rule_id == "VF201"]
    assert found == [("VF201", expected)], text


# --- 8. a development fallback URL, a PostgreSQL driver among the dependencies -----------

DEPENDENCY_FILES = (
    ("requirements.txt", "Flask==3.0.0\npsycopg2-binary==2.9.9\n", True),
    ("requirements.txt", "flask\nasyncpg>=0.29\n", True),
    ("pyproject.toml", '[project]\ndependencies = ["flask>=3", "psycopg[binary]>=3.1"]\n', True),
    ("requirements.txt", "flask\nredis==5.0\nsqlalchemy\n", False),
    ("requirements.txt", "flask\npsycopg2-pool-helper==1.0\n", False),
)
FALLBACKS = (
    ("sqlite:///db.sqlite3", True),
    ("mysql://app@localhost/app", True),
    ("redis://localhost:6379/0", False),
)
URL_READS = (
    "os.getenv('DATABASE_URL', {fallback!r})",
    "os.environ.get('DATABASE_URL', {fallback!r})",
    "os.getenv('DATABASE_URL') or {fallback!r}",
)


@_SETTINGS
@given(
    dependencies=st.sampled_from(DEPENDENCY_FILES),
    fallback=st.sampled_from(FALLBACKS),
    read=st.sampled_from(URL_READS),
    flask=st.booleans(),
)
def test_a_development_fallback_in_a_postgresql_project_is_decided_at_deploy(
    tmp_path: Path,
    dependencies: tuple[str, str, bool],
    fallback: tuple[str, bool],
    read: str,
    flask: bool,
) -> None:
    file, content, declares = dependencies
    url, sql_backend = fallback
    value = read.format(fallback=url)
    if flask:
        app = (
            "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
            f"app = Flask(__name__)\napp.config['SQLALCHEMY_DATABASE_URI'] = {value}\n"
            "db = SQLAlchemy(app)\n"
        )
        line = 6  # a VF108 goes to the framework call that makes the engine
    else:
        app = f"import os\nfrom sqlalchemy import create_engine\nengine = create_engine({value})\n"
        line = 3
    root = _project(tmp_path, (dependencies, fallback, read, flask), {file: content, "app.py": app})
    found = _rules(root, "app.py", line)
    assert found == ({"VF108"} if declares and sql_backend else set()), (content, app)


# --- 9. a password wrapped in a secret type is the literal all the same ------------------

SECRET_WRAPPERS_WRITTEN = (
    ("from pydantic import SecretStr", "SecretStr({literal})"),
    ("import pydantic", "pydantic.SecretStr({literal})"),
    ("from pydantic import SecretBytes", "SecretBytes({literal_bytes})"),
    ("from starlette.datastructures import Secret", "Secret({literal})"),
)


@_SETTINGS
@given(
    wrapper=st.sampled_from(SECRET_WRAPPERS_WRITTEN),
    password=real_password(st.from_regex(r"[A-Za-z][A-Za-z0-9]{7,15}", fullmatch=True)),
    annotated=st.booleans(),
    name=st.sampled_from(("pg_password", "db_password", "database_password", "PGPASSWORD")),
)
def test_a_password_in_a_secret_wrapper_is_a_written_password(
    tmp_path: Path, wrapper: tuple[str, str], password: str, annotated: bool, name: str
) -> None:
    statement, made = wrapper
    value = made.format(literal=repr(password), literal_bytes=repr(password.encode()))
    kind = made.split("(", 1)[0].rsplit(".", 1)[-1]
    annotation = f": {kind}" if annotated else ""
    text = (
        f"{statement}\nfrom pydantic_settings import BaseSettings\n\n\n"
        f"class Settings(BaseSettings):\n    {name}{annotation} = {value}\n"
    )
    root = _project(tmp_path, (wrapper, password, annotated, name), {"settings.py": text})
    assert ("VF401", 6) in _findings(root, "settings.py"), text  # filtered == full too


# --- 10. Python 3.12+ type parameters do not hide a module from the scanner --------------

TYPE_PARAMS = ("[T]", "[T: int]", "[*Ts]", "[**P, T]", "[T = int]", "[T: (int, str), U]")
# (generic construct, its plain spelling) with {p} for the parameter list; same lines
GENERIC_CONSTRUCTS = (
    ("def helper{p}(x): return x", "def helper(x): return x"),
    ("async def fetch{p}(x): return x", "async def fetch(x): return x"),
    ("class Repo{p}:\n    pass", "class Repo:\n    pass"),
    (
        "class Repo{p}(object):\n    def get{p}(self): return self",
        "class Repo(object):\n    def get(self): return self",
    ),
    ("type Rows{p} = list", "Rows = list"),
    ("type Alias = int", "Alias = int"),
)
SITES_312 = (
    "engine = create_engine('postgresql://app@db.internal/app?sslmode=disable')",
    "conn = psycopg2.connect(host='db.internal', dbname='app', sslmode='require')",
    "conn = psycopg2.connect(host='db.internal', dbname='app', password='Kq7vR2pLm9')",
)


@_SETTINGS
@given(
    constructs=st.lists(
        st.tuples(st.sampled_from(GENERIC_CONSTRUCTS), st.sampled_from(TYPE_PARAMS)),
        min_size=1,
        max_size=3,
    ),
    site=st.sampled_from(SITES_312),
    inside=st.booleans(),
)
def test_a_module_with_type_parameters_is_judged_as_without_them(
    tmp_path: Path,
    constructs: list[tuple[tuple[str, str], str]],
    site: str,
    inside: bool,
) -> None:
    head = "import psycopg2\nfrom sqlalchemy import create_engine\n\n"
    generic = "\n\n".join(made.format(p=params) for (made, _), params in constructs)
    plain = "\n\n".join(spelled for (_, spelled), _ in constructs)
    if inside:  # the site in a generic function's body
        body = f"\n\n\ndef open_db[T](kind: T):\n    {site}\n    return kind\n"
        plain_body = f"\n\n\ndef open_db(kind):\n    {site}\n    return kind\n"
    else:
        body = plain_body = f"\n\n{site}\n"
    files = {"g.py": head + generic + body, "p.py": head + plain + plain_body}
    root = _project(tmp_path, (tuple(constructs), site, inside), files)
    assert _findings(root, "g.py") == _findings(root, "p.py") != set(), files["g.py"]


# --- 11. one name rebound to several contexts: each connection gets its own --------------

CONTEXT_STATES = (
    (("ctx.check_hostname = False", "ctx.verify_mode = ssl.CERT_NONE"), "VF103", 1),
    (("ctx.verify_mode = ssl.CERT_NONE",), "VF103", 0),
    (("ctx.check_hostname = False",), "VF104", 0),
    ((), None, 0),
)
HANDED = (
    "engine = create_async_engine('postgresql+asyncpg://app@db{n}.internal/app', "
    "connect_args={{'ssl': ctx}})",
    "args = {{}}\nargs['ssl'] = ctx\n"
    "engine = create_async_engine('postgresql+asyncpg://app@db{n}.internal/app', "
    "connect_args=args)",
)


@_SETTINGS
@given(
    blocks=st.lists(
        st.tuples(st.sampled_from(CONTEXT_STATES), st.sampled_from(HANDED), st.booleans()),
        min_size=2,
        max_size=4,
    )
)
def test_each_context_a_name_is_rebound_to_decides_its_own_connection(
    tmp_path: Path, blocks: list[tuple[tuple[tuple[str, ...], str | None, int], str, bool]]
) -> None:
    lines = ["import ssl", "from sqlalchemy.ext.asyncio import create_async_engine"]
    expected: list[tuple[str, int, int]] = []  # (rule, deciding line, connection line)
    for n, ((changes, rule, deciding), handed, in_branch) in enumerate(blocks):
        pad = "    " if in_branch else ""
        if in_branch:
            lines.append(f"if SETTING_{n}:")
        lines.append(f"{pad}ctx = ssl.create_default_context(cafile='ca.crt')")
        first = len(lines) + 1
        lines += [f"{pad}{change}" for change in changes]
        lines += [f"{pad}{part}" for part in handed.format(n=n).split("\n")]
        if rule is not None:
            expected.append((rule, first + deciding, len(lines)))
    text = "\n".join(lines) + "\n"
    root = _project(tmp_path, tuple(blocks), {"tls.py": text})
    _findings(root, "tls.py")  # filtered == full analysis
    found = [f for f in _scan(root) if f.rule_id in {"VF101", "VF102", "VF103", "VF104"}]
    assert sorted((f.rule_id, f.line) for f in found) == sorted((r, d) for r, d, _ in expected), (
        text
    )
    for rule, deciding, connection in expected:
        item = next(f for f in found if (f.rule_id, f.line) == (rule, deciding))
        assert ("tls.py", connection) in {(r.path, r.line) for r in item.related}, text


# --- 12. a read inside an arm sees the binding made on its own path ----------------------

URL_MODES = ("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full&sslrootcert=/ca")


@_SETTINGS
@given(
    outer=st.sampled_from(URL_MODES),
    inner=st.sampled_from(URL_MODES),
    nested=st.booleans(),
    else_arm=st.booleans(),
)
def test_a_read_in_an_arm_after_a_binding_there_reads_only_that_binding(
    tmp_path: Path, outer: str, inner: str, nested: bool, else_arm: bool
) -> None:
    """`url = A` then `if prod: url = B; connect(url)`: the call in the arm reads B only;
    the same program without `url = A` has the same findings at the call."""
    indent = "        " if nested else "    "
    guard = "if PROD:\n" + ("    if REGION:\n" if nested else "")
    arm = f"{guard}{indent}url = 'postgresql://app@db.internal/app{inner}'\n"
    arm += f"{indent}conn = psycopg2.connect(url)\n"
    if else_arm:
        arm += "else:\n    conn = None\n"
    head = "import psycopg2\n"
    first = f"url = 'postgresql://app@db.internal/app{outer}'\n"
    files = {"two.py": head + first + arm, "one.py": head + "\n" + arm}
    root = _project(tmp_path, (outer, inner, nested, else_arm), files)
    call_line = (head + first + arm).splitlines().index(f"{indent}conn = psycopg2.connect(url)") + 1
    assert _rules(root, "two.py", call_line) == _rules(root, "one.py", call_line), files["two.py"]


# --- 13. a backup copy of a config file: its passwords leak, its settings are not live ---

# (file name, text with {pw} for the password; each has a weak transport setting too)
BACKED_UP = (
    ("config.toml", '[database]\nurl = "postgresql://app:{pw}@db.internal/app?sslmode=disable"\n'),
    (".env", "DATABASE_URL=postgresql://app:{pw}@db.internal/app?sslmode=disable\n"),
    (
        "docker-compose.yml",
        "services:\n  api:\n    image: app\n    environment:\n"
        "      DATABASE_URL: postgresql://app:{pw}@db.internal/app?sslmode=disable\n",
    ),
    (
        "settings.py",
        "import psycopg2\n\nconn = psycopg2.connect("
        "'postgresql://app:{pw}@db.internal/app?sslmode=disable')\n",
    ),
)


@_SETTINGS
@given(
    original=st.sampled_from(BACKED_UP),
    suffix=st.sampled_from((".bak", ".orig", ".old", ".backup", ".save")),
    password=real_password(st.from_regex(r"[A-Za-z][A-Za-z0-9]{9,14}", fullmatch=True)),
)
def test_a_backup_copy_is_read_for_its_secrets_only(
    tmp_path: Path, original: tuple[str, str], suffix: str, password: str
) -> None:
    name, text = original
    content = text.format(pw=password)
    root = _project(tmp_path, (original, suffix, password), {name: content, name + suffix: content})
    found = _scan(root)
    live = {f.rule_id for f in found if f.path == name}
    copy = {f.rule_id for f in found if f.path == name + suffix}
    assert "VF401" in live and "VF101" in live, content
    assert copy == {"VF401"}, (name + suffix, copy)


# --- 14. a backend guard through a flag, or on the name the URL is made from ------------

FLAG_TESTS = (
    ("is_sqlite = 'sqlite' in {src}.lower()", "if is_sqlite:", True),
    ("is_sqlite = {src}.startswith('sqlite')", "if is_sqlite:", True),
    ("is_pg = {src}.startswith(('postgresql', 'postgres'))", "if not is_pg:", True),
    ("is_pg = 'postgres' in {src}", "if is_pg:", False),
    (None, "if 'sqlite' in {src}:", True),
)
DERIVATIONS = (
    ("url", ""),
    ("sqlite_url", "    sqlite_url = {src}.replace('sqlite:///', 'sqlite+aiosqlite:///')\n"),
    ("engine_url", "    engine_url = str({src})\n"),
)


@_SETTINGS
@given(
    flag=st.sampled_from(FLAG_TESTS),
    derived=st.sampled_from(DERIVATIONS),
    source=st.sampled_from(("database_url", "settings.database_url")),
)
def test_a_backend_guard_through_a_flag_or_a_source_name_holds_the_site(
    tmp_path: Path, flag: tuple[str | None, str, bool], derived: tuple[str, str], source: str
) -> None:
    """`is_sqlite = "sqlite" in url.lower()` … `if is_sqlite: create_async_engine(
    sqlite_url)` with `sqlite_url` made from the tested URL: the site runs for SQLite only
    (no finding); a guard that holds it for PostgreSQL leaves it judged."""
    binding, test, other = flag
    name, making = derived
    head = "import os\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
    head += "from config import settings\n"
    head += "database_url = os.getenv('DATABASE_URL', 'postgresql+asyncpg://app@db.internal/app')\n"
    if binding is not None:
        head += binding.format(src=source) + "\n"
    url = source if name == "url" else name
    body = f"{test.format(src=source)}\n{making.format(src=source)}"
    body += f"    engine = create_async_engine({url})\n"
    config = (
        "from pydantic_settings import BaseSettings\n\n\nclass S(BaseSettings):\n"
        "    database_url: str = 'postgresql+asyncpg://app@db.internal/app'\n\n\nsettings = S()\n"
    )
    text = head + body
    root = _project(tmp_path, (flag, derived, source), {"app.py": text, "config.py": config})
    line = text.count("\n")
    found = _rules(root, "app.py", line) | {
        f.rule_id for f in _scan(root) if any(r.line == line for r in f.related)
    }
    assert (not found) == other, text


# --- 15. GitHub Actions `${{ matrix.NAME }}`: the value the job's matrix gives ------------


@_SETTINGS
@given(
    password=real_password(st.from_regex(r"[A-Za-z][A-Za-z0-9]{7,12}", fullmatch=True)),
    name=st.sampled_from(("database-password", "db_password", "pg-pass")),
    values=st.integers(1, 3),
    where=st.sampled_from(("env", "services")),
    padding=st.integers(0, 3),
)
def test_a_matrix_password_is_reported_where_the_matrix_writes_it(
    tmp_path: Path, password: str, name: str, values: int, where: str, padding: int
) -> None:
    items = "".join(f"          - {password}{'' if i == 0 else i}\n" for i in range(values))
    matrix = "    strategy:\n      matrix:\n" + "        python: ['3.12']\n" * padding
    matrix += f"        {name}:\n{items}"
    reference = f"${{{{ matrix.{name} }}}}"
    if where == "env":
        use = f"    env:\n      POSTGRES_PASSWORD: {reference}\n"
    else:
        use = (
            "    services:\n      postgres:\n        image: postgres:16\n        env:\n"
            f"          POSTGRES_PASSWORD: {reference}\n"
        )
    text = f"name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n{matrix}{use}"
    text += "    steps:\n      - run: pytest\n"
    root = _project(tmp_path, (password, name, values, where, padding), {"ci.yml": text})
    (root / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    (root / "ci.yml").rename(root / ".github" / "workflows" / "ci.yml")
    matrix_line = text.splitlines().index(f"          - {password}") + 1
    found = {(f.rule_id, f.line) for f in _scan(root) if f.rule_id == "VF401"}
    # one value: that literal is the job's password; several: each run its own, the
    # reference stays an expression (not judged as a literal)
    assert found == ({("VF401", matrix_line)} if values == 1 else set()), text


# --- 16. pg_hba lines written through the postgres image's POSTGRES_HOST_AUTH_METHOD -----

INJECTED_LINES = (
    ("host replication all 0.0.0.0/0 md5", True),
    ("host all all 10.0.0.0/8 scram-sha-256", True),
    ("hostssl all all 0.0.0.0/0 scram-sha-256", False),
    ("local all all trust", False),
)


@_SETTINGS
@given(
    method=st.sampled_from(("scram-sha-256", "md5", "password")),
    injected=st.lists(st.sampled_from(INJECTED_LINES), max_size=2),
    quoted=st.booleans(),
)
def test_pg_hba_lines_written_through_the_auth_method_are_judged(
    tmp_path: Path, method: str, injected: list[tuple[str, bool]], quoted: bool
) -> None:
    """The image writes `host all all all $POSTGRES_HOST_AUTH_METHOD`: a value with line
    breaks adds pg_hba lines of its own; a `host` line among them accepts plaintext
    (VF202 at the setting); the image's own first line is its default, not judged here."""
    value = "\\n".join([method, *(line for line, _ in injected)])
    written = f'"{value}"' if quoted or injected else value
    text = (
        "services:\n  db:\n    image: postgres:16\n    environment:\n"
        f"      POSTGRES_HOST_AUTH_METHOD: {written}\n"
    )
    root = _project(tmp_path, (method, tuple(injected), quoted), {"docker-compose.yml": text})
    found = {(f.rule_id, f.line) for f in _scan(root) if f.rule_id == "VF202"}
    plaintext = any(accepts for _, accepts in injected)
    assert found == ({("VF202", 5)} if plaintext else set()), text


# --- 17. pgbouncer.ini: the pooler's two TLS legs ------------------------------------------

CLIENT_MODES = {None: "VF201", "disable": "VF201", "allow": "VF202", "prefer": "VF202"}
CLIENT_MODES |= {"require": None, "verify-ca": None, "verify-full": None}
SERVER_MODES = {None: "VF102", "disable": "VF101", "allow": "VF102", "prefer": "VF102"}
SERVER_MODES |= {"require": "VF103", "verify-ca": "VF104", "verify-full": None}


@_SETTINGS
@given(
    client=st.sampled_from(sorted(CLIENT_MODES, key=str)),
    server=st.sampled_from(sorted(SERVER_MODES, key=str)),
    databases=st.integers(0, 3),
    spaced=st.booleans(),
)
def test_a_pgbouncer_ini_is_judged_by_its_two_tls_legs(
    tmp_path: Path, client: str | None, server: str | None, databases: int, spaced: bool
) -> None:
    eq = " = " if spaced else "="
    lines = ["[databases]"]
    lines += [f"app{n}{eq}host=db{n}.internal port=5432 dbname=app{n}" for n in range(databases)]
    lines += ["", "[pgbouncer]", f"listen_addr{eq}0.0.0.0", f"auth_type{eq}scram-sha-256"]
    if client is not None:
        lines.append(f"client_tls_sslmode{eq}{client}")
    if server is not None:
        lines.append(f"server_tls_sslmode{eq}{server}")
    text = "\n".join(lines) + "\n"
    root = _project(tmp_path, (client, server, databases, spaced), {"pgbouncer.ini": text})
    transport = {"VF101", "VF102", "VF103", "VF104", "VF201", "VF202"}
    found = sorted(f.rule_id for f in _scan(root) if f.rule_id in transport)
    expected = sorted(r for r in (CLIENT_MODES[client], SERVER_MODES[server]) if r is not None)
    assert found == expected, text


# --- 18. pgpool.conf: a pooler that offers no TLS ------------------------------------------

PGPOOL_SSL = {
    None: True,
    "off": True,
    "false": True,
    "'off'": True,
    "0": True,
    "on": False,
    "true": False,
    "'on'": False,
}


@_SETTINGS
@given(
    ssl=st.sampled_from(sorted(PGPOOL_SSL, key=str)),
    before=st.integers(0, 4),
    commented_on=st.booleans(),
    with_keys=st.booleans(),
)
def test_a_pgpool_conf_without_ssl_is_a_server_without_tls(
    tmp_path: Path, ssl: str | None, before: int, commented_on: bool, with_keys: bool
) -> None:
    lines = ["listen_addresses = '*'", "port = 5678"] + [
        f"num_init_children = {n}" for n in range(before)
    ]
    if commented_on:
        lines.append("#ssl = on")  # a comment sets nothing
    if ssl is not None:
        lines.append(f"ssl = {ssl}")
    at = len(lines) if ssl is not None else 1
    if with_keys:
        lines += ["ssl_key = 'server.key'", "ssl_cert = 'server.crt'"]
    text = "\n".join(lines) + "\n"
    root = _project(tmp_path, (ssl, before, commented_on, with_keys), {"pgpool.conf": text})
    found = [(f.rule_id, f.line) for f in _scan(root) if f.rule_id == "VF201"]
    # `ssl = on` offers TLS only with both the key and the certificate
    if not PGPOOL_SSL[ssl] and with_keys:
        assert found == [], text
    else:
        assert found == [("VF201", at)], text


def test_the_type_parameter_rewrite_grows_linearly_on_hostile_input() -> None:
    """Ten times the nesting takes at most twenty times as long (the trust bound): the
    `def` names inside a parameter list already blanked are not searched again."""

    def seconds(count: int) -> float:
        text = "def f[" + "def g[" * count + "T" + "]" * (count + 1) + "(x): pass\n"
        start = time.perf_counter()
        assert typeparams.downlevel(text, MAX_REWRITE) is not None
        return time.perf_counter() - start

    small = large = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):  # interleaved, best of each size: load slows a pair, not a size
            small = min(small, seconds(1_000))
            large = min(large, seconds(10_000))
    finally:
        gc.enable()
    assert large <= 20 * small + 0.05, (small, large)
    assert typeparams.downlevel("def f[T](x): pass\n" * 10, 10) is None  # past the cap
