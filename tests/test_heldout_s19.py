"""Classes the session 19 held-out round found, each generated over its shapes; every
generated test failed on the code before it (main at 6f39714). filtered == full
analysis throughout (the prefilter's soundness, checked by the shared _findings).

1. A nested settings model bound without an annotation (`pg = PGSettings()`, pydantic
   v1 infers the field from the value) or by `Field(default_factory=PGSettings)`:
   `settings.pg.url` / `settings.pg.args` are that class's properties (was VF108,
   "the URL is attribute 'url'": proper-FastAPI-startup).
2. The value that decides a reading written as a Settings field's string default or a
   function parameter's string default is where the finding goes, the call related
   (the default is the line a reviewer changes: the operator's `sslmode='disable'`
   parameter, the settings class's `sslmode: str = "disable"`).
3. A password named with a qualifier after its role (`DB_PASSWORD_PROD`,
   `DB_PASSWORD_NAUMEN_1`) is a password name; a qualifier that says the value is
   something else (`_FILE`, `_HASH`, `_POLICY`) is not; in a file of many databases a
   qualified family whose siblings name another engine (`DB_PORT_DWH=1521`) is that
   engine's (RikiTwiki/o_mobile_operator_dagster's `.env.example`).
4. An environment value in a URL's `options` (a CockroachDB Cloud URL's
   `options=--cluster%3D{cluster}`), `port`, `search_path` or `timezone` is a server
   run-time parameter: the URL is judged as written (was VF108 on a verify-full URL,
   py-nest-thermostat).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from test_heldout_s15_sites import _SETTINGS
from test_scan_python_query_values import _rules as _query_rules
from verifyfull.findings import Finding
from verifyfull.scan import engine
from verifyfull.scan.config.password_names import NOT_THE_PASSWORD, password_name
from verifyfull.scan.settings import ScanSettings

_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF108"}
MODES = (("disable", "VF101"), ("allow", "VF102"), ("prefer", "VF102"), ("require", "VF103"))
MODES += (("verify-ca", "VF104"),)


def _scan(root: Path) -> list[Finding]:
    return list(engine.scan([root], ScanSettings(project_root=root), jobs=1).report.findings)


# --- 1 + 2. a nested settings model's properties; the field default is the place --------

BINDINGS = (
    "    {name} = PGSettings()\n",
    "    {name}: PGSettings = PGSettings()\n",
    "    {name}: 'PGSettings' = PGSettings()\n",
    "    {name}: Any = Field(default_factory=PGSettings)\n",
)
SETTINGS_BASES = (
    ("from pydantic import BaseSettings, Field", "BaseSettings"),
    ("from pydantic_settings import BaseSettings\nfrom pydantic import Field", "BaseSettings"),
)


@_SETTINGS
@given(
    binding=st.sampled_from(BINDINGS),
    base=st.sampled_from(SETTINGS_BASES),
    name=st.sampled_from(("pg", "db", "postgres", "database")),
    mode=st.sampled_from(MODES),
    through_args=st.booleans(),
)
def test_a_nested_settings_models_properties_decide_the_connection(
    tmp_path: Path,
    binding: str,
    base: tuple[str, str],
    name: str,
    mode: tuple[str, str],
    through_args: bool,
) -> None:
    statement, cls = base
    sslmode, rule = mode
    query = "" if through_args else "?sslmode={self.sslmode}"
    config = (
        f"from typing import Any\n{statement}\n\n\nclass PGSettings({cls}):\n"
        '    host: str = "db.internal"\n'
        f'    sslmode: str = "{sslmode}"\n\n'
        "    @property\n    def url(self) -> str:\n"
        f'        return f"postgresql://app@{{self.host}}:5432/app{query}"\n\n'
        "    @property\n    def args(self) -> dict:\n"
        '        return {"sslmode": self.sslmode}\n\n\n'
        f"class Settings({cls}):\n    debug: bool = False\n"
        f"{binding.format(name=name)}\n\nsettings = Settings()\n"
    )
    args = f", connect_args=settings.{name}.args" if through_args else ""
    app = (
        "from sqlalchemy import create_engine\n\nfrom config import settings\n\n"
        f"engine = create_engine(settings.{name}.url{args})\n"
    )
    key = (binding, base, name, mode, through_args)
    root = _project(tmp_path, key, {"config.py": config, "app.py": app})
    for file in ("config.py", "app.py"):
        _findings(root, file)
    found = [f for f in _scan(root) if f.rule_id in _TRANSPORT]
    assert [f.rule_id for f in found] == [rule], (config, app, found)
    if through_args:  # the sslmode default decides: reported there, the call related
        sslmode_line = config.splitlines().index(f'    sslmode: str = "{sslmode}"') + 1
        assert (found[0].path, found[0].line) == ("config.py", sslmode_line)
        assert ("app.py", 5) in {(r.path, r.line) for r in found[0].related}


PARAMETER_SHAPES = (
    # (the class, how it is made, the call that connects)
    (
        "class Operator:\n"
        "    def __init__(self, sql, database='etl', {param}: str = '{mode}', **kw):\n"
        "        self.sql = sql\n        self.database = database\n"
        "        self.{attr} = {param}\n\n"
        "    def execute(self, host):\n"
        "        return psycopg2.connect(dbname=self.database, host=host,"
        " sslmode=self.{attr})\n",
        "task = Operator('select 1')\n",
    ),
    (
        "def connect(host, {param}='{mode}'):\n"
        "    return psycopg2.connect(host=host, dbname='app', sslmode={param})\n",
        "conn = connect('db.internal')\n",
    ),
)


@_SETTINGS
@given(
    shape=st.sampled_from(PARAMETER_SHAPES),
    param=st.sampled_from(("sslmode", "ssl_mode", "mode", "tls")),
    attr=st.sampled_from(("sslmode", "_sslmode", "mode")),
    mode=st.sampled_from(MODES),
    lead=st.integers(min_value=0, max_value=3),
)
def test_a_parameter_default_that_decides_is_where_the_finding_goes(
    tmp_path: Path,
    shape: tuple[str, str],
    param: str,
    attr: str,
    mode: tuple[str, str],
    lead: int,
) -> None:
    body, use = shape
    sslmode, rule = mode
    defined = body.format(param=param, attr=attr, mode=sslmode)
    text = "import psycopg2\n" + "\n" * lead + "\n\n" + defined + "\n\n" + use
    root = _project(tmp_path, (shape, param, attr, mode, lead), {"ops.py": text})
    _findings(root, "ops.py")
    found = [f for f in _scan(root) if f.rule_id in _TRANSPORT]
    lines = text.splitlines()
    default_line = next(i for i, line in enumerate(lines, 1) if f"'{sslmode}'" in line)
    call_line = next(i for i, line in enumerate(lines, 1) if "psycopg2.connect(" in line)
    assert [(f.rule_id, f.line) for f in found] == [(rule, default_line)], text
    assert ("ops.py", call_line) in {(r.path, r.line) for r in found[0].related}


# --- 3. qualified password names --------------------------------------------------------

_WORD = st.from_regex(r"[A-Z]{2,8}", fullmatch=True)
QUALIFIERS = st.one_of(
    st.sampled_from(("PROD", "DEV", "STAGING", "TEST", "LOCAL", "QA", "CI")),
    st.from_regex(r"[A-Z]{3,8}(_[0-9])?", fullmatch=True),
).filter(lambda word: not set(word.split("_")) & NOT_THE_PASSWORD)
PREFIXES = st.sampled_from(("DB_", "PG_", "CC_DWH_DB_", "POSTGRES_", "DATABASE_"))
REAL_LOOKING = st.from_regex(r"[a-z]{3,6}[A-Z][a-z]{2,5}[0-9]{2,4}[$!#]?", fullmatch=True)


def _env_findings(tmp_path: Path, key: object, text: str) -> list[Finding]:
    root = _project(tmp_path, key, {".env.example": text})
    return [f for f in _scan(root) if f.rule_id == "VF401"]


@_SETTINGS
@given(prefix=PREFIXES, qualifier=QUALIFIERS, password=REAL_LOOKING, before=st.booleans())
def test_a_password_named_with_a_qualifier_is_a_password(
    tmp_path: Path, prefix: str, qualifier: str, password: str, before: bool
) -> None:
    name = f"{prefix}PASSWORD_{qualifier}" if not before else f"{prefix}{qualifier}_PASSWORD"
    assert password_name(name) is not None
    text = f"{prefix}HOST_{qualifier}=10.0.0.5\n{prefix}PORT_{qualifier}=5432\n{name}={password}\n"
    found = _env_findings(tmp_path, (name, password), text)
    assert [(f.line, f.message.split()[0]) for f in found] == [(3, name)], text


@_SETTINGS
@given(prefix=PREFIXES, not_it=st.sampled_from(sorted(NOT_THE_PASSWORD)), value=REAL_LOOKING)
def test_a_qualifier_that_says_not_the_password_is_no_password(
    tmp_path: Path, prefix: str, not_it: str, value: str
) -> None:
    name = f"{prefix}PASSWORD_{not_it}"
    assert password_name(name) is None
    found = _env_findings(tmp_path, (name, value), f"{prefix}HOST=db.internal\n{name}={value}\n")
    assert found == []


@_SETTINGS
@given(
    qualifier=QUALIFIERS,
    other=st.sampled_from(("1521", "3306", "27017", "1433")),
    password=REAL_LOOKING,
    pg_first=st.booleans(),
)
def test_a_qualified_family_of_another_engine_keeps_its_password_out(
    tmp_path: Path, qualifier: str, other: str, password: str, pg_first: bool
) -> None:
    pg = f"DB_HOST_PG=10.0.0.7\nDB_PORT_PG=5432\nDB_PASSWORD_PG={password}x\n"
    foreign = f"DB_HOST_{qualifier}=10.0.0.8\nDB_PORT_{qualifier}={other}\n"
    foreign += f"DB_PASSWORD_{qualifier}={password}\n"
    if qualifier == "PG":
        return
    text = pg + foreign if pg_first else foreign + pg
    found = _env_findings(tmp_path, (qualifier, other, password, pg_first), text)
    assert [f.message.split()[0] for f in found] == ["DB_PASSWORD_PG"], text


# --- 4. server run-time parameters in a URL's query cannot change its TLS --------------

RUNTIME_KEYS = ("options", "port", "search_path", "timezone")
QUERY_CALLS = ("create_engine({url})", "psycopg2.connect({url})", "asyncpg.connect({url})")


@_SETTINGS
@given(
    key=st.sampled_from(RUNTIME_KEYS),
    call=st.sampled_from(QUERY_CALLS),
    mode=st.sampled_from(("disable", "require", "verify-ca", "verify-full")),
    first=st.booleans(),
    prefix=st.sampled_from(("", "--cluster%3D", "-c%20search_path%3D")),
)
def test_an_unknown_server_parameter_in_the_query_leaves_the_url_judged_as_written(
    tmp_path: Path, key: str, call: str, mode: str, first: bool, prefix: str
) -> None:
    pairs = [f"sslmode={mode}&sslrootcert=/run/ca.crt", f"{key}={prefix}{{}}"]
    query = "&".join(pairs[::-1] if first else pairs)
    template = f"postgresql://app@db.internal:26257/app?{query}"
    unknown = "f" + repr(template.replace("{}", "{os.environ['CLUSTER']}"))
    written = repr(template.format("blue-cluster-12"))
    assert _query_rules(tmp_path, call.format(url=unknown)) == _query_rules(
        tmp_path, call.format(url=written)
    ), unknown


# --- 5. Prefect's SqlAlchemyConnector: a create_engine site, or a stored block -----------

PREFECT_URLS = (
    "'postgresql+psycopg2://app@db.internal:5432/app'",
    "'postgresql+psycopg2://app@db.internal:5432/app?sslmode=disable'",
    "'postgresql+psycopg2://app@db.internal/app?sslmode=verify-full&sslrootcert=/ca.crt'",
    "'postgresql+asyncpg://app@db.internal:5432/app'",
    "f'postgresql+psycopg2://{user}:{password}@{host}:5432/{db}'",
    "os.environ['DATABASE_URL']",
)
PREFECT_CONNECT_ARGS = (None, "{'sslmode': 'require'}", "{'connect_timeout': 5}")
PREFECT_IMPORTS = (
    ("from prefect_sqlalchemy import SqlAlchemyConnector", "SqlAlchemyConnector"),
    ("import prefect_sqlalchemy", "prefect_sqlalchemy.SqlAlchemyConnector"),
    ("from prefect_sqlalchemy.database import SqlAlchemyConnector as Block", "Block"),
)


@_SETTINGS
@given(
    url=st.sampled_from(PREFECT_URLS),
    connect_args=st.sampled_from(PREFECT_CONNECT_ARGS),
    imports=st.sampled_from(PREFECT_IMPORTS),
    positional=st.booleans(),
)
def test_a_prefect_block_made_with_a_url_is_the_engine_it_builds(
    tmp_path: Path,
    url: str,
    connect_args: str | None,
    imports: tuple[str, str],
    positional: bool,
) -> None:
    statement, name = imports
    given = url if positional else f"connection_info={url}"
    extra = f", connect_args={connect_args}" if connect_args else ""
    engine_extra = f", connect_args={connect_args}" if connect_args else ""
    head = "import os\nfrom sqlalchemy import create_engine\nuser = password = host = db = 'x'\n"
    block = f"{head}{statement}\n\nblock = {name}({given}{extra})\n"
    direct = f"{head}{statement}\n\nblock = create_engine({url}{engine_extra})\n"
    root = _project(tmp_path, (url, connect_args, imports, positional), {"block.py": block})
    other = _project(tmp_path, ("direct", url, connect_args), {"block.py": direct})
    made = sorted(rule for rule, line in _findings(root, "block.py") if rule in _TRANSPORT)
    engine_rules = sorted(rule for rule, _ in _findings(other, "block.py") if rule in _TRANSPORT)
    assert made == engine_rules, block


@_SETTINGS
@given(
    imports=st.sampled_from(PREFECT_IMPORTS),
    block_name=st.from_regex(r"[a-z][a-z0-9-]{2,20}", fullmatch=True),
    use=st.sampled_from(
        (
            "with {load} as db:\n        db.execute('select 1')\n",
            "engine = {load}.get_engine()\n",
            "db = {load}\n",
            "{load}\n",
        )
    ),
    asynchronous=st.booleans(),
)
def test_a_loaded_prefect_block_is_decided_at_deploy_unless_dropped(
    tmp_path: Path, imports: tuple[str, str], block_name: str, use: str, asynchronous: bool
) -> None:
    statement, name = imports
    loader = "aload" if asynchronous else "load"
    load = f"{'await ' if asynchronous else ''}{name}.{loader}({block_name!r})"
    body = use.format(load=load)
    text = f"{statement}\n\n\nasync def flow():\n    {body}"
    root = _project(tmp_path, (imports, block_name, use, asynchronous), {"flow.py": text})
    found = _findings(root, "flow.py")
    expected = set() if use == "{load}\n" else {("VF108", 5)}
    assert {f for f in found if f[0] in _TRANSPORT} == expected, text


# --- 6. a form's blank is a placeholder; a command's output is no literal ------------


@_SETTINGS
@given(
    key=st.sampled_from(("DB_PASSWORD", "POSTGRES_PASSWORD", "PGPASSWORD")),
    value=st.sampled_from(("fill", "FILL", "to_fill", "to-be-filled", "tobeset")),
    comment=st.sampled_from(("", "  # Optional, remove if unnecessary")),
)
def test_a_blank_to_fill_is_no_credential(
    tmp_path: Path, key: str, value: str, comment: str
) -> None:
    text = f"DB_HOST=db.internal\nDB_PORT=5432\n{key}={value}{comment}\n"
    assert _env_findings(tmp_path, (key, value, comment), text) == []


# --- 7. a script's exported PG* connection: references read as deployed, tools related --

PG_EXPORTS = {
    "PGPORT": ("5432", '"${POSTGRES_PORT}"', "$DB_PORT"),
    "PGUSER": ("app", '"${POSTGRES_USER}"'),
    "PGPASSWORD": ('"${POSTGRES_PASSWORD}"',),
    "PGDATABASE": ("app", '"${POSTGRES_DB:-app}"'),
}
TOOLS = ("pg_dump | gzip > /backups/db.sql.gz", "psql -c 'select 1'", "dropdb app", "createdb app")


@_SETTINGS
@given(
    host=st.sampled_from(("db.internal", '"${POSTGRES_HOST}"', "$DB_HOST", '"${PGH:-db}"')),
    others=st.lists(
        st.sampled_from(sorted(PG_EXPORTS)).flatmap(
            lambda name: st.tuples(st.just(name), st.sampled_from(PG_EXPORTS[name]))
        ),
        max_size=4,
        unique_by=lambda pair: pair[0],
    ),
    host_first=st.booleans(),
    tools=st.lists(st.sampled_from(TOOLS), min_size=1, max_size=3),
)
def test_an_exported_connection_is_one_finding_with_its_tools_related(
    tmp_path: Path,
    host: str,
    others: list[tuple[str, str]],
    host_first: bool,
    tools: list[str],
) -> None:
    exports = [f"export {name}={value}" for name, value in others]
    exports.insert(0 if host_first else len(exports), f"export PGHOST={host}")
    lines = ["#!/usr/bin/env bash", "set -o errexit", *exports, "", *tools]
    text = "\n".join(lines) + "\n"
    root = _project(tmp_path, (host, tuple(others), host_first, tuple(tools)), {"backup.sh": text})
    found = [f for f in _scan(root) if f.rule_id in _TRANSPORT]
    host_line = lines.index(f"export PGHOST={host}") + 1
    assert [(f.rule_id, f.line) for f in found] == [("VF102", host_line)], text
    tool_lines = {i for i, line in enumerate(lines, 1) if line in tools}
    assert {r.line for r in found[0].related} == tool_lines, text


# --- 8. pg_hba records in an `echo -e "\` string: each reported on its own line --------

HBA_RECORDS = (
    "host    all all   10.0.0.0/8      scram-sha-256",
    "host    all app   172.16.0.0/12   md5",
    "hostssl all all   0.0.0.0/0       scram-sha-256",
    "hostnossl all all 192.168.0.0/16  scram-sha-256",
)


@_SETTINGS
@given(
    records=st.lists(st.sampled_from(HBA_RECORDS), min_size=1, max_size=5),
    comments=st.lists(st.booleans(), min_size=5, max_size=5),
    lead=st.integers(min_value=0, max_value=3),
)
def test_records_of_an_escaped_echo_string_are_placed_on_their_lines(
    tmp_path: Path, records: list[str], comments: list[bool], lead: int
) -> None:
    body: list[str] = []
    for record, comment in zip(records, comments, strict=False):
        if comment:
            body.append("# an institution's range\\n\\")
        body.append(f"{record}\\n\\")
    lines = ["#!/bin/bash", *(["set -e"] * lead), 'echo -e "\\', *body]
    lines.append('local   all all trust" > ${PGDATA}/pg_hba.conf')
    text = "\n".join(lines) + "\n"
    root = _project(tmp_path, (tuple(records), tuple(comments), lead), {"init-hba.sh": text})
    found = {(f.rule_id, f.line) for f in _scan(root) if f.rule_id == "VF202"}
    expected = {
        ("VF202", number)
        for number, line in enumerate(lines, 1)
        if line.startswith(("host ", "hostnossl"))
    }
    assert found == expected, text


@_SETTINGS
@given(
    name=st.sampled_from(("COCKROACH_PASSWORD_B64", "DB_PASSWORD", "PG_PASSWORD_PROD")),
    command=st.sampled_from(
        (
            "$(gcloud secrets versions access latest \\\n  --secret=db-password)",
            "$(cat /run/secrets/db)",
            "`vault kv get -field=password secret/db`",
        )
    ),
)
def test_a_password_read_from_a_command_is_no_literal(
    tmp_path: Path, name: str, command: str
) -> None:
    text = f"#!/bin/bash\nexport PGHOST=db.internal\n{name}={command}\n"
    root = _project(tmp_path, (name, command), {"start.sh": text})
    assert [f for f in _scan(root) if f.rule_id == "VF401"] == [], text
