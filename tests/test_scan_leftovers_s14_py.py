"""Session 14 leftovers (docs/scan.md, "Session 14 (helper leftovers-s14)"), Python side:
Celery's database result backend named as configuration (frameworks/celery.py) is
judged exactly as `create_engine(URL after db+, **database_engine_options)`; filtered ==
full analysis throughout (the prefilter's soundness, checked by the shared _findings).
Fixture: tests/fixtures/scan/python/leftovers_s14/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from test_heldout_s11_py import QUERIES
from test_heldout_s13_py import SCHEMES

_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_TRANSPORT = {f"VF10{i}" for i in range(1, 9)}
_APP = "from celery import Celery\n\napp = Celery('worker', broker='redis://q:6379/0')\n"

# Where the setting is written: {files} with {b} for the backend's literal text, {o} for
# the engine options' expression; the app module loads a module or class when asked.
# (file name, text, what app.py loads or None)
CARRIERS: tuple[tuple[str, str, str | None], ...] = (
    (
        "app.py",
        _APP + "app.conf.result_backend = '{b}'\napp.conf.database_engine_options = {o}\n",
        None,
    ),
    ("app.py", _APP + "app.conf.update(result_backend='{b}', database_engine_options={o})\n", None),
    (
        "app.py",
        _APP + "app.conf.update({{'result_backend': '{b}', 'database_engine_options': {o}}})\n",
        None,
    ),
    (
        "app.py",
        _APP + "app.conf['result_backend'] = '{b}'\napp.conf['database_engine_options'] = {o}\n",
        None,
    ),
    (
        "app.py",
        _APP
        + "CONFIG = {{'result_backend': '{b}', 'database_engine_options': {o}}}\n"
        + "app.conf.update(CONFIG)\n",
        None,
    ),
    (
        "celeryconfig.py",
        "result_backend = '{b}'\ndatabase_engine_options = {o}\n",
        "'celeryconfig'",
    ),
    (
        "celeryconfig.py",
        "CELERY_RESULT_BACKEND = '{b}'\nCELERY_RESULT_ENGINE_OPTIONS = {o}\n",
        "'celeryconfig'",
    ),
    (
        "settings.py",
        "DEBUG = False\nCELERY_RESULT_BACKEND = '{b}'\nCELERY_DATABASE_ENGINE_OPTIONS = {o}\n",
        "'django.conf:settings', namespace='CELERY'",
    ),
    (
        "conf.py",
        "class CeleryConfig:\n    result_backend = '{b}'\n    database_engine_options = {o}\n",
        "CeleryConfig",
    ),
)
# (the options as database_engine_options, the same as create_engine's keywords)
OPTIONS = (
    ("{}", ""),
    ("{'pool_pre_ping': True}", ", pool_pre_ping=True"),
    ("{'connect_args': {'sslmode': 'disable'}}", ", connect_args={'sslmode': 'disable'}"),
    ("{'connect_args': {'sslmode': 'require'}}", ", connect_args={'sslmode': 'require'}"),
    ("{'connect_args': {'sslmode': 'verify-ca'}}", ", connect_args={'sslmode': 'verify-ca'}"),
    ("{'connect_args': {'ssl': True}}", ", connect_args={'ssl': True}"),
)
HOSTS = ("db.internal", "localhost")


def _files(carrier: tuple[str, str, str | None], backend: str, options: str) -> dict[str, str]:
    name, text, loads = carrier
    files = {name: text.format(b=backend, o=options)}
    if loads is not None:
        imports = "from conf import CeleryConfig\n" if loads == "CeleryConfig" else ""
        files["app.py"] = imports + _APP + f"app.config_from_object({loads})\n"
    return files


def _rules(root: Path, files: dict[str, str]) -> set[str]:
    return {rule for name in files for rule, _ in _findings(root, name) if rule in _TRANSPORT}


def celery_and_engine(
    tmp_path: Path, carrier: tuple[str, str, str | None], url: str, options: tuple[str, str]
) -> tuple[set[str], set[str]]:
    """The transport rules of the Celery setting's project, and of create_engine's."""
    files = _files(carrier, f"db+{url}", options[0])
    root = _project(tmp_path, (carrier, url, options), files)
    call = f"create_engine('{url}'{options[1]})"
    engine = {"e.py": f"from sqlalchemy import create_engine\n\nengine = {call}\n"}
    direct = _project(tmp_path, ("direct", url, options), engine)
    return _rules(root, files), _rules(direct, engine)


@_SETTINGS
@given(
    carrier=st.sampled_from(CARRIERS),
    scheme=st.sampled_from(SCHEMES),
    host=st.sampled_from(HOSTS),
    query=st.sampled_from(QUERIES),
    options=st.sampled_from(OPTIONS),
)
def test_a_celery_backend_setting_is_judged_as_its_engine(
    tmp_path: Path,
    carrier: tuple[str, str, str | None],
    scheme: str,
    host: str,
    query: str,
    options: tuple[str, str],
) -> None:
    url = f"{scheme}://app@{host}:5432/results{query}"
    celery, engine = celery_and_engine(tmp_path, carrier, url, options)
    assert celery == engine, (carrier, url, options)
    if not query and options[0] in ("{}", "{'pool_pre_ping': True}"):
        assert engine == {"VF102"}  # no TLS setting: libpq's prefer


@_SETTINGS
@given(
    carrier=st.sampled_from(CARRIERS),
    backend=st.sampled_from(("redis://q:6379/1", "rpc://", "db+sqlite:///results.db", "amqp://")),
    options=st.sampled_from(OPTIONS[2:4]),
)
def test_a_celery_backend_that_is_no_database_is_no_site(
    tmp_path: Path, carrier: tuple[str, str, str | None], backend: str, options: tuple[str, str]
) -> None:
    files = _files(carrier, backend, options[0])
    assert not _rules(_project(tmp_path, (carrier, backend, options), files), files)


@_SETTINGS
@given(carrier=st.sampled_from([c for c in CARRIERS if c[2] is not None]))
def test_constants_no_code_loads_are_no_celery_setting(
    tmp_path: Path, carrier: tuple[str, str, str | None]
) -> None:
    """A module constant named so is Celery's only where some code loads configuration
    from an object (config_from_object / config_from_envvar)."""
    files = {carrier[0]: carrier[1].format(b="db+postgresql://app@db.internal/r", o="{}")}
    assert not _rules(_project(tmp_path, ("unloaded", carrier), files), files)
