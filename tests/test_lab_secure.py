"""The `secure` variant behaves like a CockroachDB secure node (real server, real drivers)."""

from __future__ import annotations

import ssl

import asyncpg
import psycopg
import pytest

from verifyfull.lab.harness import LabServer
from verifyfull.lab.variants import COCKROACH_TLS12_CIPHERS
from verifyfull.wire.pg import open_tls

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def secure(lab) -> LabServer:
    return lab("secure")


def _ssl_row(conn: psycopg.Connection) -> tuple[object, ...]:
    row = conn.execute(
        "SELECT ssl, version, cipher, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_verify_full_with_client_cert_reads_the_seed_table(secure: LabServer) -> None:
    with psycopg.connect(secure.dsn("app"), connect_timeout=5) as conn:
        rows = conn.execute("SELECT username, email FROM users WHERE active = %s", [True])
        assert [r[0] for r in rows] == ["alice", "bob"]
        used_tls, version, _cipher, client_dn = _ssl_row(conn)
    assert used_tls is True
    assert version in ("TLSv1.2", "TLSv1.3")
    assert client_dn == "/O=Cockroach/CN=app"


def test_ip_address_host_is_in_the_node_certificate(secure: LabServer) -> None:
    with psycopg.connect(secure.dsn("app", host="127.0.0.1"), connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("app",)


def test_root_is_superuser_by_certificate(secure: LabServer) -> None:
    with psycopg.connect(secure.dsn("root"), connect_timeout=5) as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (True,)


def test_password_user_over_tls_without_client_cert(secure: LabServer) -> None:
    dsn = secure.dsn("app_pw", client_cert=False, with_password=True)
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (3,)
        assert _ssl_row(conn)[0] is True


def test_wrong_password_is_refused(secure: LabServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            secure.dsn("app_pw", client_cert=False), password="not-it", connect_timeout=5
        )


def test_cert_user_without_client_cert_is_refused(secure: LabServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="certificate"):
        psycopg.connect(secure.dsn("app", client_cert=False), connect_timeout=5)


def test_plaintext_is_refused_for_every_user(secure: LabServer) -> None:
    for user in ("app", "app_pw", "root"):
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            psycopg.connect(
                secure.dsn(user, sslmode="disable"), password=secure.password, connect_timeout=5
            )


def test_tls12_uses_a_cockroachdb_suite(secure: LabServer) -> None:
    dsn = secure.dsn("app") + "&ssl_max_protocol_version=TLSv1.2"
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        _, version, cipher, _ = _ssl_row(conn)
    assert version == "TLSv1.2"
    assert cipher in COCKROACH_TLS12_CIPHERS


def _legacy_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    return ctx


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_legacy_tls_handshake_fails(secure: LabServer, version: ssl.TLSVersion) -> None:
    with pytest.raises(ssl.SSLError):
        open_tls(secure.host, secure.port, _legacy_context(version)).close()


def test_a_tls12_suite_outside_the_list_is_refused(secure: LabServer) -> None:
    ctx = _legacy_context(ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers("AES128-SHA:@SECLEVEL=0")  # RSA key exchange, CBC
    with pytest.raises(ssl.SSLError):
        open_tls(secure.host, secure.port, ctx).close()


async def test_asyncpg_verify_full(secure: LabServer) -> None:
    conn = await asyncpg.connect(secure.dsn("app"), timeout=5)
    try:
        rows = await conn.fetch("SELECT username, email FROM users WHERE active = $1", True)
        assert {r["username"] for r in rows} == {"alice", "bob"}
    finally:
        await conn.close()


def test_repr_and_state_hide_the_password(secure: LabServer) -> None:
    assert secure.password not in repr(secure)
    assert secure.password not in str(secure)
    assert secure.password not in str(secure.to_json())
    assert secure.password not in secure.dsn("app_pw")
    assert secure.password in secure.dsn("app_pw", with_password=True)  # url-safe token


def test_client_keys_are_private(secure: LabServer) -> None:
    keys = sorted(secure.certs_dir.glob("*.key"))
    assert [k.name for k in keys] == ["client.app.key", "client.app_pw.key", "client.root.key"]
    for key in keys:
        assert key.stat().st_mode & 0o077 == 0
    assert not (secure.certs_dir / "ca.key").exists()
    assert secure.ca_key.is_file()
