"""verifyfull.enforce without a server: it refuses exactly what `explain --env` reports.

Connections go to a closed loopback port, so a call enforcement lets through
fails with the driver's own error, and one it refuses fails with
ConnectionRefusedByPolicy before the driver runs. The generated test draws
connection settings and environments (a class, not examples) and compares
enforcement's decision with `verifyfull explain --env --format json` on the
same string.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import verifyfull
from verifyfull.cli import app
from verifyfull.errors import UsageError
from verifyfull.runtime import ConnectionRefusedByPolicy
from verifyfull.runtime.judge import TRANSPORT_RULES

MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CLOSED = _closed_port()


@pytest.fixture(scope="module")
def root_cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from verifyfull.certs.create import KeySpec, create_ca

    out = tmp_path_factory.mktemp("ca")
    create_ca(out / "certs", out / "ca.key", key=KeySpec("ec", 256))
    return out / "certs" / "ca.crt"


def _dsn(sslmode: str | None, root: str | None) -> str:
    query = {k: v for k, v in (("sslmode", sslmode), ("sslrootcert", root)) if v is not None}
    tail = "?" + urlencode(query, safe="/") if query else ""
    return f"postgresql://app@localhost:{CLOSED}/db{tail}"


def _explained(dsn: str, driver: str) -> str | None:
    """The first transport rule `verifyfull explain --env` reports, or None."""
    result = CliRunner().invoke(
        app, ["explain", dsn, "--driver", driver, "--env", "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    return next((r for r in rules if r in TRANSPORT_RULES), None)


def _connect(driver: str, dsn: str) -> None:
    if driver == "asyncpg":
        asyncio.run(asyncpg.connect(dsn, timeout=2))
    else:
        psycopg.connect(dsn, connect_timeout=2)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("PG")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt


@pytest.fixture
def refusing() -> Iterator[verifyfull.runtime.Enforcement]:
    handle = verifyfull.enforce("refuse")
    yield handle
    handle.stop()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    driver=st.sampled_from(["asyncpg", "psycopg"]),
    sslmode=st.sampled_from([None, *MODES]),
    root=st.sampled_from(["none", "present", "missing"]),
    env_mode=st.sampled_from([None, *MODES]),
)
def test_refuses_exactly_what_explain_reports(
    driver: str,
    sslmode: str | None,
    root: str,
    env_mode: str | None,
    root_cert: Path,
    clean_env: None,
    refusing: verifyfull.runtime.Enforcement,
) -> None:
    root_file = {"none": None, "present": str(root_cert), "missing": "/nonexistent/ca.crt"}[root]
    dsn = _dsn(sslmode, root_file)
    os.environ.pop("PGSSLMODE", None)
    if env_mode is not None:
        os.environ["PGSSLMODE"] = env_mode
    try:
        expected = _explained(dsn, driver)
        before = len(refusing.connections)
        with pytest.raises(Exception) as caught:  # which one is the point
            _connect(driver, dsn)
    finally:
        os.environ.pop("PGSSLMODE", None)
    if expected is None:
        assert not isinstance(caught.value, ConnectionRefusedByPolicy), caught.value
    else:
        assert isinstance(caught.value, ConnectionRefusedByPolicy), caught.value
        assert caught.value.rule_id == expected
        assert refusing.connections[before].refused


def test_no_driver_is_imported_and_stop_restores_them() -> None:
    """In a fresh interpreter: drivers are wrapped when imported, and unwrapped by stop()."""
    script = """
import sys, verifyfull
handle = verifyfull.enforce("audit")
assert "asyncpg" not in sys.modules and "psycopg" not in sys.modules, "imported a driver"
import psycopg, asyncpg.connect_utils as cu
original_cm = psycopg.Connection.__dict__["connect"]
assert hasattr(original_cm.__func__, "__verifyfull_original__"), "psycopg not wrapped"
assert hasattr(cu._connect, "__verifyfull_original__"), "asyncpg not wrapped"
assert psycopg.connect == psycopg.Connection.connect
handle.stop()
assert not hasattr(psycopg.Connection.__dict__["connect"].__func__, "__verifyfull_original__")
assert not hasattr(psycopg.AsyncConnection.__dict__["connect"].__func__, "__verifyfull_original__")
assert not hasattr(cu._connect, "__verifyfull_original__")
assert not hasattr(psycopg.connect.__func__, "__verifyfull_original__")
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_enforce_is_idempotent_and_one_mode_at_a_time() -> None:
    first = verifyfull.enforce("audit")
    try:
        assert verifyfull.enforce("audit") is first
        with pytest.raises(UsageError, match="already active in audit mode"):
            verifyfull.enforce("refuse")
        with pytest.raises(UsageError, match="unknown enforcement mode"):
            verifyfull.enforce("strict")
    finally:
        first.stop()
    second = verifyfull.enforce("refuse")
    second.stop()
    assert second is not first and not first.active


def test_a_wrapper_kept_after_stop_passes_through(clean_env: None) -> None:
    handle = verifyfull.enforce("refuse")
    kept = psycopg.connect  # e.g. `from psycopg import connect` while enforcing
    with pytest.raises(ConnectionRefusedByPolicy):
        kept(_dsn("require", None))
    handle.stop()
    with pytest.raises(psycopg.OperationalError):  # the driver's own error: not judged
        kept(_dsn("require", None))
    assert len(handle.connections) == 1


def test_concurrent_connects_from_threads_and_tasks_are_each_recorded(
    clean_env: None, refusing: verifyfull.runtime.Enforcement
) -> None:
    errors: list[BaseException] = []

    def one() -> None:
        try:
            psycopg.connect(_dsn("prefer", None))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    async def many() -> list[BaseException]:
        calls = [asyncpg.connect(_dsn("disable", None)) for _ in range(16)]
        return [r for r in await asyncio.gather(*calls, return_exceptions=True)]

    errors.extend(asyncio.run(many()))
    assert len(errors) == 32
    assert all(isinstance(e, ConnectionRefusedByPolicy) for e in errors)
    rules = sorted(r.rule_ids[0] for r in refusing.connections)
    assert rules == ["VF101"] * 16 + ["VF102"] * 16


def test_no_secret_in_a_refusal_or_a_record(
    clean_env: None, refusing: verifyfull.runtime.Enforcement
) -> None:
    canary = "Canary-Pw-7f3a"
    dsn = f"postgresql://app:{canary}@localhost:{CLOSED}/db?sslmode=require"
    with pytest.raises(ConnectionRefusedByPolicy) as caught:
        psycopg.connect(dsn)
    assert canary not in str(caught.value)
    assert canary not in json.dumps([r.to_json() for r in refusing.connections])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.dictionaries(
        st.sampled_from(["PGSSLMODE", "PGSSLROOTCERT", "PGHOST", "PGPASSWORD", "PGPORT"]),
        st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=12),
    ),
    root_present=st.booleans(),
)
def test_the_cached_environment_reads_what_explain_env_reads(
    values: dict[str, str], root_present: bool, clean_env: None, tmp_path: Path
) -> None:
    """process_environment() (memoised, fast path) == Environment.current(), always fresh."""
    from verifyfull.conninfo import Environment
    from verifyfull.runtime.reading import process_environment

    root = tmp_path / ".postgresql" / "root.crt"
    root.parent.mkdir(exist_ok=True)
    if root_present:
        root.write_text("x")
    else:
        root.unlink(missing_ok=True)
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PG")}
    os.environ.update(values)
    try:
        assert process_environment() == Environment.current()
    finally:
        for name in values:
            os.environ.pop(name, None)
        os.environ.update(saved)


def test_an_asynchronous_psycopg2_connect_is_judged_before_and_not_claimed_proven(
    clean_env: None, refusing: verifyfull.runtime.Enforcement
) -> None:
    """aiopg's form: psycopg2.connect(async_=True) returns before the handshake."""
    import psycopg2  # the dev extra's psycopg2-binary (docs/runtime.md)

    with pytest.raises(ConnectionRefusedByPolicy) as caught:
        psycopg2.connect(_dsn("require", None), async_=True)
    assert caught.value.rule_id == "VF103"
    conn = psycopg2.connect(_dsn("verify-full", "/nonexistent/ca.crt"), async_=True)
    conn.close()
    record = refusing.connections[-1]
    assert not record.proven and not record.verified and not record.refused
    assert "not proven live" in record.message
