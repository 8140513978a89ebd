"""The hand-written wire bytes and their readers (no server needed), fuzzed at the end."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.probe import identify
from verifyfull.wire import http, pg
from verifyfull.wire.net import (
    ConnectionClosed,
    Deadline,
    ProtocolViolation,
    WireError,
    WireTimeout,
)


def test_ssl_request_is_the_documented_eight_bytes() -> None:
    assert bytes.fromhex("0000000804d2162f") == pg.SSL_REQUEST


def test_gssenc_request_is_the_documented_eight_bytes() -> None:
    assert bytes.fromhex("0000000804d21630") == pg.GSSENC_REQUEST


def test_startup_message_carries_names_only() -> None:
    data = pg.startup_message("app", "defaultdb")
    (length, version) = struct.unpack("!ii", data[:8])
    assert length == len(data)
    assert version == 196608
    assert data[8:].split(b"\x00")[:6] == [
        b"user",
        b"app",
        b"database",
        b"defaultdb",
        b"application_name",
        b"verifyfull-probe",
    ]
    assert data.endswith(b"\x00\x00")
    assert b"password" not in data


def test_startup_message_refuses_nul_in_names() -> None:
    with pytest.raises(ValueError):
        pg.startup_message("a\x00b", "db")


def _error(fields: dict[str, str]) -> bytes:
    return b"".join(k.encode() + v.encode() + b"\x00" for k, v in fields.items()) + b"\x00"


def test_error_fields_are_parsed() -> None:
    payload = _error({"S": "FATAL", "V": "FATAL", "C": "28000", "M": "no", "F": "auth.c"})
    error = pg.parse_error_fields(payload)
    assert (error.severity, error.sqlstate, error.message, error.source_file) == (
        "FATAL",
        "28000",
        "no",
        "auth.c",
    )
    assert error.one_line() == "FATAL 28000: no"


@pytest.mark.parametrize("payload", [b"Mno terminator", b"Mfine\x00"])
def test_malformed_error_fields_are_a_protocol_violation(payload: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        pg.parse_error_fields(payload)


def _pair(data: bytes) -> socket.socket:
    left, right = socket.socketpair()
    right.sendall(data)
    right.close()
    return left


def test_read_message_reads_one_message() -> None:
    sock = _pair(b"R" + struct.pack("!ii", 8, 10) + b"extra")
    message = pg.read_message(sock, Deadline(1), "reply")
    assert message.kind == b"R" and message.auth_code == 10


@pytest.mark.parametrize(
    ("data", "error", "text"),
    [
        (b"X\x00\x00\x00\x04", ProtocolViolation, "unexpected bytes 0x58"),
        (b"E" + struct.pack("!i", 1 << 30), ProtocolViolation, "impossible length"),
        (b"E" + struct.pack("!i", 2), ProtocolViolation, "impossible length"),
        (b"R\x00\x00", ConnectionClosed, "closed before"),
    ],
)
def test_read_message_rejects_what_no_server_sends(
    data: bytes, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        pg.read_message(_pair(data), Deadline(1), "reply")


def test_read_message_times_out_on_silence() -> None:
    left, right = socket.socketpair()
    with left, right, pytest.raises(WireTimeout, match="no reply within 0.05 s"):
        pg.read_message(left, Deadline(0.05), "reply")


def test_describe_bytes_shows_hex_and_printable_text() -> None:
    assert pg.describe_bytes(b"HTTP/1.1\x00") == "bytes 0x485454502f312e3100 ('HTTP/1.1.')"


def _server_error(code: str, message: str, source: str = "") -> pg.ServerError:
    fields = (("C", code), ("M", message)) + ((("F", source),) if source else ())
    return pg.ServerError(fields)


def test_cockroachdb_secure_mode_refusal_is_recognised() -> None:
    error = _server_error("08P01", "node is running secure mode, SSL connection required")
    assert identify.is_crdb_secure_refusal(error)
    assert identify.kind_from_error(error) == identify.COCKROACHDB


def test_postgresql_is_recognised_by_its_c_source_files() -> None:
    error = _server_error("28000", 'no pg_hba.conf entry for host "x"', "auth.c")
    assert identify.is_host_rule_refusal(error)
    assert identify.kind_from_error(error) == identify.POSTGRESQL


@pytest.mark.parametrize(
    ("reply", "kind"),
    [(b"G", "postgresql"), (b"N", "postgresql"), (b"E\x00\x00", "cockroachdb"), (b"", None)],
)
def test_gssenc_reply_votes(reply: bytes, kind: str | None) -> None:
    assert identify.kind_from_gssenc_reply(reply) == kind


def test_parameters_vote_and_decide() -> None:
    assert identify.kind_from_parameters([("crdb_version", "v24.1")]) == identify.COCKROACHDB
    assert identify.kind_from_parameters([("server_version", "15.8")]) == identify.POSTGRESQL
    assert identify.decide([None, "cockroachdb", "postgresql"]) == "cockroachdb"
    assert identify.decide([None]) == identify.UNKNOWN


# --- generated: whatever a peer sends, the readers raise only WireError and never over-read ---

_FUZZ = settings(max_examples=300, deadline=None, database=None)
_LENGTHS = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.integers(0, 64),
    st.integers(pg.MAX_MESSAGE_LENGTH - 2, pg.MAX_MESSAGE_LENGTH + 2),
)


@st.composite
def _backend_bytes(draw: st.DrawFn) -> bytes:
    """A message header (known or unknown type, any length) and a body of any size."""
    kind = draw(st.sampled_from(b"REKNSZvX\x00\xff"))
    length = draw(_LENGTHS)
    body = draw(st.binary(max_size=200))
    return bytes([kind]) + struct.pack("!i", length) + body


def _read_rest(sock: socket.socket) -> bytes:
    rest = b""
    while chunk := sock.recv(65536):
        rest += chunk
    return rest


def _fed(data: bytes) -> socket.socket:
    left, right = socket.socketpair()
    right.sendall(data)
    right.close()
    return left


@_FUZZ
@given(st.one_of(st.binary(max_size=64), _backend_bytes()))
def test_read_message_takes_one_bounded_message_or_raises_a_wire_error(data: bytes) -> None:
    with _fed(data) as sock:
        try:
            message = pg.read_message(sock, Deadline(2), "reply")
        except WireError:
            return
        consumed = 5 + len(message.payload)
        assert message.kind == data[:1] and len(message.payload) <= pg.MAX_MESSAGE_LENGTH - 4
        assert struct.unpack("!i", data[1:5])[0] == consumed - 1  # exactly the declared length
        assert _read_rest(sock) == data[consumed:]  # not one byte past it


@_FUZZ
@given(
    st.one_of(
        st.binary(max_size=64),
        st.builds(
            lambda n, code, body: struct.pack("!ii", n, code) + body,
            _LENGTHS,
            _LENGTHS,
            st.binary(max_size=200),
        ),
    )
)
def test_read_client_packet_is_bounded_and_exact(data: bytes) -> None:
    with _fed(data) as sock:
        try:
            code, packet = pg.read_client_packet(sock, Deadline(2))
        except WireError:
            return
        assert 8 <= len(packet) <= pg.MAX_STARTUP_LENGTH
        assert struct.unpack("!ii", packet[:8]) == (len(packet), code)
        assert _read_rest(sock) == data[len(packet) :]
    assert isinstance(pg.parse_startup(packet), dict)


@_FUZZ
@given(st.binary(max_size=300))
def test_error_fields_parse_or_raise_a_protocol_violation(payload: bytes) -> None:
    try:
        error = pg.parse_error_fields(payload)
    except ProtocolViolation:
        return
    assert len(error.fields) <= len(payload) // 2
    assert all("\x00" not in value and len(key) == 1 for key, value in error.fields)
    assert len(error.one_line()) <= 300


@_FUZZ
@given(st.binary(max_size=300))
def test_http_heads_parse_or_raise_a_protocol_violation(head: bytes) -> None:
    try:
        response = http.parse_head(head)
    except ProtocolViolation:
        return
    assert 0 <= response.status <= 999


@_FUZZ
@given(st.binary(max_size=300))
def test_startup_parameters_never_raise(message: bytes) -> None:
    assert isinstance(pg.parse_startup(message), dict)
