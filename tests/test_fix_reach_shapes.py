"""Shapes the corpus showed the fixer missing (issue 15, reach), each closed for its class.

- Piccolo's `PostgresEngine(config={...})` / `CockroachEngine` and GINO's `db.set_bind(url)`:
  both hand asyncpg what they are given, so the config gets `"ssl": context` and set_bind
  `ssl=context`. Generated projects are fixed by the real planner and executed with stub
  ORMs: the driver is handed a verifying SSLContext, everything else as written.
- Connection strings in shell scripts and Terraform files: edited only where the edit
  cannot change how the file is read (a shell URL inside quotes: the shell splits the line
  into the same words; Terraform: no interpolation added or lost).
- dotenv files under other names (`.example_env`, `env.local`): read as .env files.
"""

from __future__ import annotations

import asyncio
import random
import shlex
import shutil
import ssl
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from verifyfull.certs.create import create_ca
from verifyfull.fix.config_fixes import fix_config, is_env_file
from verifyfull.fix.plan import FIXABLE, plan_fixes
from verifyfull.fix.python_fixes import fix_python
from verifyfull.scan import engine
from verifyfull.scan.config.clients import LIBPQ_TOOLS
from verifyfull.scan.settings import load

MODES = st.sampled_from([None, "disable", "allow", "prefer", "require", "verify-ca"])
_EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _fixed(tmp_path: Path, files: dict[str, str]) -> Path:
    """A project of `files`, fixed with every fix and written; checked for the invariants
    (compiles, nothing fixable left, a second run is a no-op)."""
    root = tmp_path / "proj"
    if root.exists():  # hypothesis runs every example in the same tmp_path
        shutil.rmtree(root)
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    plan = plan_fixes([root], load(root), unsafe=True)
    assert plan.fixes, "nothing was fixed"
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
        compile(fix.after, fix.relpath, "exec")
    assert not {f.rule_id for f in engine.scan([root], load(root)).report.findings} & FIXABLE
    assert plan_fixes([root], load(root), unsafe=True).fixes == ()
    return root


def _verifying(context: object) -> None:
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.fixture
def ca_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    certs = tmp_path_factory.mktemp("ca")
    create_ca(certs / "certs", certs / "ca.key")
    for name in ("DB_CA_PATH", "DB_CERT_PATH", "DB_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DB_CA_PATH", str(certs / "certs" / "ca.crt"))
    return str(certs / "certs" / "ca.crt")


# -- Piccolo ------------------------------------------------------------------------


def _stub(monkeypatch: pytest.MonkeyPatch, dotted: str, **members: Any) -> None:
    parts = dotted.split(".")
    for index in range(1, len(parts) + 1):
        name = ".".join(parts[:index])
        module = sys.modules.get(name) if index < len(parts) else None
        if module is None or not hasattr(module, "__path__"):
            module = types.ModuleType(name)
            module.__path__ = []  # type: ignore[attr-defined]  # a package
            monkeypatch.setitem(sys.modules, name, module)
    for key, value in members.items():
        setattr(sys.modules[dotted], key, value)


@_EXAMPLES
@given(
    keys=st.lists(st.sampled_from(["database", "user", "host", "port"]), unique=True),
    tls=st.sampled_from([None, '"require"', '"prefer"', "False", "None"]),  # True verifies
    bound=st.booleans(),
    engine_class=st.sampled_from(["PostgresEngine", "CockroachEngine"]),
)
def test_piccolo_config_gets_a_verifying_context(
    tmp_path: Path,
    ca_env: str,
    monkeypatch: pytest.MonkeyPatch,
    keys: list[str],
    tls: str | None,
    bound: bool,
    engine_class: str,
) -> None:
    values = {"database": '"shop"', "user": '"shop"', "host": '"db"', "port": "26257"}
    entries = [f'"{k}": {values[k]}' for k in keys] + ([f'"ssl": {tls}'] if tls else [])
    config = "{" + ", ".join(entries) + "}"
    module = "postgres" if engine_class == "PostgresEngine" else "cockroach"
    head = f"from piccolo.engine.{module} import {engine_class}\n\n"
    body = (
        f"CONFIG = {config}\n\nDB = {engine_class}(config=CONFIG)\n"
        if bound
        else f"DB = {engine_class}(config={config})\n"
    )
    root = _fixed(tmp_path, {"piccolo_conf.py": head + body})
    seen: dict[str, Any] = {}

    class Engine:
        def __init__(self, config: dict[str, Any]) -> None:
            seen.update(config)

    _stub(monkeypatch, f"piccolo.engine.{module}", **{engine_class: Engine})
    exec(compile((root / "piccolo_conf.py").read_text(), "piccolo_conf.py", "exec"), {})
    _verifying(seen.pop("ssl"))
    assert seen == {k: eval(values[k]) for k in keys}  # the rest as written


# -- GINO ---------------------------------------------------------------------------


@_EXAMPLES
@given(mode=MODES, echo=st.booleans(), bound=st.booleans())
def test_gino_set_bind_gets_a_verifying_context(
    tmp_path: Path,
    ca_env: str,
    monkeypatch: pytest.MonkeyPatch,
    mode: str | None,
    echo: bool,
    bound: bool,
) -> None:
    url = "postgresql://shop@db:26257/shop" + (f"?sslmode={mode}" if mode else "")
    extra = ", echo=True" if echo else ""
    constant = f'DB_URL = "{url}"\n' if bound else ""
    call = f"await db.set_bind({'DB_URL' if bound else repr(url)}{extra})"
    text = f"from gino import Gino\n\n{constant}db = Gino()\n\n\nasync def main():\n    {call}\n"
    root = _fixed(tmp_path, {"models.py": text})
    seen: dict[str, Any] = {}

    class Gino:
        async def set_bind(self, bind: str, **kwargs: Any) -> None:
            seen.update(kwargs, bind=bind)

    _stub(monkeypatch, "gino", Gino=Gino)
    namespace: dict[str, Any] = {}
    exec(compile((root / "models.py").read_text(), "models.py", "exec"), namespace)
    asyncio.run(namespace["main"]())
    _verifying(seen.pop("ssl"))
    assert seen.pop("bind").startswith("postgresql://shop@db:26257/shop")
    assert seen == ({"echo": True} if echo else {})


# -- Tortoise: a db_url only known at run time --------------------------------------

_SETTINGS = (
    "import os\n\nDATABASE_URI = (\n"
    "    f\"{scheme}://{{os.environ.get('T_USER')}}:{{os.environ.get('T_PASSWORD')}}\"\n"
    "    f\"@{{os.environ.get('T_HOST')}}:{port}/{{os.environ.get('T_DB')}}{query}\"\n)\n"
)
_REF = {
    "module": ("from app import settings", "settings.DATABASE_URI"),
    "name": ("from app.settings import DATABASE_URI", "DATABASE_URI"),
}
_MODULES = "{{'models': ['app.models']}}"  # a format template's braces
_TORTOISE_SHAPES = {
    # shape: (the module that connects, its text, how it is run)
    "register_tortoise": (
        "from fastapi import FastAPI\nfrom tortoise.contrib.fastapi import register_tortoise\n"
        "\n{imp}\n\napp = FastAPI()\n\n"
        "register_tortoise(app, db_url={url}, modules=" + _MODULES + ", generate_schemas=False)\n"
    ),
    "init": (
        "from tortoise import Tortoise\n\n{imp}\n\n\nasync def init():\n"
        "    await Tortoise.init(db_url={url}, modules=" + _MODULES + ")\n"
    ),
    "config": (
        "from tortoise.contrib.fastapi import register_tortoise\n\n{imp}\n\n"
        "TORTOISE_ORM = {{'connections': {{'default': {url}}}, 'apps': "
        "{{'models': {{'models': ['app.models'], 'default_connection': 'default'}}}}}}\n\n"
        "register_tortoise(None, config=TORTOISE_ORM)\n"
    ),
    "helper": (
        "import os\n\nfrom tortoise import Tortoise\n\n{imp}\n\n\ndef config():\n"
        "    suffix = os.environ.get('T_SUFFIX', '')\n"
        "    return {{'connections': {{'default': f'{{{url}}}{{suffix}}'}}, 'apps': "
        "{{'models': {{'models': ['app.models'], 'default_connection': 'default'}}}}}}\n\n\n"
        "async def init():\n    await Tortoise.init(config=config())\n"
    ),
}


@_EXAMPLES
@given(
    shape=st.sampled_from(sorted(_TORTOISE_SHAPES)),
    ref=st.sampled_from(sorted(_REF)),
    scheme=st.sampled_from(["postgres", "asyncpg"]),
    port=st.sampled_from(["5432", "26257"]),
    query=st.sampled_from(["", "?maxsize=5", "?minsize=2&maxsize=5"]),
    host=st.sampled_from(["db", "db.internal", "10.0.0.7"]),
    suffix=st.sampled_from(["", "_test"]),
)
def test_a_tortoise_url_known_at_run_time_is_expanded_with_a_verifying_context(
    tmp_path: Path,
    ca_env: str,
    monkeypatch: pytest.MonkeyPatch,
    shape: str,
    ref: str,
    scheme: str,
    port: str,
    query: str,
    host: str,
    suffix: str,
) -> None:
    """`db_url=settings.DATABASE_URI` and a config's `"default": DATABASE_URI` (the URL built
    from the environment in another module): the fixed call hands Tortoise the connection
    as Tortoise itself expands that URL (`expand_db_url`: host, port, user, password,
    database, the query's pool options), with `ssl` a verifying SSLContext instead of
    asyncpg's prefer. Fails on the old code (db_url left as it was)."""
    from tortoise.backends.base.config_generator import expand_db_url, generate_config

    imp, url = _REF[ref]
    files = {
        "app/__init__.py": "",
        "app/settings.py": _SETTINGS.format(scheme=scheme, port=port, query=query),
        "app/orm.py": _TORTOISE_SHAPES[shape].format(imp=imp, url=url),
    }
    root = _fixed(tmp_path, files)
    env = {"T_USER": "shop", "T_PASSWORD": "s3cret", "T_HOST": host, "T_DB": "shop"}
    for key, value in {**env, "T_SUFFIX": suffix}.items():
        monkeypatch.setenv(key, value)
    seen: list[dict[str, Any]] = []

    def record(*args: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    async def init(*args: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    import tortoise
    import tortoise.contrib.fastapi

    monkeypatch.setattr(tortoise.contrib.fastapi, "register_tortoise", record)
    monkeypatch.setattr(tortoise.Tortoise, "init", init)
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        monkeypatch.delitem(sys.modules, name)
    import importlib

    orm = importlib.import_module("app.orm")
    if hasattr(orm, "init"):
        asyncio.run(orm.init())
    written = importlib.import_module("app.settings").DATABASE_URI
    written += suffix if shape == "helper" else ""
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]  # the next example's project is another one
    (config,) = [kwargs["config"] for kwargs in seen]
    connection = config["connections"]["default"]
    expected = expand_db_url(written)
    assert connection["engine"] == expected["engine"] == "tortoise.backends.asyncpg"
    credentials = dict(connection["credentials"])
    _verifying(credentials.pop("ssl"))
    expected["credentials"].pop("ssl", None)
    assert credentials == expected["credentials"]  # the rest as Tortoise reads the URL
    assert config["apps"] == generate_config(written, {"models": ["app.models"]})["apps"]


@pytest.mark.parametrize(
    "connection", ["CONN", "helper()", '"postgres://shop@db:5432/shop"', "LITERAL"]
)
def test_a_tortoise_connection_that_may_be_a_dict_is_not_expanded(connection: str) -> None:
    """Only a URL decided at run time is handed to expand_db_url: a name this module binds
    to a connection dict or a literal, a call that may return a dict, a literal URL are not
    (expand_db_url(dict) would fail at start-up). 3 of the 4 (the names, the call) fail on
    8eb2346."""
    text = (
        "from app import helper\n\n"
        'CONN = {"engine": "tortoise.backends.asyncpg", "credentials": {"host": "db"}}\n'
        'LITERAL = "postgres://shop@db:5432/shop"\n\n'
        f'TORTOISE_ORM = {{"connections": {{"default": {connection}}}, "apps": {{}}}}\n'
    )
    fixed = fix_python(text, [6], evidence={6: "postgres://shop@db:5432/shop"}).text
    assert "expand_db_url" not in fixed


# -- shell scripts and Terraform ----------------------------------------------------

URLS = st.builds(
    lambda scheme, mode: (
        f"{scheme}://app@db.internal:26257/app" + (f"?sslmode={mode}" if mode else "")
    ),
    st.sampled_from(["postgresql", "postgres", "postgresql+asyncpg"]),
    MODES,
)


@settings(deadline=None)
@given(
    url=URLS,
    quote=st.sampled_from(['"', "'", ""]),
    shape=st.sampled_from(["export DATABASE_URL={}", "psql {} -c 'SELECT 1'", "DSN={} ./run"]),
    split=st.sampled_from(["", '"${USER}"', "$USER"]),
)
def test_shell_lines_split_into_the_same_words(
    url: str, quote: str, shape: str, split: str
) -> None:
    """A URL is edited only when it is a whole shell word (quoted or not): one that goes on
    in another quoting (`postgresql://"${USER}"@db/app`) is left."""
    if split:
        url = url.replace("://app@", f"://{quote}{split}{quote}@", 1)
    line = shape.format(f"{quote}{url}{quote}")
    fixed = fix_config(line + "\n", "scripts/run.sh", [1]).text.rstrip("\n")
    before, after = shlex.split(line), shlex.split(fixed)
    assert len(before) == len(after)  # no word added, joined or split by the shell
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    if split and (quote or split != "$USER"):  # the URL is not one word of its own
        assert fixed == line
        return
    assert len(changed) == 1
    new = changed[0][1].split("=", 1)[-1] if "=" in changed[0][1].split("://")[0] else changed[0][1]
    if "+asyncpg" in new:
        assert new.endswith("ssl=verify-full") and "sslmode" not in new
    else:
        assert conninfo_to_dict(new)["sslmode"] == "verify-full"
    assert fix_config(fixed + "\n", "scripts/run.sh", [1]).text.rstrip("\n") == fixed


@settings(deadline=None)
@given(
    url=URLS.filter(lambda u: "+asyncpg" not in u),
    parts=st.lists(st.sampled_from(["${var.user}", "${var.port}", "${local.db}"]), max_size=3),
)
def test_terraform_strings_keep_their_interpolations(url: str, parts: list[str]) -> None:
    templated = url.replace("app@", f"{parts[0]}@" if parts else "app@")
    templated = templated.replace(":26257", f":{parts[1]}" if len(parts) > 1 else ":26257")
    line = f'  database_url = "{templated}"'
    fixed = fix_config(line + "\n", "infra/main.tf", [1]).text.rstrip("\n")
    assert fixed.count("${") == line.count("${")  # nothing Terraform would resolve is added
    assert fixed.count('"') == 2
    assert "sslmode=verify-full" in fixed


@settings(deadline=None)
@given(
    words=st.lists(st.sampled_from(["example", "local", "prod", "dev", "sample"]), max_size=2),
    separator=st.sampled_from([".", "_", "-"]),
    leading_dot=st.booleans(),
    position=st.integers(0, 2),
)
def test_dotenv_files_under_other_names(
    words: list[str], separator: str, leading_dot: bool, position: int
) -> None:
    parts = list(words)
    parts.insert(min(position, len(parts)), "env")
    name = ("." if leading_dot else "") + separator.join(parts)
    assert is_env_file(name)
    assert not is_env_file(separator.join(words) + ".py")
    assert not is_env_file(name.replace("env", "environment"))


# -- a fix is a fixed point whatever the quotes ------------------------------------


@settings(deadline=None)
@given(
    quote=st.sampled_from(["'", '"']),
    shape=st.sampled_from(["dict", "subscript"]),
    call=st.sampled_from(["dj_database_url.config(conn_max_age=600)", "env.db()"]),
)
def test_a_django_url_entry_is_updated_once(quote: str, shape: str, call: str) -> None:
    """The OPTIONS update written after a dj-database-url/env.db() entry is found again
    however the entry's key is quoted (`DATABASES['default']`): a second run adds none."""
    head = (
        "import dj_database_url\n"
        if call.startswith("dj")
        else "import environ\n\nenv = environ.Env()\n"
    )
    key = f"{quote}default{quote}"
    entry = (
        f"DATABASES = {{{key}: {call}}}\n"
        if shape == "dict"
        else f"DATABASES = {{}}\nDATABASES[{key}] = {call}\n"
    )
    text = head + "\n" + entry
    line = text.count("\n", 0, text.index(call)) + 1
    first = fix_python(text, [line]).text
    assert "verify-full" in first
    assert fix_python(first, [line + first.count("\n") - text.count("\n")]).text == first
    assert fix_python(first, [first.count("\n", 0, first.index(call)) + 1]).text == first


@settings(deadline=None)
@given(
    lead=st.sampled_from(["", "  ", "PGPASSWORD=secret ", 'out="$(', "cat a.sql | ", "x && "]),
    tool=st.sampled_from(sorted(LIBPQ_TOOLS)),
)
def test_a_libpq_tool_run_with_flags_gets_its_mode_as_its_environment(lead: str, tool: str) -> None:
    tail = ')"' if lead.endswith("$(") else ""
    line = f'{lead}{tool} -h "$DB_HOST" -U app{tail}'
    fixed = fix_config(line + "\n", "run.sh", [1]).text.rstrip("\n")
    if lead.endswith("$("):  # inside the substitution: the same text, one assignment more
        assert fixed == line.replace(f"$({tool}", f"$(PGSSLMODE=verify-full {tool}")
    else:
        words = shlex.split(line)
        at = next(i for i, w in enumerate(words) if w == tool)
        assert shlex.split(fixed) == [*words[:at], "PGSSLMODE=verify-full", *words[at:]]
    assert fix_config(fixed + "\n", "run.sh", [1]).text.rstrip("\n") == fixed


@settings(deadline=None)
@given(
    line=st.sampled_from(
        ["docker exec db psql -h db", "sudo -u postgres psql -h db", "echo psql -h db"]
    )
)
def test_a_tool_that_is_not_the_command_is_left(line: str) -> None:
    assert fix_config(line + "\n", "run.sh", [1]).text == line + "\n"


@settings(deadline=None)
@given(
    shape=st.sampled_from([".env", "list", "map"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    mode_elsewhere=st.booleans(),
    host=st.sampled_from(["lb", "db.internal", "${DB_HOST}"]),
)
def test_a_pghost_without_a_mode_gets_one(
    shape: str, newline: str, mode_elsewhere: bool, host: str
) -> None:
    """PGHOST (the connection written as variables) with no PGSSLMODE in the file: one is
    added after it; `PGHOST=lb` is never read as the keyword string `host=lb` (it was:
    `PGHOST=lb sslmode=verify-full sslrootcert=…`, a host name with spaces)."""
    if shape == ".env":
        name, lines = "db.env", [f"PGHOST={host}", "PGUSER=app"]
        lines += ["PGSSLMODE=prefer"] if mode_elsewhere else []
    else:
        item = (
            (lambda k, v: f"      - {k}={v}")
            if shape == "list"
            else (lambda k, v: f"      {k}: {v}")
        )
        name = "docker-compose.yml"
        lines = ["services:", "  app:", "    environment:", item("PGHOST", host)]
        lines += [item("PGUSER", "app")] + ([item("PGSSLMODE", "prefer")] if mode_elsewhere else [])
    text = newline.join(lines) + newline
    fixed = fix_config(text, name, [1 if shape == ".env" else 4]).text
    assert "sslmode=" not in fixed  # nothing appended to the host
    added = fixed.count("PGSSLMODE") - text.count("PGSSLMODE")
    assert added == (0 if mode_elsewhere else 1)
    assert fixed.replace("\r\n", "").count("\n") == 0 or newline == "\n"  # the file's line ends
    if shape != ".env":
        env = yaml.safe_load(fixed)["services"]["app"]["environment"]
        values = env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
        assert values["PGHOST"] == host
        assert values.get("PGSSLMODE") == ("prefer" if mode_elsewhere else "verify-full")
    assert fix_config(fixed, name, [1 if shape == ".env" else 4]).text == fixed


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    driver=st.sampled_from(["psycopg2", "psycopg"]),
    keys=st.lists(
        st.sampled_from(["dbname", "user", "host", "port", "connect_timeout"]),
        unique=True,
        min_size=1,
    ),
    mode=MODES,
)
def test_keyword_only_connects_keep_every_value(
    monkeypatch: pytest.MonkeyPatch, driver: str, keys: list[str], mode: str | None
) -> None:
    """`psycopg2.connect(dbname='x', …)` has no connection string: the first keyword is
    one value (it was upgraded as if it were one: `dbname='x sslmode=verify-full …'`)."""
    values = {"dbname": "movies", "user": "ivan", "host": "db", "port": 5435}
    values["connect_timeout"] = 5
    given_args = {k: values[k] for k in keys} | ({"sslmode": mode} if mode else {})
    call = ", ".join(f"{k}={v!r}" for k, v in given_args.items())
    text = f"import {driver}\n\nconn = {driver}.connect({call})\n"
    fixed = fix_python(text, [3]).text
    seen: dict[str, Any] = {}
    stub = types.ModuleType(driver)
    stub.connect = lambda **kwargs: seen.update(kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, driver, stub)
    monkeypatch.setenv("DB_CA_PATH", "/etc/db/ca.crt")
    monkeypatch.delenv("DB_CERT_PATH", raising=False)
    exec(compile(fixed, "fixed.py", "exec"), {})
    assert seen.pop("sslmode") == "verify-full" and seen.pop("sslrootcert") == "/etc/db/ca.crt"
    assert seen.pop("sslcert") == seen.pop("sslkey") == ""
    assert seen == {k: v for k, v in given_args.items() if k != "sslmode"}


_NODE_FLAGS = ["--store=/tmp/data", "--listen-addr=:26257", "--http-addr=:8080", "--join=n1"]


@settings(deadline=None, max_examples=40)
@given(
    subcommand=st.sampled_from(["start", "start-single-node"]),
    accept=st.sampled_from(["--accept-sql-without-tls", "--accept-sql-without-tls=true"]),
    order=st.randoms(use_true_random=False),
    per_line=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_a_node_fixed_out_of_insecure_keeps_no_plaintext_sql(
    tmp_path_factory: pytest.TempPathFactory,
    subcommand: str,
    accept: str,
    order: random.Random,
    per_line: list[bool],
) -> None:
    """`--accept-sql-without-tls` is moot beside `--insecure`; once fix replaces --insecure
    with --certs-dir it would let SQL clients in without TLS (VF202, new after the fix: the
    corpus's opslaba startup.sh). The same command, split over continuation lines or not,
    loses the flag, the script stays valid shell, and nothing else of it changes."""
    flags = [*_NODE_FLAGS, "--insecure", accept]
    order.shuffle(flags)
    parts = [f"cockroach {subcommand}"]
    for flag, own_line in zip(flags, per_line, strict=False):
        parts.append(" \\\n    " + flag if own_line else " " + flag)
    script = "#!/bin/sh\nset -e\n" + "".join(parts) + "\necho started\n"
    root = tmp_path_factory.mktemp("node")
    (root / "start.sh").write_text(script)
    found = engine.scan([root], load(root)).report.findings
    assert {f.rule_id for f in found} >= {"VF201"}
    lines = sorted({f.line for f in found if f.rule_id == "VF201" and f.line})
    fixed = fix_config(script, "start.sh", lines).text
    (root / "start.sh").write_text(fixed)
    assert not {f.rule_id for f in engine.scan([root], load(root)).report.findings} & {
        "VF201",
        "VF202",
    }
    # The shell's own commands (continuations joined): the node's, then `echo started`
    # as a command of its own, never as arguments of the node.
    commands = [shlex.split(c) for c in fixed.replace("\\\n", " ").splitlines()[2:]]
    assert commands == [
        [
            "cockroach",
            subcommand,
            *[
                "--certs-dir=/cockroach/certs" if f == "--insecure" else f
                for f in flags
                if not f.startswith("--accept-sql-without-tls")
            ],
        ],
        ["echo", "started"],
    ]
    assert subprocess.run(["sh", "-n", str(root / "start.sh")], check=False).returncode == 0
