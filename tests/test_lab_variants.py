"""Each lab variant really behaves as named: real server, real libpq/asyncpg, real handshakes."""

from __future__ import annotations

import socket
import ssl

import asyncpg
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from verifyfull.lab.harness import LabServer
from verifyfull.lab.variants import VARIANTS
from verifyfull.wire.net import Deadline
from verifyfull.wire.pg import open_tls, request_tls

pytestmark = [
    pytest.mark.pg,
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning"),
]


def _admin(server: LabServer) -> psycopg.Connection:
    """The harness's own way in: postgres superuser over the private unix socket."""
    return psycopg.connect(
        host=str(server.socket_dir),
        port=server.port,
        user="postgres",
        dbname=server.database,
        connect_timeout=5,
    )


def _any_tls(version: ssl.TLSVersion | None = None, ciphers: str = "ALL") -> ssl.SSLContext:
    """A client that accepts anything, to see what the server itself allows."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def _connect_error(dsn: str, **kwargs: object) -> str:
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect(dsn, connect_timeout=5, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_server_settings_are_the_variants_data(lab, name: str) -> None:
    server = lab(name)
    variant = VARIANTS[name]
    with _admin(server) as conn:
        settings = {
            key: conn.execute(f"SHOW {key}").fetchone()[0]  # type: ignore[index]
            for key in variant.settings()
        }
        hba = [
            (r[0], r[1], r[2], r[3])
            for r in conn.execute(
                "SELECT type, database, user_name, auth_method FROM pg_hba_file_rules"
                " WHERE error IS NULL"
            )
        ]
    assert settings == variant.settings()
    assert len(hba) == len(variant.hba_lines())


# ---------------------------------------------------------------- what a client sees


def test_mtls_password_user_needs_a_certificate_too(lab) -> None:
    server = lab("mtls")
    err = _connect_error(server.dsn("app_pw", client_cert=False), password=server.password)
    assert "certificate" in err
    with psycopg.connect(server.dsn("app_pw", with_password=True), connect_timeout=5) as conn:
        assert conn.execute(
            "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone() == ("/O=Cockroach/CN=app_pw",)


def test_mtls_password_user_needs_the_password_too(lab) -> None:
    server = lab("mtls")
    assert "password" in _connect_error(server.dsn("app_pw"), password="wrong")


def test_tls_optional_accepts_plaintext_password_login(lab) -> None:
    server = lab("tls-optional")
    with psycopg.connect(
        server.dsn("app_pw", sslmode="disable", with_password=True), connect_timeout=5
    ) as conn:
        assert conn.execute(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (3,)
    with psycopg.connect(server.dsn("app"), connect_timeout=5) as conn:  # TLS still works
        assert conn.execute("SELECT current_user").fetchone() == ("app",)


def test_tls_optional_cert_users_need_tls(lab) -> None:
    server = lab("tls-optional")
    assert "no pg_hba.conf entry" in _connect_error(server.dsn("app", sslmode="disable"))


def test_no_tls_answers_n_and_trusts_everyone(lab) -> None:
    server = lab("no-tls")
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        assert request_tls(sock, Deadline(5)) == b"N"
    with psycopg.connect(server.dsn("root", sslmode="disable"), connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("root",)
    assert "does not support SSL" in _connect_error(server.dsn("app"))


async def test_no_tls_asyncpg_default_prefer_goes_plaintext(lab) -> None:
    server = lab("no-tls")
    conn = await asyncpg.connect(server.dsn("app", sslmode=None), timeout=5)
    try:
        assert conn.get_settings().server_version  # connected, silently in plaintext
        assert (
            await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is False
        )
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("version", "label"), [(ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1")]
)
def test_legacy_tls_handshakes_old_versions(lab, version: ssl.TLSVersion, label: str) -> None:
    server = lab("legacy-tls")
    with open_tls(server.host, server.port, _any_tls(version)) as tls:
        assert tls.version() == label
    secure = lab("secure")  # the same client is refused by the secure variant
    with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|protocol version"):
        open_tls(secure.host, secure.port, _any_tls(version)).close()


def test_legacy_tls_still_verifies_for_a_good_client(lab) -> None:
    with psycopg.connect(lab("legacy-tls").dsn("app"), connect_timeout=5) as conn:
        assert conn.execute(
            "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone() == ("TLSv1.3",)


@pytest.mark.parametrize("suite", ["AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA"])
def test_weak_ciphers_negotiates_old_suites(lab, suite: str) -> None:
    server = lab("weak-ciphers")
    with open_tls(server.host, server.port, _any_tls(ssl.TLSVersion.TLSv1_2, suite)) as tls:
        assert tls.cipher()[0] == suite  # type: ignore[index]
    secure = lab("secure")
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE|handshake failure"):
        open_tls(secure.host, secure.port, _any_tls(ssl.TLSVersion.TLSv1_2, suite)).close()


def test_weak_ciphers_keeps_tls12_minimum(lab) -> None:
    server = lab("weak-ciphers")
    with pytest.raises(ssl.SSLError):
        open_tls(server.host, server.port, _any_tls(ssl.TLSVersion.TLSv1)).close()


def _peer_cert(server: LabServer) -> x509.Certificate:
    with open_tls(server.host, server.port, _any_tls()) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _verify_error(server: LabServer) -> str:
    """What Python's ssl says when verifying like verify-full against the lab CA."""
    ctx = ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        open_tls(server.host, server.port, ctx, server_hostname=server.hostname).close()
    return str(info.value)


def test_expired_fails_verify_full_with_expiry(lab) -> None:
    server = lab("expired")
    assert "certificate verify failed" in _connect_error(server.dsn("app"))
    assert "expired" in _verify_error(server)
    with psycopg.connect(
        server.dsn("app", sslmode="require") + "&sslrootcert=/nonexistent", connect_timeout=5
    ):
        pass  # sslmode=require without a root file does not check the chain at all


def test_self_signed_is_untrusted(lab) -> None:
    server = lab("self-signed")
    cert = _peer_cert(server)
    assert cert.issuer == cert.subject
    assert "certificate verify failed" in _connect_error(server.dsn("app"))
    assert "self-signed" in _verify_error(server) or "self signed" in _verify_error(server)


def test_other_ca_is_untrusted(lab) -> None:
    server = lab("other-ca")
    assert "OTHER CA" in _peer_cert(server).issuer.rfc4514_string()
    assert "certificate verify failed" in _connect_error(server.dsn("app"))
    assert "local issuer" in _verify_error(server)


def test_wrong_host_fails_only_the_host_check(lab) -> None:
    server = lab("wrong-host")
    err = _connect_error(server.dsn("app"))
    assert 'server certificate for "wrong.lab.test" does not match host name "localhost"' in err
    with psycopg.connect(server.dsn("app", sslmode="verify-ca"), connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("app",)


def test_weak_cert_is_rsa1024_sha1_and_refused_by_a_default_client(lab) -> None:
    server = lab("weak-cert")
    cert = _peer_cert(server)
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 1024
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha1"
    assert "certificate verify failed" in _connect_error(server.dsn("app"))


def test_variant_certificates_name_localhost_except_wrong_host(lab) -> None:
    for name in ("secure", "expired", "self-signed", "other-ca"):
        san = _peer_cert(lab(name)).extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert "localhost" in san.value.get_values_for_type(x509.DNSName)
    san = _peer_cert(lab("wrong-host")).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert san.value.get_values_for_type(x509.DNSName) == ["wrong.lab.test"]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_verify_full_refusal_is_what_a_real_client_gets(lab, name: str) -> None:
    # `lab start` / `lab status` print connection strings from this property:
    # hold it to a real verify-full connect (lab CA, client certificate, localhost).
    server = lab(name)
    if VARIANTS[name].verify_full_refusal is None:
        with psycopg.connect(server.dsn("app"), connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    else:
        _connect_error(server.dsn("app"))
