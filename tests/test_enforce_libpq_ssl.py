"""guard.libpq_ssl.read_tls against real handshakes: each connection's own certificate, exactly.

Enforcement's proof memo is keyed on the exact DER bytes libpq's SSL session
holds, so the read must give, for every connection, the certificate that
connection received, byte for byte: the lab server's, and through a proxy
presenting another certificate (an attacker with a certificate the client
accepts under sslmode=require), that one; after a rotation on the same
server, the new one, proven again. Read with
one i2d_X509 into a buffer OpenSSL allocates (session 8); the certificate
files are the independent reference.
"""

from __future__ import annotations

import datetime as dt
import shutil
import ssl
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

import verifyfull
from verifyfull.certs.create import KeySpec, Validity, create_ca, create_node
from verifyfull.guard import libpq_ssl
from verifyfull.guard.libpq_ssl import read_tls
from verifyfull.lab.dsn import build_dsn
from verifyfull.lab.mitm import RogueTLSProxy
from verifyfull.lab.servercerts import node_hosts

pytestmark = pytest.mark.pg


def _der(pem_file: Path) -> bytes:
    return x509.load_pem_x509_certificate(pem_file.read_bytes()).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def other_cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node certificate for localhost from another CA (RSA: another size than the lab's)."""
    out = tmp_path_factory.mktemp("other")
    create_ca(out / "certs", out / "ca.key", key=KeySpec("rsa", 2048))
    create_node(["localhost", "127.0.0.1"], out / "certs", out / "ca.key", key=KeySpec("rsa", 2048))
    return out / "certs"


def _password_dsn(server: Any, port: int, sslmode: str) -> str:
    """The password user at port; require names no root (libpq would check the chain)."""
    dsn = build_dsn(
        user=server.password_user,
        host="localhost",
        port=port,
        database=server.database,
        certs_dir=server.certs_dir,
        sslmode=None if sslmode == "require" else sslmode,
        client_cert=False,
        password=server.password,
    )
    # channel_binding=disable: SCRAM channel binding would catch the proxy (the point
    # here is what libpq read, not whether the login notices).
    return dsn + "?sslmode=require&channel_binding=disable" if sslmode == "require" else dsn


@pytest.fixture(autouse=True)
def _no_home_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ~/.postgresql/root.crt (libpq would verify the chain under require) and no PG*."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGHOST", "PGPORT"):
        monkeypatch.delenv(name, raising=False)


def test_each_connection_reads_the_exact_certificate_it_received(
    lab: Any, other_cert: Path
) -> None:
    """The lab server's certificate, then another one through a proxy, then the lab's again:
    each read is that connection's certificate, byte for byte, with its protocol and cipher."""
    server = lab("secure")
    lab_der = _der(server.base_dir / "server" / "node.crt")
    other_der = _der(other_cert / "node.crt")
    assert lab_der != other_der
    with RogueTLSProxy(
        server.host,
        server.port,
        cert=other_cert / "node.crt",
        key=other_cert / "node.key",
        upstream_tls=ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt")),
        upstream_server_hostname=server.hostname,
    ) as proxy:
        dsns = [
            (server.dsn(), lab_der, True),  # names the app user's certificate and key
            (_password_dsn(server, proxy.port, "require"), other_der, False),
            (_password_dsn(server, server.port, "verify-full"), lab_der, False),
        ]
        for dsn, expected, client_cert in dsns:
            with psycopg.connect(dsn, connect_timeout=5) as conn:
                protocol, cipher, der, loaded = read_tls(conn.pgconn.pgconn_ptr)
                assert der == expected
                assert protocol in ("TLSv1.2", "TLSv1.3") and cipher
                assert loaded is client_cert


def test_a_rotated_server_certificate_is_read_and_proven_again(
    fresh_lab: Any, tmp_path: Path
) -> None:
    """The same server (same peer, protocol and cipher) with a new certificate after a reload:
    enforcement reads the new one and proves it anew (the proof's memo is keyed on the exact
    DER), so the record carries the new certificate's expiry, not the memo's."""
    server = fresh_lab("secure")
    server_dir = server.base_dir / "server"
    handle = verifyfull.enforce("refuse")
    try:
        with psycopg.connect(server.dsn(), connect_timeout=5):
            pass
        work = tmp_path / "rotated"
        work.mkdir()
        shutil.copyfile(server.certs_dir / "ca.crt", work / "ca.crt")  # the issuer's, as is
        create_node(node_hosts(server.node_name), work, server.ca_key,
                    validity=Validity(lifetime=dt.timedelta(days=30)))  # fmt: skip
        for name in ("node.crt", "node.key"):  # into the files the server owns (mode kept)
            shutil.copyfile(work / name, server_dir / name)
        server.reload()
        with psycopg.connect(server.dsn(), connect_timeout=5):
            pass
    finally:
        handle.stop()
    before, after = handle.connections[-2:]
    assert before.verified and after.verified
    assert (before.target, before.tls_version) == (after.target, after.tls_version)
    new_expiry = x509.load_pem_x509_certificate(
        (work / "node.crt").read_bytes()
    ).not_valid_after_utc
    assert after.server_cert_not_after == new_expiry
    assert before.server_cert_not_after != new_expiry


def test_without_openssl_only_the_attributes_are_read_and_without_libpq_nothing(
    lab: Any,
) -> None:
    """A libpq whose TLS library is not found (or not OpenSSL): protocol and cipher, no
    certificate (so enforcement refuses a pinned connection); no libpq at all: nothing."""
    real = libpq_ssl._libs
    found = real()
    assert found is not None
    server = lab("secure")
    with psycopg.connect(server.dsn(), connect_timeout=5) as conn:
        ptr = conn.pgconn.pgconn_ptr
        try:
            for libs in (libpq_ssl._Libs(found.pq, None, None, None, None), None):
                libpq_ssl._libs = lambda libs=libs: libs  # type: ignore[assignment]
                libpq_ssl.tls_reader.cache_clear()
                protocol, cipher, der, loaded = libpq_ssl.read_tls(ptr)
                assert (der, loaded) == (None, None)
                if libs is None:
                    assert (protocol, cipher) == (None, None)
                else:
                    assert protocol in ("TLSv1.2", "TLSv1.3") and cipher
        finally:
            libpq_ssl._libs = real  # type: ignore[method-assign]
            libpq_ssl.tls_reader.cache_clear()
        assert libpq_ssl.read_tls(ptr)[2] is not None
