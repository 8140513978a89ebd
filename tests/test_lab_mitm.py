"""On-path attackers against the real `secure` lab server: what each client mode lets through."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

import asyncpg
import psycopg
import pytest

from verifyfull.certs.create import create_node
from verifyfull.lab.harness import LabServer
from verifyfull.lab.mitm import DowngradeProxy, RogueTLSProxy
from verifyfull.wire.net import Deadline, recv_exact
from verifyfull.wire.pg import GSSENC_REQUEST, SSL_REQUEST, parse_startup

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def secure(lab) -> LabServer:
    return lab("secure")


def _upstream_tls(server: LabServer) -> ssl.SSLContext:
    """The attacker's own, honest TLS client to the real server (no client certificate)."""
    return ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))


def _downgrade(server: LabServer) -> DowngradeProxy:
    return DowngradeProxy(
        server.host,
        server.port,
        upstream_tls=_upstream_tls(server),
        upstream_server_hostname=server.hostname,
    )


def _via(proxy: DowngradeProxy | RogueTLSProxy, dsn: str, server: LabServer) -> str:
    """Point a lab DSN at the proxy (localhost, so the host name still matches)."""
    return dsn.replace(f"localhost:{server.port}", f"localhost:{proxy.port}")


async def test_asyncpg_default_prefer_is_downgraded_to_plaintext(secure: LabServer) -> None:
    with _downgrade(secure) as proxy:
        dsn = _via(proxy, secure.dsn("app_pw", sslmode=None), secure)
        conn = await asyncpg.connect(dsn, password=secure.password, timeout=5)
        try:
            assert await conn.fetchval("SELECT email FROM users WHERE username = $1", "alice") == (
                "alice@example.com"
            )
            assert conn.get_server_pid()  # the session is real, through the proxy
        finally:
            await conn.close()
    seen = proxy.captured_from_client
    assert proxy.refused_tls_requests >= 1
    assert proxy.startup_messages[0]["user"] == "app_pw"
    assert b"user\x00app_pw\x00database\x00defaultdb\x00" in seen  # StartupMessage in clear
    assert b"SELECT email FROM users WHERE username = $1" in seen  # queries in clear
    assert b"alice@example.com" in proxy.captured_from_server  # and the answers
    assert secure.password.encode() not in seen  # SCRAM: the password itself never crosses


async def test_asyncpg_verify_full_refuses_the_downgrade(secure: LabServer) -> None:
    with _downgrade(secure) as proxy, pytest.raises(ConnectionError, match="rejected SSL upgrade"):
        await asyncpg.connect(_via(proxy, secure.dsn("app"), secure), timeout=5)
    assert proxy.startup_messages == []
    assert proxy.captured_from_client == SSL_REQUEST  # nothing but the request for TLS


def test_libpq_prefer_detects_channel_binding_offered_over_plaintext(secure: LabServer) -> None:
    """Over a TLS upstream the server offers SCRAM-SHA-256-PLUS; libpq sees it on a
    plaintext connection and stops (asyncpg does not, see above)."""
    with _downgrade(secure) as proxy:
        dsn = _via(proxy, secure.dsn("app_pw", sslmode="prefer", client_cert=False), secure)
        with pytest.raises(psycopg.OperationalError, match="SCRAM-SHA-256-PLUS.*non-SSL"):
            psycopg.connect(dsn, password=secure.password, connect_timeout=5)
    assert [m["user"] for m in proxy.startup_messages] == ["app_pw"]  # still sent in clear


def test_libpq_prefer_is_downgraded_and_verify_full_is_not(lab) -> None:
    server = lab("tls-optional")  # a server that takes plaintext passwords
    with DowngradeProxy(server.host, server.port) as proxy:
        dsn = _via(proxy, server.dsn("app_pw", sslmode="prefer", client_cert=False), server)
        with psycopg.connect(dsn, password=server.password, connect_timeout=5) as conn:
            assert conn.pgconn.ssl_in_use is False
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (3,)
        with pytest.raises(psycopg.OperationalError, match="does not support SSL"):
            psycopg.connect(_via(proxy, server.dsn("app"), server), connect_timeout=5)
    assert [m["user"] for m in proxy.startup_messages] == ["app_pw"]
    assert b"SELECT count(*) FROM users" in proxy.captured_from_client


def test_downgrade_proxy_answers_gssenc_request_with_n(secure: LabServer) -> None:
    with _downgrade(secure) as proxy, socket.create_connection(("127.0.0.1", proxy.port), 5) as s:
        s.sendall(GSSENC_REQUEST)
        assert recv_exact(s, 1, Deadline(5), "reply") == b"N"
        s.sendall(SSL_REQUEST)
        assert recv_exact(s, 1, Deadline(5), "reply") == b"N"


@pytest.fixture(scope="module")
def optional(lab) -> LabServer:
    """tls-optional: the rogue proxies reach it in plaintext, so SCRAM has no channel to bind."""
    return lab("tls-optional")


@pytest.fixture(scope="module")
def rogue_certs(optional: LabServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Attacker certificates: self-signed for localhost; from the lab CA for evil.lab.test."""
    out = tmp_path_factory.mktemp("rogue")
    self_signed = out / "self"
    create_node(["localhost", "127.0.0.1"], self_signed, None, self_signed=True)
    same_ca = out / "same-ca"
    same_ca.mkdir()
    (same_ca / "ca.crt").write_bytes((optional.certs_dir / "ca.crt").read_bytes())
    create_node(["evil.lab.test"], same_ca, optional.ca_key)
    return {"self-signed": self_signed, "same-ca-wrong-host": same_ca}


def _rogue(server: LabServer, certs: Path, *, upstream_tls: bool = False) -> RogueTLSProxy:
    return RogueTLSProxy(
        server.host,
        server.port,
        cert=certs / "node.crt",
        key=certs / "node.key",
        upstream_tls=_upstream_tls(server) if upstream_tls else None,
        upstream_server_hostname=server.hostname,
    )


def _without_root(dsn: str, server: LabServer, tmp_path: Path) -> str:
    return dsn.replace(str(server.certs_dir / "ca.crt"), str(tmp_path / "absent.crt"))


def test_rogue_self_signed_is_refused_by_verify_full(optional, rogue_certs) -> None:
    refused = pytest.raises(psycopg.OperationalError, match="certificate verify failed")
    with _rogue(optional, rogue_certs["self-signed"]) as proxy, refused:
        psycopg.connect(_via(proxy, optional.dsn("app_pw"), optional), connect_timeout=5)
    assert proxy.client_completed_handshake is False
    assert proxy.handshake_failures
    assert proxy.startup_messages == []


def test_rogue_self_signed_fools_sslmode_require(optional, rogue_certs, tmp_path) -> None:
    with _rogue(optional, rogue_certs["self-signed"]) as proxy:
        dsn = _via(proxy, optional.dsn("app_pw", sslmode="require", client_cert=False), optional)
        dsn = _without_root(dsn, optional, tmp_path)
        with psycopg.connect(dsn, password=optional.password, connect_timeout=5) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (3,)
    assert proxy.client_completed_handshake is True
    assert b"SELECT count(*) FROM users" in proxy.captured_from_client  # decrypted by the attacker


def test_scram_channel_binding_stops_a_rogue_relaying_over_tls(secure, tmp_path) -> None:
    """Relaying to the server over TLS, the server offers SCRAM-SHA-256-PLUS; libpq binds
    to the rogue certificate and the server's check fails, even with sslmode=require."""
    rogue = tmp_path / "rogue"
    create_node(["localhost"], rogue, None, self_signed=True)
    with _rogue(secure, rogue, upstream_tls=True) as proxy:
        dsn = _via(proxy, secure.dsn("app_pw", sslmode="require", client_cert=False), secure)
        with pytest.raises(psycopg.OperationalError, match="channel binding check failed"):
            psycopg.connect(
                _without_root(dsn, secure, tmp_path), password=secure.password, connect_timeout=5
            )
    assert proxy.client_completed_handshake is True  # the TLS layer alone was fooled


def test_same_ca_wrong_host_fools_verify_ca_not_verify_full(optional, rogue_certs) -> None:
    with _rogue(optional, rogue_certs["same-ca-wrong-host"]) as proxy:
        verify_ca = _via(proxy, optional.dsn("app_pw", sslmode="verify-ca"), optional)
        with psycopg.connect(verify_ca, password=optional.password, connect_timeout=5) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("app_pw",)
        with pytest.raises(psycopg.OperationalError, match="does not match host name"):
            psycopg.connect(_via(proxy, optional.dsn("app_pw"), optional), connect_timeout=5)
    assert proxy.handshakes_completed == 2  # libpq checks the name after the handshake


def test_stop_closes_listener_connections_and_threads(secure: LabServer) -> None:
    before = threading.active_count()
    proxy = _downgrade(secure).start()
    idle = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)  # never speaks
    proxy.stop()
    with contextlib.suppress(ConnectionResetError):  # reset if stop() came before accept
        assert idle.recv(1) == b""  # closed by the proxy
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()
    assert threading.active_count() <= before


def test_connections_beyond_the_bound_are_refused(secure: LabServer) -> None:
    proxy = DowngradeProxy(secure.host, secure.port, max_connections=1).start()
    try:
        first = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        first.sendall(SSL_REQUEST)
        assert recv_exact(first, 1, Deadline(5), "reply") == b"N"  # being served
        second = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        assert second.recv(1) == b""  # closed at once
        second.close()
        first.close()
    finally:
        proxy.stop()


def test_garbage_is_recorded_as_an_error_not_a_crash(secure: LabServer) -> None:
    with _downgrade(secure) as proxy, socket.create_connection(("127.0.0.1", proxy.port), 5) as s:
        s.sendall(b"\xff\xff\xff\xff\x00\x00\x00\x00")
        assert s.recv(1) == b""
    assert any("not a PostgreSQL startup packet" in e for e in proxy.errors)


def test_parse_startup() -> None:
    body = b"\x00\x03\x00\x00user\x00app\x00database\x00defaultdb\x00\x00"
    message = (len(body) + 4).to_bytes(4, "big") + body
    assert parse_startup(message) == {"user": "app", "database": "defaultdb"}
    assert parse_startup(SSL_REQUEST) == {}


def test_upstream_without_tls_is_recorded(lab) -> None:
    server = lab("no-tls")
    proxy = DowngradeProxy(server.host, server.port, upstream_tls=ssl.create_default_context())
    with proxy, pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            _via(proxy, server.dsn("app", sslmode="disable"), server), connect_timeout=5
        )
    assert any("upstream answered b'N' to SSLRequest" in e for e in proxy.errors)
