"""The fixer never adds a finding (issue 15: "0 new findings anywhere after the fix").

Generated projects in the shapes the corpus showed the fixer or the scanner getting
wrong, fixed with every fix (`--unsafe-fixes`), written and scanned again: no finding
(per file and rule) that the original lacked, every changed module compiles, and a
second run plans nothing.

- One URL constant read by a site that takes an SSLContext and ignores the string's TLS
  keys (asyncpg's connect/create_pool, encode/databases' Database, GINO's set_bind) and
  by libpq sites (SQLAlchemy engines, psycopg, psycopg2): TLS keys written into the
  string for the libpq sites were a new VF105 at the other one (Moulik07's database.py).
  The libpq sites now take keyword arguments / connect_args, which libpq and SQLAlchemy
  take over the string's.
"""

from __future__ import annotations

import os
import shutil
import ssl
import sys
import types
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from verifyfull.certs.create import create_ca
from verifyfull.conninfo import parse_dsn
from verifyfull.fix.plan import plan_fixes
from verifyfull.scan import engine
from verifyfull.scan.settings import load

_EXAMPLES = settings(
    max_examples=int(os.environ.get("VERIFYFULL_FIX_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MODES = st.sampled_from([None, "disable", "prefer", "require", "verify-ca", "verify-full"])


def _counts(root: Path) -> Counter[tuple[str, str]]:
    findings = engine.scan([root], load(root), jobs=1).report.findings
    return Counter((str(f.path), f.rule_id) for f in findings)


def assert_fix_adds_nothing(tmp_path: Path, files: dict[str, str]) -> Path:
    """The project of `files` (with an empty pyproject.toml), fixed and written: nothing
    new is reported, changed modules compile, a second run plans nothing."""
    root = tmp_path / "proj"
    shutil.rmtree(root, ignore_errors=True)  # hypothesis reuses tmp_path
    for name, text in {"pyproject.toml": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    before = _counts(root)
    plan = plan_fixes([root], load(root), unsafe=True)
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
        if fix.relpath.endswith(".py"):
            compile(fix.after, fix.relpath, "exec")
    after = _counts(root)
    new = {key: n - before[key] for key, n in after.items() if n > before[key]}
    assert not new, f"new after the fix: {new}\n" + "".join(
        f"--- {fix.relpath}\n{fix.after.decode()}" for fix in plan.fixes
    )
    assert plan_fixes([root], load(root), unsafe=True).fixes == ()
    return root


# -- one URL, an SSLContext reader and libpq readers ------------------------------------

_CONTEXT_READERS = {
    "asyncpg": ("import asyncpg\n", "    await asyncpg.connect({url})\n"),
    "pool": ("import asyncpg\n", "    await asyncpg.create_pool(dsn={url})\n"),
    "databases": ("from databases import Database\n", "    Database({url})\n"),
    "gino": (
        "from gino import Gino\n\ndb = Gino()\n",
        "    await db.set_bind({url})\n",
    ),
}
_LIBPQ_READERS = {
    "engine": ("from sqlalchemy import create_engine\n", "    create_engine({url})\n"),
    "psycopg": ("import psycopg\n", "    psycopg.connect({url})\n"),
    "psycopg2": ("import psycopg2\n", "    psycopg2.connect({url})\n"),
}


def _url(mode: str | None, root: bool) -> str:
    query = [f"sslmode={mode}"] if mode else []
    if root and mode:
        query.append("sslrootcert=/etc/ssl/db-ca.crt")
    return "postgresql://app@db.internal:5432/shop" + ("?" + "&".join(query) if query else "")


@_EXAMPLES
@given(
    context=st.sampled_from(sorted(_CONTEXT_READERS)),
    libpq=st.lists(st.sampled_from(sorted(_LIBPQ_READERS)), min_size=1, max_size=2, unique=True),
    mode=MODES,
    root=st.booleans(),
    context_first=st.booleans(),
)
def test_a_url_an_sslcontext_site_reads_gets_no_tls_keys_for_the_libpq_sites(
    tmp_path: Path,
    context: str,
    libpq: list[str],
    mode: str | None,
    root: bool,
    context_first: bool,
) -> None:
    readers = [_CONTEXT_READERS[context], *(_LIBPQ_READERS[k] for k in libpq)]
    if not context_first:
        readers = readers[1:] + readers[:1]
    imports = "".join(sorted({imp for imp, _ in readers}))
    calls = "".join(call.format(url="DATABASE_URL") for _, call in readers)
    module = f'{imports}\nDATABASE_URL = "{_url(mode, root)}"\n\n\nasync def main():\n{calls}'
    assert_fix_adds_nothing(tmp_path, {"app/db.py": module})


# -- a URL not seen here, TLS decided by the call's own arguments once fixed ----------
#
# Before the fix the site was reported for what its arguments say (no ssl: asyncpg's
# prefer; sslmode=require: no certificate check); after it, the arguments decide TLS
# whatever the URL says, and the scanner must judge them so, not call the site
# deploy-decided (a new VF108): GINO passes none of the URL's query to asyncpg
# (hubot-huntflow's set_bind(postgres_url)); an engine's connect_args name the root as
# an environment read, a file named (uconnect's check_db.py).

_UNSEEN_URLS = {
    "parameter": ("", "url"),
    "getenv": ('URL = os.getenv("DATABASE_URL")\n', "URL"),
    "environ": ('URL = os.environ["DATABASE_URL"]\n', "URL"),
    # one caller passes a literal, one its own parameter: the first world was reported
    # (the literal's verdict), the second's VF108 held back behind it until the fix
    "callers": ("", "url"),
}
_CALLERS = (
    '\n\ndef main():\n    return {f}("postgresql://app@db.internal/shop")\n'
    "\n\ndef cli(conn):\n    return {f}(conn)\n"
)


@_EXAMPLES
@given(
    ssl_arg=st.sampled_from([None, '"require"', "True", '"prefer"']),
    url=st.sampled_from(sorted(_UNSEEN_URLS)),
)
def test_gino_set_bind_with_an_unseen_url(tmp_path: Path, ssl_arg: str | None, url: str) -> None:
    binding, name = _UNSEEN_URLS[url]
    extra = f", ssl={ssl_arg}" if ssl_arg else ""
    module = (
        f"import os\n\nfrom gino import Gino\n\ndb = Gino()\n{binding}\n\n"
        f"async def run(url):\n    await db.set_bind({name}{extra})\n"
    ) + (_CALLERS.format(f="run") if url == "callers" else "")
    assert_fix_adds_nothing(tmp_path, {"app/models.py": module})


@_EXAMPLES
@given(
    call=st.sampled_from(["create_engine", "create_async_engine"]),
    mode=st.sampled_from(["disable", "allow", "prefer", "require", "verify-ca"]),
    url=st.sampled_from(sorted(_UNSEEN_URLS)),
)
def test_an_engine_with_an_unseen_url_and_libpq_connect_args(
    tmp_path: Path, call: str, mode: str, url: str
) -> None:
    binding, name = _UNSEEN_URLS[url]
    where = "sqlalchemy.ext.asyncio" if call == "create_async_engine" else "sqlalchemy"
    module = (
        f"import os\n\nfrom {where} import {call}\n\n{binding}\n\n"
        f'def make(url):\n    return {call}({name}, connect_args={{"sslmode": "{mode}"}})\n'
    ) + (_CALLERS.format(f="make") if url == "callers" else "")
    assert_fix_adds_nothing(tmp_path, {"app/db.py": module})


# -- peewee databases and psycopg2 pools: keyword arguments handed to libpq ------------

_KEYWORD_SITES = {
    "peewee": ("from peewee import PostgresqlDatabase\n", "PostgresqlDatabase", '"shop"'),
    "peewee-pool": (
        "from playhouse.pool import PooledPostgresqlDatabase\n",
        "PooledPostgresqlDatabase",
        '"shop", max_connections=8',
    ),
    "pool": ("from psycopg2 import pool\n", "pool.ThreadedConnectionPool", "1, 10"),
    "simple-pool": (
        "import psycopg2.pool\n",
        "psycopg2.pool.SimpleConnectionPool",
        '1, 4, dsn="host=db.internal dbname=shop"',
    ),
}


@_EXAMPLES
@given(
    site=st.sampled_from(sorted(_KEYWORD_SITES)),
    mode=st.sampled_from([None, "disable", "prefer", "require", "verify-ca"]),
    star=st.booleans(),
)
def test_keyword_sites_get_the_libpq_keywords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: str, mode: str | None, star: bool
) -> None:
    imports, call, first = _KEYWORD_SITES[site]
    if star and site.startswith("peewee"):
        # `from peewee import *` may bind `os`: the fix reads `_os.environ`, which the
        # scanner cannot see through; an unseen sslrootcert is still a root named
        module = imports.split()[1]  # from peewee / playhouse.pool import …
        imports = f"from {module} import *\n" + ("import os\n" if site == "peewee" else "")
        call = call.rsplit(".", 1)[-1]
    given_mode = f', sslmode="{mode}"' if mode else ""
    module = f'{imports}\nDB = {call}({first}, host="db.internal", user="app"{given_mode})\n'
    root = assert_fix_adds_nothing(tmp_path, {"app/db.py": module})
    after = engine.scan([root], load(root), jobs=1).report.findings
    assert not [f for f in after if f.rule_id in {"VF101", "VF102", "VF103", "VF104"}]
    # executed with stand-ins that keep what the call would hand psycopg2.connect
    seen: dict[str, object] = {}

    def keep(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)

    stub = types.SimpleNamespace(
        PostgresqlDatabase=keep,
        PooledPostgresqlDatabase=keep,
        ThreadedConnectionPool=keep,
        SimpleConnectionPool=keep,
    )
    for name in ("peewee", "playhouse", "playhouse.pool", "psycopg2", "psycopg2.pool"):
        monkeypatch.setitem(sys.modules, name, stub)
    stub.pool = stub
    monkeypatch.setenv("DB_CA_PATH", "/etc/ssl/db ca.crt")
    monkeypatch.delenv("DB_CERT_PATH", raising=False)
    exec(compile((root / "app/db.py").read_text(), "db.py", "exec"), {})
    dsn = str(seen.get("dsn", ""))
    params = conninfo_to_dict(
        make_conninfo(dsn, **{k: v for k, v in seen.items() if k.startswith("ssl")})
    )
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == "/etc/ssl/db ca.crt"


# -- Flask config mappings written as a dict -------------------------------------------


@pytest.fixture(scope="module")
def ca_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    certs = tmp_path_factory.mktemp("ca")
    create_ca(certs / "certs", certs / "ca.key")
    return str(certs / "certs" / "ca.crt")


_FLASK_URLS = {
    "literal": '"postgresql://app@db.internal/shop{query}"',
    "psycopg2": '"postgresql+psycopg2://app@db.internal/shop{query}"',
    "asyncpg": '"postgresql+asyncpg://app@db.internal/shop"',
    "getenv": "f\"postgresql://{{os.getenv('PGUSER')}}@{{os.getenv('PGHOST')}}/shop\"",
}
_FLASK_OPTIONS = {
    "none": "",
    "pool": '"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5},',
    "connect_args": '"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 3}},',
}


@_EXAMPLES
@given(
    url=st.sampled_from(sorted(_FLASK_URLS)),
    mode=st.sampled_from([None, "disable", "require", "verify-ca"]),
    options=st.sampled_from(sorted(_FLASK_OPTIONS)),
    helper=st.booleans(),
    single=st.booleans(),
)
def test_flask_config_dicts_get_engine_options(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ca_path: str,
    url: str,
    mode: str | None,
    options: str,
    helper: bool,
    single: bool,
) -> None:
    value = _FLASK_URLS[url].format(query=f"?sslmode={mode}" if mode else "")
    entries = f'"DEBUG": True, "SQLALCHEMY_DATABASE_URI": {value}, {_FLASK_OPTIONS[options]}'
    if single:  # the file's quotes: fixed entries take them
        entries = entries.replace('"', "'") if url != "getenv" else entries
    body = f"def config():\n    return {{{entries}}}\n" if helper else f"CONFIG = {{{entries}}}\n"
    module = f"import os\n\n{body}\n"
    extension = "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n"
    files = {"app/config.py": module, "app/extensions.py": extension}
    root = assert_fix_adds_nothing(tmp_path, files)
    after = engine.scan([root], load(root), jobs=1).report.findings
    assert not [f for f in after if f.rule_id in {"VF101", "VF102", "VF103", "VF104", "VF105"}]
    monkeypatch.setenv("DB_CA_PATH", ca_path)
    monkeypatch.delenv("DB_CERT_PATH", raising=False)
    namespace: dict[str, object] = {}
    exec(compile((root / "app/config.py").read_text(), "config.py", "exec"), namespace)
    config = namespace["config"]() if helper else namespace["CONFIG"]  # type: ignore[operator]
    engine_options = config["SQLALCHEMY_ENGINE_OPTIONS"]
    connect_args = engine_options["connect_args"]
    if options == "pool":
        assert engine_options["pool_size"] == 5
    if options == "connect_args":
        assert connect_args["connect_timeout"] == 3
    if url == "asyncpg":
        context = connect_args["ssl"]
        assert isinstance(context, ssl.SSLContext) and context.check_hostname
        assert context.verify_mode == ssl.CERT_REQUIRED
    else:
        assert (connect_args["sslmode"], connect_args["sslrootcert"]) == ("verify-full", ca_path)


# -- connect imported bare: `from psycopg2 import connect` ------------------------------


@_EXAMPLES
@given(
    module=st.sampled_from(["psycopg", "psycopg2"]),
    alias=st.sampled_from(["", " as pg_connect"]),
    mode=st.sampled_from([None, "disable", "prefer", "require", "verify-ca"]),
    keywords=st.booleans(),
)
def test_connect_imported_by_name(
    tmp_path: Path, module: str, alias: str, mode: str | None, keywords: bool
) -> None:
    name = alias.split()[-1] if alias else "connect"
    given_mode = f', sslmode="{mode}"' if mode else ""
    args = (
        f'dbname="shop", host="db.internal", user="app"{given_mode}'
        if keywords
        else f'"host=db.internal dbname=shop user=app{" sslmode=" + mode if mode else ""}"'
    )
    text = f"from {module} import connect{alias}\n\n\ndef open_db():\n    return {name}({args})\n"
    root = assert_fix_adds_nothing(tmp_path, {"app/db.py": text})
    after = engine.scan([root], load(root), jobs=1).report.findings
    assert not [f for f in after if f.rule_id in {"VF101", "VF102", "VF103", "VF104", "VF105"}]


# -- URLs with template expressions in CI and Ansible files ------------------------------

_EXPRESSIONS = [
    "${{ secrets.DB_PASSWORD }}",
    "${{ job.services.postgres.ports['5432'] }}",
    "${{ env.DB_HOST }}",
    "{{ database_user }}",
    "{{ database_port }}",
]
_PARTS = ("user", "password", "host", "port", "database")
_LITERAL = {
    "user": "app",
    "password": "pw",
    "host": "db.internal",
    "port": "5432",
    "database": "shop",
}


@_EXAMPLES
@given(
    parts=st.fixed_dictionaries({p: st.sampled_from([None, *_EXPRESSIONS]) for p in _PARTS}),
    mode=st.sampled_from([None, "disable", "prefer", "require"]),
    quoted=st.booleans(),
    where=st.sampled_from([".github/workflows/ci.yml", "roles/app/tasks/main.yml"]),
)
def test_urls_with_template_expressions_get_verify_full(
    tmp_path: Path, parts: dict[str, str | None], mode: str | None, quoted: bool, where: str
) -> None:
    value = {p: parts[p] or _LITERAL[p] for p in _PARTS}
    url = "postgresql://{user}:{password}@{host}:{port}/{database}".format(**value)
    url += f"?sslmode={mode}" if mode else ""
    written = f'"{url}"' if quoted or url.split("://")[1].startswith("{") else url
    text = f"name: ci\non: push\nenv:\n  DATABASE_URL: {written}\n  OTHER: 1\n"
    root = assert_fix_adds_nothing(tmp_path, {where: text})
    after = engine.scan([root], load(root), jobs=1).report.findings
    assert not [f for f in after if f.rule_id in {"VF101", "VF102", "VF103", "VF104", "VF105"}]
    fixed = yaml.safe_load((root / where).read_text())
    assert fixed["env"]["OTHER"] == 1
    new = fixed["env"]["DATABASE_URL"]
    for expression in {p for p in parts.values() if p}:
        assert new.count(expression) == url.count(expression)  # each kept as written
    probe = new
    for expression in _EXPRESSIONS:
        probe = probe.replace(expression, "5432")
    info = parse_dsn(probe)
    assert info.param("sslmode") == "verify-full", new
    assert [h.host for h in info.hosts] == ["5432" if parts["host"] else "db.internal"], new
