"""Load certificates and private keys and describe them: one frozen CertInfo each.

Only public facts leave this module: names, dates, key type and size, hashes
and fingerprints. A private key is loaded to compare its public half with a
certificate and is never kept, printed or put into an error message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from verifyfull.errors import UsageError


@dataclass(frozen=True)
class CertInfo:
    """The public facts of one certificate, as every part of verifyfull reads them."""

    subject_cn: str | None
    subject: str  # RFC 4514
    issuer: str  # RFC 4514
    serial: str  # hex
    not_before: dt.datetime  # aware, UTC
    not_after: dt.datetime  # aware, UTC
    key_type: str  # rsa, ec, ed25519, ed448, dsa
    key_bits: int
    signature_hash: str | None  # sha256, sha1, md5 ...; None for Ed25519/Ed448
    signature_algorithm: str  # e.g. sha256WithRSAEncryption
    fingerprint_sha256: str  # of the DER certificate, colon-separated hex
    spki_sha256: str  # of the public key (SubjectPublicKeyInfo): matches a key to its cert
    is_ca: bool
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    extended_key_usage: tuple[str, ...] | None = None  # None: no EKU extension (any use)
    path: str | None = None  # the file it came from, if any
    certificate: x509.Certificate | None = field(default=None, compare=False, repr=False)

    @property
    def self_issued(self) -> bool:
        return self.subject == self.issuer

    @property
    def sans(self) -> tuple[str, ...]:
        return self.dns_names + self.ip_addresses

    def to_json(self) -> dict[str, Any]:
        """The public facts as JSON values (dates ISO 8601, UTC)."""
        return {
            "subject_cn": self.subject_cn,
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "key_type": self.key_type,
            "key_bits": self.key_bits,
            "signature_hash": self.signature_hash,
            "signature_algorithm": self.signature_algorithm,
            "fingerprint_sha256": self.fingerprint_sha256,
            "spki_sha256": self.spki_sha256,
            "is_ca": self.is_ca,
            "dns_names": list(self.dns_names),
            "ip_addresses": list(self.ip_addresses),
            "extended_key_usage": (
                None if self.extended_key_usage is None else list(self.extended_key_usage)
            ),
            "path": self.path,
        }

    def allows_usage(self, usage: str) -> bool:
        """Whether the EKU (if any) permits 'serverAuth' or 'clientAuth'."""
        return self.extended_key_usage is None or usage in self.extended_key_usage


_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


def spki_fingerprint(key: PublicKeyTypes) -> str:
    """SHA-256 of a public key's SubjectPublicKeyInfo (equal for a key and its certificate)."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _colon_hex(hashlib.sha256(der).digest())


def key_type_and_bits(key: object) -> tuple[str, int]:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "rsa", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "ec", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return "ed448", 456
    if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return "dsa", key.key_size
    return type(key).__name__.lower(), 0


def _signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return cert.signature_algorithm_oid.dotted_string
    return algorithm.name if algorithm is not None else None


def describe(cert: x509.Certificate, path: str | None = None) -> CertInfo:
    """The CertInfo of a parsed certificate."""
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        pass
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    eku: tuple[str, ...] | None
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        eku = tuple(_EKU_NAMES.get(oid, oid.dotted_string) for oid in usages)
    except x509.ExtensionNotFound:
        eku = None
    public = cert.public_key()
    key_type, key_bits = key_type_and_bits(public)
    return CertInfo(
        subject_cn=str(cns[0].value) if cns else None,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=f"{cert.serial_number:X}",
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_bits=key_bits,
        signature_hash=_signature_hash(cert),
        # cryptography keeps the readable OID name only in the private _name.
        signature_algorithm=getattr(
            cert.signature_algorithm_oid, "_name", cert.signature_algorithm_oid.dotted_string
        ),
        fingerprint_sha256=_colon_hex(cert.fingerprint(hashes.SHA256())),
        spki_sha256=spki_fingerprint(public),
        is_ca=is_ca,
        dns_names=dns,
        ip_addresses=ips,
        extended_key_usage=eku,
        path=path,
        certificate=cert,
    )


MAX_FILE_BYTES = 1 << 20  # a certificate bundle or key is kilobytes; refuse to slurp more


def _read_small(path: Path) -> bytes:
    """The file's bytes; a regular file of at most MAX_FILE_BYTES (no FIFO that blocks)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{path} is not a regular file", "pass a certificate or key file")
        if info.st_size > MAX_FILE_BYTES:
            raise UsageError(
                f"{path} is {info.st_size} bytes, too large for a certificate or key",
                "pass the right file",
            )
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", "check the path") from None


def load_cert_infos(path: Path) -> tuple[CertInfo, ...]:
    """Every certificate in a PEM (or DER) file, first one first."""
    data = _read_small(path)
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise UsageError(
            f"{path} holds no readable certificate", "expected PEM 'BEGIN CERTIFICATE' or DER"
        ) from None
    return tuple(describe(cert, str(path)) for cert in certs)


def load_private_key_fingerprint(path: Path) -> tuple[str, str, int]:
    """(SPKI SHA-256 of its public half, key type, bits) of a private key file.

    The key object is dropped before returning. Errors never quote the file.
    """
    data = _read_small(path)
    # The key is only used to derive its public half, never to sign, so
    # OpenSSL's slow RSA consistency check (~0.1 s a key) buys nothing here.
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(
                data, password=None, unsafe_skip_rsa_key_validation=True
            )
        else:
            key = serialization.load_der_private_key(
                data, password=None, unsafe_skip_rsa_key_validation=True
            )
    except TypeError:
        raise UsageError(
            f"{path} is an encrypted private key", "verifyfull reads unencrypted keys only"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError(
            f"{path} holds no readable private key", "expected PEM PKCS#8/PKCS#1/SEC1 or DER"
        ) from None
    key_type, bits = key_type_and_bits(key)
    return spki_fingerprint(key.public_key()), key_type, bits


def looks_like_private_key(path: Path) -> bool:
    """Whether a file holds a private key (PEM marker, or a DER key named *.key/*.pk8).

    Only regular files are opened (a FIFO would block the read).
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    if b"PRIVATE KEY-----" in head:
        return True
    # DER keys are an ASN.1 SEQUENCE: first byte 0x30.
    return path.suffix in (".key", ".pk8") and head[:1] == b"\x30"


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` names and signed `cert`.

    Hand-written because cryptography's verify_directly_issued_by refuses
    SHA-1 and MD5 signatures, and a checker must still say whether such a
    certificate chains (then flag its hash separately, VF305).
    """
    if cert.issuer != issuer.subject:
        return False
    public = issuer.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            # cryptography reports no parameters for md5WithRSAEncryption: PKCS#1 v1.5.
            pad = cert.signature_algorithm_parameters or padding.PKCS1v15()
            hash_algorithm = cert.signature_hash_algorithm
            if not isinstance(pad, padding.PSS | padding.PKCS1v15) or hash_algorithm is None:
                return False
            public.verify(cert.signature, cert.tbs_certificate_bytes, pad, hash_algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            ecdsa = cert.signature_algorithm_parameters
            if not isinstance(ecdsa, ec.ECDSA):
                return False
            public.verify(cert.signature, cert.tbs_certificate_bytes, ecdsa)
        elif isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes)
        elif isinstance(public, dsa.DSAPublicKey):
            dsa_hash = cert.signature_hash_algorithm
            if dsa_hash is None:
                return False
            public.verify(cert.signature, cert.tbs_certificate_bytes, dsa_hash)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
