"""Classes the session 22 held-out round found, each generated over its shapes.
filtered == full analysis throughout (the prefilter's soundness, checked by _findings).

1. A site held by a test of the value its URL's scheme comes from (Zerohertz/
   fastapi-cookbook: `if configs.DB_TYPE == "sqlite": create_async_engine(url=
   configs.DATABASE_URI)`, the URI `f"{DB_TYPE}+{DB_DRIVER}://..."`): another backend's
   engine, not a PostgreSQL connection (its secure site was flagged VF102).
2. A URL template with its scheme filled in and no host (`f"{DB_TYPE}:///{DB_NAME}"`):
   a file database or a local socket, never TCP.
3. A reader's default that is a bare scheme (nexton-labs/fastapi-starter's
   `config("DATABASE_URL", default="postgresql://")`): it stands for the deployment's URL
   (VF108), not a local-socket connection (4 FN).
4. A URL written on its own line inside a call that spans several (Diegojacober's
   `register_tortoise(app, db_url=f"postgres://...", ...)`): reported where it is written,
   the call related; a suppression on the call's lines still holds for it.
5. Flask-SQLAlchemy's URI given by the deployment (voteaire's `app.config[
   "SQLALCHEMY_DATABASE_URI"] = DB_CONN` then `db.init_app(app)`): the VF108 stays at the
   call that makes the engine (held-out-s15's ruling), the line that sets the URI related.
6. A Tortoise config that is a class attribute read as `self._config` (tata1mg/
   deputydev-auth's TortoiseListener): reported at its credentials, the calls related.
7. A mode keyword of a conninfo call nested in a call over several lines
   (chuck-alt-delete's `AsyncConnectionPool(conninfo=make_conninfo(..., sslmode=
   'require'))`): reported at the keyword's line, the call related.
8. Components an Ansible template hands to a variable the code reads (sea-art/eJournal's
   env_vars `db_host` rendered as `DATABASE_HOST: "{{ db_host }}"`, read by the Django
   settings): judged at the code's site, not again in the vars file (3 FP).
9. A libpq tool's `--dbname=URL` (eJournal's Makefile `pg_dump --dbname=postgresql://...`):
   the option's value is the connection string (2 FN).
10. Jenkins pipelines (cnx-db's Jenkinsfile `sh "... psql -h db ..."`): the shell of their
   `sh` steps and their `environment { }` variables are read (scan/shell/jenkinsfile.py).
11. A GINO bind of a settings property's URL (QuisEgoSum's `db.set_bind(config.database.uri)`):
   placed where the property builds it, as a driver call's is (it stood at the call too).
12. Python 2 modules and cookiecutter templates (cnx-db, py_pb_dbhandler, alexted): the
   lines Python 3 refuses are stood in for (scan/python/tolerant.py), the rest is judged,
   and the file is reported as not fully checked, naming those lines (3 FN).
13. CI phases beyond run/script (cnx-db's Travis `before_script: - psql -c "CREATE USER
   tester ... PASSWORD 'tester'"`): GitLab's before/after_script and Travis's phases are
   shell (1 FN).
14. The sh library's program calls (eJournal's `from sh import pg_dump` then `pg_dump("-h",
   os.environ["DATABASE_HOST"], ..., _env={...})`): the argv of the program it names.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from test_heldout_s15_sites import _SETTINGS
from test_trust_bounds import watchdog
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}
_MODE = {"VF101", "VF102", "VF103", "VF104"}

# --- 1. a site held by a test of the value its URL's scheme comes from ------------------

# (the test as written, whether it holds for SQLite only)
SCHEME_TESTS = {
    'settings.DB_TYPE == "sqlite"': True,
    'settings.DB_TYPE in ("sqlite", "mysql")': True,
    'settings.DB_TYPE.startswith("sqlite")': True,
    'settings.DB_TYPE != "sqlite"': False,
    'not settings.DB_TYPE == "sqlite"': False,
    'settings.DB_TYPE == "postgresql"': False,
}
# how the settings build the URL from DB_TYPE
URL_BUILDS = {
    "fstring": 'f"{self.DB_TYPE}://{self.DB_USER}@{self.DB_HOST}:5432/app"',
    "driver": 'f"{self.DB_TYPE}+{self.DB_DRIVER}://{self.DB_USER}@{self.DB_HOST}/app"',
}


@_SETTINGS
@given(
    test=st.sampled_from(sorted(SCHEME_TESTS)),
    build=st.sampled_from(sorted(URL_BUILDS)),
    in_else=st.booleans(),
)
def test_a_site_held_by_a_test_of_its_schemes_value(
    tmp_path: Path, test: str, build: str, in_else: bool
) -> None:
    config = (
        "from pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n"
        "    DB_TYPE: str\n    DB_DRIVER: str\n    DB_USER: str\n    DB_HOST: str\n\n"
        "    @property\n    def URI(self) -> str:\n"
        f"        return {URL_BUILDS[build]}\n\n\n"
        "settings = Settings()\n"
    )
    site = "    engine = create_engine(settings.URI)\n"  # line 5 or 7
    db = f"from sqlalchemy import create_engine\n\nfrom config import settings\n\nif {test}:\n" + (
        "    pass\nelse:\n" + site if in_else else site
    )
    root = _project(tmp_path, (test, build, in_else), {"config.py": config, "db.py": db})
    found = {r for r, _ in _findings(root, "db.py") if r in _TRANSPORT}
    sqlite_only = SCHEME_TESTS[test] != in_else
    if sqlite_only:
        assert not found, db
    else:
        assert found, db  # a PostgreSQL deployment's URL: judged (VF102 or VF108)


# --- 2. a URL template with its scheme filled in and no host ----------------------------


@_SETTINGS
@given(
    authority=st.sampled_from(("", "app@db.internal:5432", "db.internal")),
    through=st.sampled_from(("module", "property")),
)
def test_a_template_with_no_host_is_no_tcp_connection(
    tmp_path: Path, authority: str, through: str
) -> None:
    url = f'f"{{DB_TYPE}}://{authority}/{{DB_NAME}}"'
    head = (
        "import os\nfrom sqlalchemy import create_engine\n"
        'DB_TYPE = os.environ["DB_TYPE"]\nDB_NAME = os.environ["DB_NAME"]\n'
    )
    if through == "module":
        code = head + f"URL = {url}\nengine = create_engine(URL)\n"
    else:
        code = head + f"def url():\n    return {url}\n\n\nengine = create_engine(url())\n"
    root = _project(tmp_path, (authority, through), {"db.py": code})
    found = {r for r, _ in _findings(root, "db.py") if r in _TRANSPORT}
    if authority:
        assert "VF102" in found, code
    else:
        assert not found, code


# --- 3. a reader's default that is a bare scheme stands for the deployment's URL --------

READERS = {
    "os.getenv": ("import os", 'os.getenv("DATABASE_URL", {default})'),
    "os.environ.get": ("import os", 'os.environ.get("DATABASE_URL", default={default})'),
    "starlette": (
        "from starlette.config import Config\nconfig = Config()",
        'config("DATABASE_URL", cast=str, default={default})',
    ),
    "decouple": ("from decouple import config", 'config("DATABASE_URL", default={default})'),
}


@_SETTINGS
@given(
    reader=st.sampled_from(sorted(READERS)),
    default=st.sampled_from(
        ("postgresql://", "postgresql+psycopg2://", "postgres://", "postgresql:///app", "sqlite://")
    ),
)
def test_a_bare_scheme_default_stands_for_the_deployed_url(
    tmp_path: Path, reader: str, default: str
) -> None:
    imports, read = READERS[reader]
    code = (
        f"{imports}\nfrom sqlalchemy import create_engine\n"
        f"DATABASE_URL = {read.format(default=repr(default))}\n"
        "engine = create_engine(DATABASE_URL)\n"
    )
    root = _project(tmp_path, (reader, default), {"db.py": code})
    found = {r for r, _ in _findings(root, "db.py") if r in _TRANSPORT}
    # a database named on the local socket is a connection someone runs; a bare scheme is
    # what the deployment fills in
    # (and `sqlite://` is SQLite's in-memory database)
    named = default.endswith("/app") or default.startswith("sqlite")
    assert found == (set() if named else {"VF108"}), code


# --- 4. a URL written on its own line inside a call that spans several ------------------

INLINE_SITES = {
    "create_engine": ("from sqlalchemy import create_engine", "create_engine(", "{url}"),
    "tortoise": (
        "from tortoise.contrib.fastapi import register_tortoise",
        "register_tortoise(\n    app,",
        "db_url={url}",
    ),
    "asyncpg": ("import asyncpg", "asyncpg.connect(", "dsn={url}"),
}


@_SETTINGS
@given(
    site=st.sampled_from(sorted(INLINE_SITES)),
    query=st.sampled_from(("", "?sslmode=disable")),
    fstring=st.booleans(),
    tls_argument=st.booleans(),
)
def test_a_url_on_its_own_line_of_a_call_is_reported_there(
    tmp_path: Path, site: str, query: str, fstring: bool, tls_argument: bool
) -> None:
    imports, opening, passed = INLINE_SITES[site]
    scheme = "postgres" if site == "tortoise" else "postgresql"
    url = (
        f'f"{scheme}://{{USER}}@db.internal:5432/app{query}"'
        if fstring
        else f'"{scheme}://app@db.internal:5432/app{query}"'
    )
    tls = {"create_engine": 'connect_args={"sslmode": "require"}', "asyncpg": 'ssl="require"'}
    extra = f"    {tls[site]},\n" if tls_argument and site in tls else ""
    code = (
        f'{imports}\napp = None\nUSER = "app"\n'
        f"conn = {opening}\n    {passed.format(url=url)},\n{extra})\n"
    )
    url_line = next(n for n, text in enumerate(code.splitlines(), 1) if "://" in text)
    root = _project(tmp_path, (site, query, fstring, tls_argument), {"db.py": code})
    # the mode rules (a VF105 of the call's own arguments stays at the call)
    found = {(r, n) for r, n in _findings(root, "db.py") if r in _MODE}
    lines = {n for _, n in found}
    assert found, code
    if extra:  # the call's own TLS argument decides: where it is written, not the URL
        assert url_line not in lines, code
    else:
        assert lines == {url_line}, code


@_SETTINGS
@given(
    on=st.sampled_from(("opening", "closing")),
    query=st.sampled_from(("", "?sslmode=disable")),
)
def test_a_suppression_on_the_call_holds_for_its_inline_url(
    tmp_path: Path, on: str, query: str
) -> None:
    rule = "VF101" if query else "VF102"
    mark = f"  # verifyfull: ignore[{rule}] the CI database"
    code = (
        "from sqlalchemy import create_engine\n"
        f"engine = create_engine({mark if on == 'opening' else ''}\n"
        f'    "postgresql://app@db.internal:5432/app{query}",\n'
        f"){mark if on == 'closing' else ''}\n"
    )
    root = _project(tmp_path, (on, query), {"db.py": code})
    assert not {r for r, _ in _findings(root, "db.py") if r in _MODE}, code


# --- 5. Flask-SQLAlchemy's URI from the deployment: at the engine's call, the setting related


@_SETTINGS
@given(
    read=st.sampled_from(('os.environ.get("DB_CONN")', 'os.environ["DB_CONN"]', "DB_CONN")),
    init=st.sampled_from(("db.init_app(app)", "db = SQLAlchemy(app)")),
    gap=st.integers(min_value=0, max_value=4),
)
def test_a_deployed_flask_uri_names_the_line_that_sets_it(
    tmp_path: Path, read: str, init: str, gap: int
) -> None:
    code = (
        "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
        'DB_CONN = os.environ.get("DB_CONN")\n'
        + ("db = SQLAlchemy()\n" if "init_app" in init else "")
        + "app = Flask(__name__)\n"
        f'app.config["SQLALCHEMY_DATABASE_URI"] = {read}\n' + "\n" * gap + f"{init}\n"
    )
    setting_line = next(n for n, t in enumerate(code.splitlines(), 1) if "SQLALCHEMY_DATABASE" in t)
    root = _project(tmp_path, (read, init, gap), {"app.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    (found,) = [f for f in result.report.findings if f.rule_id in _TRANSPORT]
    assert (found.rule_id, found.line) == ("VF108", code.count("\n")), code
    assert [r.line for r in found.related] == [setting_line], code


# --- 6. a Tortoise config that is a class attribute, read through self or cls -----------


@_SETTINGS
@given(
    receiver=st.sampled_from(("self", "cls")),
    ssl=st.sampled_from((None, '"disable"', '"require"')),
    calls=st.integers(min_value=1, max_value=2),
)
def test_a_class_attribute_tortoise_config_is_reported_where_it_is_written(
    tmp_path: Path, receiver: str, ssl: str | None, calls: int
) -> None:
    ssl_entry = f'                    "ssl": {ssl},\n' if ssl else ""
    decorator = "    @classmethod\n" if receiver == "cls" else ""
    code = (
        "from tortoise import Tortoise\n\n\nclass Listener:\n"
        "    _config = {\n"
        '        "connections": {\n'
        '            "default": {\n'
        '                "engine": "tortoise.backends.asyncpg",\n'
        '                "credentials": {\n'  # line 9
        '                    "host": "db.internal",\n'
        + ssl_entry
        + '                    "database": "app",\n'
        "                },\n            }\n        },\n"
        '        "apps": {"models": {"models": ["app.models"]}},\n'
        "    }\n\n"
        + decorator
        + f"    async def setup({receiver}) -> None:\n"
        + "".join(f"        await Tortoise.init(config={receiver}._config)\n" for _ in range(calls))
    )
    root = _project(tmp_path, (receiver, ssl, calls), {"listener.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [f for f in result.report.findings if f.rule_id in _TRANSPORT]
    rule = {None: "VF102", '"disable"': "VF101", '"require"': "VF103"}[ssl]
    line = 11 if ssl else 9  # the ssl value, or the credentials dict that lacks it
    assert [(f.rule_id, f.line) for f in found] == [(rule, line)], code
    assert len(found[0].related) == calls, code


@_SETTINGS
@given(
    outer=st.sampled_from(("AsyncConnectionPool(\n    conninfo=", "psycopg.connect(\n    ")),
    mode=st.sampled_from(("disable", "require", "verify-ca")),
    before=st.booleans(),
)
def test_a_mode_of_a_nested_conninfo_call_is_reported_where_it_is_written(
    tmp_path: Path, outer: str, mode: str, before: bool
) -> None:
    code = (
        "import psycopg\nfrom psycopg import conninfo\n"
        "from psycopg_pool import AsyncConnectionPool\n"
        f"pool = {outer}conninfo.make_conninfo(\n"
        "        host='db.internal',\n"
        + ("        application_name='api',\n" if before else "")
        + f"        sslmode='{mode}',\n"
        "    ),\n)\n"
    )
    mode_line = next(n for n, t in enumerate(code.splitlines(), 1) if "sslmode" in t)
    root = _project(tmp_path, (outer, mode, before), {"db.py": code})
    rule = {"disable": "VF101", "require": "VF103", "verify-ca": "VF104"}[mode]
    found = {(r, n) for r, n in _findings(root, "db.py") if r in _MODE}
    assert found == {(rule, mode_line)}, code


# --- 8. components an Ansible template hands to a variable the code reads ---------------


@_SETTINGS
@given(
    vars_file=st.sampled_from(("config/env_vars/development.yml", "group_vars/all.yml")),
    template=st.sampled_from(("yaml", "j2")),
    read=st.booleans(),
)
def test_components_a_template_hands_to_the_code_are_judged_there(
    tmp_path: Path, vars_file: str, template: str, read: bool
) -> None:
    components = (
        "---\ndb_user: app\ndb_name: app\n"
        "db_host: db.internal\n"  # line 4
        "db_port: 5432\n"
    )
    if template == "yaml":
        rendered = ("roles/web/defaults/main.yml", 'env:\n  DATABASE_HOST: "{{ db_host }}"\n')
    else:
        rendered = ("roles/web/templates/app.env.j2", "DATABASE_HOST={{ db_host | quote }}\n")
    reader = "DATABASE_HOST" if read else "OTHER_HOST"
    settings_py = f'import os\nDATABASES = {{"default": {{"HOST": os.environ["{reader}"]}}}}\n'
    files = {vars_file: components, rendered[0]: rendered[1], "settings.py": settings_py}
    root = _project(tmp_path, (vars_file, template, read), {})
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    in_vars = {(f.rule_id, f.line) for f in result.report.findings if f.path == vars_file}
    assert in_vars == (set() if read else {("VF102", 4)}), files


# --- 9. a libpq tool's --dbname=URL: the option's value is the connection string --------


@_SETTINGS
@given(
    tool=st.sampled_from(("psql", "pg_dump", "pg_restore", "createdb")),
    option=st.sampled_from(("--dbname=", "-d", "--maintenance-db=")),
    user=st.sampled_from(("app", "$(user)", "${DB_USER}")),
    query=st.sampled_from(("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full")),
    where=st.sampled_from(("Makefile", "scripts/dump.sh")),
)
def test_a_dbname_option_holding_a_url_is_judged_as_the_connection(
    tmp_path: Path, tool: str, option: str, user: str, query: str, where: str
) -> None:
    if where == "Makefile" and user.startswith("${"):
        user = "$${DB_USER}"  # make passes `$$` to the shell as `$`
    if where != "Makefile" and user.startswith("$("):
        user = "app"
    url = f"postgresql://{user}@db.internal:5432/app{query}"
    line = f"{tool} {option}{url} > out.sql"
    text = f"dump:\n\t{line}\n" if where == "Makefile" else f"#!/bin/sh\n{line}\n"
    root = _project(tmp_path, (tool, option, user, query, where), {})
    (root / where).parent.mkdir(parents=True, exist_ok=True)
    (root / where).write_text(text, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT}
    rule = {"": "VF102", "?sslmode=disable": "VF101", "?sslmode=require": "VF103"}.get(query)
    assert found == ({(rule, 2)} if rule else set()), text


# --- 10. Jenkins pipelines: the shell of their `sh` steps, their environment blocks -----

JENKINS_STEPS = {
    "single": "sh '{command}'",
    "double": 'sh "{command}"',
    "triple": "sh '''\n            {command}\n        '''",
    "script": 'sh(script: "{command}", returnStatus: true)',
}
JENKINS_COMMANDS = {  # (command, the rule it gives)
    "psql -h db -U postgres -c select": "VF102",
    "pg_dump postgresql://app@db.internal/app?sslmode=disable": "VF101",
    "cockroach start-single-node --insecure": "VF201",
    "psql -U postgres -c select": None,  # the local socket
}


@_SETTINGS
@given(
    step=st.sampled_from(sorted(JENKINS_STEPS)),
    command=st.sampled_from(sorted(JENKINS_COMMANDS)),
    name=st.sampled_from(("Jenkinsfile", "ci/Jenkinsfile.release")),
)
def test_a_jenkins_sh_step_is_read_as_shell(
    tmp_path: Path, step: str, command: str, name: str
) -> None:
    written = JENKINS_STEPS[step].format(command=command)
    text = (
        "pipeline {\n  agent any\n  stages {\n    stage('Test') {\n      steps {\n"
        f"        {written}\n"
        "      }\n    }\n  }\n}\n"
    )
    line = next(n for n, t in enumerate(text.splitlines(), 1) if command.split()[0] in t)
    root = _project(tmp_path, (step, command, name), {})
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings if f.path == name}
    rule = JENKINS_COMMANDS[command]
    assert found == ({(rule, line)} if rule else set()), text


def test_a_jenkins_environment_block_is_the_steps_environment(tmp_path: Path) -> None:
    text = (
        "pipeline {\n  environment {\n    PGSSLMODE = 'disable'\n  }\n"
        "  stages { stage('x') { steps { sh 'echo ready' } } }\n}\n"
    )
    root = _project(tmp_path, "env", {"Jenkinsfile": text})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    assert {(f.rule_id, f.line) for f in result.report.findings} == {("VF101", 3)}


def test_hostile_jenkinsfiles_stay_linear(tmp_path: Path) -> None:
    """Unclosed strings, escaped quotes and backslash runs: one forward pass each (a
    deadline, not a timing: the watchdog fails the test if the reading hangs)."""
    from verifyfull.scan.shell.jenkinsfile import read_jenkinsfile

    for text in (
        "sh '" + "x\\\\'" * 20_000,  # escaped quotes, never closed
        "sh 'echo'\n" * 5_000 + "sh '" + "a" * 200_000,  # many steps, then one unclosed
        ('sh "' + "\\\\" * 10_000 + '"\n') * 20,  # runs of backslashes before each quote
    ):
        with watchdog(20):
            _, commands = read_jenkinsfile(text)
        assert len(commands) <= 2_000  # the step bound


# --- 11. a GINO bind of a settings property's URL is placed where the property builds it -


@_SETTINGS
@given(
    call=st.sampled_from(("await db.set_bind(config.uri)", "await create_engine(config.uri)")),
    query=st.sampled_from(("", "?sslmode=disable")),
)
def test_a_gino_bind_of_a_settings_url_is_placed_at_the_settings(
    tmp_path: Path, call: str, query: str
) -> None:
    config = (
        "class Config:\n"
        '    host = "db.internal"\n\n'
        "    @property\n    def uri(self) -> str:\n"
        f'        return f"postgresql://app@{{self.host}}:5432/app{query}"\n\n\n'
        "config = Config()\n"
    )
    db = (
        "from gino import Gino, create_engine\n\nfrom config import config\n\ndb = Gino()\n\n\n"
        f"async def connect() -> None:\n    {call}\n"
    )
    root = _project(tmp_path, (call, query), {"config.py": config, "db.py": db})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [(f.rule_id, f.path, f.line) for f in result.report.findings if f.rule_id in _MODE]
    if query:  # GINO passes none of the URL's query to asyncpg: its default, at the call
        assert found == [("VF102", "db.py", 9)], found
    else:
        assert found == [("VF102", "config.py", 6)], found


# --- 12. Python 2 modules and templates: their other lines are read --------------------

BROKEN_LINES = (  # lines Python 3 refuses, each with the block structure it keeps
    'print "connecting"',
    "exec code_text",
    "raise ValueError, 'bad'",
    "value = 0777",
    "text = `value`",
    "{% if cookiecutter.use_postgresql == 'y' %}",
    "from {{ cookiecutter.project_slug }}.config import settings",
)


@_SETTINGS
@given(
    broken=st.lists(st.sampled_from(BROKEN_LINES), min_size=1, max_size=3),
    handler=st.booleans(),
    mode=st.sampled_from(("disable", "require")),
)
def test_a_python2_or_template_file_is_read_but_for_its_broken_lines(
    tmp_path: Path, broken: list[str], handler: bool, mode: str
) -> None:
    body = "".join(f"    {line}\n" for line in broken)
    code = (
        "import sys\nimport psycopg2\n\n\ndef connect(code_text, value):\n"
        + body
        + "    try:\n"
        + f"        return psycopg2.connect(host='db.internal', sslmode='{mode}')\n"
        + (
            "    except psycopg2.Error, error:\n        raise\n"
            if handler
            else "    finally:\n        pass\n"
        )
    )
    root = _project(tmp_path, (tuple(broken), handler, mode), {"legacy.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    site_line = next(n for n, t in enumerate(code.splitlines(), 1) if "psycopg2.connect" in t)
    rule = "VF101" if mode == "disable" else "VF103"
    found = {(f.rule_id, f.line) for f in result.report.findings if f.rule_id in _MODE}
    assert found == {(rule, site_line)}, code
    (error,) = [e for e in result.report.errors if e.path == "legacy.py"]
    assert "not fully checked" in error.message and "Python 3" in error.message, error


def test_a_file_of_nothing_but_broken_lines_is_not_read(tmp_path: Path) -> None:
    from verifyfull.scan.python.tolerant import MAX_REPAIRS, repaired

    text = "\n".join(['print "x"'] * (MAX_REPAIRS * 10)) + "\n"
    with watchdog(20):
        assert repaired(text, "flood.py") is None  # more than its bounds allow
    small = "import psycopg2\n" + 'print "x"\n' + "psycopg2.connect(host='db', sslmode='disable')\n"
    fixed = repaired(small * 2 + "x = 1\n" * 4, "two.py")  # 2 of 11 lines: within a quarter
    assert fixed is not None and fixed[1] == (2, 5)


# --- 13. CI phases beyond run/script: GitLab's and Travis's before/after scripts -------

CI_PHASES = {
    ".travis.yml": (
        "language: python\n{key}:\n  - {command}\n",
        ("before_script", "after_success"),
    ),
    ".gitlab-ci.yml": (
        "test:\n  image: python:3.12\n  {key}:\n    - {command}\n  script:\n    - pytest\n",
        ("before_script", "after_script"),
    ),
}
CI_COMMANDS = {
    "psql -h db.internal -U app -c 'select 1'": "VF102",
    "psql -U postgres -c \"CREATE USER tester WITH PASSWORD 'kT9vq2Lm'\"": "VF401",
    "cockroach start-single-node --insecure --background": "VF201",
}


@_SETTINGS
@given(
    ci=st.sampled_from(sorted(CI_PHASES)),
    phase=st.integers(min_value=0, max_value=1),
    command=st.sampled_from(sorted(CI_COMMANDS)),
)
def test_a_ci_phase_script_is_read_as_shell(
    tmp_path: Path, ci: str, phase: int, command: str
) -> None:
    template, keys = CI_PHASES[ci]
    text = template.format(key=keys[phase], command=command)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if command[:10] in t)
    root = _project(tmp_path, (ci, phase, command), {ci: text})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings}
    assert found == {(CI_COMMANDS[command], line)}, text


# --- 14. the sh library's program calls are argv -------------------------------------

SH_CALLS = {  # (imports, the call with {args})
    "from": ("from sh import pg_dump", "pg_dump({args})"),
    "alias": ("from sh import psql as client", "client({args})"),
    "module": ("import sh", "sh.pg_dump({args})"),
}
SH_ARGS = {  # the arguments, the rule
    "'-h', os.environ['DATABASE_HOST'], '-U', 'app', 'app'": "VF102",
    "h='db.internal', U='app'": "VF102",
    "'-h', 'db.internal', _env={'PGSSLMODE': 'disable'}": "VF101",
    "'postgresql://app@db.internal/app?sslmode=require'": "VF103",
    "'-U', 'postgres', 'app'": None,  # the local socket
}


@_SETTINGS
@given(call=st.sampled_from(sorted(SH_CALLS)), args=st.sampled_from(sorted(SH_ARGS)))
def test_an_sh_library_call_is_the_program_it_names(tmp_path: Path, call: str, args: str) -> None:
    imports, written = SH_CALLS[call]
    code = f"import os\n{imports}\n\n\ndef backup():\n    {written.format(args=args)}\n"
    root = _project(tmp_path, (call, args), {"backup.py": code})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {f.rule_id for f in result.report.findings if f.rule_id in _TRANSPORT | {"VF101"}}
    rule = SH_ARGS[args]
    assert found == ({rule} if rule else set()), code
