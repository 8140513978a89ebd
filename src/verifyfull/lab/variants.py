"""The lab's server variants: data, not code paths.

Each variant is one frozen `Variant`: the TLS settings PostgreSQL gets, the
pg_hba rules, and how its node certificate is made. The harness turns a
Variant into files; nothing else in the lab branches on a variant's name.

The `secure` variant stands in for a CockroachDB secure node: TLS only,
TLS 1.2 minimum, CockroachDB's six TLS 1.2 suites, client-certificate
authentication for `root`/`app` and SCRAM password authentication for
`app_pw`, plaintext refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from verifyfull.certs.create import KeySpec
from verifyfull.errors import UsageError
from verifyfull.policy import DEFAULT_POLICY

# CockroachDB's TLS 1.2 suites (pkg/security/tls.go, RecommendedCipherSuites),
# in OpenSSL names. With the lab's RSA node key only the three ECDHE-RSA ones
# can be negotiated; the ECDSA three are listed because CockroachDB lists them.
COCKROACH_TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)

# What COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES=true adds: CBC suites and
# RSA key exchange (no forward secrecy). Its 3DES suites are left out: this
# OpenSSL 3 build has no DES-CBC3-SHA in the default provider.
OLD_CIPHERS = (
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
)

# Users every lab server has (see harness.SEED_SQL).
CERT_USERS = ("root", "app")
PASSWORD_USER = "app_pw"  # noqa: S105 - a user name
CLIENT_CERT_USERS = ("root", "app", "app_pw")

# pg_hba lines shared by the variants. The unix socket lives in a private
# 0700 directory and is only used by the harness to administer the server.
_LOCAL = "local all all trust"
_HBA_SECURE = (
    "hostssl all root,app all cert",
    "hostssl all app_pw all scram-sha-256",
    "hostnossl all all all reject",
)


@dataclass(frozen=True)
class NodeCert:
    """How the server's certificate is made (all through verifyfull.certs.create)."""

    hosts: tuple[str, ...] | None = None  # None: localhost, 127.0.0.1, ::1 (+ the node name)
    expired: bool = False
    self_signed: bool = False
    other_ca: bool = False  # signed by a throwaway CA the clients do not trust
    key: KeySpec = field(default_factory=lambda: KeySpec("rsa", 2048))
    hash_name: str = "sha256"


@dataclass(frozen=True)
class Variant:
    name: str
    summary: str  # what a client sees, for docs and `lab start`
    ssl: bool = True
    min_protocol: str = "TLSv1.2"
    ciphers: str = ":".join(COCKROACH_TLS12_CIPHERS)
    hba: tuple[str, ...] = _HBA_SECURE
    node_cert: NodeCert = field(default_factory=NodeCert)
    # OpenSSL security level for the whole server process (OPENSSL_CONF), applied
    # before PostgreSQL loads its certificate; None keeps the system's (Debian: 2).
    openssl_seclevel: int | None = None

    def hba_lines(self) -> tuple[str, ...]:
        return (_LOCAL, *self.hba)

    @property
    def verify_full_refusal(self) -> str | None:
        """The rule a verify-full client (lab CA, host localhost) is refused with here,
        or None when it connects. Derived from the variant's data; the lab tests
        connect to every variant and hold this to what a real client does."""
        cert = self.node_cert
        if not self.ssl:
            return "VF201"
        if cert.expired:
            return "VF303"
        if cert.self_signed or cert.other_ca:
            return "VF301"
        if cert.hosts is not None and "localhost" not in cert.hosts:
            return "VF302"
        # A default client (OpenSSL security level 2) refuses what the policy calls weak.
        if DEFAULT_POLICY.signature_hash_weak(cert.hash_name):
            return "VF305"
        if DEFAULT_POLICY.key_too_weak(cert.key.kind, cert.key.bits):
            return "VF304"
        return None

    def settings(self) -> dict[str, str]:
        """postgresql.conf TLS settings for this variant."""
        if not self.ssl:
            return {"ssl": "off"}
        return {
            "ssl": "on",
            "ssl_min_protocol_version": self.min_protocol,
            "ssl_ciphers": self.ciphers,
        }


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "secure",
            "CockroachDB secure-node stand-in: TLS only (1.2+, CockroachDB's suites); "
            "root/app by client certificate, app_pw by SCRAM password; plaintext refused",
        ),
        Variant(
            "mtls",
            "like secure, but every user needs a client certificate "
            "(app_pw: SCRAM password and a verified certificate with CN=app_pw)",
            hba=(
                "hostssl all root,app all cert",
                "hostssl all app_pw all scram-sha-256 clientcert=verify-full",
                "hostnossl all all all reject",
            ),
        ),
        Variant(
            "tls-optional",
            "TLS offered but not required: app_pw logs in over plaintext with its password; "
            "root/app still need TLS for certificate authentication",
            hba=(
                "hostssl all root,app all cert",
                "host all app_pw all scram-sha-256",
            ),
        ),
        Variant(
            "no-tls",
            "the `cockroach --insecure` stand-in: answers 'N' to SSLRequest, no authentication",
            ssl=False,
            hba=("host all all 127.0.0.1/32 trust", "host all all ::1/128 trust"),
        ),
        Variant(
            "legacy-tls",
            "accepts TLS 1.0 and 1.1 (and weak suites: @SECLEVEL=0), otherwise like secure",
            min_protocol="TLSv1",
            ciphers="ALL:!aNULL:!eNULL:@SECLEVEL=0",
        ),
        Variant(
            "weak-ciphers",
            "TLS 1.2 with CBC and RSA key-exchange suites enabled "
            "(COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES=true)",
            ciphers=":".join((*COCKROACH_TLS12_CIPHERS, *OLD_CIPHERS)),
        ),
        Variant(
            "expired",
            "like secure, but the node certificate expired yesterday",
            node_cert=NodeCert(expired=True),
        ),
        Variant(
            "self-signed",
            "like secure, but the node certificate is self-signed (clients' ca.crt is the lab CA)",
            node_cert=NodeCert(self_signed=True),
        ),
        Variant(
            "other-ca",
            "like secure, but the node certificate comes from a CA the clients do not trust",
            node_cert=NodeCert(other_ca=True),
        ),
        Variant(
            "wrong-host",
            "like secure, but the node certificate names only wrong.lab.test",
            node_cert=NodeCert(hosts=("wrong.lab.test",)),
        ),
        Variant(
            "weak-cert",
            "like secure, but the node certificate is RSA 1024 signed with SHA-1 "
            "(the server runs at OpenSSL security level 0, without which it refuses to load it)",
            node_cert=NodeCert(key=KeySpec("rsa", 1024), hash_name="sha1"),
            openssl_seclevel=0,
        ),
    )
}


def get(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise UsageError(
            f"unknown lab variant {name!r}", f"use one of: {', '.join(VARIANTS)}"
        ) from None
