"""verifyfull.enforce against real PostgreSQL 15 lab servers, for every driver form.

Each form is called the way applications call it (no guard): asyncpg.connect,
an asyncpg pool, psycopg sync and async, a psycopg pool, SQLAlchemy async
(asyncpg) and sync (psycopg). Refuse mode must stop a connection to the
no-TLS server, through the downgrading proxy and through the rogue-certificate
proxy with nothing (no StartupMessage, so no user name and no password) reaching
them; verify-full passes; audit mode lets each through and records its verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import ssl
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import psycopg_pool
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import verifyfull
from verifyfull.certs.create import KeySpec, create_ca, create_node
from verifyfull.lab.dsn import build_dsn
from verifyfull.lab.harness import LabServer
from verifyfull.lab.mitm import DowngradeProxy, RogueTLSProxy
from verifyfull.runtime import ConnectionRefusedByPolicy, Enforcement
from verifyfull.runtime.caller import UNKNOWN

pytestmark = pytest.mark.pg

Opener = Callable[[str], Awaitable[None]]


async def _asyncpg(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def _asyncpg_pool(dsn: str) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1, timeout=5)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


def _psycopg_sync(dsn: str) -> None:
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


async def _psycopg(dsn: str) -> None:
    await asyncio.to_thread(_psycopg_sync, dsn)


def _psycopg2_sync(dsn: str) -> None:
    # A test dependency (dev extra): psycopg2-binary's libpq beside psycopg-binary's
    # in one process, the case that once crashed (docs/runtime.md).
    import psycopg2

    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        conn.close()


async def _psycopg2(dsn: str) -> None:
    await asyncio.to_thread(_psycopg2_sync, dsn)


async def _psycopg_async(dsn: str) -> None:
    conn = await psycopg.AsyncConnection.connect(dsn, connect_timeout=5)
    async with conn:
        assert await (await conn.execute("SELECT 1")).fetchone() == (1,)


async def _psycopg_pool(dsn: str, timeout: float = 10.0) -> None:
    # A pool retries a failed connect in the background: the caller sees its
    # timeout, the refusal is in the records (checked by the tests). A connect that
    # succeeds gets 10 s (0.2 s failed once on a busy machine); refusals give up fast.
    pool = psycopg_pool.AsyncConnectionPool(dsn, min_size=1, open=False, timeout=timeout)
    try:
        await pool.open(wait=True, timeout=timeout)
        async with pool.connection() as conn:
            assert await (await conn.execute("SELECT 1")).fetchone() == (1,)
    finally:
        await pool.close()


async def _sqlalchemy_async(dsn: str) -> None:
    # The asyncpg dialect takes no sslmode in its URL (FACTS.md); the DSN goes as is.
    engine = create_async_engine(
        "postgresql+asyncpg://", connect_args={"dsn": dsn}, poolclass=NullPool
    )
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


def _sqlalchemy_sync_blocking(dsn: str) -> None:
    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


async def _sqlalchemy_sync(dsn: str) -> None:
    await asyncio.to_thread(_sqlalchemy_sync_blocking, dsn)


FORMS: dict[str, tuple[Opener, str]] = {
    "asyncpg": (_asyncpg, "asyncpg"),
    "asyncpg-pool": (_asyncpg_pool, "asyncpg"),
    "psycopg": (_psycopg, "psycopg"),
    "psycopg-async": (_psycopg_async, "psycopg"),
    "psycopg-pool": (_psycopg_pool, "psycopg"),
    "psycopg2": (_psycopg2, "psycopg2"),
    "sqlalchemy-async": (_sqlalchemy_async, "asyncpg"),
    "sqlalchemy-sync": (_sqlalchemy_sync, "psycopg"),
}
forms = pytest.mark.parametrize("form", list(FORMS))


@pytest.fixture
def refusing() -> Iterator[Enforcement]:
    handle = verifyfull.enforce("refuse")
    yield handle
    handle.stop()


@pytest.fixture
def auditing() -> Iterator[Enforcement]:
    handle = verifyfull.enforce("audit")
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def _no_pg_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGHOST", "PGPORT"):
        monkeypatch.delenv(name, raising=False)


def _password_dsn(server: LabServer, port: int, sslmode: str | None = "verify-full") -> str:
    """The password user (no client certificate), dialled as localhost, at `port`."""
    return build_dsn(
        user=server.password_user,
        host="localhost",
        port=port,
        database=server.database,
        certs_dir=server.certs_dir,
        sslmode=sslmode,
        client_cert=False,
        password=server.password,
    )


async def _refused(form: str, dsn: str) -> None:
    opener, _ = FORMS[form]
    expected: tuple[type[BaseException], ...] = (ConnectionRefusedByPolicy,)
    if form == "psycopg-pool":
        expected = (ConnectionRefusedByPolicy, psycopg_pool.PoolTimeout)
        opener = functools.partial(_psycopg_pool, timeout=0.2)
    with pytest.raises(expected):
        await opener(dsn)


def _last(handle: Enforcement) -> Any:
    assert handle.connections, "enforcement recorded nothing"
    return handle.connections[-1]


@forms
async def test_verify_full_is_allowed_and_recorded(
    form: str, lab: Any, refusing: Enforcement
) -> None:
    server = lab("secure")
    opener, driver = FORMS[form]
    await opener(server.dsn())
    record = _last(refusing)
    assert record.verified, record
    assert record.driver == driver
    assert (record.database, record.user) == (server.database, "app")
    assert record.tls_version in ("TLSv1.2", "TLSv1.3")
    assert record.chain_verified and record.hostname_verified
    assert record.client_cert is not None and record.client_cert.endswith("client.app.crt")
    if form == "psycopg-pool":  # opened by the pool's worker task, not by this test
        assert record.location == UNKNOWN
    else:
        assert record.location.startswith("tests/test_enforce_drivers.py:")


@forms
@pytest.mark.parametrize(("sslmode", "rule"), [(None, "VF102"), ("verify-full", "VF201")])
async def test_no_tls_server_is_refused_before_any_startup(
    form: str, sslmode: str | None, rule: str, lab: Any, refusing: Enforcement
) -> None:
    """The default (prefer) is refused before dialling; verify-full when the server says 'N'."""
    server = lab("no-tls")
    with DowngradeProxy(server.host, server.port) as recorder:  # stands where the server is
        await _refused(form, _password_dsn(server, recorder.port, sslmode))
    assert recorder.startup_messages == []
    if sslmode is None:
        assert recorder.connections == 0  # not even a TCP connection
    assert _last(refusing).rule_ids[0] == rule
    assert _last(refusing).refused


@forms
@pytest.mark.parametrize(("sslmode", "rule"), [("prefer", "VF102"), ("verify-full", "VF201")])
async def test_downgrade_proxy_is_refused_before_any_startup(
    form: str, sslmode: str, rule: str, lab: Any, refusing: Enforcement
) -> None:
    server = lab("secure")
    with DowngradeProxy(
        server.host,
        server.port,
        upstream_tls=ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt")),
        upstream_server_hostname=server.hostname,
    ) as proxy:
        await _refused(form, _password_dsn(server, proxy.port, sslmode))
    assert proxy.startup_messages == []
    assert server.password.encode() not in proxy.captured_from_client
    assert _last(refusing).rule_ids[0] == rule


@pytest.fixture(scope="module")
def rogue_cert(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node certificate for localhost from a CA the clients do not trust."""
    out = tmp_path_factory.mktemp("rogue")
    certs, ca_key = out / "certs", out / "other.key"
    create_ca(certs, ca_key, key=KeySpec("ec", 256))
    create_node(["localhost", "127.0.0.1"], certs, ca_key, key=KeySpec("ec", 256))
    return certs


@forms
@pytest.mark.parametrize(
    ("sslmode", "rules"), [("require", {"VF103", "VF104"}), ("verify-full", {"VF301"})]
)
async def test_rogue_certificate_proxy_is_refused_before_any_startup(
    form: str, sslmode: str, rules: set[str], lab: Any, rogue_cert: Path, refusing: Enforcement
) -> None:
    server = lab("secure")
    with RogueTLSProxy(
        server.host,
        server.port,
        cert=rogue_cert / "node.crt",
        key=rogue_cert / "node.key",
        upstream_server_hostname=server.hostname,
    ) as proxy:
        await _refused(form, _password_dsn(server, proxy.port, sslmode))
    assert proxy.startup_messages == []
    assert not proxy.client_completed_handshake
    assert _last(refusing).rule_ids[0] in rules


@forms
async def test_audit_lets_each_through_with_its_verdict(
    form: str, lab: Any, auditing: Enforcement
) -> None:
    """verify-full, require (verify-ca with a root: VF104) and a downgrade to plaintext."""
    secure, optional = lab("secure"), lab("tls-optional")
    opener, _ = FORMS[form]
    await opener(secure.dsn())
    await opener(secure.dsn(sslmode="require"))
    with DowngradeProxy(optional.host, optional.port) as proxy:
        await opener(_password_dsn(optional, proxy.port, "prefer"))
    assert proxy.startup_messages, "audit must not change what the driver does"
    verified, require, downgraded = auditing.connections[-3:]
    assert verified.verified and verified.rule_ids == ()
    assert require.rule_ids == ("VF104",) and require.tls_version is not None
    assert not require.hostname_verified and not require.refused
    assert downgraded.rule_ids == ("VF102", "VF201")
    assert downgraded.tls_version is None and not downgraded.chain_verified
    assert not downgraded.refused


@pytest.mark.parametrize("form", ["asyncpg", "psycopg"])
async def test_a_unix_socket_connection_is_allowed_without_a_rule(
    form: str, lab: Any, refusing: Enforcement
) -> None:
    """No network path to protect: plaintext over a local socket breaks no rule."""
    server = lab("secure")
    dsn = f"postgresql://app@/{server.database}?host={server.socket_dir}&port={server.port}"
    await FORMS[form][0](dsn)
    record = _last(refusing)
    assert (record.rule_ids, record.refused, record.tls_version) == ((), False, None)
    assert record.message == "local Unix socket"


@forms
@pytest.mark.parametrize("present", [True, False], ids=["file-present", "file-missing"])
@pytest.mark.parametrize("named_by", ["dsn", "PGSSLCERT"])
async def test_the_record_names_a_client_certificate_only_when_the_driver_presented_it(
    form: str,
    present: bool,
    named_by: str,
    lab: Any,
    refusing: Enforcement,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A named client certificate file, there or not: the record says so as the driver saw it.

    libpq skips a named file that is missing (and connects without one);
    asyncpg refuses to connect. The record's client_cert is the file exactly
    when the connection carried it: read from the driver after the handshake
    (libpq's SSL session; asyncpg connected at all), not from a look at the
    file before the connect.
    """
    server = lab("secure")
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    if present:  # the app user's certificate; the password user's login accepts any valid one
        cert.write_bytes((server.certs_dir / "client.app.crt").read_bytes())
        key.write_bytes((server.certs_dir / "client.app.key").read_bytes())
        key.chmod(0o600)
    dsn = _password_dsn(server, server.port)
    if named_by == "dsn":
        dsn += f"&sslcert={cert}&sslkey={key}"
    else:
        monkeypatch.setenv("PGSSLCERT", str(cert))
        monkeypatch.setenv("PGSSLKEY", str(key))
    opener, driver = FORMS[form]
    if not present and driver == "asyncpg":
        with pytest.raises((FileNotFoundError, OSError)):
            await opener(dsn)
        assert not [r for r in refusing.connections if r.verified]
        return
    await opener(dsn)
    record = _last(refusing)
    assert record.verified, record
    assert record.client_cert == (str(cert) if present else None)


_LIBPQ_FORMS: dict[str, Callable[[str], None]] = {
    "psycopg": _psycopg_sync,
    "psycopg-async": lambda dsn: asyncio.run(_psycopg_async(dsn)),
    "psycopg2": _psycopg2_sync,
}


def _set_environment(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """os.environ with these set (None: unset) for the block, as it was afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.sampled_from(sorted(_LIBPQ_FORMS)),
    source=st.sampled_from(["dsn", "PGSSLCERT", "home"]),
    present=st.booleans(),
    certmode=st.sampled_from([None, "allow", "disable"]),
    certmode_by=st.sampled_from(["dsn", "PGSSLCERTMODE"]),
)
@example(form="psycopg", source="home", present=True, certmode="disable", certmode_by="dsn")
@example(form="psycopg2", source="home", present=True, certmode="disable", certmode_by="dsn")
@example(form="psycopg2", source="dsn", present=True, certmode="disable", certmode_by="dsn")
@example(
    form="psycopg-async", source="home", present=True, certmode="disable",
    certmode_by="PGSSLCERTMODE",
)  # fmt: skip
@example(form="psycopg", source="home", present=True, certmode="allow", certmode_by="dsn")
def test_the_record_names_the_client_certificate_libpq_really_sent(
    form: str, source: str, present: bool, certmode: str | None, certmode_by: str, lab: Any
) -> None:
    """Named in the DSN, by PGSSLCERT or libpq's HOME default, there or not, under any
    sslcertmode (libpq 16+; disable: none is sent, not even a named one or the HOME
    default): the record's client certificate is the one libpq's SSL session holds,
    and none when it holds none."""
    server = lab("secure")
    home = Path(tempfile.mkdtemp(prefix="vf-home-"))
    try:
        cert, key = home / "client.crt", home / "client.key"
        if source == "home":
            (home / ".postgresql").mkdir()
            cert, key = (
                home / ".postgresql" / "postgresql.crt",
                home / ".postgresql" / "postgresql.key",
            )
        if present:  # the app user's certificate; the password user's login accepts it
            cert.write_bytes((server.certs_dir / "client.app.crt").read_bytes())
            key.write_bytes((server.certs_dir / "client.app.key").read_bytes())
            key.chmod(0o600)
        dsn = _password_dsn(server, server.port)
        env: dict[str, str | None] = {"HOME": str(home), "PGSSLCERTMODE": None}
        env["PGSSLCERT"] = str(cert) if source == "PGSSLCERT" else None
        env["PGSSLKEY"] = str(key) if source == "PGSSLCERT" else None
        if source == "dsn":
            dsn += f"&sslcert={cert}&sslkey={key}"
        if certmode is not None and certmode_by == "dsn":
            dsn += f"&sslcertmode={certmode}"
        elif certmode is not None:
            env["PGSSLCERTMODE"] = certmode
        handle = verifyfull.enforce("refuse")
        try:
            with _environment(env):
                _LIBPQ_FORMS[form](dsn)
        finally:
            handle.stop()
        record = _last(handle)
        assert record.verified, record
        sent = present and certmode != "disable"
        named = "~/.postgresql/postgresql.crt" if source == "home" else str(cert)
        assert record.client_cert == (named if sent else None), record
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_asyncpg_reads_the_handshake_while_the_server_authenticates(
    lab: Any, refusing: Enforcement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handshake's facts are read inside the TLS upgrade (the StartupMessage sent, the
    server working), once per connect, not after the connect returns; the record is the
    one a read of the finished connection gives."""
    from verifyfull.runtime import asyncpg_hook

    server = lab("secure")
    reads: list[bool] = []  # per read: was the connect still under way?
    connecting = False
    real = asyncpg_hook._transport_facts

    def counted(transport: Any) -> Any:
        reads.append(connecting)
        return real(transport)

    monkeypatch.setattr(asyncpg_hook, "_transport_facts", counted)

    async def connect() -> Any:
        nonlocal connecting
        connecting = True
        try:
            return await asyncpg.connect(server.dsn(), timeout=5)
        finally:
            connecting = False

    async def run() -> Any:
        conn = await connect()
        try:
            return real(conn._transport)
        finally:
            await conn.close()

    after = asyncio.run(run())
    assert reads == [True]
    record = _last(refusing)
    assert record.verified, record
    assert (record.target, record.tls_version, record.cipher) == after[:3]


@pytest.fixture(scope="module")
def two_asyncpg_connections(lab: Any) -> Iterator[list[Any]]:
    """Two live verify-full asyncpg connections to two servers (other peers), no enforcement."""
    loop = asyncio.new_event_loop()
    dsns = [lab("secure").dsn(), lab("tls-optional").dsn()]
    conns = [loop.run_until_complete(asyncpg.connect(dsn, timeout=5)) for dsn in dsns]
    yield conns
    for conn in conns:
        loop.run_until_complete(conn.close())
    loop.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.integers(0, 1),
    early=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), max_size=4),
)
def test_asyncpg_uses_early_facts_only_of_the_connections_own_transport(
    which: int, early: list[tuple[int, int]], two_asyncpg_connections: list[Any]
) -> None:
    """Whatever upgrades an enforced connect went through (addresses tried and given up,
    in any order, with any facts), a connection's facts are its own transport's."""
    from verifyfull.runtime import asyncpg_hook

    conns = two_asyncpg_connections
    own = [asyncpg_hook._transport_facts(c._transport) for c in conns]
    assert own[0][0] != own[1][0]  # two peers: a wrong pick would show
    # Each drawn entry: an upgrade of one of the two connections (its transport, its
    # facts), or of an address given up (another transport, the other's facts).
    entries = [
        (conns[t]._transport, own[t]) if given_up == 0 else (object(), own[1 - t])
        for t, given_up in early
    ]
    conn = conns[which]
    assert asyncpg_hook._tls_facts(conn, entries) == own[which]


def test_asyncpg_reads_the_handshake_after_the_connect_if_the_early_read_fails(
    lab: Any, refusing: Enforcement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An early read that raises changes nothing: the connect goes on (no transport left
    half-made) and the facts are read after it, as before session 9."""
    from verifyfull.runtime import asyncpg_hook

    real = asyncpg_hook._transport_facts
    calls: list[int] = []

    def once_broken(transport: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the early read failed")
        return real(transport)

    monkeypatch.setattr(asyncpg_hook, "_transport_facts", once_broken)
    asyncio.run(_asyncpg(lab("secure").dsn()))
    assert len(calls) == 2
    assert _last(refusing).verified
