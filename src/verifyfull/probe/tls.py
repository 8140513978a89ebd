"""TLS handshakes with the system OpenSSL: which versions and cipher classes a server accepts.

Each question is one handshake with a client context that offers only what
is asked about (one protocol version, or one class of suites in TLS 1.2), at
OpenSSL security level 0 so that legacy offers are really made. The server's
answer decides: a completed handshake means accepted. Certificates are not
judged here (verify is off) except by `chain_verifies`, which checks the
chain alone (no host name, no validity dates: those are judged separately so
each weakness gets its own rule).

How the TCP connection reaches the TLS layer is the caller's `Opener`: the
PostgreSQL SSLRequest for database targets, nothing for HTTPS.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from verifyfull import policy
from verifyfull.errors import UsageError
from verifyfull.wire.net import Deadline, WireError, connect, describe_exception, start_tls

Opener = Callable[[socket.socket, Deadline], None]
"""Brings a fresh TCP connection to the point where the ClientHello is sent."""

# OpenSSL: do not check validity dates while verifying the chain (X509_V_FLAG_NO_CHECK_TIME).
_NO_CHECK_TIME = 0x200000
_ALL_SUITES = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
_LEGACY_OFFER = "ALL:@SECLEVEL=0"

VERSIONS: tuple[ssl.TLSVersion, ...] = (
    ssl.TLSVersion.TLSv1,
    ssl.TLSVersion.TLSv1_1,
    ssl.TLSVersion.TLSv1_2,
    ssl.TLSVersion.TLSv1_3,
)


def direct(sock: socket.socket, deadline: Deadline) -> None:
    """Opener for protocols that start with the ClientHello (HTTPS, PostgreSQL 17 direct TLS)."""


@dataclass(frozen=True)
class Endpoint:
    host: str  # the address dialled
    port: int
    server_name: str | None  # SNI and the name the certificate must carry
    opener: Opener
    deadline: Deadline  # the target's one deadline: every connection of every check shares it


@dataclass(frozen=True)
class Handshake:
    """The outcome of one handshake attempt.

    accepted: True (completed), False (the server refused: alert or close during
    the handshake), None (unknown: the connection could not get as far as TLS).
    """

    accepted: bool | None
    version: str | None = None
    cipher: str | None = None
    leaf_der: bytes | None = None
    reason: str = ""
    after_error: str = ""  # what went wrong in the exchange after a completed handshake


def client_context(
    *,
    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1,
    maximum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
    ciphers: str = _LEGACY_OFFER,
    alpn: Sequence[str] = (),
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: that is what we test
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    ctx.set_ciphers(ciphers)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def handshake(
    endpoint: Endpoint,
    ctx: ssl.SSLContext,
    then: Callable[[ssl.SSLSocket, Deadline], None] | None = None,
) -> Handshake:
    """One connection: open, handshake with ctx, optionally run `then` on the TLS socket."""
    deadline = endpoint.deadline
    try:
        with connect(endpoint.host, endpoint.port, deadline) as raw:
            try:
                endpoint.opener(raw, deadline)
            except WireError as exc:
                return Handshake(accepted=None, reason=str(exc))
            try:
                tls = start_tls(raw, ctx, sni_name(endpoint.server_name), deadline)
            except ssl.SSLCertVerificationError:
                raise
            except (ssl.SSLError, OSError) as exc:
                return Handshake(accepted=False, reason=describe_exception(exc))
            try:
                cipher = tls.cipher()
                result = Handshake(
                    accepted=True,
                    version=tls.version(),
                    cipher=cipher[0] if cipher else None,
                    leaf_der=tls.getpeercert(binary_form=True),
                )
                if then is not None:
                    try:
                        then(tls, deadline)
                    except WireError as exc:
                        return replace(result, after_error=str(exc))
                return result
            finally:
                tls.close()
    except WireError as exc:
        return Handshake(accepted=None, reason=str(exc))


def sni_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return name
    return None  # SNI carries host names only (RFC 6066)


def version_accepted(endpoint: Endpoint, version: ssl.TLSVersion) -> Handshake:
    """Offer exactly one protocol version (every suite OpenSSL has, at security level 0)."""
    return handshake(endpoint, client_context(minimum=version, maximum=version))


@dataclass(frozen=True)
class CipherClass:
    reason: str  # policy.server_suite_weakness's wording
    suites: tuple[str, ...]  # the OpenSSL suite names offered for it


@lru_cache(maxsize=1)
def weak_cipher_classes() -> tuple[CipherClass, ...]:
    """TLS 1.2 suites this OpenSSL can offer, grouped by the policy's reason they are weak."""
    ctx = client_context(ciphers=_ALL_SUITES)
    groups: dict[str, list[str]] = {}
    for suite in ctx.get_ciphers():
        name = suite["name"]
        if name.startswith("TLS_") or "PSK" in name or "SRP" in name:
            continue  # TLS 1.3 (all strong) and suites needing callbacks no server sets up
        reason = policy.server_suite_weakness(name)
        if reason:
            groups.setdefault(reason, []).append(name)
    return tuple(CipherClass(reason, tuple(names)) for reason, names in groups.items())


def cipher_class_accepted(endpoint: Endpoint, cipher_class: CipherClass) -> Handshake:
    """Offer only this class's suites in TLS 1.2."""
    ctx = client_context(
        minimum=ssl.TLSVersion.TLSv1_2,
        maximum=ssl.TLSVersion.TLSv1_2,
        ciphers=":".join(cipher_class.suites) + ":@SECLEVEL=0",
    )
    return handshake(endpoint, ctx)


def inspect(
    endpoint: Endpoint,
    then: Callable[[ssl.SSLSocket, Deadline], None] | None = None,
    *,
    client_cert: tuple[Path, Path] | None = None,
    alpn: Sequence[str] = (),
) -> Handshake:
    """The handshake any client would make (every version, every suite), keeping the leaf."""
    ctx = client_context(alpn=alpn)
    if client_cert is not None:
        try:
            ctx.load_cert_chain(str(client_cert[0]), str(client_cert[1]))
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(
                f"cannot load client certificate {client_cert[0]}: {describe_exception(exc)}"
                "pass --cert and --key files that belong together (PEM, unencrypted key)",
            ) from None
    return handshake(endpoint, ctx, then)


@dataclass(frozen=True)
class ChainCheck:
    verified: bool | None  # None: could not be decided (no handshake)
    reason: str = ""


def chain_verifies(endpoint: Endpoint, cafile: Path | None) -> ChainCheck:
    """Whether the presented chain leads to cafile (or the system roots): trust only.

    Dates, key size and hash are judged on their own rules, so they are not
    allowed to fail this check (NO_CHECK_TIME, security level 0).
    """
    ctx = client_context()
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.verify_flags |= _NO_CHECK_TIME
    _load_trust(ctx, cafile)
    try:
        result = handshake(endpoint, ctx)
    except ssl.SSLCertVerificationError as exc:
        return ChainCheck(False, exc.verify_message or describe_exception(exc))
    if result.accepted:
        return ChainCheck(True)
    return ChainCheck(None, result.reason)


def verifying_context(cafile: Path | None) -> ssl.SSLContext:
    """What any careful client uses: chain to cafile (or the system roots), host name checked,
    Python's default floors. Only such a connection carries what the user gave."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname, TLS 1.2+
    _load_trust(ctx, cafile)
    return ctx


def _load_trust(ctx: ssl.SSLContext, cafile: Path | None) -> None:
    try:
        if cafile is not None:
            ctx.load_verify_locations(cafile=str(cafile))
        else:
            ctx.load_default_certs()
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"cannot read CA file {cafile}: {describe_exception(exc)}", "pass a PEM file to --ca"
        ) from None
