"""Proof that a new connection really is TLS, checked before the driver hands it out.

Each adapter extracts what its driver exposes (protocol, cipher, the server
certificate in DER) and calls `prove`. No TLS at all, a protocol below the
policy floor, a weak cipher or a pin that does not match raise
InsecureConfigurationError; the adapter then closes the connection, so it is
never used. A good proof is recorded (`ProofLog`) for the health route.

Where the driver lets it, the judgement runs inside the TLS handshake,
before the driver sends its StartupMessage (`Verifier`, called by the
guard's SSLContext for asyncpg and by the guard's libpq connect loop for
psycopg): a server that fails the policy or a pin never receives a user
name, let alone a password. The cipher floor is the probe's
(`policy.server_suite_weakness`, VF204).

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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from verifyfull.certs.inspect import load_cert_infos, signed_by, spki_fingerprint
from verifyfull.errors import InsecureConfigurationError, VerifyfullError
from verifyfull.policy import Policy, parse_tls_version, server_suite_weakness


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
    cas: tuple[x509.Certificate, ...] = (),
) -> TLSProof:
    """Judge one handshake's result against the policy and the pins; raise on failure.

    A CA pin matches a CA in `cas` (the trust store in use, parsed once) or,
    when given, in ca_file (read at each call) that signed the certificate.
    """
    if not protocol:
        raise not_tls(host)
    refusal = _transport_refusal(protocol, cipher, policy)
    if refusal is not None:
        rule_id, problem, fix = refusal
        raise InsecureConfigurationError(rule_id, f"the connection to {host} {problem}", fix)
    facts = server_cert_facts(server_cert_der) if server_cert_der else None
    if pins:
        _check_pins(host, facts, pins, ca_file, cas)
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
    weakness = server_suite_weakness(cipher) if cipher else None  # None: driver hides it
    if weakness:
        return (
            "VF107",
            f"negotiated {cipher} ({weakness})",
            "restrict the server to ECDHE with AES-GCM or CHACHA20-POLY1305",
        )
    return None


def _check_pins(
    host: str,
    facts: ServerCertFacts | None,
    pins: frozenset[str],
    ca_file: Path | None,
    cas: tuple[x509.Certificate, ...],
) -> None:
    if facts is None:
        raise InsecureConfigurationError(
            "VF301",
            f"the driver does not expose the certificate of {host}, so the pin cannot be checked",
            "pin with a driver that exposes it (asyncpg, psycopg) or remove DB_PIN_SHA256",
        )
    if pins.isdisjoint(_fingerprints(facts, ca_file, cas)):
        raise InsecureConfigurationError(
            "VF301",
            f"the certificate of {host} matches none of the pinned fingerprints",
            "update DB_PIN_SHA256 after a planned rotation; otherwise treat it as an attack",
        )


def _fingerprints(
    facts: ServerCertFacts, ca_file: Path | None, cas: tuple[x509.Certificate, ...]
) -> Iterable[str]:
    """The server certificate's own fingerprints and those of the CA that signed it."""
    yield facts.sha256
    yield facts.spki_sha256
    issuers = list(cas)
    if ca_file is not None:  # read each time: it may have been rotated
        issuers += [i.certificate for i in load_cert_infos(ca_file) if i.certificate is not None]
    for ca in issuers:
        if signed_by(facts.certificate, ca):
            yield ca.fingerprint(hashes.SHA256()).hex()
            yield _plain_hex(spki_fingerprint(ca.public_key()))


@dataclass(frozen=True)
class Verifier:
    """The policy and pins of one trust store, applied to one handshake's result.

    Built once per certificate set (rotation.py) and called by the guard's
    SSLContext or libpq connect loop right after the handshake, before the
    driver sends anything; CA pins are matched against `cas`, the CAs that
    set trusts, so no file is read on the connect path.
    """

    policy: Policy
    pins: frozenset[str] = frozenset()
    cas: tuple[x509.Certificate, ...] = ()

    def __call__(
        self, host: str, protocol: str | None, cipher: str | None, server_cert_der: bytes | None
    ) -> TLSProof:
        return prove(
            host, protocol, cipher, server_cert_der, self.policy, pins=self.pins, cas=self.cas
        )


class ProofLog:
    """The last good proof and counts, shared by every connection of one guard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last: TLSProof | None = None
        self.proven = 0
        self.refused = 0
        self.refused_by_rule: Counter[str] = Counter()  # the rule id each refusal named
        self.local = 0  # connections over an opted-in Unix socket (no TLS)

    def record(self, proof: TLSProof) -> None:
        with self._lock:
            self.last = proof
            self.proven += 1

    def record_local(self) -> None:
        with self._lock:
            self.local += 1

    def record_refusal(self, rule_id: str) -> None:
        with self._lock:
            self.refused += 1
            self.refused_by_rule[rule_id] += 1
