"""The pytest plugin, run on small test sessions (pytester, in a subprocess) against the lab.

The first session runs in a subprocess (as CI would run it); the others in
process (pytester's inprocess: enforcement is stopped, the drivers restored,
at the end of each). The sessions' tests use a third-party-style module that calls
`psycopg.connect(os.environ["DATABASE_URL"])` inside a function; the URL is
only in the environment. The plugin is loaded with `-p` (the entry point
exists once the package is installed; its declaration is checked here too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomlkit

pytest_plugins = ["pytester"]

SRC = str(Path(__file__).resolve().parents[1] / "src")
PLUGIN = "verifyfull.runtime.pytest_plugin"
# Inner sessions load only the plugin under test, by -p: an installed verifyfull (or
# the egg-info a build leaves in src/) also declares it as an entry point, and pytest
# refuses one plugin registered twice; the asyncio plugin would warn without its ini.

DBJOB = """
import os

import psycopg


def nightly_job(url_variable="DATABASE_URL"):
    with psycopg.connect(os.environ[url_variable]) as conn:
        return conn.execute("SELECT 1").fetchone()[0]
"""

TESTS = """
import pytest

import dbjob


def test_verified():
    assert dbjob.nightly_job("SECURE_URL") == 1


def test_nightly():
    assert dbjob.nightly_job() == 1


@pytest.mark.verifyfull_allow("VF103", reason="the legacy replica has no CA yet")
def test_allowed():
    assert dbjob.nightly_job() == 1
"""


@pytest.fixture
def session(pytester: pytest.Pytester, lab: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    server = lab("secure")
    url = f"postgresql://{server.password_user}@localhost:{server.port}/{server.database}"
    monkeypatch.setenv("PYTHONPATH", SRC)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("DATABASE_URL", url + "?sslmode=require")  # VF103: no root certificate
    monkeypatch.setenv("PGPASSWORD", server.password)
    monkeypatch.setenv("SECURE_URL", server.dsn())
    for name in ("PGSSLMODE", "PGSSLROOTCERT", "VERIFYFULL_ENFORCE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(dbjob=DBJOB, test_jobs=TESTS)
    return pytester


pytestmark = pytest.mark.pg


def test_one_require_connection_fails_the_session_and_is_named(session: Any) -> None:
    result = session.runpytest_subprocess("-p", PLUGIN, "--verifyfull=audit")
    result.assert_outcomes(passed=3)
    assert result.ret == 1
    out = result.stdout.str()
    assert "verifyfull (audit): database connections" in out
    result.stdout.fnmatch_lines(
        [
            "NOT VERIFIED VF103: psycopg app_pw@localhost:*/defaultdb; TLSv1.3 *; "
            "chain verified: no, host name verified: no, client certificate: none; "
            "1 connection(s), opened at test_jobs.py::test_nightly (dbjob.py:7)",
            "NOT VERIFIED VF103 (allowed by verifyfull_allow): *test_jobs.py::test_allowed*",
            "verify-full: psycopg app*client certificate: *client.app.crt; "
            "1 connection(s), opened at test_jobs.py::test_verified (dbjob.py:7)",
            "VF103: test_jobs.py::test_nightly (dbjob.py:7): TLS without checking *",
            "verifyfull: 1 connection(s) not verify-full*",
        ]
    )
    assert session_password(session) not in out


def session_password(session: Any) -> str:
    import os

    return os.environ["PGPASSWORD"]


def test_an_all_verify_full_session_passes(session: Any) -> None:
    result = session.runpytest_inprocess(
        "-p", PLUGIN, "--verifyfull=audit", "-k", "verified or allowed"
    )
    result.assert_outcomes(passed=2, deselected=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["all 2 connection(s) verify-full (or allowed by verifyfull_allow)"]
    )


def test_refuse_mode_refuses_in_the_test_and_honours_the_mark(session: Any) -> None:
    session.makepyfile(
        test_reasonless="""
import pytest
import dbjob

@pytest.mark.verifyfull_allow("VF103")
def test_no_reason():
    dbjob.nightly_job()
"""
    )
    result = session.runpytest_inprocess("-p", PLUGIN, "--verifyfull=refuse")
    result.assert_outcomes(passed=2, failed=1, errors=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*verifyfull_allow('VF103',) needs reason=...*"])
    result.stdout.fnmatch_lines(
        ["*ConnectionRefusedByPolicy: VF103: verifyfull refused the psycopg connection*"]
    )
    result.stdout.fnmatch_lines(["NOT VERIFIED VF103 (refused): *test_jobs.py::test_nightly*"])


def test_inactive_unless_asked_and_the_ini_option_activates_it(session: Any) -> None:
    off = session.runpytest_inprocess("-p", PLUGIN)
    off.assert_outcomes(passed=3)
    assert off.ret == 0
    assert "verifyfull" not in off.stdout.str()
    session.makeini("[pytest]\nverifyfull = audit\n")
    on = session.runpytest_inprocess("-p", PLUGIN, "-k", "nightly")
    assert on.ret == 1
    on.stdout.fnmatch_lines(["VF103: test_jobs.py::test_nightly *"])


def test_pyproject_declares_the_entry_point() -> None:
    pyproject = tomlkit.parse((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["pytest11"]["verifyfull"] == PLUGIN  # type: ignore[index]
