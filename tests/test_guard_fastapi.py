"""The FastAPI wiring and examples/fastapi_crdb, run as users run it: uvicorn from the root.

Against real lab servers: the example serves /users and /healthz/db over a
verified link, refuses to start (non-zero exit, rule id on stderr) when the
database cannot be reached securely, never prints the password, keeps
serving while certificates rotate under load, and recovers from a server
restart without ever connecting in plaintext.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from cryptography import x509
from fastapi import FastAPI

from verifyfull.certs.create import create_client
from verifyfull.guard.fastapi import enforce_https
from verifyfull.lab import harness
from verifyfull.lab.harness import LabServer

ROOT = Path(__file__).resolve().parents[1]
CANARY = "canary-pw-3b8e1f"
APP = "examples.fastapi_crdb.main:app"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def example_env(server: LabServer, user: str = "app", **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG"))}
    env.pop("DATABASE_URL", None)
    certs = server.certs_dir
    env.update(
        DB_HOST=server.hostname,
        DB_PORT=str(server.port),
        DB_NAME=server.database,
        DB_USER=user,
        DB_CA_PATH=str(certs / "ca.crt"),
        DB_CONNECT_TIMEOUT="5",
    )
    if (certs / f"client.{user}.crt").exists() and user != server.password_user:
        env.update(
            DB_CERT_PATH=str(certs / f"client.{user}.crt"),
            DB_KEY_PATH=str(certs / f"client.{user}.key"),
        )
    env.update(more)
    return env


@contextlib.contextmanager
def running_example(env: dict[str, str], *, timeout: float = 30.0) -> Iterator[str]:
    """uvicorn examples.fastapi_crdb.main:app from the project root; yields its base URL."""
    port = _free_port()
    # The app's output goes to a file, not a pipe: nobody reads a pipe while the
    # test runs, and once its buffer is full (a server restart logs a lot) every
    # write blocks the app's event loop and the app hangs.
    output = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", APP, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                output.seek(0)
                err = output.read()
                raise AssertionError(f"example exited {proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz/db", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("example did not become healthy in time")
            time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        output.close()


def start_refused(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uvicorn", APP, "--port", str(_free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.pg
def test_example_serves_users_and_health_over_verified_tls(lab: Any) -> None:
    server = lab("secure")
    with running_example(example_env(server)) as base:
        users = httpx.get(f"{base}/users", timeout=10).json()
        raw = httpx.get(f"{base}/users/raw", timeout=10).json()
        health = httpx.get(f"{base}/healthz/db", timeout=10).json()
    expected = [
        {"username": "alice", "email": "alice@example.com"},
        {"username": "bob", "email": "bob@example.com"},
    ]
    assert users == expected and raw == expected
    assert health["status"] == "ok" and health["mode"] == "verify-full" and health["mtls"]
    assert health["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert health["cipher"] and health["server_cert_days_left"] > 30
    assert health["client_cert_days_left"] > 30
    assert health["connections_proven"] >= 2 and health["connections_refused"] == 0


@pytest.mark.pg
def test_password_from_file_never_appears_in_health_or_logs(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    secret = tmp_path / "db-password"
    secret.write_text(server.password + "\n")
    env = example_env(server, server.password_user, DB_PASSWORD_FILE=str(secret))
    port_env = dict(env)
    with running_example(port_env) as base:
        body = httpx.get(f"{base}/healthz/db", timeout=10).text
        assert httpx.get(f"{base}/users", timeout=10).status_code == 200
    assert server.password not in body
    # A wrong password (the canary) fails the start, and is not echoed either.
    secret.write_text(CANARY)
    refused = start_refused(env)
    assert refused.returncode != 0
    assert CANARY not in refused.stderr + refused.stdout


@pytest.mark.pg
@pytest.mark.parametrize(
    ("variant", "rule"),
    [("no-tls", "VF201"), ("other-ca", "VF301"), ("wrong-host", "VF302"), ("expired", "VF303")],
)
def test_example_refuses_to_start_naming_the_rule(lab: Any, variant: str, rule: str) -> None:
    server = lab(variant)
    env = example_env(server, DB_CA_PATH=str(lab("secure").certs_dir / "ca.crt"))
    if variant != "no-tls":
        env["DB_CA_PATH"] = str(server.certs_dir / "ca.crt")
    refused = start_refused(env)
    assert refused.returncode != 0
    first = next(line for line in refused.stderr.splitlines() if "verifyfull" in line)
    assert first.startswith(f"verifyfull: refusing to start: {rule}: ")
    assert "Traceback" not in refused.stderr  # OneLineStartupErrors drops Starlette's


def test_example_unreachable_database_is_one_line(tmp_path: Path) -> None:
    from verifyfull.certs.create import create_ca, create_client

    certs = tmp_path / "certs"
    create_ca(certs, tmp_path / "ca.key")
    create_client("app", certs, tmp_path / "ca.key")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG"))}
    env.update(
        DB_HOST="localhost",
        DB_PORT=str(_free_port()),
        DB_NAME="defaultdb",
        DB_USER="app",
        DB_CA_PATH=str(certs / "ca.crt"),
        DB_CERT_PATH=str(certs / "client.app.crt"),
        DB_KEY_PATH=str(certs / "client.app.key"),
    )
    refused = start_refused(env)
    assert refused.returncode != 0
    assert "verifyfull: refusing to start: cannot reach the database" in refused.stderr
    assert "check DB_HOST/DB_PORT" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_example_refuses_to_start_on_a_weak_request(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG"))}
    env.update(DB_HOST="localhost", DB_SSLMODE="require", DB_CA_PATH=str(tmp_path / "ca.crt"))
    refused = start_refused(env)
    assert refused.returncode != 0
    assert "verifyfull: refusing to start: VF104: sslmode=require is refused" in refused.stderr


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_enforce_https_redirects_and_sends_hsts() -> None:
    from fastapi.testclient import TestClient  # its import warns about httpx vs httpx2

    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    enforce_https(app)
    with TestClient(app, base_url="http://api.test") as client:
        redirect = client.get("/ping", follow_redirects=False)
        assert redirect.status_code in (307, 308)
        assert redirect.headers["location"].startswith("https://api.test/ping")
    with TestClient(app, base_url="https://api.test") as client:
        response = client.get("/ping")
    assert response.status_code == 200
    max_age = int(response.headers["strict-transport-security"].split("max-age=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600


# --- under load ---------------------------------------------------------------------


class Load:
    """A bounded request loop in a thread: counts successes and failures."""

    def __init__(self, base: str, paths: tuple[str, ...] = ("/users", "/users/raw")) -> None:
        self.base, self.paths = base, paths
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            i = 0
            while not self._stop.is_set() and self.ok + len(self.failures) < 20_000:
                path = self.paths[i % len(self.paths)]
                i += 1
                try:
                    response = client.get(path)
                except httpx.HTTPError as exc:
                    self.failures.append(f"{path}: {type(exc).__name__}")
                    continue
                if response.status_code == 200:
                    self.ok += 1
                else:
                    self.failures.append(f"{path}: {response.status_code}")

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def _serial(cert: Path) -> int:
    return x509.load_pem_x509_certificate(cert.read_bytes()).serial_number


def _app_serials_since(server: LabServer, since: float) -> set[int]:
    """Server side: client certificate serials of app's TLS sessions started after `since`."""
    with psycopg.connect(server.dsn("root"), connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT s.ssl, s.client_serial FROM pg_stat_ssl s JOIN pg_stat_activity a "
            "USING (pid) WHERE a.usename = 'app' AND a.backend_start > to_timestamp(%s)",
            [since],
        ).fetchall()
    assert all(used_tls for used_tls, _ in rows)
    return {int(serial) for _, serial in rows}


def _wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


@pytest.mark.pg
def test_rotation_under_load_fails_no_request(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.crt", "client.app.crt", "client.app.key"):
        (certs / name).write_bytes((server.certs_dir / name).read_bytes())
        os.chmod(certs / name, 0o600)
    env = example_env(
        server,
        DB_CA_PATH=str(certs / "ca.crt"),
        DB_CERT_PATH=str(certs / "client.app.crt"),
        DB_KEY_PATH=str(certs / "client.app.key"),
        DB_ROTATION_CHECK_SECONDS="0.2",
        DB_POOL_RECYCLE_SECONDS="2",
    )
    served_between: list[int] = []
    with running_example(env) as base, Load(base) as load:
        for rotation in range(1, 4):
            before = load.ok
            create_client("app", certs, server.ca_key, overwrite=True)
            new = _serial(certs / "client.app.crt")

            def rotated(expected: int = rotation) -> bool:
                health = httpx.get(f"{base}/healthz/db", timeout=5).json()
                return bool(health["rotations"] == expected)

            _wait_for(rotated)
            # Connections begun after the guard reported the rotation (made as pools recycle
            # under load) carry the new certificate. A connect that chose its context just
            # before can still reach the server a moment later with the old one, so the check
            # starts a grace period after the report, not at the file write.
            noticed_at = time.time() + 0.5
            _wait_for(lambda since=noticed_at: bool(_app_serials_since(server, since)))
            assert _app_serials_since(server, noticed_at) == {new}
            _wait_for(lambda n=before: load.ok > n + 5)
            served_between.append(load.ok - before)
    assert load.failures == []
    assert all(count > 5 for count in served_between)  # requests flowed through each rotation


@pytest.mark.pg
def test_server_restart_under_load_recovers_and_never_goes_plaintext(fresh_lab: Any) -> None:
    server = fresh_lab("secure")
    env = example_env(server, DB_POOL_RECYCLE_SECONDS="30")
    with running_example(env) as base, Load(base) as load:
        _wait_for(lambda: load.ok > 20)
        _restart(server)
        ok_after_restart = load.ok
        _wait_for(lambda: load.ok > ok_after_restart + 20, timeout=30)
        health = httpx.get(f"{base}/healthz/db", timeout=5).json()
        assert _app_serials_since(server, 0)  # connections exist, and all of them are TLS
    assert health["status"] == "ok" and health["connections_refused"] == 0
    # Requests during the restart may fail; afterwards they succeed again.
    assert load.ok > ok_after_restart + 20


def _restart(server: LabServer) -> None:
    """pg_ctl restart, as the server user (the lab runs PostgreSQL as postgres)."""
    pg_ctl = str(harness.bindir() / "pg_ctl")
    argv = [pg_ctl, "-D", str(server.data_dir), "-l", str(server.log_file), "-w", "-t", "30"]
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    subprocess.run([*argv, "restart", "-m", "fast"], check=True, capture_output=True, timeout=60)


@pytest.mark.pg
def test_the_seed_snippets_rewritten_with_the_guard_work(lab: Any) -> None:
    server = lab("secure")
    env = example_env(server)
    code = (
        "import asyncio\n"
        "from sqlalchemy import text\n"
        "from examples.fastapi_crdb.seed_fixed import fetch_users, make_engine\n"
        "print(asyncio.run(fetch_users()))\n"
        "async def one():\n"
        "    engine, sessions = make_engine()\n"
        "    async with sessions() as session:\n"
        "        print((await session.execute(text('SELECT count(*) FROM users'))).scalar())\n"
        "    await engine.dispose()\n"
        "asyncio.run(one())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        "[('alice', 'alice@example.com'), ('bob', 'bob@example.com')]",
        "3",
    ]


@pytest.mark.pg
def test_example_takes_the_lab_dsn_as_database_url(lab: Any) -> None:
    """What `verifyfull lab start` prints can be handed over as DATABASE_URL."""
    server = lab("secure")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG"))}
    env["DATABASE_URL"] = server.dsn("app")
    with running_example(env) as base:
        assert len(httpx.get(f"{base}/users", timeout=10).json()) == 2
        health = httpx.get(f"{base}/healthz/db", timeout=10).json()
    assert health["mode"] == "verify-full" and health["mtls"] is True
