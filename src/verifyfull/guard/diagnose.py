"""Turn a driver's connect failure into the rule it stands for, in one line.

The drivers fail closed on their own once given verify-full; what they do
not do is say why in terms a user can act on. asyncpg raises Python's
ssl.SSLCertVerificationError (with OpenSSL's verify code); libpq (psycopg)
raises OperationalError with its message text. Both are mapped here.
"""

from __future__ import annotations

import ssl

from verifyfull.errors import InsecureConfigurationError
from verifyfull.wire.net import WireError
from verifyfull.wire.pg import open_tls

# OpenSSL X509_V_ERR_* codes -> (rule, what happened, fix).
_VERIFY_CODES: dict[int, tuple[str, str, str]] = {
    9: ("VF303", "its certificate is not yet valid", "check the server's certificate dates"),
    10: ("VF303", "its certificate has expired", "renew the server's node certificate"),
    62: (
        "VF302",
        "its certificate does not name this host",
        "dial a name in the node certificate's SAN, or reissue it with this host",
    ),
}
_UNTRUSTED = (
    "VF301",
    "its certificate is not signed by the configured CA",
    "check DB_CA_PATH is the cluster CA; otherwise someone is intercepting the connection",
)
_CLIENT_CERT_REQUIRED = (
    "VF105",
    "the server requires a client certificate and none was presented",
    "set DB_CERT_PATH and DB_KEY_PATH (or DB_CERTS_DIR with client.<user>.crt/.key)",
)
_NO_TLS = (
    "VF201",
    "the server (or something in between) refused TLS",
    "enable TLS on the server; never fall back to plaintext",
)

# The guard's context offers only TLS 1.2+ and suites that meet the floor: a
# server that offers nothing else fails the handshake with one of these.
_NO_COMMON = (
    "VF107",
    "it offers no TLS version and cipher suite the policy accepts (weak or legacy only)",
    "restrict the server to TLS 1.2+ with ECDHE and AES-GCM or CHACHA20-POLY1305",
)
_NO_COMMON_REASONS = frozenset(
    {
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
    }
)

# libpq message fragments -> rule (checked in order).
_LIBPQ_MESSAGES: tuple[tuple[str, tuple[str, str, str]], ...] = (
    ("server does not support ssl", _NO_TLS),
    ("does not match host name", _VERIFY_CODES[62]),
    ("certificate has expired", _VERIFY_CODES[10]),
    ("certificate is not yet valid", _VERIFY_CODES[9]),
    ("requires a valid client certificate", _CLIENT_CERT_REQUIRED),
    ("certificate verify failed", _UNTRUSTED),
    ("self-signed certificate", _UNTRUSTED),
    ("self signed certificate", _UNTRUSTED),
    ("unable to get local issuer", _UNTRUSTED),
)


def _error(host: str, entry: tuple[str, str, str]) -> InsecureConfigurationError:
    rule_id, what, fix = entry
    return InsecureConfigurationError(rule_id, f"refused the connection to {host}: {what}", fix)


def diagnose(exc: BaseException, host: str) -> InsecureConfigurationError | None:
    """The rule a connect failure stands for, or None when it is not about TLS."""
    if isinstance(exc, InsecureConfigurationError):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _error(host, _VERIFY_CODES.get(exc.verify_code, _UNTRUSTED))
    if isinstance(exc, ssl.SSLError) and str(exc.reason).upper() in _NO_COMMON_REASONS:
        return _error(host, _NO_COMMON)
    text = str(exc).lower()
    if "rejected ssl upgrade" in text:  # asyncpg, when the server answers 'N'
        return _error(host, _NO_TLS)
    for fragment, entry in _LIBPQ_MESSAGES:
        if fragment in text:
            return _error(host, entry)
    return None


def recheck_certificate(
    hosts: tuple[tuple[str, int], ...], context: ssl.SSLContext, timeout: float
) -> InsecureConfigurationError | None:
    """Why a server certificate failed, when the driver only says "verify failed".

    libpq reports an expired or otherwise rejected certificate as plain
    "certificate verify failed"; one handshake with the same context (no
    startup message, nothing sent after it) gives OpenSSL's verify code.
    """
    for host, port in hosts:
        try:
            open_tls(host, port, context, server_hostname=host, timeout=timeout).close()
        except ssl.SSLCertVerificationError as exc:
            return diagnose(exc, f"{host}:{port}")
        except (OSError, WireError):
            continue
    return None


def hosts_text(hosts: tuple[tuple[str, int], ...]) -> str:
    return ",".join(f"{h}:{p}" for h, p in hosts)
