"""Offer cipher suites the local OpenSSL no longer has, with a ClientHello written by hand.

OpenSSL 3 cannot offer EXPORT, RC4, 3DES, single DES, IDEA or SEED suites,
so `tls` cannot ask whether a server still accepts them. This module sends a
TLS 1.2 ClientHello listing only such suites and reads the server's first
answer: a ServerHello naming one of them means the server accepts it (the
handshake is then abandoned: no key exchange, nothing else sent); an alert or
a close means it does not. The same question sslscan and sslyze ask with
their own legacy OpenSSL builds.
"""

from __future__ import annotations

import secrets
import socket
import struct
from dataclasses import dataclass

from verifyfull.policy import server_suite_weakness
from verifyfull.probe.tls import Endpoint, Handshake, sni_name
from verifyfull.wire.net import (
    ConnectionClosed,
    Deadline,
    WireError,
    connect,
    recv_exact,
    send_all,
)

# IANA code -> OpenSSL name, for the suites OpenSSL 3 cannot offer.
LEGACY_SUITES: dict[int, str] = {
    0x0003: "EXP-RC4-MD5",
    0x0006: "EXP-RC2-CBC-MD5",
    0x0008: "EXP-DES-CBC-SHA",
    0x0011: "EXP-EDH-DSS-DES-CBC-SHA",
    0x0014: "EXP-EDH-RSA-DES-CBC-SHA",
    0x0004: "RC4-MD5",
    0x0005: "RC4-SHA",
    0xC007: "ECDHE-ECDSA-RC4-SHA",
    0xC011: "ECDHE-RSA-RC4-SHA",
    0x000A: "DES-CBC3-SHA",
    0x0016: "EDH-RSA-DES-CBC3-SHA",
    0xC008: "ECDHE-ECDSA-DES-CBC3-SHA",
    0xC012: "ECDHE-RSA-DES-CBC3-SHA",
    0x0009: "DES-CBC-SHA",
    0x0012: "EDH-DSS-DES-CBC-SHA",
    0x0015: "EDH-RSA-DES-CBC-SHA",
    0x0007: "IDEA-CBC-SHA",
    0x0096: "SEED-SHA",
}

LEGACY_SUITES_BY_NAME = {name: code for code, name in LEGACY_SUITES.items()}

_TLS12 = 0x0303
_HANDSHAKE, _ALERT = 0x16, 0x15
_CLIENT_HELLO, _SERVER_HELLO = 0x01, 0x02
_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019)  # x25519, P-256, P-384, P-521
_SIGNATURES = (0x0401, 0x0501, 0x0601, 0x0201, 0x0403, 0x0503, 0x0203, 0x0804, 0x0805, 0x0402)


@dataclass(frozen=True)
class LegacyClass:
    reason: str  # policy.server_suite_weakness's wording
    codes: tuple[int, ...]


def legacy_classes() -> tuple[LegacyClass, ...]:
    groups: dict[str, list[int]] = {}
    for code, name in LEGACY_SUITES.items():
        reason = server_suite_weakness(name)
        if reason:
            groups.setdefault(reason, []).append(code)
    return tuple(LegacyClass(reason, tuple(codes)) for reason, codes in groups.items())


def _vector(data: bytes, width: int) -> bytes:
    return len(data).to_bytes(width, "big") + data


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack("!H", kind) + _vector(body, 2)


def client_hello(codes: tuple[int, ...], server_name: str | None) -> bytes:
    """One TLS record holding a TLS 1.2 ClientHello that offers only `codes`."""
    extensions = b""
    if server_name:
        name = server_name.encode("idna")
        extensions += _extension(0x0000, _vector(b"\x00" + _vector(name, 2), 2))
    extensions += _extension(0x000A, _vector(b"".join(struct.pack("!H", g) for g in _GROUPS), 2))
    extensions += _extension(0x000B, _vector(b"\x00", 1))  # uncompressed points
    sigs = b"".join(struct.pack("!H", s) for s in _SIGNATURES)
    extensions += _extension(0x000D, _vector(sigs, 2))
    extensions += _extension(0xFF01, b"\x00")  # renegotiation_info, empty
    suites = b"".join(struct.pack("!H", c) for c in codes) + b"\x00\xff"  # + SCSV
    body = (
        struct.pack("!H", _TLS12)
        + secrets.token_bytes(32)
        + b"\x00"  # no session id
        + _vector(suites, 2)
        + b"\x01\x00"  # null compression only
        + _vector(extensions, 2)
    )
    handshake = bytes([_CLIENT_HELLO]) + _vector(body, 3)
    return bytes([_HANDSHAKE]) + struct.pack("!H", 0x0301) + _vector(handshake, 2)


@dataclass(frozen=True)
class ServerAnswer:
    accepted: bool
    suite: int | None = None
    version: int | None = None
    reason: str = ""


def read_server_answer(sock: socket.socket, deadline: Deadline) -> ServerAnswer:
    """The first record: a ServerHello (its suite and version), an alert, or garbage."""
    header = recv_exact(sock, 5, deadline, "answer to the ClientHello")
    kind, _, length = struct.unpack("!BHH", header)
    if kind == _ALERT:
        body = recv_exact(sock, min(length, 2), deadline, "TLS alert")
        return ServerAnswer(False, reason=f"alert {body[-1] if body else '?'}")
    if kind != _HANDSHAKE or length < 4 or length > 16384:
        raise WireError(f"not a TLS answer to the ClientHello (record type {kind})")
    body = recv_exact(sock, length, deadline, "ServerHello")
    if body[0] != _SERVER_HELLO or len(body) < 4 + 2 + 32 + 1:
        raise WireError("the server's first handshake message is not a ServerHello")
    version = struct.unpack("!H", body[4:6])[0]
    session_len = body[38]
    offset = 39 + session_len
    if len(body) < offset + 2:
        raise WireError("truncated ServerHello")
    suite = struct.unpack("!H", body[offset : offset + 2])[0]
    return ServerAnswer(True, suite=suite, version=version)


_VERSION_NAMES = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2"}


def offer(endpoint: Endpoint, legacy: LegacyClass) -> Handshake:
    """Whether the server picks one of this class's suites (accepted=None: undecided)."""
    deadline = endpoint.deadline
    try:
        with connect(endpoint.host, endpoint.port, deadline) as sock:
            endpoint.opener(sock, deadline)
            hello = client_hello(legacy.codes, sni_name(endpoint.server_name))
            send_all(sock, hello, deadline, "ClientHello")
            try:
                answer = read_server_answer(sock, deadline)
            except ConnectionClosed:  # how many servers say "no shared cipher"
                return Handshake(accepted=False, reason="connection closed")
    except WireError as exc:
        return Handshake(accepted=None, reason=str(exc))
    if not answer.accepted:
        return Handshake(accepted=False, reason=answer.reason)
    if answer.suite not in legacy.codes:
        chosen = f"0x{answer.suite:04x}" if answer.suite is not None else "none"
        return Handshake(accepted=None, reason=f"the server chose suite {chosen}, not offered")
    return Handshake(
        accepted=True,
        version=_VERSION_NAMES.get(answer.version or 0, f"0x{answer.version:04x}"),
        cipher=LEGACY_SUITES.get(answer.suite, f"0x{answer.suite:04x}"),
    )


@dataclass(frozen=True)
class LegacyVerdict:
    accepted: tuple[tuple[str, Handshake], ...]  # (reason, the handshake that chose it)
    undecided: str = ""  # why the question could not be answered, if it could not


def accepted_classes(endpoint: Endpoint, skip: frozenset[str] = frozenset()) -> LegacyVerdict:
    """Offer every legacy suite at once; while the server picks one, drop its class and ask
    again. One connection when nothing is accepted (the usual case)."""
    remaining = [c for c in legacy_classes() if c.reason not in skip]
    accepted: list[tuple[str, Handshake]] = []
    while remaining:
        codes = tuple(code for c in remaining for code in c.codes)
        result = offer(endpoint, LegacyClass("legacy", codes))
        if result.accepted is None:
            return LegacyVerdict(tuple(accepted), result.reason)
        if not result.accepted:
            break
        chosen = next(c for c in remaining if LEGACY_SUITES_BY_NAME[result.cipher or ""] in c.codes)
        accepted.append((chosen.reason, result))
        remaining.remove(chosen)
    return LegacyVerdict(tuple(accepted))
