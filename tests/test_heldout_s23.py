"""Classes the session 23 work closed (the held-out-s22 leftovers and the held-out-s23
blind round), each generated over its shapes.

1. A command-line option's default that reaches the connections (held-out-s22
   fabiog1901/pgworkload: `DBUrl = typer.Option("postgres://root@localhost:26257/
   postgres?sslmode=disable", "--url")` in cli/dep.py, `def run(dburl: str =
   Param.DBUrl)`, the URL taken apart and put back by `urlsplit`/`urlunsplit` to add
   `application_name`, handed to `mp.Process(target=worker, args=(…, dburl, …))` and to
   `pkg.models.run.run(dburl=dburl)`): one finding where the default is written, the
   connections related (it was 6 VF108 and a miss). argparse, typer (as a default, in a
   class attribute, in `Annotated`) and click declare it.
2. The variables a CI step's shell text sets (held-out-s23 Alexandria's `PGPASSWORD="asdf"
   psql ...` in a `run:` block, sqlit's `docker run -e POSTGRES_PASSWORD=...`): judged as a
   script's are (the step's commands were read, its settings dropped).
3. A TLS setting word written into a dict and read back through it (held-out-s23
   intelmq's test `cls.sysconfig = {..., "sslmode": "allow"}` then `sslmode=cls.sysconfig[
   "sslmode"]`; sqlit's `connect_args["sslmode"] = TLS_MODE_DISABLE`): reported where the
   dict gets it, the call related; `cls.x = ...` in a classmethod is the class's attribute.
4. A settings object a project module holds (held-out-s23 v3ss0n's `from . import
   settings` ... `settings.db.URL`, `db = DatabaseSettings.parse_obj({})`, the field's
   default `PostgresDsn("postgresql+asyncpg://...")`, the class a project base's
   subclass): its URL default is where the finding goes, for every reader (an engine's
   argument, an Alembic section's `sqlalchemy.url`).
5. A default that is a sentence where a URL goes (held-out-s23 Gino starter's
   `config("MIGRATION_URL", default="You forgot the migration url")`): the environment
   decides (VF108), not a connection string the driver refuses (VF105).
6. A variable the project's code passes as a connection's password (held-out-s23
   danaides' `f"postgresql://{getenv('DANAIDES_USER')}:{getenv('DANAIDES_PASSWORD')}@..."`):
   its literal value in an env file is a database password, whatever its name says.
7. Connection settings the code loads from a data file of the tree (held-out-s23 abondar's
   `with open("config.yml") as stream: config = yaml.load(stream)`, `DB_CONFIG =
   config.get("database")`, `DSN.format(**DB_CONFIG)`): the file's data, judged at the
   connection as if written in the code; `d.get(k)` of a dict known here is its item.
8. A Makefile variable's quoted value (held-out-s23 popyka's `DSN = "postgresql://..."`):
   make keeps the quotes, the recipe's shell takes them off; judged without them.
9. A describing password in a file used as written (held-out-s23 SEED's compose
   `POSTGRES_PASSWORD=super-secret-password`, copier-litestar's test `password="super-secret"`)
   is the password the database gets (VF401); in a file to copy and fill in it is a
   placeholder. Another engine's password there (sqlit's test compose: Flight SQL's
   `SQLFLITE_PASSWORD`, Db2's `DB2INST1_PASSWORD`) is none.
10. pypgstac's `load_ndjson(file, table, method, dsn)` (held-out-s22 NASA-IMPACT/
   cmr-pgstac-loader) is the `asyncpg.connect(dsn=dsn)` it runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _project
from test_heldout_s15_sites import _SETTINGS
from test_trust_bounds import watchdog
from test_trust_secrets import PASSWORD, _leaks, _run, forget_all
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}

# --- 1. a command-line option's default reaching the connections ------------------------

URL = "postgresql://root@db.internal:26257/app"
QUERIES = {"?sslmode=disable": "VF101", "?sslmode=require": "VF103", "": "VF102"}

# how the command declares the option: (module head, the command's def line)
DECLARATIONS = {
    "argparse": (
        "import argparse\nparser = argparse.ArgumentParser()\n"
        'parser.add_argument("--url", default="{url}")\n\n\n'
        "def main():\n    args = parser.parse_args()\n    run(args.url)\n\n\n",
        "def run(dburl):",
    ),
    "typer": (
        "import typer\napp = typer.Typer()\n\n\n@app.command()\n",
        'def run(\n    dburl: str = typer.Option(\n        "{url}", "--url"\n    ),\n):',
    ),
    "typer-attribute": (
        "import typer\nfrom opts import Param\napp = typer.Typer()\n\n\n@app.command()\n",
        "def run(dburl: str = Param.DBUrl):",
    ),
    "typer-annotated": (
        "from typing import Annotated\nimport typer\napp = typer.Typer()\n\n\n@app.command()\n",
        'def run(\n    dburl: Annotated[str, typer.Option("--url")] = "{url}",\n):',
    ),
    "click": (
        'import click\n\n\n@click.command()\n@click.option("--url", "dburl", default="{url}")\n',
        "def run(dburl):",
    ),
}
# how the value reaches a connection: (imports, the command's body)
ROUTES = {
    "direct": ("import psycopg\n", "    psycopg.connect(dburl)\n"),
    "split-helper": (
        "import psycopg\nimport urlhelp\n",
        '    dburl = urlhelp.with_app_name(dburl, "cli")\n    psycopg.connect(dburl)\n',
    ),
    "thread": (
        "import threading\nfrom workers import worker\n",
        "    threading.Thread(target=worker, args=(1, dburl)).start()\n",
    ),
    "process": (
        "import multiprocessing as mp\nfrom workers import worker\n",
        "    p = mp.Process(\n        target=worker,\n        args=(1, dburl),\n    )\n"
        "    p.start()\n",
    ),
    "executor": (
        "from concurrent.futures import ThreadPoolExecutor\nfrom workers import worker\n",
        "    ThreadPoolExecutor().submit(worker, 1, dburl=dburl)\n",
    ),
}
URL_HELPER = (
    "import urllib.parse\n\n\n"
    "def with_app_name(url, name):\n"
    "    scheme, netloc, path, query, fragment = urllib.parse.urlsplit(url)\n"
    "    params = urllib.parse.parse_qs(query)\n"
    '    params["application_name"] = [name]\n'
    "    query = urllib.parse.urlencode(params, doseq=True)\n"
    "    return urllib.parse.urlunsplit((scheme, netloc, path, query, fragment))\n"
)
WORKER = (
    "import psycopg\n\n\n"
    "def worker(n, dburl):\n"
    "    if n > 1:\n"
    "        worker(n - 1, dburl)  # its own call passes what it was given\n"
    "    psycopg.connect(dburl)\n"
)


@_SETTINGS
@given(
    declared=st.sampled_from(sorted(DECLARATIONS)),
    route=st.sampled_from(sorted(ROUTES)),
    query=st.sampled_from(sorted(QUERIES)),
)
def test_a_command_line_default_is_reported_where_it_is_written(
    tmp_path: Path, declared: str, route: str, query: str
) -> None:
    head, signature = DECLARATIONS[declared]
    imports, body = ROUTES[route]
    url = URL + query
    files = {
        "cli.py": imports + head.format(url=url) + signature.format(url=url) + "\n" + body,
        "opts.py": f'import typer\n\n\nclass Param:\n    DBUrl = typer.Option("{url}", "--url")\n',
    }
    if route == "split-helper":
        files["urlhelp.py"] = URL_HELPER
    connect = "cli.py"
    if "worker" in body:
        files["workers.py"], connect = WORKER, "workers.py"
    written = "opts.py" if declared == "typer-attribute" else "cli.py"
    url_line = next(n for n, t in enumerate(files[written].splitlines(), 1) if "://" in t)
    connect_line = next(
        n for n, t in enumerate(files[connect].splitlines(), 1) if "psycopg.connect(" in t
    )
    root = _project(tmp_path, (declared, route, query), files)
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [f for f in result.report.findings if f.rule_id in _TRANSPORT]
    assert [(f.rule_id, f.path, f.line) for f in found] == [(QUERIES[query], written, url_line)], (
        files["cli.py"]
    )
    assert (connect, connect_line) in {(r.path, r.line) for r in found[0].related}, files


@_SETTINGS
@given(
    declared=st.sampled_from(("argparse", "typer", "click")),
    required=st.booleans(),
)
def test_an_option_without_a_default_is_the_deployments(
    tmp_path: Path, declared: str, required: bool
) -> None:
    """No default (or a required one): the command line's value, decided where it runs."""
    head, signature = DECLARATIONS[declared]
    missing = {
        "argparse": ('default="{url}"', "required=True" if required else "help='the DSN'"),
        "typer": ('"{url}"', "..." if required else "None"),
        "click": ('default="{url}"', "required=True" if required else "help='the DSN'"),
    }[declared]
    head, signature = head.replace(*missing), signature.replace(*missing)
    code = "import psycopg\n" + head + signature + "\n    psycopg.connect(dburl)\n"
    root = _project(tmp_path, (declared, required), {"cli.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [(f.rule_id, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT]
    assert found == [("VF108", code.count("\n"))], code


# --- 2. the variables a CI step's or a service's shell text sets -------------------------

# (the statement, the rule it gives at its value)
SCRIPT_SETTINGS = {
    'export DATABASE_URL="postgresql://app@db.internal:5432/app?sslmode=disable"': "VF101",
    'DATABASE_URL="postgresql://app@db.internal/app?sslmode=require" alembic upgrade head': (
        "VF103"
    ),
    "export PGSSLMODE=disable": "VF101",
    'PGPASSWORD="k9Qw2rT" psql -h localhost -U app -c "select 1"': "VF401",
    "export POSTGRES_PASSWORD=k9Qw2rT": "VF401",
}
# where the shell text is written: a file name and the YAML around the script lines
CARRIERS = {
    "github": (
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - name: step\n        run: |\n          echo start\n{lines}",
        "          ",
    ),
    "gitlab": (".gitlab-ci.yml", "test:\n  image: python:3.12\n  script:\n{lines}", "    - "),
    "travis": (".travis.yml", "language: python\nbefore_script:\n{lines}", "  - "),
}


@_SETTINGS
@given(
    carrier=st.sampled_from(sorted(CARRIERS)),
    statement=st.sampled_from(sorted(SCRIPT_SETTINGS)),
    before=st.integers(min_value=0, max_value=2),
)
def test_a_ci_steps_shell_settings_are_judged(
    tmp_path: Path, carrier: str, statement: str, before: int
) -> None:
    """`export X=…` and `X=… cmd` inside a `run:`/`script:` block: judged as in a script
    (held-out-s23 Alexandria's `PGPASSWORD="asdf" psql` in a CI step; before, the step's
    commands were read and its settings dropped)."""
    name, shape, prefix = CARRIERS[carrier]
    lines = "".join(f"{prefix}echo step {n}\n" for n in range(before)) + prefix + statement + "\n"
    text = shape.format(lines=lines)
    line = text.count("\n")
    root = _project(tmp_path, (carrier, statement, before), {})
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings}
    assert (SCRIPT_SETTINGS[statement], line) in found, (text, found)


# --- 3. a TLS setting word written into a dict and read back through it ------------------

MODE_RULES = {"disable": "VF101", "allow": "VF102", "require": "VF103", "verify-ca": "VF104"}


@_SETTINGS
@given(
    holder=st.sampled_from(("local", "self", "cls")),
    write=st.sampled_from(("display", "item")),
    constant=st.booleans(),
    mode=st.sampled_from(sorted(MODE_RULES)),
    spread=st.booleans(),
)
def test_a_mode_written_into_a_dict_is_reported_there(
    tmp_path: Path, holder: str, write: str, constant: bool, mode: str, spread: bool
) -> None:
    value = "MODE" if constant else repr(mode)
    name = {"local": "conf", "self": "self.conf", "cls": "cls.conf"}[holder]
    if write == "item" and holder != "local":
        write = "display"  # an attribute's item is not followed (a name's is)
    entries = '"host": "db.internal",\n        "port": 5432,\n'
    if write == "display":
        body = f'    {name} = {{\n        {entries}        "sslmode": {value},\n    }}\n'
    else:
        body = f'    {name} = {{\n        {entries}    }}\n    {name}["sslmode"] = {value}\n'
    call = (
        f"psycopg2.connect(**{name})"
        if spread
        else f'psycopg2.connect(host={name}["host"], sslmode={name}["sslmode"])'
    )
    head = {
        "local": "def connect():\n",
        "self": "class C:\n    def connect(self):\n",
        "cls": "class C:\n    @classmethod\n    def connect(cls):\n",
    }[holder]
    indent = "" if holder == "local" else "    "
    lines = (body + f"    return {call}\n").splitlines(keepends=True)
    code = (
        f"import psycopg2\n\nMODE = {mode!r}\n\n\n"
        + head
        + "".join(indent + line for line in lines)
    )
    mode_line = next(
        n
        for n, t in enumerate(code.splitlines(), 1)
        if ('"sslmode"' in t and "[" not in t) or '["sslmode"] =' in t
    )
    root = _project(tmp_path, (holder, write, constant, mode, spread), {"db.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [(f.rule_id, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT]
    assert found == [(MODE_RULES[mode], mode_line)], code


# --- 4. a settings object a project module holds, its URL default --------------------------

SETTINGS_OBJECTS = ("DatabaseSettings()", "DatabaseSettings.parse_obj({})")
URL_DEFAULTS = {
    "literal": '"postgresql+asyncpg://app:pw@db.internal:5432/app"',
    "dsn-type": (
        'PostgresDsn(\n        "postgresql+asyncpg://app:pw@db.internal:5432/app",'
        ' scheme="postgresql+asyncpg"\n    )'
    ),
}
READERS = {
    "engine": "engine = create_async_engine(settings.db.URL, echo=settings.db.ECHO)\n",
    "alembic": (
        "def run(config):\n"
        "    section = config.get_section(config.config_ini_section)\n"
        '    section["sqlalchemy.url"] = settings.db.URL\n'
        '    return async_engine_from_config(section, prefix="sqlalchemy.")\n'
    ),
}


@_SETTINGS
@given(
    made=st.sampled_from(SETTINGS_OBJECTS),
    default=st.sampled_from(sorted(URL_DEFAULTS)),
    readers=st.sets(st.sampled_from(sorted(READERS)), min_size=1),
    own_base=st.booleans(),
    from_env=st.booleans(),
)
def test_a_settings_modules_url_default_is_the_place_for_every_reader(
    tmp_path: Path, made: str, default: str, readers: set[str], own_base: bool, from_env: bool
) -> None:
    """(`from_env`: in another branch the object is made from the environment's URL, as
    held-out-s23 clkhoo5211's `settings.database = DatabaseConfig(url=db_url)`: that
    world is no second finding at the reader, one verdict per site.)"""
    base = "BaseEnvSettings" if own_base else "BaseSettings"
    settings = (
        "import os\n\nfrom pydantic import BaseSettings, PostgresDsn\n\n\n"
        + ("class BaseEnvSettings(BaseSettings):\n    pass\n\n\n" if own_base else "")
        + f"class DatabaseSettings({base}):\n    ECHO: bool = False\n"
        + f"    URL: PostgresDsn = {URL_DEFAULTS[default]}\n\n\n"
        + f"db = {made}\n"
        + (
            'if os.getenv("DB_URL"):\n    db = DatabaseSettings(URL=os.environ["DB_URL"])\n'
            if from_env
            else ""
        )
    )
    code = (
        "from sqlalchemy.ext.asyncio import async_engine_from_config, create_async_engine\n"
        "from app import settings\n\n" + "".join(READERS[r] for r in sorted(readers))
    )
    root = _project(tmp_path, (made, default, tuple(sorted(readers)), own_base, from_env), {})
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "settings.py").write_text(settings, encoding="utf-8")
    (root / "app" / "db.py").write_text(code, encoding="utf-8")
    url_line = next(n for n, t in enumerate(settings.splitlines(), 1) if "://" in t)
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [(f.rule_id, f.path, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT]
    assert found == [("VF102", "app/settings.py", url_line)], (settings, code)


# --- 5. a sentence where a URL's default goes -----------------------------------------------

ENV_READERS = {
    "os.getenv": ("import os\n", 'os.getenv("MIGRATION_URL", {default})'),
    "os.environ.get": ("import os\n", 'os.environ.get("MIGRATION_URL", {default})'),
    "starlette": (
        "from starlette.config import Config\nconfig = Config()\n",
        'config("MIGRATION_URL", default={default})',
    ),
}
SENTENCES = ("You forgot the migration url", "set MIGRATION_URL in the environment", "not set yet")


@_SETTINGS
@given(reader=st.sampled_from(sorted(ENV_READERS)), sentence=st.sampled_from(SENTENCES))
def test_a_sentence_as_a_urls_default_leaves_it_to_the_environment(
    tmp_path: Path, reader: str, sentence: str
) -> None:
    imports, read = ENV_READERS[reader]
    code = (
        f"{imports}from sqlalchemy import create_engine\n\n"
        f"URL = {read.format(default=repr(sentence))}\nengine = create_engine(URL)\n"
    )
    root = _project(tmp_path, (reader, sentence), {"db.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [(f.rule_id, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT]
    assert found == [("VF108", code.count("\n"))], code


# --- 6. a variable the code passes as a connection's password -------------------------------

PASSWORD_READS = {
    "url-slot": "URL = f\"postgresql://{{getenv('APP_USER')}}:{{getenv('{var}')}}@db.internal/app\"\n",
    "keyword": 'conn = psycopg2.connect(host="db.internal", password=os.environ["{var}"])\n',
    "dict": 'ARGS = {{"host": "db.internal", "password": os.environ.get("{var}")}}\n',
    "unrelated": 'SECRET = os.getenv("{var}")\n',
    "login": 'requests.post(LOGIN, json={{"username": "app", "password": os.getenv("{var}")}})\n',
}


@_SETTINGS
@given(
    read=st.sampled_from(sorted(PASSWORD_READS)),
    var=st.sampled_from(("DANAIDES_PASSWORD", "APP_PASS", "SERVICE_PWD")),
    file=st.sampled_from((".env", ".env.template", "alt.env")),
)
def test_a_variable_the_code_passes_as_a_password_is_a_database_password(
    tmp_path: Path, read: str, var: str, file: str
) -> None:
    # a web login's module names no connection (held-out-s23's pixAV, DataLake, field-tm
    # read their web UIs' passwords so)
    head = "import requests\n\n" if read == "login" else "import psycopg2\n\n"
    code = "import os\nfrom os import getenv\n" + head + PASSWORD_READS[read].format(var=var)
    env = f"APP_USER=app\n{var}=k9Qw2rTz\n"
    root = _project(tmp_path, (read, var, file), {"db.py": code, file: env})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings if f.path == file}
    assert found == (set() if read in ("unrelated", "login") else {("VF401", 2)}), (code, found)


# --- 7. connection settings loaded from a data file of the tree ---------------------------

DATA_FILES = {
    "config.yml": "database:\n  host: db.internal\n  port: 5432\n  user: app\n{mode_yaml}",
    "config.json": (
        '{{"database": {{"host": "db.internal", "port": 5432, "user": "app"{mode_json}}}}}'
    ),
    "config.toml": '[database]\nhost = "db.internal"\nport = 5432\nuser = "app"\n{mode_toml}',
}
LOADS = {
    "config.yml": ("import yaml\n", "yaml.safe_load({stream})"),
    "config.json": ("import json\n", "json.load({stream})"),
    "config.toml": ("import tomllib\n", "tomllib.load({stream})"),
}
OPENS = {
    "with": "with open({name!r}{mode}) as stream:\n    CONFIG = {load}\n",
    "inline": "CONFIG = {load_inline}\n",
}
USES = {
    "format": 'asyncpg.connect(DSN.format(**CONFIG.get("database")))',
    "spread": 'asyncpg.connect(**CONFIG["database"])',
}


@_SETTINGS
@given(
    name=st.sampled_from(sorted(DATA_FILES)),
    opened=st.sampled_from(sorted(OPENS)),
    use=st.sampled_from(sorted(USES)),
    ssl=st.sampled_from((None, "disable", "require")),
)
def test_settings_loaded_from_a_data_file_are_judged_at_the_connection(
    tmp_path: Path, name: str, opened: str, use: str, ssl: str | None
) -> None:
    if ssl is not None and use == "format":
        use = "spread"  # the format names no ssl slot
    data = DATA_FILES[name].format(
        mode_yaml=f"  ssl: {ssl}\n" if ssl else "",
        mode_json=f', "ssl": "{ssl}"' if ssl else "",
        mode_toml=f'ssl = "{ssl}"\n' if ssl else "",
    )
    imports, load = LOADS[name]
    binary = ', "rb"' if name.endswith(".toml") else ""
    code = (
        f"import asyncpg\n{imports}\n"
        + OPENS[opened].format(
            name=name,
            mode=binary,
            load=load.format(stream="stream"),
            load_inline=load.format(stream=f"open({name!r}{binary})"),
        )
        + "DSN = 'postgres://{user}@{host}:{port}/app'\n\n\n"
        + f"async def connect():\n    return await {USES[use]}\n"
    )
    root = _project(tmp_path, (name, opened, use, ssl), {"db.py": code, name: data})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [(f.rule_id, f.path) for f in result.report.findings if f.rule_id in _TRANSPORT]
    expected = {None: "VF102", "disable": "VF101", "require": "VF103"}[ssl]
    assert found == [(expected, "db.py")], (code, data)


def test_a_data_file_bomb_stays_bounded(tmp_path: Path) -> None:
    """YAML aliases that double at each level (a billion laughs): the value stops at its
    bound, the site stays the deployment's, and the scan ends."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join(f'*a{n - 1}' for _ in range(10))}]" for n in range(1, 9)]
    data = "\n".join(levels) + "\ndatabase: *a8\n"
    code = (
        "import asyncpg\nimport yaml\n\nCONFIG = yaml.safe_load(open('config.yml'))\n"
        "conn = asyncpg.connect(**CONFIG['database'])\n"
    )
    root = _project(tmp_path, "bomb", {"db.py": code, "config.yml": data})
    with watchdog(60):
        result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [(f.rule_id, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT]
    assert found == [("VF108", 5)]


# --- 8. a Makefile variable's quoted value -------------------------------------------------


@_SETTINGS
@given(
    quote=st.sampled_from(('"', "'", "")),
    query=st.sampled_from(("", "?sslmode=disable", "?sslmode=require")),
    used=st.booleans(),
)
def test_a_makefile_variables_quoted_dsn_is_judged(
    tmp_path: Path, quote: str, query: str, used: bool
) -> None:
    dsn = f"postgresql://app@db.internal:5432/app{query}"
    text = f"LOCAL_DSN = {quote}{dsn}{quote}\n\nrun:\n" + (
        "\tpsql $(LOCAL_DSN)\n" if used else "\techo\n"
    )
    root = _project(tmp_path, (quote, query, used), {"Makefile": text})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {
        (f.rule_id, f.line, f.column) for f in result.report.findings if f.rule_id in _TRANSPORT
    }
    rule = {"": "VF102", "?sslmode=disable": "VF101", "?sslmode=require": "VF103"}[query]
    assert (rule, 1, 13 + len(quote)) in found, (text, found)


# --- 9. describing passwords in files used as written; other engines' ---------------------

DESCRIBED = ("super-secret-password", "super-secret", "secret_pass", "mypass", "example")


@_SETTINGS
@given(
    value=st.sampled_from(DESCRIBED),
    file=st.sampled_from(("docker-compose.yml", "docker-compose.example.yml")),
    key=st.sampled_from(("POSTGRES_PASSWORD", "SQLFLITE_PASSWORD", "DB2INST1_PASSWORD")),
)
def test_a_describing_password_in_a_file_used_as_written_is_a_password(
    tmp_path: Path, value: str, file: str, key: str
) -> None:
    image = {"SQLFLITE_PASSWORD": "voltrondata/sqlflite", "DB2INST1_PASSWORD": "ibmcom/db2"}
    text = (
        f"services:\n  db:\n    image: {image.get(key, 'postgres:16')}\n"
        f"    environment:\n      {key}: {value}\n"
    )
    root = _project(tmp_path, (value, file, key), {file: text})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings if f.rule_id == "VF401"}
    live = "example" not in file and key == "POSTGRES_PASSWORD"
    assert found == ({("VF401", 5)} if live else set()), (file, key, value)


def test_a_describing_password_in_python_used_as_written_is_a_password(tmp_path: Path) -> None:
    code = (
        "import asyncpg\n\n\nasync def up(host):\n"
        '    return await asyncpg.connect(host=host, user="postgres", password="super-secret")\n'
    )
    root = _project(tmp_path, "python", {"conftest.py": code, "settings.example.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.path, f.line) for f in result.report.findings if f.rule_id == "VF401"}
    assert found == {("conftest.py", 5)}


# --- 10. pypgstac's load_ndjson is the asyncpg.connect it runs ------------------------------

DSNS = (
    "'postgresql://app@db.internal:5432/app'",
    "'postgresql://app@db.internal:5432/app?sslmode=disable'",
    "'postgresql://app@db.internal:5432/app?sslmode=require'",
    "os.environ['DATABASE_URL']",
)


@_SETTINGS
@given(dsn=st.sampled_from(DSNS), by_keyword=st.booleans())
def test_pypgstac_load_ndjson_is_the_asyncpg_connect_it_runs(
    tmp_path: Path, dsn: str, by_keyword: bool
) -> None:
    call = (
        f'load_ndjson(file="items.ndjson", table="items", method=loadopt.upsert, dsn={dsn})'
        if by_keyword
        else f'load_ndjson("items.ndjson", "items", "insert", {dsn})'
    )
    files = {
        "load.py": "import asyncio\nimport os\nfrom pypgstac.load import load_ndjson, loadopt\n\n"
        f"asyncio.run({call})\n",
        "direct.py": "import asyncio\nimport os\nimport asyncpg\n\n"
        f"asyncio.run(asyncpg.connect(dsn={dsn}))\n",
    }
    root = _project(tmp_path, (dsn, by_keyword), files)
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    rules = {
        name: {
            f.rule_id for f in result.report.findings if f.path == name and f.rule_id in _TRANSPORT
        }
        for name in files
    }
    assert rules["load.py"] == rules["direct.py"] != set(), (call, rules)


# --- the new password paths go through the one redaction layer -----------------------------


def _planted_outputs(root: Path, loaded_pw: str, variable_pw: str) -> dict[str, str]:
    """Every scan output of a tree whose code connects with a password it loads from
    config.yml, and whose .env gives a project password variable (classes 6 and 7)."""
    forget_all()  # nothing registered by an earlier example may hide a leak here
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    files = {
        "config.yml": (
            "database:\n  host: db.internal\n  user: app\n"
            f"  password: {json.dumps(loaded_pw, ensure_ascii=False)}\n"
        ),
        "db.py": (
            "import os\nimport asyncpg\nimport yaml\n\n"
            "CONFIG = yaml.safe_load(open('config.yml'))\n"
            "conn = asyncpg.connect(**CONFIG['database'])\n"
            "URL = f\"postgresql://app:{os.getenv('SVC_SECRET')}@db.internal/app\"\n"
        ),
        ".env": f"SVC_SECRET={json.dumps(variable_pw, ensure_ascii=False)}\n",
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    outputs = {f"scan {fmt}": _run("scan", str(root), "--format", fmt) for fmt in FORMATS}
    baseline = root / "baseline.json"
    _run("scan", str(root), "--baseline", str(baseline), "--write-baseline")
    outputs["baseline file"] = baseline.read_text(encoding="utf-8")
    return outputs


FORMATS = ("text", "json", "sarif", "html")


_DULL: list[str] = []


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(loaded=PASSWORD, variable=PASSWORD)
def test_a_loaded_or_project_variable_password_is_never_printed(
    tmp_path: Path, loaded: str, variable: str
) -> None:
    if not _DULL:  # what the outputs say whatever the passwords (test_trust_secrets')
        dull = _planted_outputs(tmp_path / "dull", "Qdull1Zz9", "Qdull2Zz9")
        _DULL.append("\n".join(dull.values()))
    vocabulary = _DULL[0]
    outputs = _planted_outputs(tmp_path / "planted", loaded, variable)
    assert "VF401" in outputs["scan json"]  # the variable's value is reported, masked
    assert _leaks([loaded, variable], outputs, vocabulary) == []
