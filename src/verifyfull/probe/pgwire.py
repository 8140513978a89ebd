"""PostgreSQL wire messages the probe needs, written and read by hand.

Only the pre-authentication part of the protocol: SSLRequest, GSSENCRequest,
StartupMessage (never a password message: the probe holds no credential and
closes at the first authentication request), and the backend messages that
can answer them. Every read is bounded in time (net.Deadline) and in size,
so a hostile server cannot hang the probe or fill its memory.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from verifyfull.probe.net import Deadline, ProtocolViolation, recv_exact

SSL_REQUEST_CODE = 80877103  # (1234 << 16) | 5679
GSSENC_REQUEST_CODE = 80877104  # (1234 << 16) | 5680
PROTOCOL_3_0 = 196608  # (3 << 16) | 0

# Backend message types a pre-authentication reply may start with.
AUTHENTICATION = b"R"
ERROR_RESPONSE = b"E"
NOTICE_RESPONSE = b"N"
PARAMETER_STATUS = b"S"
BACKEND_KEY_DATA = b"K"
READY_FOR_QUERY = b"Z"
NEGOTIATE_PROTOCOL_VERSION = b"v"
_KNOWN_TYPES = frozenset(b"REKNSZv")

# An ErrorResponse to a startup is a few hundred bytes; PostgreSQL caps the
# startup packet at 10000. Anything longer than this is not a real server.
MAX_MESSAGE_LENGTH = 16384

AUTH_REQUEST_NAMES = {
    0: "AuthenticationOk (no credential asked)",
    2: "Kerberos V5",
    3: "cleartext password",
    5: "MD5 password",
    7: "GSSAPI",
    9: "SSPI",
    10: "SASL (SCRAM)",
}


def ssl_request() -> bytes:
    return struct.pack("!ii", 8, SSL_REQUEST_CODE)


def gssenc_request() -> bytes:
    return struct.pack("!ii", 8, GSSENC_REQUEST_CODE)


def startup_message(user: str, database: str, application_name: str = "verifyfull-probe") -> bytes:
    """A protocol 3.0 StartupMessage: parameters only, no credential can travel in it."""
    body = struct.pack("!i", PROTOCOL_3_0)
    for key, value in (
        ("user", user),
        ("database", database),
        ("application_name", application_name),
    ):
        body += _cstring(key) + _cstring(value)
    body += b"\x00"
    return struct.pack("!i", len(body) + 4) + body


def _cstring(text: str) -> bytes:
    raw = text.encode("utf-8")
    if b"\x00" in raw:
        raise ValueError("a startup parameter cannot contain a NUL byte")
    return raw + b"\x00"


@dataclass(frozen=True)
class BackendMessage:
    kind: bytes  # one byte: b"R", b"E", ...
    payload: bytes

    @property
    def auth_code(self) -> int | None:
        """The authentication request code of an 'R' message."""
        if self.kind != AUTHENTICATION or len(self.payload) < 4:
            return None
        code: int = struct.unpack("!i", self.payload[:4])[0]
        return code

    def error(self) -> ServerError | None:
        if self.kind not in (ERROR_RESPONSE, NOTICE_RESPONSE):
            return None
        return parse_error_fields(self.payload)


@dataclass(frozen=True)
class ServerError:
    """The fields of an ErrorResponse (S severity, C SQLSTATE, M message, F file, R routine)."""

    fields: tuple[tuple[str, str], ...]

    def get(self, code: str) -> str:
        return next((value for key, value in self.fields if key == code), "")

    @property
    def severity(self) -> str:
        return self.get("V") or self.get("S")

    @property
    def sqlstate(self) -> str:
        return self.get("C")

    @property
    def message(self) -> str:
        return self.get("M")

    @property
    def source_file(self) -> str:
        return self.get("F")

    def one_line(self) -> str:
        text = f"{self.severity} {self.sqlstate}: {self.message}".strip()
        return " ".join(text.split())[:300]


def parse_error_fields(payload: bytes) -> ServerError:
    """Parse ErrorResponse/NoticeResponse fields; malformed input is a ProtocolViolation."""
    fields: list[tuple[str, str]] = []
    pos = 0
    while pos < len(payload):
        code = payload[pos : pos + 1]
        if code == b"\x00":
            return ServerError(tuple(fields))
        end = payload.find(b"\x00", pos + 1)
        if end < 0:
            raise ProtocolViolation("malformed ErrorResponse: a field is not NUL-terminated")
        value = payload[pos + 1 : end].decode("utf-8", errors="replace")
        fields.append((code.decode("latin-1"), value))
        pos = end + 1
    raise ProtocolViolation("malformed ErrorResponse: no terminating NUL")


def read_message(sock: socket.socket, deadline: Deadline, what: str) -> BackendMessage:
    """One backend message: type byte, int32 length, payload (bounded)."""
    header = recv_exact(sock, 5, deadline, what)
    kind = header[:1]
    if kind[0] not in _KNOWN_TYPES:
        raise ProtocolViolation(f"unexpected {describe_bytes(header)} in reply to the {what}")
    (length,) = struct.unpack("!i", header[1:5])
    if length < 4 or length > MAX_MESSAGE_LENGTH:
        raise ProtocolViolation(
            f"{kind.decode()!r} message with impossible length {length} in reply to the {what}"
        )
    payload = recv_exact(sock, length - 4, deadline, what)
    return BackendMessage(kind, payload)


def describe_bytes(data: bytes, limit: int = 16) -> str:
    """Show unexpected bytes safely: hex, plus printable text when there is some."""
    head = data[:limit]
    printable = "".join(chr(b) if 32 <= b < 127 else "." for b in head)
    more = "..." if len(data) > limit else ""
    return f"bytes 0x{head.hex()}{more} ({printable!r})"
