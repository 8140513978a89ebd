"""Proof that a new connection really is TLS, checked before the driver hands it out.

Each adapter extracts what its driver exposes (protocol, cipher, the server
certificate in DER) and calls `prove`. No TLS at all, a protocol below the
policy floor, a weak cipher or a pin that does not match raise
InsecureConfigurationError; the adapter then closes the connection, so it is
never used. A good proof is recorded (`ProofLog`) for the health route.

The judgement runs on every connection. Only the X.509 parse of the server
certificate is cached (`server_cert_facts`, keyed by the exact DER bytes), so
repeated connects to the same node do not parse it again; every connection's
fingerprint is still the hash of the bytes that connection received, and the
pins are compared against it every time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509

from verifyfull.certs.inspect import load_cert_infos, signed_by, spki_fingerprint
from verifyfull.errors import InsecureConfigurationError, VerifyfullError
from verifyfull.policy import Policy, parse_tls_version, suite_weakness


@dataclass(frozen=True)
class TLSProof:
    """What one connection's handshake produced, as seen by the client."""

    host: str
    protocol: str  # e.g. TLSv1.3
    cipher: str  # OpenSSL suite name
    server_cert_sha256: str | None  # hex of the DER certificate; None if the driver hides it
    server_cert_not_after: dt.datetime | None
    at: dt.datetime

    @property
    def days_left(self) -> int | None:
        if self.server_cert_not_after is None:
            return None
        return (self.server_cert_not_after - dt.datetime.now(dt.timezone.utc)).days


def not_tls(host: str) -> InsecureConfigurationError:
    return InsecureConfigurationError(
        "VF102",
        f"the connection to {host} is not TLS; it was closed before use",
        "check for a proxy answering 'N' to SSLRequest; the server must require TLS",
    )


def prove(
    host: str,
    protocol: str | None,
    cipher: str | None,
    server_cert_der: bytes | None,
    policy: Policy,
    *,
    pins: frozenset[str] = frozenset(),
    ca_file: Path | None = None,
) -> TLSProof:
    """Judge one handshake's result against the policy and the pins; raise on failure."""
    if not protocol:
        raise not_tls(host)
    refusal = _transport_refusal(protocol, cipher, policy)
    if refusal is not None:
        rule_id, problem, fix = refusal
        raise InsecureConfigurationError(rule_id, f"the connection to {host} {problem}", fix)
    facts = server_cert_facts(server_cert_der) if server_cert_der else None
    if pins:
        _check_pins(host, facts, pins, ca_file)
    return TLSProof(
        host=host,
        protocol=protocol,
        cipher=cipher or "",
        server_cert_sha256=facts.sha256 if facts else None,
        server_cert_not_after=facts.not_after if facts else None,
        at=dt.datetime.now(dt.timezone.utc),
    )


@dataclass(frozen=True)
class ServerCertFacts:
    """What the proof needs from one server certificate, parsed once per distinct DER."""

    sha256: str  # hex of the DER certificate
    spki_sha256: str  # hex of its SubjectPublicKeyInfo
    not_after: dt.datetime
    certificate: x509.Certificate  # for the CA pin, checked against the CA file each time


@lru_cache(maxsize=64)  # a cluster's nodes, each with a rotated certificate or two
def server_cert_facts(der: bytes) -> ServerCertFacts:
    """Parse a server certificate; cached by its exact bytes (a hit compares them in full)."""
    cert = x509.load_der_x509_certificate(der)
    return ServerCertFacts(
        sha256=hashlib.sha256(der).hexdigest(),
        spki_sha256=_plain_hex(spki_fingerprint(cert.public_key())),
        not_after=cert.not_valid_after_utc,
        certificate=cert,
    )


def _plain_hex(colon_hex: str) -> str:
    """certs.inspect's AB:CD… form as the pins are kept (lower case, no colons)."""
    return colon_hex.replace(":", "").lower()


@lru_cache(maxsize=32)
def _transport_refusal(
    protocol: str, cipher: str | None, policy: Policy
) -> tuple[str, str, str] | None:
    """Why a negotiated protocol and cipher fail the policy: (rule, problem, fix), or None.

    A pure function of its arguments, so it is cached: every connection's own
    protocol and cipher are still judged, at the cost of one lookup.
    """
    if protocol == "TLS":  # the driver hides the version (and enforces the floor itself)
        version = policy.min_tls_version
    else:
        try:
            version = parse_tls_version(protocol)
        except VerifyfullError:
            return "VF106", f"uses {protocol}", "require TLSv1.2 or later"
    if policy.tls_version_too_low(version):
        return "VF106", f"negotiated {protocol}", "the server must offer TLSv1.2 or later"
    weakness = suite_weakness(cipher or "")
    if weakness:
        return (
            "VF107",
            f"negotiated {cipher} ({weakness})",
            "restrict the server to ECDHE with AES-GCM or CHACHA20-POLY1305",
        )
    return None


def _check_pins(
    host: str, facts: ServerCertFacts | None, pins: frozenset[str], ca_file: Path | None
) -> None:
    if facts is None:
        raise InsecureConfigurationError(
            "VF301",
            f"the driver does not expose the certificate of {host}, so the pin cannot be checked",
            "pin with a driver that exposes it (asyncpg, psycopg) or remove DB_PIN_SHA256",
        )
    if pins.isdisjoint(_fingerprints(facts, ca_file)):
        raise InsecureConfigurationError(
            "VF301",
            f"the certificate of {host} matches none of the pinned fingerprints",
            "update DB_PIN_SHA256 after a planned rotation; otherwise treat it as an attack",
        )


def _fingerprints(facts: ServerCertFacts, ca_file: Path | None) -> Iterable[str]:
    """The server certificate's own fingerprints and those of the CA that signed it.

    The CA file is read each time (not cached): it may have been rotated.
    """
    yield facts.sha256
    yield facts.spki_sha256
    if ca_file is None:
        return
    for info in load_cert_infos(ca_file):
        if info.certificate is not None and signed_by(facts.certificate, info.certificate):
            yield _plain_hex(info.fingerprint_sha256)
            yield _plain_hex(info.spki_sha256)


class ProofLog:
    """The last good proof and counts, shared by every connection of one guard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last: TLSProof | None = None
        self.proven = 0
        self.refused = 0

    def record(self, proof: TLSProof) -> None:
        with self._lock:
            self.last = proof
            self.proven += 1

    def record_refusal(self) -> None:
        with self._lock:
            self.refused += 1
