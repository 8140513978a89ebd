"""Fixed framework settings, read back by the frameworks themselves.

Django's postgresql backend (`get_connection_params()`, what it hands psycopg) and
Flask-SQLAlchemy's engine (the parameters SQLAlchemy hands the driver, caught at its
`do_connect` event before any socket opens) are the oracle: the fixed settings must give
verify-full with the right root, client files only where configured. Django entries are
generated (engine; OPTIONS absent or with any mode, literal or read from the environment
through a module constant; extra keys; their own root; inline or bound to a name; the
project's own root setting or none); the fixer runs as `verifyfull fix --unsafe-fixes`
does, on what the real scanner reports.
"""

from __future__ import annotations

import os
import ssl
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django.conf
import pytest
from django.db.utils import ConnectionHandler
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from verifyfull.fix.plan import FIXABLE, plan_fixes
from verifyfull.scan import engine
from verifyfull.scan.settings import load

CASES = Path(__file__).parent / "fixtures" / "fix"
ENV = {"DB_CA_PATH": "/run/db/ca.crt", "DB_CERT_PATH": "/run/db/client.crt"}
if not django.conf.settings.configured:
    django.conf.settings.configure()


@pytest.fixture
def environment() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*ENV, "DB_KEY_PATH")}
    os.environ.update(ENV)
    os.environ.pop("DB_KEY_PATH", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _run(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "fixed_settings", "__file__": "settings.py"}
    exec(compile(source, "settings.py", "exec"), namespace)  # the fixed settings
    return namespace


def _params(entry: dict[str, Any]) -> dict[str, Any]:
    """What Django's postgresql backend hands psycopg for the entry (the postgresql backend
    for every engine: django_cockroachdb and postgis subclass it)."""
    entry = {**entry, "ENGINE": "django.db.backends.postgresql"}
    return dict(ConnectionHandler({"default": entry})["default"].get_connection_params())


def _fixed(tmp_path: Path, relpath: str, text: str, *, scanner_reads_it: bool = True) -> str:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text("")
    (root / relpath).write_text(text)
    plan = plan_fixes([root], load(root), unsafe=True)
    fixed = next((f.after.decode() for f in plan.fixes if f.relpath == relpath), text)
    (root / relpath).write_text(fixed)
    # dj-database-url's OPTIONS update is not read by the scanner yet (test_fix_fixtures)
    assert (
        not scanner_reads_it
        or not {f.rule_id for f in engine.scan([root], load(root)).report.findings} & FIXABLE
    )
    assert plan_fixes([root], load(root), unsafe=True).fixes == ()
    return fixed


_ENGINES = st.sampled_from(
    ["django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"]
)
_MODES = st.sampled_from(["disable", "allow", "prefer", "require", "verify-ca", None])


@st.composite
def _entries(draw: st.DrawFn) -> tuple[str, dict[str, str | None]]:
    """(settings module text, alias -> the root each entry must end with)."""
    own_setting = draw(st.booleans())
    lines = ["import os", ""]
    if own_setting:
        lines.append('DB_SSLROOTCERT = os.environ.get("DB_SSLROOTCERT", "/etc/db/ca.crt")')
    expected: dict[str, str | None] = {}
    entries: list[str] = []
    for index in range(draw(st.integers(1, 3))):
        alias = f"db{index}"
        engine = f'"{draw(_ENGINES)}"'
        if draw(st.booleans()):  # the backend a deployment may set (scimma's settings.py)
            engine = f'os.getenv("DB_ENGINE_{index}", {engine})'
        fields = [f'"ENGINE": {engine}', f'"NAME": "{alias}"', '"HOST": "db.internal"']
        options = []
        mode = draw(_MODES)
        if mode is not None and draw(st.booleans()):  # a mode the deployment may set
            lines.append(f'SSLMODE_{index} = os.environ.get("SSLMODE_{index}", "{mode}")')
            options.append(f'"sslmode": SSLMODE_{index}')
        elif mode is not None:
            options.append(f'"sslmode": "{mode}"')
        own_root = draw(st.booleans()) and mode is not None
        if own_root:
            options.append('"sslrootcert": "/srv/own/ca.crt"')
        if draw(st.booleans()):
            options.append('"connect_timeout": 5')
        if options or draw(st.booleans()):
            fields.append('"OPTIONS": {' + ", ".join(options) + "}")
        if own_root:
            expected[alias] = "/srv/own/ca.crt"
        else:
            expected[alias] = "/etc/db/ca.crt" if own_setting else ENV["DB_CA_PATH"]
        if mode == "verify-full" and not own_root:
            expected[alias] = None
        body = (
            ("{\n    " + ",\n    ".join(fields) + ",\n}")
            if draw(st.booleans())
            else ("{" + ", ".join(fields) + "}")
        )
        if draw(st.booleans()):
            lines.append(f"_{alias} = {body}")
            entries.append(f'"{alias}": _{alias}')
        else:
            entries.append(f'"{alias}": {body}')
    lines.append("DATABASES = {" + ", ".join(entries) + "}")
    text = "\n".join(lines) + "\n"
    # a module written with single quotes: the fix's entries follow it
    return (text.replace('"', "'") if draw(st.booleans()) else text), expected


@settings(
    max_examples=int(os.environ.get("VERIFYFULL_FIX_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(_entries())
def test_fixed_django_entries_hand_psycopg_verify_full(
    tmp_path_factory: pytest.TempPathFactory,
    environment: None,
    case: tuple[str, dict[str, str | None]],
) -> None:
    text, expected = case
    fixed = _fixed(tmp_path_factory.mktemp("dj"), "settings.py", text)
    compile(fixed, "settings.py", "exec")
    if '"' not in text:  # the dicts' own quotes
        assert not {'"sslmode"', '"verify-full"', '"OPTIONS"', '"sslcert"'} & set(
            fixed.replace(":", " ").replace(",", " ").split()
        ), fixed
    databases = _run(fixed)["DATABASES"]
    for alias, root in expected.items():
        params = _params(databases[alias])
        assert params["sslmode"] == "verify-full", (alias, fixed)
        assert params["sslrootcert"] == (root or params["sslrootcert"]), (alias, fixed)
        own = root is not None and root != ENV["DB_CA_PATH"]
        # the client certificate only from the environment, and only when the author's
        # root is not given (then the author chose the files)
        assert params.get("sslcert", "") == ("" if own else ENV["DB_CERT_PATH"]), fixed
        assert params.get("sslkey", "") == "", fixed


def _fixed_case(tmp_path: Path, case: str, relpath: str, **how: bool) -> str:
    return _fixed(tmp_path, relpath, (CASES / case / "before" / relpath).read_text(), **how)


def test_a_fixed_entry_without_the_root_setting_names_it(environment: None, tmp_path: Path) -> None:
    fixed = _fixed_case(tmp_path, "django_settings", "settings.py")
    del os.environ["DB_CA_PATH"]
    with pytest.raises(RuntimeError, match="DB_CA_PATH is not set"):
        _run(fixed)


def _dj_database_url(url_options: dict[str, str]) -> types.ModuleType:
    """What dj-database-url's config()/parse() return (not installed here): an entry whose
    OPTIONS hold the URL's query, with ssl_require=True's sslmode=require over it."""
    module = types.ModuleType("dj_database_url")

    def parse(url: str = "", **kwargs: Any) -> dict[str, Any]:
        options = dict(url_options)
        if "sslmode=" in url:
            options["sslmode"] = url.split("sslmode=", 1)[1].split("&", 1)[0]
        if kwargs.get("ssl_require"):
            options["sslmode"] = "require"
        return {"ENGINE": "django.db.backends.postgresql", "NAME": "app", "OPTIONS": options}

    module.parse = parse  # type: ignore[attr-defined]
    module.config = lambda default="", **kw: parse(default, **kw)  # type: ignore[attr-defined]
    return module


def test_fixed_url_entries_keep_the_urls_options_and_get_verify_full(
    environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "dj_database_url", _dj_database_url({"application_name": "x"}))
    environ = types.ModuleType("environ")
    environ.Env = lambda: types.SimpleNamespace(  # type: ignore[attr-defined]
        db=lambda var, default="": sys.modules["dj_database_url"].parse(default)
    )
    monkeypatch.setitem(sys.modules, "environ", environ)
    before = _run((CASES / "django_urls" / "before" / "settings.py").read_text())["DATABASES"]
    fixed = _fixed_case(tmp_path, "django_urls", "settings.py", scanner_reads_it=False)
    after = _run(fixed)["DATABASES"]
    for alias, entry in after.items():
        assert _params(before[alias]).get("sslmode") != "verify-full"
        params = _params(entry)
        assert params["sslmode"] == "verify-full"
        assert params["sslrootcert"] == ENV["DB_CA_PATH"]
        assert params["application_name"] == "x"  # the URL's own options are kept


def _engine_parameters(app_config: object, uri: str | None = None) -> dict[str, Any]:
    """What Flask-SQLAlchemy's engine hands the driver, caught before it connects."""

    class Caught(Exception):
        pass

    app = Flask("fixed")
    app.config.from_object(app_config)
    if uri is not None:
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
    db = SQLAlchemy(app)
    seen: dict[str, Any] = {}
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "do_connect")
        def catch(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
            seen.update(cparams)
            raise Caught

        with pytest.raises(Caught):
            engine.connect()
    return seen


def test_fixed_flask_configs_hand_the_driver_verify_full(
    environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    certifi = pytest.importorskip("certifi")
    # the asyncpg config builds its context at import: a real CA file, no client certificate
    monkeypatch.setenv("DB_CA_PATH", certifi.where())
    monkeypatch.delenv("DB_CERT_PATH")
    fixed = _run(_fixed_case(tmp_path, "flask_config", "app.py"))
    libpq = _engine_parameters(fixed["Config"])
    assert libpq["sslmode"] == "verify-full"
    assert libpq["sslrootcert"] == certifi.where()
    assert libpq["sslcert"] == ""  # libpq's "none given": password authentication works
    assert libpq["connect_timeout"] == 5  # the project's own connect_args are kept
    context = _engine_parameters(fixed["AsyncConfig"])["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "sslmode" not in _engine_parameters(fixed["AsyncConfig"])  # asyncpg has no such key
    before = _run((CASES / "flask_config" / "before" / "app.py").read_text())
    assert _engine_parameters(before["Config"]).get("sslmode") != "verify-full"
