"""Issue 11, class 3: the guard never sends a password before the server is the one it trusts.

Real lab servers, real drivers, real handshakes. The impostor is the one a
pin exists for: a certificate the SAME CA issued, valid for the host name
dialled, so verify-full alone accepts it. It asks for a cleartext password
and records whatever it gets.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import verifyfull
from verifyfull.certs.create import KeySpec, create_node
from verifyfull.errors import InsecureConfigurationError, UsageError, VerifyfullError
from verifyfull.guard import asyncpg_, psycopg_, sqlalchemy_
from verifyfull.guard.context import client_context
from verifyfull.guard.core import Guard
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.guard.tortoise_ import init_tortoise
from verifyfull.lab.harness import LabServer
from verifyfull.lab.mitm import PasswordPhishingServer
from verifyfull.policy import server_suite_weakness

pytestmark = pytest.mark.pg

# Subprocesses run the same verifyfull this test imported (a tree on PYTHONPATH or the install).
SRC = Path(verifyfull.__file__).resolve().parents[1]
Connector = Callable[[Guard], Awaitable[Any]]


def _settings(server: LabServer, port: int | None = None, **more: Any) -> DatabaseTLSSettings:
    values: dict[str, Any] = {
        "host": server.hostname,
        "port": port or server.port,
        "name": server.database,
        "user": server.password_user,
        "password": server.password,
        "ca_path": server.certs_dir / "ca.crt",
        "connect_timeout": 5,
    }
    values.update(more)
    return DatabaseTLSSettings(**values)


def _guard(server: LabServer, port: int | None = None, **more: Any) -> Guard:
    return Guard(_settings(server, port, **more).resolve())


async def _close(conn: Any) -> None:
    result = conn.close()
    if asyncio.iscoroutine(result):
        await result


def _sqlalchemy_async(dialect: str) -> Connector:
    async def run(guard: Guard) -> None:
        engine = sqlalchemy_.create_guarded_async_engine(guard, dialect)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    return run


def _sqlalchemy_sync(guard: Guard) -> None:
    engine = sqlalchemy_.create_guarded_engine(guard, "cockroachdb+psycopg")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


async def _tortoise(guard: Guard, backend: Any) -> None:
    from tortoise import Tortoise

    try:
        await init_tortoise(guard, apps={"models": {"models": []}}, backend=backend)
    finally:
        await Tortoise.close_connections()


async def _asyncpg_pool(guard: Guard) -> None:
    pool = await asyncpg_.create_pool(guard, min_size=1, max_size=1)
    await pool.close()


async def _psycopg_async_pool(guard: Guard) -> None:
    pool = await psycopg_.create_async_pool(guard, min_size=1, max_size=1, timeout=10)
    await pool.close()


CONNECTORS: dict[str, Connector] = {
    "asyncpg": lambda g: asyncpg_.connect(g),
    "asyncpg-pool": _asyncpg_pool,
    "psycopg": lambda g: asyncio.to_thread(psycopg_.connect, g),
    "psycopg-async": lambda g: psycopg_.connect_async(g),
    "psycopg-async-pool": _psycopg_async_pool,
    "sqlalchemy+asyncpg": _sqlalchemy_async("postgresql+asyncpg"),
    "sqlalchemy+psycopg-async": _sqlalchemy_async("cockroachdb+psycopg"),
    "sqlalchemy+psycopg": lambda g: asyncio.to_thread(_sqlalchemy_sync, g),
    "tortoise+asyncpg": lambda g: _tortoise(g, "asyncpg"),
    "tortoise+psycopg": lambda g: _tortoise(g, "psycopg"),
}


async def _connect(name: str, guard: Guard) -> None:
    conn = await asyncio.wait_for(CONNECTORS[name](guard), 30)
    if conn is not None:
        await _close(conn)


def _der(path: Path) -> bytes:
    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )


def _spki(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


@pytest.fixture(scope="module")
def real_pins(lab: Any) -> dict[str, str]:
    """Pins of the real secure server: its certificate and its public key."""
    server = lab("secure")
    node = server.base_dir / "server" / "node.crt"
    return {"certificate": hashlib.sha256(_der(node)).hexdigest(), "spki": _spki(node)}


@pytest.fixture(scope="module")
def impostor_certs(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Node certificates the real CA issued for the real host names, with other keys."""
    server = lab("secure")
    out: dict[str, Path] = {}
    for name, key in (("ec", KeySpec("ec", 256)), ("rsa", KeySpec("rsa", 2048))):
        folder = tmp_path_factory.mktemp(f"impostor-{name}")
        (folder / "ca.crt").write_bytes((server.certs_dir / "ca.crt").read_bytes())
        create_node(["localhost", "127.0.0.1"], folder, server.ca_key, key=key)
        out[name] = folder
    return out


def _impostor(certs: Path, **options: Any) -> PasswordPhishingServer:
    return PasswordPhishingServer(cert=certs / "node.crt", key=certs / "node.key", **options)


def test_the_impostor_fools_verify_full_alone(lab: Any, impostor_certs: dict[str, Path]) -> None:
    """Without a pin, verify-full accepts the impostor and hands it the password:
    the threat the pin tests below close."""
    import psycopg

    server = lab("secure")
    with _impostor(impostor_certs["ec"]) as impostor:
        dsn = (
            f"host={server.hostname} port={impostor.port} user={server.password_user} "
            f"dbname={server.database} sslmode=verify-full "
            f"sslrootcert={server.certs_dir / 'ca.crt'} connect_timeout=5"
        )
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(dsn, password=server.password)
    assert impostor.passwords == [server.password.encode()]


# Every pin kind x impostor key for the two drivers; one combination for what is
# built on them (the check lives in the driver adapters' connection path).
_IMPOSTOR_CASES = [
    (driver, pin, key)
    for driver in CONNECTORS
    for pin in ("certificate", "spki")
    for key in ("ec", "rsa")
    if driver in ("asyncpg", "psycopg", "psycopg-async") or (pin, key) == ("spki", "ec")
]


@pytest.mark.parametrize(("driver", "pin", "impostor_key"), _IMPOSTOR_CASES)
async def test_a_pinned_guard_sends_nothing_to_a_same_ca_impostor(
    driver: str,
    pin: str,
    impostor_key: str,
    lab: Any,
    real_pins: dict[str, str],
    impostor_certs: dict[str, Path],
) -> None:
    server = lab("secure")
    with _impostor(impostor_certs[impostor_key]) as impostor:
        guard = _guard(server, impostor.port, pin_sha256=real_pins[pin])
        with pytest.raises(InsecureConfigurationError) as err:
            await _connect(driver, guard)
    assert err.value.rule_id == "VF301" and "\n" not in str(err.value)
    # TLS reached the impostor (asyncpg aborts before its own Finished under TLS 1.3,
    # so the impostor may see a failed handshake; libpq completes it).
    assert impostor.handshakes_completed + len(impostor.handshake_failures) >= 1
    assert impostor.startup_messages == []  # not even the user name
    assert impostor.passwords == []
    assert server.password.encode() not in impostor.captured_from_client
    assert guard.proofs.proven == 0 and guard.proofs.refused >= 1


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg", "psycopg-async"])
async def test_the_real_server_still_connects_with_its_pins(
    driver: str, lab: Any, real_pins: dict[str, str]
) -> None:
    server = lab("secure")
    guard = _guard(server, pin_sha256=",".join(real_pins.values()))
    await _connect(driver, guard)
    assert guard.proofs.proven == 1 and guard.proofs.refused == 0


# --- cipher floor: one source of truth with the probe (VF204) -------------------------


def _all_suites() -> list[str]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return [s["name"] for s in ctx.get_ciphers()]


def test_the_guard_context_offers_no_suite_the_probe_calls_weak(lab: Any) -> None:
    server = lab("secure")
    offered = [s["name"] for s in client_context(_settings(server).resolve()).get_ciphers()]
    assert offered and all(server_suite_weakness(name) is None for name in offered)
    # ... and keeps every strong one Python's defaults offer.
    defaults = [s["name"] for s in ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).get_ciphers()]
    assert [n for n in defaults if server_suite_weakness(n) is None] == offered


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(_all_suites()))
def test_the_proof_refuses_exactly_the_suites_below_the_floor(name: str) -> None:
    from verifyfull.guard.proof import prove
    from verifyfull.policy import DEFAULT_POLICY

    if server_suite_weakness(name) is None:
        prove("db:26257", "TLSv1.2", name, None, DEFAULT_POLICY)
    else:
        with pytest.raises(InsecureConfigurationError, match="VF107"):
            prove("db:26257", "TLSv1.2", name, None, DEFAULT_POLICY)


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg", "psycopg-async"])
async def test_a_server_offering_only_cbc_gets_no_startup_message(
    driver: str, lab: Any, impostor_certs: dict[str, Path]
) -> None:
    """libpq offers CBC suites (no client cipher setting); the guard refuses after the
    handshake. Python's context does not offer them: the handshake fails."""
    server = lab("secure")
    cbc_only = _impostor(
        impostor_certs["rsa"],
        ciphers="ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:AES128-SHA256",
        max_version=ssl.TLSVersion.TLSv1_2,
    )
    with cbc_only as impostor, pytest.raises(VerifyfullError):
        await _connect(driver, _guard(server, impostor.port))
    assert impostor.startup_messages == [] and impostor.passwords == []


# --- SSLKEYLOGFILE -----------------------------------------------------------------


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg-async"])
async def test_sslkeylogfile_is_ignored(
    driver: str, lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keylog = tmp_path / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    server = lab("secure")
    guard = _guard(server)
    assert guard.ssl_context().keylog_filename is None
    await _connect(driver, guard)
    assert guard.proofs.proven == 1
    assert not keylog.exists()


# --- Unix sockets --------------------------------------------------------------------


def _socket_settings(server: LabServer, **more: Any) -> DatabaseTLSSettings:
    return _settings(server, host=str(server.socket_dir), user="app", password=None, **more)


@pytest.mark.parametrize(
    "host_of",
    [
        lambda s: {"host": str(s.socket_dir)},
        lambda s: {"host": f"db.example,{s.socket_dir}"},
        lambda s: {"DATABASE_URL": f"postgresql://app@{str(s.socket_dir).replace('/', '%2F')}/db"},
        lambda s: {"DATABASE_URL": f"host={s.socket_dir} dbname=db user=app"},
        lambda s: {"DATABASE_URL": "host=db.example, dbname=db user=app"},
        lambda s: {"DATABASE_URL": "postgresql:///db?user=app"},
    ],
    ids=["DB_HOST", "in-a-list", "url", "keywords", "empty-host", "no-host"],
)
def test_a_non_tcp_host_is_refused_before_any_connection(
    lab: Any, host_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = lab("secure")
    values = host_of(server)
    url = values.pop("DATABASE_URL", None)
    if url is not None:
        monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(VerifyfullError) as err:
        _settings(server, **values).resolve()
    assert "\n" not in str(err.value)
    assert "socket" in str(err.value) or "host" in str(err.value)


@settings(max_examples=150, deadline=None)
@given(host=st.text(min_size=0, max_size=30))
def test_only_host_names_and_ip_literals_are_dialled(host: str) -> None:
    from verifyfull.guard.target import check_hosts, is_tcp_host

    try:
        check_hosts(((host, 5432),), "DB_HOST")
    except (UsageError, InsecureConfigurationError):
        assert not is_tcp_host(host)
        return
    assert is_tcp_host(host)
    assert host and not host.startswith(("/", "@")) and "\\" not in host and " " not in host


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg", "psycopg-async"])
async def test_an_opted_in_unix_socket_is_said_to_be_local(
    driver: str, lab: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = lab("secure")
    with pytest.raises(InsecureConfigurationError, match="VF101.*DB_ALLOW_UNIX_SOCKET"):
        _socket_settings(server).resolve()
    guard = Guard(_socket_settings(server, allow_unix_socket=True).resolve())
    assert "local Unix socket, not TLS" in caplog.text
    await _connect(driver, guard)
    assert guard.proofs.local == 1 and guard.proofs.proven == 0
    assert guard.health()["local_link"] is True


# --- certificate files that would block ------------------------------------------------


@pytest.mark.parametrize("which", ["ca_path", "cert_path", "key_path", "password_file"])
def test_a_fifo_certificate_path_fails_fast_naming_the_file(
    lab: Any, tmp_path: Path, which: str
) -> None:
    server = lab("secure")
    fifo = tmp_path / f"{which}.fifo"
    os.mkfifo(fifo)
    values: dict[str, Any] = {
        "user": "app",
        "password": None,
        "cert_path": server.certs_dir / "client.app.crt",
        "key_path": server.certs_dir / "client.app.key",
    }
    values[which] = fifo
    started = time.monotonic()
    with pytest.raises(VerifyfullError) as err:
        Guard(_settings(server, **values).resolve())
    assert time.monotonic() - started < 4  # generous: it must not wait for a writer
    message = str(err.value)
    assert str(fifo) in message and "\n" not in message
    assert "FIFO" in message or "not a regular file" in message or "not found" in message


def test_a_read_that_hangs_is_abandoned_within_the_timeout(tmp_path: Path) -> None:
    """A hung mount: the read runs in a daemon thread the caller stops waiting for."""
    import threading

    from verifyfull.guard import readfile

    release = threading.Event()
    real = readfile._read

    def hung(path: Path, limit: int) -> bytes:
        release.wait(30)
        return real(path, limit)

    target = tmp_path / "ca.crt"
    target.write_text("x")
    readfile._read = hung  # type: ignore[assignment]
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as err:
            readfile.read_regular_file(target, timeout=0.3)
        assert time.monotonic() - started < 5
        assert "hung mount" in str(err.value)
    finally:
        readfile._read = real  # type: ignore[assignment]
        release.set()


async def test_a_rotation_check_never_runs_on_the_event_loop(
    lab: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    server = lab("secure")
    guard = Guard(_settings(server).resolve(), min_check_interval=0)
    loop_thread = threading.get_ident()
    seen: list[int] = []
    real = guard.material.check

    def spy() -> bool:
        seen.append(threading.get_ident())
        return real()

    monkeypatch.setattr(guard.material, "check", spy)
    drivers = ("asyncpg", "asyncpg-pool", "psycopg-async", "psycopg-async-pool")
    for driver in drivers:
        await _connect(driver, guard)
    assert len(seen) >= len(drivers) and loop_thread not in seen


# --- a second libpq in the process ----------------------------------------------------

SYSTEM_LIBPQ = Path("/usr/lib/x86_64-linux-gnu/libpq.so.5")


@pytest.mark.skipif(not SYSTEM_LIBPQ.exists(), reason="no system libpq to load beside psycopg's")
@pytest.mark.parametrize("order", ["system-first", "psycopg-first"])
def test_pins_hold_with_a_second_libpq_loaded(
    order: str, lab: Any, real_pins: dict[str, str]
) -> None:
    server = lab("secure")
    load_system = f"ctypes.CDLL({str(SYSTEM_LIBPQ)!r})"
    script = textwrap.dedent(
        f"""
        import ctypes
        {load_system if order == "system-first" else "import psycopg"}
        import psycopg
        {load_system if order == "psycopg-first" else ""}
        from verifyfull.guard import psycopg_
        from verifyfull.guard.core import Guard
        from verifyfull.guard.settings import DatabaseTLSSettings
        guard = Guard(DatabaseTLSSettings(
            host={server.hostname!r}, port={server.port}, name={server.database!r},
            user="app", certs_dir={str(server.certs_dir)!r}, connect_timeout=5,
            pin_sha256={real_pins["certificate"]!r}).resolve())
        psycopg_.connect(guard).close()
        from verifyfull.guard.libpq_ssl import _libs
        libs = _libs()
        assert libs is not None and libs.pq.PQlibVersion() == psycopg.pq.version(), "wrong libpq"
        maps = open("/proc/self/maps").read()
        print("both" if {str(SYSTEM_LIBPQ.name)!r} in maps and "psycopg_binary" in maps else "one")
        print(guard.proofs.proven)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["both", "1"]


# --- snapshots: in-flight connects, exit and SIGTERM ----------------------------------


def test_snapshots_of_a_connect_in_flight_survive_rotations(lab: Any, tmp_path: Path) -> None:
    import shutil

    server = lab("secure")
    live = tmp_path / "certs"
    shutil.copytree(server.certs_dir, live)
    guard = Guard(
        _settings(server, certs_dir=live, ca_path=None, user="app", password=None).resolve(),
        min_check_interval=0,
    )
    material = guard.material
    with material.lease_libpq_files() as held:
        for round_ in range(3):  # good, bad (half written), good rotations
            for name in ("client.app.crt", "client.app.key"):
                data = (server.certs_dir / name).read_bytes()
                if round_ == 1 and name.endswith(".key"):
                    data = data[: len(data) // 2]  # rejected, last good set kept
                tmp = live / f".{name}.new"
                tmp.write_bytes(data)
                os.chmod(tmp, 0o600)
                os.replace(tmp, live / name)
            material.check()
        assert material.rotations == 2
        assert held.ca.exists() and held.cert is not None and held.cert.exists()
        assert held.key is not None and held.key.exists()
    assert not held.ca.parent.exists()  # released: removed
    assert material.current_libpq_files().ca.exists()
    guard.close()


@pytest.mark.parametrize("app_handler", [False, True])
def test_sigterm_removes_the_key_snapshots(lab: Any, app_handler: bool) -> None:
    server = lab("secure")
    script = textwrap.dedent(
        f"""
        import signal, sys, time
        from verifyfull.guard.core import Guard
        from verifyfull.guard.settings import DatabaseTLSSettings
        if {app_handler!r}:
            def handler(signum, frame):
                print("app handler", flush=True)
                sys.exit(0)
            signal.signal(signal.SIGTERM, handler)
        guard = Guard(DatabaseTLSSettings(
            host={server.hostname!r}, port={server.port}, user="app",
            certs_dir={str(server.certs_dir)!r}).resolve())
        print(guard.material.current_libpq_files().key, flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        key = Path(child.stdout.readline().strip())
        assert key.exists()
        child.send_signal(15)
        child.wait(timeout=30)
        rest = child.stdout.read()
    finally:
        if child.poll() is None:
            child.kill()
    assert not key.exists() and not key.parent.parent.exists()
    if app_handler:
        assert "app handler" in rest and child.returncode == 0
    else:
        assert child.returncode == -15


def test_unknown_tls_facts_pass_without_pins_and_refuse_a_pin() -> None:
    """Where psycopg's libpq cannot be read, the facts are unknown: not a weak suite,
    but no pin can be checked either."""
    from verifyfull.guard.proof import prove
    from verifyfull.policy import DEFAULT_POLICY

    assert prove("db:26257", "TLS", None, None, DEFAULT_POLICY).cipher == ""
    with pytest.raises(InsecureConfigurationError, match="VF301.*cannot be checked"):
        prove("db:26257", "TLS", None, None, DEFAULT_POLICY, pins=frozenset({"ab" * 32}))
