"""A framework that builds the driver call from settings is judged exactly as the
call it makes, written by hand: generated settings, every shape the framework
takes them in, compared with the equivalent direct call (the oracle: sites.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _filtered
from verifyfull.findings import Finding
from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

HEADER = (
    "import os\n"
    "from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore\n"
    "from apscheduler.schedulers.background import BackgroundScheduler\n"
    "from sqlalchemy import create_engine\n"
    "scheduler = BackgroundScheduler()\n"
)
MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
HOSTS = ("db.internal:26257", "10.0.0.7", "localhost")

# APScheduler: create_engine(url, **engine_options) (apscheduler.jobstores.sqlalchemy)
JOBSTORES = (
    "SQLAlchemyJobStore({url}{options})",
    "SQLAlchemyJobStore(url={url}{options})",
    'scheduler.add_jobstore("sqlalchemy", url={url}{options})',
    'BackgroundScheduler(jobstores={{"default": {{"type": "sqlalchemy", "url": {url}{entry}}}}})',
)


def _mode_query(key: str, mode: str) -> str:
    root = "&sslrootcert=system" if mode.startswith("verify") else ""
    return f"?{key}={mode}{root}"


@st.composite
def urls(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return f'os.environ["{draw(st.sampled_from(("JOBS_URL", "DATABASE_URL")))}"]'
    query = draw(
        st.one_of(st.just(""), st.sampled_from(MODES).map(lambda m: _mode_query("sslmode", m)))
    )
    return repr(f"postgresql://app@{draw(st.sampled_from(HOSTS))}/jobs{query}")


@st.composite
def connect_args(draw: st.DrawFn) -> str | None:
    """The connect_args dict's source text, or None for no engine options."""
    mode = draw(st.one_of(st.none(), st.sampled_from(MODES)))
    if mode is None:
        return draw(st.sampled_from((None, '{"connect_timeout": 5}')))
    root = ', "sslrootcert": "system"' if mode.startswith("verify") else ""
    return f'{{"sslmode": "{mode}"{root}}}'


def _analysed(root: Path, relpath: str, text: str) -> list[Finding]:
    """The file's findings; the prefilter keeps it (soundness: filtered == full)."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    source = SourceFile(path, relpath, path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=root, policy=Policy())).findings
    filtered = _filtered(source, ScanContext(root=root, policy=Policy()))
    assert filtered == sorted((f.rule_id, f.line or 0, f.column or 0) for f in found)
    return list(found)


def _rules(tmp_path: Path, code: str) -> set[str]:
    found = _analysed(tmp_path, "site.py", HEADER + code + "\n")
    last = HEADER.count("\n") + 1
    return {f.rule_id for f in found if f.line == last}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=st.sampled_from(JOBSTORES), url=urls(), args=connect_args())
def test_an_apscheduler_job_store_is_judged_as_its_create_engine(
    tmp_path: Path, shape: str, url: str, args: str | None
) -> None:
    direct = f"create_engine({url}" + (f", connect_args={args})" if args else ")")
    options = f', engine_options={{"connect_args": {args}}}' if args else ""
    entry = f', "engine_options": {{"connect_args": {args}}}' if args else ""
    store = shape.format(url=url, options=options, entry=entry)
    assert _rules(tmp_path, store) == _rules(tmp_path, direct), (store, direct)


def test_a_job_store_given_an_engine_is_not_a_second_site(tmp_path: Path) -> None:
    assert _rules(tmp_path, "SQLAlchemyJobStore(engine=ENGINE, url='postgresql://a@db/x')") == set()


# aerich: `Tortoise.init(config=<the configured module attribute>)` (aerich Command.init)
TORTOISE_HEADER = "import os\nimport ssl\nfrom tortoise import Tortoise\n"
TORTOISE_SSL = ('"disable"', '"require"', "True", "False", "ssl.create_default_context()")
CONFIGURED_BY = (
    None,  # only the conventional name
    ("pyproject.toml", '[tool.aerich]\ntortoise_orm = "app.settings.{name}"\n'),
    ("aerich.ini", "[aerich]\ntortoise_orm = app.settings.{name}\nlocation = ./migrations\n"),
)


@st.composite
def tortoise_configs(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        url = draw(urls()).replace("/jobs", "/app").replace("sslmode", "ssl")
        return f'{{"connections": {{"default": {url}}}, {APPS}}}'
    credentials = '"host": "db.internal", "port": 5432, "user": "app", "database": "app"'
    ssl = draw(st.one_of(st.none(), st.sampled_from(TORTOISE_SSL)))
    if ssl is not None:
        credentials += f', "ssl": {ssl}'
    entry = f'{{"engine": "tortoise.backends.asyncpg", "credentials": {{{credentials}}}}}'
    return f'{{"connections": {{"default": {entry}}}, {APPS}}}'


# Tortoise.init refuses a config without "apps": every real one has it.
APPS = '"apps": {"models": {"models": ["app.models"], "default_connection": "default"}}'


def _tortoise_rules(root: Path, code: str, relpath: str = "app/settings.py") -> set[str]:
    found = _analysed(root, relpath, TORTOISE_HEADER + code + "\n")
    return {f.rule_id for f in found if f.line == TORTOISE_HEADER.count("\n") + 1}


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    config=tortoise_configs(),
    configured=st.sampled_from(CONFIGURED_BY),
    name=st.sampled_from(("TORTOISE_ORM", "DB_SETTINGS", "ORM")),
    # aerich runs in the folder holding its configuration: the repository's root or a
    # service's folder below it (project/pyproject.toml beside compose files at the top)
    folder=st.sampled_from(("", "project/", "services/api/")),
)
def test_aerichs_settings_dict_is_judged_as_the_tortoise_init_aerich_runs(
    tmp_path: Path, config: str, configured: tuple[str, str] | None, name: str, folder: str
) -> None:
    # a fresh root per example: aerich.configured is cached by folder
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    if configured is not None:
        file, text = configured
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / file).write_text(text.format(name=name), encoding="utf-8")
    here = f"{folder}app/settings.py"
    called = _tortoise_rules(root, f"Tortoise.init(config={config})", here)
    settings_dict = _tortoise_rules(root, f"{name} = {config}", here)
    assert settings_dict == (called if configured is not None else set()), (name, configured)
    # the same name in another module is not what aerich imports, nor the same module
    # path outside the folder aerich runs in
    assert _tortoise_rules(root, f"{name} = {config}", f"{folder}app/other.py") == set()
    if folder:
        assert _tortoise_rules(root, f"{name} = {config}", "other/app/settings.py") == set()


# Flask-SQLAlchemy: a config mapping is read as the config class attributes are.
FLASK_HEADER = "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
FLASK_MAPPINGS = (
    "def config():\n    return {mapping}\n",
    "app.config.update({mapping})\n",
    "app.config.from_mapping({mapping})\n",
)


def _file_rules(tmp_path: Path, code: str) -> set[str]:
    found = _analysed(tmp_path, "config.py", FLASK_HEADER + code)
    return {f.rule_id for f in found if f.rule_id != "VF401"}


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=st.sampled_from(FLASK_MAPPINGS), url=urls(), args=connect_args())
def test_a_flask_config_mapping_is_judged_as_the_config_class(
    tmp_path: Path, shape: str, url: str, args: str | None
) -> None:
    options = f'{{"connect_args": {args}}}' if args else None
    attributes = f"    SQLALCHEMY_DATABASE_URI = {url}\n" + (
        f"    SQLALCHEMY_ENGINE_OPTIONS = {options}\n" if options else ""
    )
    entries = f'"SQLALCHEMY_DATABASE_URI": {url}' + (
        f', "SQLALCHEMY_ENGINE_OPTIONS": {options}' if options else ""
    )
    expected = _file_rules(tmp_path, f"class Config:\n{attributes}")
    assert _file_rules(tmp_path, shape.format(mapping=f"{{{entries}}}")) == expected, shape
