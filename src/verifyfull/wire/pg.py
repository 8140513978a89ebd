"""PostgreSQL wire messages before authentication, written and read by hand.

Only the pre-authentication part of the protocol: SSLRequest, GSSENCRequest,
StartupMessage (never a password message: no caller of this module sends a
credential through it), the backend messages that can answer them, and the
TLS upgrade. Used by the probe (against servers it does not trust), the lab
(proxies and checks) and the guard (one diagnostic handshake). Every read is
bounded in time (net.Deadline) and in size, and a read never consumes a byte
past the message it was asked for, so a hostile peer cannot hang a caller,
fill its memory or desynchronise it.
"""

from __future__ import annotations

import socket
import ssl
import struct
from dataclasses import dataclass

from verifyfull.wire.net import (
    Deadline,
    ProtocolViolation,
    WireError,
    connect,
    recv_exact,
    send_all,
    start_tls,
)

SSL_REQUEST_CODE = 80877103  # (1234 << 16) | 5679
GSSENC_REQUEST_CODE = 80877104  # (1234 << 16) | 5680
PROTOCOL_3_0 = 196608  # (3 << 16) | 0

SSL_REQUEST = struct.pack("!ii", 8, SSL_REQUEST_CODE)
GSSENC_REQUEST = struct.pack("!ii", 8, GSSENC_REQUEST_CODE)

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
MAX_STARTUP_LENGTH = 10_000  # PostgreSQL's own limit for a client's startup packet

AUTH_REQUEST_NAMES = {
    0: "AuthenticationOk (no credential asked)",
    2: "Kerberos V5",
    3: "cleartext password",
    5: "MD5 password",
    7: "GSSAPI",
    9: "SSPI",
    10: "SASL (SCRAM)",
}


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


def parse_startup(message: bytes) -> dict[str, str]:
    """The parameters (user, database, ...) of a v3 StartupMessage, or {} when it is not one."""
    if len(message) < 8 or struct.unpack("!i", message[4:8])[0] != PROTOCOL_3_0:
        return {}
    # key\0value\0 ... key\0value\0 then one final \0
    words = [w.decode(errors="replace") for w in message[8:-1].split(b"\0")[:-1]]
    return dict(zip(words[0::2], words[1::2], strict=False))


def read_client_packet(sock: socket.socket, deadline: Deadline) -> tuple[int, bytes]:
    """A client's next startup-phase packet (length, code, body): (code, the whole packet)."""
    header = recv_exact(sock, 8, deadline, "startup packet")
    length, code = struct.unpack("!ii", header)
    if not 8 <= length <= MAX_STARTUP_LENGTH:
        raise ProtocolViolation(f"not a PostgreSQL startup packet (length {length})")
    return code, header + recv_exact(sock, length - 8, deadline, "startup packet")


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
    """One backend message: type byte, int32 length, payload (bounded, nothing read past it)."""
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


def request_tls(sock: socket.socket, deadline: Deadline) -> bytes:
    """Send SSLRequest and return the server's one-byte answer (b'S', b'N' or another byte)."""
    send_all(sock, SSL_REQUEST, deadline, "SSLRequest")
    return recv_exact(sock, 1, deadline, "reply to the SSLRequest")


def open_tls(
    host: str,
    port: int,
    context: ssl.SSLContext,
    *,
    server_hostname: str | None = None,
    deadline: Deadline | None = None,
    timeout: float = 5.0,
) -> ssl.SSLSocket:
    """Connect and negotiate TLS the PostgreSQL way (SSLRequest, 'S', handshake); nothing else.

    No StartupMessage is sent: a caller that only wants the server's
    certificate judged gives the server nothing. Connection problems and an
    answer other than 'S' raise WireError; the handshake's own ssl.SSLError
    (a refused version, a failed verification) propagates unchanged, since
    that is what callers judge.
    """
    deadline = deadline or Deadline(timeout)
    with connect(host, port, deadline) as sock:
        answer = request_tls(sock, deadline)
        if answer != b"S":
            raise WireError(f"{host}:{port} answered {answer!r} to the SSLRequest (no TLS)")
        # start_tls detaches `sock`: closing it on leaving `connect` is harmless.
        return start_tls(sock, context, server_hostname, deadline)
