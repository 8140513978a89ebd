"""A connection string is edited in the shape it has at run time, or not at all (issue 15).

Generated sites: a URL or a libpq keyword string, literal or composed from pieces (an
f-string, `+`, `.format`, `%`), each piece literal or a value from elsewhere (a constant
of the module or of another one, an `os.getenv` or starlette `Config` default, a local),
handed to psycopg, psycopg2, psycopg_pool, SQLAlchemy or asyncpg. The project is fixed
(`plan_fixes`, --unsafe-fixes) and both versions are run with stand-in drivers that hand
what they are given to the real parsers: psycopg's `make_conninfo`/`conninfo_to_dict`
(libpq's own), SQLAlchemy's `make_url` and its dialect's `create_connect_args`, asyncpg's
DSN parser. The fixed site reads as verify-full with the environment's root to the same
host and port, or the fixer made no edit. rrobledo's conftest.py is the example that
failed: `f"{PG_DATABASE_URL}/{TEST_DATABASE}"` (a starlette Config default in another
module) got libpq keywords after the URL, which no driver reads.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from verifyfull.fix.plan import plan_fixes
from verifyfull.fix.python_fixes import fix_python
from verifyfull.scan.settings import load

_EXAMPLES = int(os.environ.get("VERIFYFULL_FIX_EXAMPLES", "15"))
_SLOW = os.environ.get("VERIFYFULL_SLOW") == "1"

# Runs app.sites.connect() with stand-in drivers; prints what the real parsers read.
_HARNESS = r"""
import asyncio, json, sys
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import make_url
from asyncpg import connect_utils

seen = {}

def libpq(conninfo="", **kwargs):
    d = conninfo_to_dict(make_conninfo(conninfo or "", **kwargs))
    seen.update(sslmode=d.get("sslmode"), sslrootcert=d.get("sslrootcert"),
                host=d.get("host"), port=d.get("port"))

def pool(conninfo="", kwargs=None, **_):
    libpq(conninfo, **(kwargs or {}))

def create_engine(url, connect_args=None, **_):
    u = make_url(url)
    cargs, cparams = u.get_dialect()().create_connect_args(u)
    cparams.update(connect_args or {})
    libpq(cargs[0] if cargs else "", **cparams)

async def apg_connect(dsn=None, ssl=None, **_):
    addrs, params = connect_utils._parse_connect_dsn_and_args(
        dsn=dsn, host=None, port=None, user=None, password=None, passfile=None,
        database=None, ssl=ssl, direct_tls=None, server_settings=None,
        target_session_attrs=None, krbsrvname=None, gsslib=None, service=None,
        servicefile=None)
    ctx = params.ssl
    verified = (getattr(ctx, "verify_mode", None) == 2 and getattr(ctx, "check_hostname", False)
                and bool(ctx.get_ca_certs()))
    seen.update(sslmode="verify-full" if verified else repr(params.sslmode),
                sslrootcert="context" if verified else None,
                host=addrs[0][0], port=str(addrs[0][1]))

import asyncpg, psycopg, psycopg2, psycopg_pool, sqlalchemy  # the real ones, their calls stood in
psycopg.connect = psycopg2.connect = libpq
psycopg_pool.ConnectionPool = pool
sqlalchemy.create_engine = create_engine
asyncpg.connect = apg_connect

sys.path.insert(0, sys.argv[1])
from app import sites
result = sites.connect()
if asyncio.iscoroutine(result):
    asyncio.run(result)
print(json.dumps(seen))
"""

_HOST, _PORT = "db.internal", "5433"
_SOURCES = ("literal", "const", "module", "getenv", "config", "local")
_JOINS = ("fstring", "plus", "format", "percent")
_APIS = {
    "psycopg": ("import psycopg", "psycopg.connect({})"),
    "psycopg2": ("import psycopg2", "psycopg2.connect({})"),
    "pool": ("import psycopg_pool", "psycopg_pool.ConnectionPool({})"),
    "engine": ("from sqlalchemy import create_engine", "create_engine({})"),
    "asyncpg": ("import asyncpg", "asyncpg.connect({})"),
}


@dataclass(frozen=True)
class Site:
    files: dict[str, str]
    api: str


def _chunks(text: str, cuts: list[int]) -> list[str]:
    points = [0, *sorted(set(cuts)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(points) if text[a:b]]


@st.composite
def sites(draw: st.DrawFn) -> Site:
    url = draw(st.booleans())
    if url:
        api = draw(st.sampled_from(sorted(_APIS)))
        scheme = "postgresql"
        if api == "engine":
            scheme = draw(
                st.sampled_from(["postgresql", "postgresql+psycopg2", "postgresql+psycopg"])
            )
        base = f"{scheme}://app@{_HOST}:{_PORT}"
        query = draw(
            st.sampled_from(
                [
                    "",
                    "?application_name=svc",
                    "?sslmode=require",
                    "?connect_timeout=5&sslmode=prefer",
                ]
            )
        )
        text = base + "/app" + query
        boundaries = [len(scheme) + 3, len(base), len(base) + 4]
    else:
        api = draw(st.sampled_from(["psycopg", "psycopg2", "pool"]))
        pairs = [f"host={_HOST}", f"port={_PORT}", "dbname=app"]
        pairs += draw(st.sampled_from([[], ["sslmode=require"], ["application_name=svc"]]))
        pairs = draw(st.permutations(pairs))
        text = " ".join(pairs)
        boundaries = [i for i, c in enumerate(text) if c == " "]
    cuts = draw(st.lists(st.sampled_from(boundaries), max_size=2, unique=True))
    chunks = _chunks(text, cuts)
    sources = [draw(st.sampled_from(_SOURCES)) for _ in chunks]
    settings_lines = [
        "import os",
        "",
        "from starlette.config import Config",
        "",
        "config = Config()",
    ]
    header = ["import os", _APIS[api][0]]
    module_lines: list[str] = []
    local_lines: list[str] = []
    imported: list[str] = []
    parts: list[tuple[str, str]] = []  # ("lit", text) | ("var", name)
    for index, (chunk, source) in enumerate(zip(chunks, sources, strict=True)):
        name = f"PART_{index}"
        if source == "literal":
            parts.append(("lit", chunk))
            continue
        parts.append(("var", name))
        if source == "const":
            module_lines.append(f"{name} = {chunk!r}")
        elif source == "local":
            local_lines.append(f"    {name} = {chunk!r}")
        else:
            imported.append(name)
            if source == "module":
                settings_lines.append(f"{name} = {chunk!r}")
            elif source == "getenv":
                settings_lines.append(f"{name} = os.getenv('VFX_{name}', {chunk!r})")
            else:
                settings_lines.append(f"{name} = config('VFX_{name}', default={chunk!r})")
    if all(kind == "lit" for kind, _ in parts):
        expression = repr(text)
    else:
        join = draw(st.sampled_from(_JOINS))
        if join == "fstring":
            expression = 'f"' + "".join(v if k == "lit" else "{" + v + "}" for k, v in parts) + '"'
        elif join == "plus":
            expression = " + ".join(repr(v) if k == "lit" else v for k, v in parts)
        else:
            slot = "{}" if join == "format" else "%s"
            template = repr("".join(v if k == "lit" else slot for k, v in parts))
            names = [v for k, v in parts if k == "var"]
            if join == "format":
                expression = f"{template}.format({', '.join(names)})"
            else:
                expression = f"{template} % ({', '.join(names)},)"
    bound = draw(st.booleans())
    call = _APIS[api][1].format("dsn" if bound else expression)
    body = [*local_lines, *([f"    dsn = {expression}"] if bound else []), f"    return {call}"]
    if imported:
        header.append(f"from app.settings import {', '.join(imported)}")
    sites_py = "\n".join([*header, "", *module_lines, "", "", "def connect():", *body]) + "\n"
    return Site(
        {
            "pyproject.toml": "[project]\nname = 'demo'\n",
            "app/__init__.py": "",
            "app/settings.py": "\n".join(settings_lines) + "\n",
            "app/sites.py": sites_py,
        },
        api,
    )


def _write(base: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        (base / relpath).parent.mkdir(parents=True, exist_ok=True)
        (base / relpath).write_text(text, encoding="utf-8")


def _run(base: Path, ca: Path) -> dict[str, str | None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "VFX_", "DB_"))}
    env["DB_CA_PATH"] = str(ca)
    ran = subprocess.run(
        [sys.executable, "-c", _HARNESS, str(base)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    value = json.loads(ran.stdout.strip().splitlines()[-1])
    assert isinstance(value, dict)
    return value


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real CA bundle at a path with a space and an '=' (asyncpg's parser opens it)."""
    where = tmp_path_factory.mktemp("ca") / "db certs=1"
    where.mkdir()
    shutil.copyfile(certifi.where(), where / "ca.crt")
    return where / "ca.crt"


@settings(
    max_examples=_EXAMPLES * (10 if _SLOW else 1),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(site=sites())
def test_every_edited_string_reads_as_verify_full_to_the_same_server(
    tmp_path_factory: pytest.TempPathFactory, ca: Path, site: Site
) -> None:
    base = tmp_path_factory.mktemp("proj")
    _write(base, site.files)
    note(site.files["app/sites.py"])
    before = _run(base, ca)
    assert (before["host"], before["port"]) == (_HOST, _PORT)
    plan = plan_fixes([base], load(base))
    fixed = {f.relpath: f.after.decode() for f in plan.fixes}
    note("\n".join(fixed.values()))
    if not fixed:  # the fixer made no edit: each site is listed for a person
        event("no edit")
        assert plan.left
        return
    event("edited")
    for relpath, text in fixed.items():
        compile(text, relpath, "exec", dont_inherit=True)
        (base / relpath).write_text(text, encoding="utf-8")
    after = _run(base, ca)
    root = "context" if site.api == "asyncpg" else str(ca)
    assert after == {"sslmode": "verify-full", "sslrootcert": root, "host": _HOST, "port": _PORT}


_UNKNOWN_URL = (
    "import os\n\nimport psycopg\nfrom sqlalchemy import create_engine\n\n"
    'URL = os.environ["DATABASE_URL"]\n\n\n'
    "def engine():\n"
    '    return create_engine(f"{URL}/app")\n\n\n'
    "def report():\n"
    '    return psycopg.connect(f"{URL}/app")\n'
)


def test_a_string_whose_shape_is_not_known_is_left_as_written() -> None:
    """`f"{URL}/app"` with URL from the environment: neither `?` nor ` ` can be chosen.
    The call's own TLS arguments decide over it where it has them (psycopg's keywords;
    an engine's connect_args, given the dialect the scanner resolved); without the
    dialect the engine is left for a person, with the reason."""
    result = fix_python(_UNKNOWN_URL, [10, 14])
    assert 'f"{URL}/app"' in result.text.split("def report")[0]
    assert result.text.count('f"{URL}/app"') == 2  # neither string edited
    assert 'sslmode="verify-full"' in result.text.split("def report")[1]
    ((line, why),) = result.declined
    assert line == 10 and "shape is not known" in why and "DATABASE_URL" in why
    given = fix_python(_UNKNOWN_URL, [10], evidence={10: "postgresql://app@db/app"})
    assert given.declined == () and '"sslmode": "verify-full"' in given.text
    assert 'f"{URL}/app"' in given.text


def test_an_edit_that_would_not_read_back_is_not_made(tmp_path: Path) -> None:
    """The query is in a value (`{OPTIONS}` holds `?sslmode=require`): an sslmode added to
    the string would be a second one (SQLAlchemy makes a list of them), so the string is
    left as written and connect_args, which the dialect hands libpq over the URL's, carry
    verify-full. (The old fixer wrote `...?sslmode=require?sslmode=verify-full...`.)"""
    _write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'demo'\n",
            "app/db.py": "from sqlalchemy import create_engine\n\n"
            'OPTIONS = "?sslmode=require"\n'
            'engine = create_engine(f"postgresql://app@db/app{OPTIONS}")\n',
        },
    )
    plan = plan_fixes([tmp_path], load(tmp_path))
    (fixed,) = plan.fixes
    text = fixed.after.decode()
    assert 'create_engine(\n    f"postgresql://app@db/app{OPTIONS}",\n    connect_args={' in text
    assert '"sslmode": "verify-full"' in text and plan.left == () and plan.refused == ()
