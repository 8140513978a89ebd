"""Every guarded driver against real PostgreSQL 15 lab servers: success and refusals.

Success is checked server side (pg_stat_ssl: TLS in use, the client
certificate's DN) and client side (the guard's proof). Each refusal names the
rule; next to it, the driver's default behaviour on the same server shows
what the guard prevents.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
from sqlalchemy import text

from verifyfull.certs.create import KeySpec, create_ca, create_node
from verifyfull.errors import InsecureConfigurationError
from verifyfull.guard import asyncpg_, psycopg_, sqlalchemy_
from verifyfull.guard.core import Guard
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.lab.harness import LabServer
from verifyfull.lab.mitm import DowngradeProxy, RogueTLSProxy

pytestmark = pytest.mark.pg

SSL_ROW = "SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
SSL_ROW_PG = SSL_ROW

Row = tuple[str, bool, str | None]
Runner = Callable[[Guard], Awaitable[Row]]


def make_guard(
    server: LabServer,
    user: str = "app",
    *,
    client_cert: bool = True,
    host: str | None = None,
    ca_dir: Path | None = None,
    **more: Any,
) -> Guard:
    certs = server.certs_dir
    values: dict[str, Any] = {
        "host": host or server.hostname,
        "port": server.port,
        "name": server.database,
        "user": user,
        "ca_path": (ca_dir or certs) / "ca.crt",
        "connect_timeout": 5,
    }
    if client_cert:
        values["cert_path"] = certs / f"client.{user}.crt"
        values["key_path"] = certs / f"client.{user}.key"
    if user == server.password_user:
        values["password"] = server.password
    values.update(more)
    return Guard(DatabaseTLSSettings(**values).resolve())


async def _asyncpg(guard: Guard) -> Row:
    conn = await asyncpg_.connect(guard)
    try:
        row = await conn.fetchrow(SSL_ROW)
        return await conn.fetchval("SELECT current_user"), row["ssl"], row["client_dn"]
    finally:
        await conn.close()


async def _asyncpg_pool(guard: Guard) -> Row:
    pool = await asyncpg_.create_pool(guard, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            row = await conn.fetchrow(SSL_ROW)
            return await conn.fetchval("SELECT current_user"), row["ssl"], row["client_dn"]
    finally:
        await pool.close()


def _psycopg_sync(guard: Guard) -> Row:
    with psycopg_.connect(guard) as conn:
        user = conn.execute("SELECT current_user").fetchone()
        row = conn.execute(SSL_ROW_PG).fetchone()
        assert user is not None and row is not None
        return user[0], row[0], row[1]


async def _psycopg(guard: Guard) -> Row:
    return await asyncio.to_thread(_psycopg_sync, guard)


async def _psycopg_async(guard: Guard) -> Row:
    conn = await psycopg_.connect_async(guard)
    async with conn:
        user = await (await conn.execute("SELECT current_user")).fetchone()
        row = await (await conn.execute(SSL_ROW_PG)).fetchone()
        assert user is not None and row is not None
        return user[0], row[0], row[1]


def _psycopg_pool_sync(guard: Guard) -> Row:
    pool = psycopg_.create_pool(guard, min_size=1, max_size=2, timeout=10)
    try:
        with pool.connection() as conn:
            user = conn.execute("SELECT current_user").fetchone()
            row = conn.execute(SSL_ROW_PG).fetchone()
            assert user is not None and row is not None
            return user[0], row[0], row[1]
    finally:
        pool.close()


async def _psycopg_pool(guard: Guard) -> Row:
    return await asyncio.to_thread(_psycopg_pool_sync, guard)


async def _psycopg_async_pool(guard: Guard) -> Row:
    pool = await psycopg_.create_async_pool(guard, min_size=1, max_size=2, timeout=10)
    try:
        async with pool.connection() as conn:
            user = await (await conn.execute("SELECT current_user")).fetchone()
            row = await (await conn.execute(SSL_ROW_PG)).fetchone()
            assert user is not None and row is not None
            return user[0], row[0], row[1]
    finally:
        await pool.close()


def _sqlalchemy_async(dialect: str) -> Runner:
    async def run(guard: Guard) -> Row:
        engine = sqlalchemy_.create_guarded_async_engine(guard, dialect)
        try:
            async with engine.connect() as conn:
                user = (await conn.execute(text("SELECT current_user"))).scalar_one()
                row = (await conn.execute(text(SSL_ROW))).one()
                return user, row[0], row[1]
        finally:
            await engine.dispose()

    return run


def _sqlalchemy_sync_run(guard: Guard, dialect: str) -> Row:
    engine = sqlalchemy_.create_guarded_engine(guard, dialect)
    try:
        with engine.connect() as conn:
            user = conn.execute(text("SELECT current_user")).scalar_one()
            row = conn.execute(text(SSL_ROW)).one()
            return user, row[0], row[1]
    finally:
        engine.dispose()


def _sqlalchemy_sync(dialect: str) -> Runner:
    async def run(guard: Guard) -> Row:
        return await asyncio.to_thread(_sqlalchemy_sync_run, guard, dialect)

    return run


DRIVERS: dict[str, Runner] = {
    "asyncpg": _asyncpg,
    "asyncpg-pool": _asyncpg_pool,
    "psycopg": _psycopg,
    "psycopg-async": _psycopg_async,
    "psycopg-pool": _psycopg_pool,
    "psycopg-async-pool": _psycopg_async_pool,
    "sqlalchemy+postgresql+asyncpg": _sqlalchemy_async("postgresql+asyncpg"),
    "sqlalchemy+cockroachdb+asyncpg": _sqlalchemy_async("cockroachdb+asyncpg"),
    "sqlalchemy+postgresql+psycopg-async": _sqlalchemy_async("postgresql+psycopg"),
    "sqlalchemy+cockroachdb+psycopg-async": _sqlalchemy_async("cockroachdb+psycopg"),
    "sqlalchemy+postgresql+psycopg": _sqlalchemy_sync("postgresql+psycopg"),
    "sqlalchemy+cockroachdb+psycopg": _sqlalchemy_sync("cockroachdb+psycopg"),
}
drivers = pytest.mark.parametrize("driver", list(DRIVERS))


@drivers
async def test_verify_full_with_client_cert_succeeds(driver: str, lab: Any) -> None:
    server = lab("secure")
    guard = make_guard(server)
    user, server_saw_tls, client_dn = await DRIVERS[driver](guard)
    assert (user, server_saw_tls, client_dn) == ("app", True, "/O=Cockroach/CN=app")
    proof = guard.proofs.last
    assert proof is not None and proof.protocol in ("TLSv1.2", "TLSv1.3")
    assert proof.server_cert_sha256 is not None and len(proof.server_cert_sha256) == 64
    assert proof.days_left is not None and proof.days_left > 30


@drivers
async def test_password_user_over_verified_tls(driver: str, lab: Any) -> None:
    server = lab("secure")
    guard = make_guard(server, server.password_user, client_cert=False)
    user, server_saw_tls, client_dn = await DRIVERS[driver](guard)
    assert (user, server_saw_tls, client_dn) == (server.password_user, True, None)


async def _refused(driver: str, guard: Guard) -> InsecureConfigurationError:
    with pytest.raises(InsecureConfigurationError) as err:
        await asyncio.wait_for(DRIVERS[driver](guard), 30)
    assert "\n" not in str(err.value)
    # Every refusal is counted under the rule it names (the metrics' refusals by rule).
    assert set(guard.proofs.refused_by_rule) == {err.value.rule_id}
    assert guard.health()["refused_by_rule"] == dict(guard.proofs.refused_by_rule)
    return err.value


@drivers
@pytest.mark.parametrize(
    ("variant", "rule"),
    [
        ("other-ca", "VF301"),
        ("self-signed", "VF301"),
        ("wrong-host", "VF302"),
        ("expired", "VF303"),
    ],
)
async def test_bad_server_certificate_is_refused(
    driver: str, variant: str, rule: str, lab: Any
) -> None:
    server = lab(variant)
    error = await _refused(driver, make_guard(server))
    assert error.rule_id == rule


@drivers
async def test_server_without_tls_is_refused(driver: str, lab: Any) -> None:
    server = lab("no-tls")
    # The client's CA is the lab's own: nothing wrong on our side, the server says 'N'.
    error = await _refused(driver, make_guard(server, ca_dir=lab("secure").certs_dir))
    assert error.rule_id == "VF201"


@drivers
async def test_missing_client_cert_when_required_is_refused(driver: str, lab: Any) -> None:
    server = lab("secure")  # root and app authenticate by certificate only
    error = await _refused(driver, make_guard(server, "app", client_cert=False))
    assert error.rule_id == "VF105"
    assert "client certificate" in str(error)


async def test_default_drivers_talk_plaintext_where_the_guard_refuses(lab: Any) -> None:
    """Side by side: the drivers' own defaults against the server that answers 'N'."""
    server = lab("no-tls")
    conn = await asyncpg.connect(
        host=server.hostname, port=server.port, user="app", database=server.database
    )
    try:
        assert conn._transport.get_extra_info("ssl_object") is None  # plaintext, silently
        assert await conn.fetchval("SELECT count(*) FROM users") == 3
    finally:
        await conn.close()
    dsn = f"host={server.hostname} port={server.port} user=app dbname={server.database}"
    with psycopg.connect(dsn, connect_timeout=5) as pconn:
        assert pconn.pgconn.ssl_in_use is False  # libpq's prefer: plaintext, silently
    guard = make_guard(server, ca_dir=lab("secure").certs_dir)
    with pytest.raises(InsecureConfigurationError, match="VF201"):
        await asyncpg_.connect(guard)
    assert guard.proofs.proven == 0


async def test_multi_host_list_verifies_each_node(lab_cluster: list[LabServer]) -> None:
    first = lab_cluster[0]
    hosts = ",".join(f"{first.hostname}:{node.port}" for node in lab_cluster)
    guard = make_guard(first, host=hosts)
    assert len(guard.target.hosts) == 3
    user, server_saw_tls, _ = await _asyncpg(guard)
    assert (user, server_saw_tls) == ("app", True)
    assert _psycopg_sync(guard)[1] is True


# --- on-path attackers: a downgrade proxy and a rogue TLS proxy -------------------------


def _upstream_tls(server: LabServer) -> ssl.SSLContext:
    """The attacker's own honest TLS client to the real server."""
    return ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))


def _guard_via(proxy: DowngradeProxy | RogueTLSProxy, server: LabServer, **more: Any) -> Guard:
    """The password user through the proxy, dialled as localhost (in the real SAN)."""
    return make_guard(server, server.password_user, client_cert=False, port=proxy.port, **more)


@drivers
async def test_downgrade_proxy_is_refused_before_anything_is_sent(driver: str, lab: Any) -> None:
    server = lab("secure")
    with DowngradeProxy(
        server.host,
        server.port,
        upstream_tls=_upstream_tls(server),
        upstream_server_hostname=server.hostname,
    ) as proxy:
        error = await _refused(driver, _guard_via(proxy, server))
    assert error.rule_id == "VF201"
    assert proxy.refused_tls_requests >= 1
    assert proxy.startup_messages == []  # not even the user name crossed in cleartext


async def _raw_asyncpg(server: LabServer, port: int, **options: Any) -> asyncpg.Connection:
    """asyncpg as people call it, without the guard: the password user."""
    return await asyncpg.connect(
        host=server.hostname,
        port=port,
        user=server.password_user,
        password=server.password,
        database=server.database,
        timeout=5,
        **options,
    )


async def test_default_asyncpg_and_psycopg_are_downgraded_by_the_same_proxy(lab: Any) -> None:
    """Side by side with the test above: the drivers' defaults go on in plaintext.

    Upstream the proxy talks plaintext to the tls-optional server: through a
    TLS upstream PostgreSQL offers SCRAM-SHA-256-PLUS, which libpq refuses to
    do over a non-TLS client link (a useful accident, not a defence:
    certificate users and asyncpg do not have it).
    """
    server = lab("tls-optional")
    with DowngradeProxy(server.host, server.port) as proxy:
        conn = await _raw_asyncpg(server, proxy.port)
        try:
            assert await conn.fetchval("SELECT email FROM users WHERE username = 'alice'") == (
                "alice@example.com"
            )
        finally:
            await conn.close()
        dsn = (
            f"host={server.hostname} port={proxy.port} user={server.password_user} "
            f"dbname={server.database} connect_timeout=5"
        )
        with psycopg.connect(dsn, password=server.password) as pconn:
            assert pconn.pgconn.ssl_in_use is False
            pconn.execute("SELECT 'psycopg-in-cleartext'")
    users = [m.get("user") for m in proxy.startup_messages]
    assert users == [server.password_user, server.password_user]
    assert b"alice@example.com" in proxy.captured_from_server
    assert b"psycopg-in-cleartext" in proxy.captured_from_client


@pytest.fixture(scope="module")
def rogue_certs(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Node certificates an attacker may hold: another CA's, and the real CA's for another host."""
    server = lab("secure")
    out = tmp_path_factory.mktemp("rogue")
    other = out / "other-ca"
    create_ca(other, out / "other.key", key=KeySpec("ec", 256))
    create_node(["localhost", "127.0.0.1"], other, out / "other.key", key=KeySpec("ec", 256))
    same_ca = out / "same-ca"
    same_ca.mkdir()
    (same_ca / "ca.crt").write_bytes((server.certs_dir / "ca.crt").read_bytes())
    create_node(["evil.lab.test"], same_ca, server.ca_key, key=KeySpec("ec", 256))
    return {"other-ca": other, "same-ca-wrong-host": same_ca}


def _rogue(server: LabServer, certs: Path, **options: Any) -> RogueTLSProxy:
    return RogueTLSProxy(
        server.host,
        server.port,
        cert=certs / "node.crt",
        key=certs / "node.key",
        upstream_server_hostname=server.hostname,
        **options,
    )


@drivers
@pytest.mark.parametrize(
    ("rogue", "rule"), [("other-ca", "VF301"), ("same-ca-wrong-host", "VF302")]
)
async def test_rogue_tls_proxy_is_refused(
    driver: str, rogue: str, rule: str, lab: Any, rogue_certs: dict[str, Path]
) -> None:
    server = lab("secure")
    with _rogue(server, rogue_certs[rogue], upstream_tls=_upstream_tls(server)) as proxy:
        error = await _refused(driver, _guard_via(proxy, server))
    assert error.rule_id == rule
    # libpq checks the host name after the handshake, Python's ssl during it;
    # either way not one byte of the session reaches the rogue.
    assert proxy.startup_messages == []


async def test_require_and_verify_ca_accept_the_rogue_where_the_guard_refuses(
    lab: Any, rogue_certs: dict[str, Path]
) -> None:
    """Side by side: asyncpg's ssl='require' takes another CA's certificate, libpq's
    verify-ca takes the real CA's certificate for another host; both hand the session over.
    (tls-optional upstream in plaintext: see the downgrade test about SCRAM-SHA-256-PLUS.)"""
    server = lab("tls-optional")
    trusted_ca = lab("secure").certs_dir / "ca.crt"  # the CA rogue_certs' same-CA cert is from
    for rogue, client in (("other-ca", "asyncpg-require"), ("same-ca-wrong-host", "verify-ca")):
        with _rogue(server, rogue_certs[rogue]) as proxy:
            if client == "asyncpg-require":
                conn = await _raw_asyncpg(server, proxy.port, ssl="require")
                await conn.fetchval("SELECT 'read-by-the-rogue'")
                await conn.close()
            else:
                dsn = (
                    f"host={server.hostname} port={proxy.port} user={server.password_user} "
                    f"dbname={server.database} sslmode=verify-ca "
                    f"sslrootcert={trusted_ca} connect_timeout=5"
                )
                with psycopg.connect(dsn, password=server.password) as pconn:
                    pconn.execute("SELECT 'read-by-the-rogue'")
        assert proxy.client_completed_handshake, client
        assert b"read-by-the-rogue" in proxy.captured_from_client, client


@drivers
async def test_wrong_password_error_never_shows_the_password(driver: str, lab: Any) -> None:
    server = lab("secure")
    canary = "canary-pw-51c0de"
    guard = make_guard(server, server.password_user, client_cert=False, password=canary)
    with pytest.raises(Exception) as err:
        await asyncio.wait_for(DRIVERS[driver](guard), 30)
    assert not isinstance(err.value, InsecureConfigurationError)  # not a TLS problem
    shown = f"{err.value!s} {err.value!r} {err.value.__cause__!r} {err.value.__context__!r}"
    assert canary not in shown


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg", "psycopg-async"])
async def test_multi_host_skips_a_rogue_node_and_lands_on_a_verified_one(
    driver: str, lab_cluster: list[LabServer], rogue_certs: dict[str, Path], lab: Any
) -> None:
    """A host list whose first entry is an attacker: refused there, verified on the next."""
    node = lab_cluster[1]
    with _rogue(node, rogue_certs["other-ca"]) as proxy:
        hosts = f"{node.hostname}:{proxy.port},{node.hostname}:{node.port}"
        guard = make_guard(node, host=hosts)
        user, server_saw_tls, client_dn = await DRIVERS[driver](guard)
    assert (user, server_saw_tls, client_dn) == ("app", True, "/O=Cockroach/CN=app")
    assert proxy.connections >= 1 and proxy.startup_messages == []
