"""Create a CA, node and client certificates in the `cockroach cert` layout.

certs_dir/ca.crt, certs_dir/node.crt + node.key (SAN = every host given),
certs_dir/client.<user>.crt + .key (CN = SQL user); the CA key lives outside
the certs dir (--ca-key), as `cockroach cert` insists. Keys are written 0600.

Deliberately bad certificates (expired, SHA-1, RSA 1024, wrong host, another
CA, self-signed) are made with the same functions through their options, so
tests and the lab use exactly what users get.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from verifyfull.certs.hostmatch import parse_host
from verifyfull.certs.inspect import is_ip_address
from verifyfull.certs.layout import CA_CERT, CLIENT_CA_CERT
from verifyfull.errors import UsageError

KeyKind = Literal["rsa", "ec", "ed25519"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha1": hashes.SHA1,  # only for deliberately weak test certificates (VF305)
    "md5": hashes.MD5,
}
_CURVES: dict[int, ec.EllipticCurve] = {
    192: ec.SECP192R1(),  # deliberately weak (VF304)
    256: ec.SECP256R1(),
    384: ec.SECP384R1(),
    521: ec.SECP521R1(),
}

# cockroach cert's defaults: 366-day years, so "ten years" never falls short in leap years.
DEFAULT_CA_LIFETIME = dt.timedelta(days=10 * 366)
DEFAULT_CERT_LIFETIME = dt.timedelta(days=5 * 366)


@dataclass(frozen=True)
class KeySpec:
    kind: KeyKind = "rsa"
    bits: int = 2048  # RSA modulus bits, or EC curve size (256, 384, 521)

    def generate(self) -> PrivateKey:
        if self.kind == "rsa":
            if self.bits < 1024:
                raise UsageError(f"RSA key size {self.bits} is too small to generate", "use 2048+")
            return rsa.generate_private_key(public_exponent=65537, key_size=self.bits)
        if self.kind == "ec":
            curve = _CURVES.get(self.bits)
            if curve is None:
                raise UsageError(
                    f"no EC curve of {self.bits} bits", "use --key-size 256, 384 or 521"
                )
            return ec.generate_private_key(curve)
        if self.kind == "ed25519":
            return ed25519.Ed25519PrivateKey.generate()
        raise UsageError(f"unknown key type {self.kind!r}", "use rsa, ec or ed25519")


@dataclass(frozen=True)
class Validity:
    """When a certificate is valid. `starts` defaults to now minus one hour (clock skew)."""

    lifetime: dt.timedelta = DEFAULT_CERT_LIFETIME
    starts: dt.datetime | None = None

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        start = self.starts or (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
        return start, start + self.lifetime

    @classmethod
    def expired(cls, days_ago: int = 1) -> Validity:
        now = dt.datetime.now(dt.timezone.utc)
        return cls(lifetime=dt.timedelta(days=30), starts=now - dt.timedelta(days=30 + days_ago))


@dataclass(frozen=True)
class Issued:
    cert_path: Path
    key_path: Path


def _refuse_existing(paths: Sequence[Path], *, overwrite: bool) -> None:
    """Check every target before writing any, so a refusal never leaves a new
    certificate beside an old key (a pair that no longer matches)."""
    if overwrite:
        return
    for path in paths:
        if path.exists():
            raise UsageError(f"{path} already exists", "pass --overwrite to replace it")


def _write_private(path: Path, data: bytes, *, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise UsageError(f"{path} already exists", "pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes, *, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise UsageError(f"{path} already exists", "pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _key_pem(key: PrivateKey) -> bytes:
    # PKCS#8, unencrypted, as cockroach and libpq expect for client.<user>.key.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _hash_for(key: PrivateKey, hash_name: str) -> Any:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None  # Ed25519 signs without a separate hash
    try:
        return _HASHES[hash_name.lower()]()
    except KeyError:
        raise UsageError(
            f"unknown signature hash {hash_name!r}", f"use one of {', '.join(_HASHES)}"
        ) from None


def _san_entries(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for raw in hosts:
        host = parse_host(raw)
        if is_ip_address(host):
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        else:
            names.append(x509.DNSName(host))
    return names


def load_ca(
    certs_dir: Path, ca_key: Path, cert_name: str = CA_CERT
) -> tuple[x509.Certificate, PrivateKey]:
    """The first certificate of certs_dir/cert_name and its key (which must match)."""
    ca_crt = certs_dir / cert_name
    if not ca_crt.is_file():
        command = "create-client-ca" if cert_name == CLIENT_CA_CERT else "create-ca"
        raise UsageError(f"{ca_crt} not found", f"run 'verifyfull certs {command}' first")
    if not ca_key.is_file():
        raise UsageError(f"CA key {ca_key} not found", "pass --ca-key with the CA's key file")
    try:
        cert = x509.load_pem_x509_certificates(ca_crt.read_bytes())[0]
    except ValueError:
        raise UsageError(f"{ca_crt} holds no readable certificate", "recreate the CA") from None
    key = _load_private_key(ca_key)
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise UsageError(f"CA key {ca_key} does not match {ca_crt}", "pass the key of this CA")
    return cert, key


def _load_private_key(path: Path) -> PrivateKey:
    """Load an unencrypted PEM key; errors name the file, never its content."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except TypeError:
        raise UsageError(f"key {path} is encrypted", "use an unencrypted key") from None
    except ValueError:
        raise UsageError(f"{path} holds no readable PEM private key", "check the file") from None
    if not isinstance(key, PrivateKey):
        raise UsageError(f"key {path} has an unsupported type", "use RSA, EC or Ed25519")
    return key


def create_ca(
    certs_dir: Path,
    ca_key: Path,
    *,
    key: KeySpec = KeySpec(),
    validity: Validity = Validity(DEFAULT_CA_LIFETIME),
    hash_name: str = "sha256",
    common_name: str = "Cockroach CA",
    overwrite: bool = False,
    allow_ca_key_reuse: bool = False,
    cert_name: str = CA_CERT,
) -> Issued:
    """Write certs_dir/ca.crt and the CA key at ca_key (kept outside certs_dir).

    cert_name=CLIENT_CA_CERT makes the optional client CA (ca-client.crt), as
    `cockroach cert create-client-ca`: client certificates are then issued by
    it and verified against it.

    As `cockroach cert create-ca` does: an existing CA key is never replaced,
    only reused with allow_ca_key_reuse; an existing ca.crt is replaced only
    with overwrite, and then the new certificate goes first and the old ones
    stay after it, so certificates signed by the old CA remain trusted while
    they are rotated.
    """
    certs_dir, ca_key = Path(certs_dir), Path(ca_key)
    if ca_key.resolve().parent == certs_dir.resolve():
        raise UsageError(
            f"CA key {ca_key} is inside the certs directory",
            "keep it elsewhere (e.g. --ca-key=my-safe-directory/ca.key), as cockroach cert does",
        )
    if cert_name not in (CA_CERT, CLIENT_CA_CERT):
        raise UsageError(f"unknown CA file {cert_name!r}", f"use {CA_CERT} or {CLIENT_CA_CERT}")
    ca_crt = certs_dir / cert_name
    if ca_crt.exists() and not overwrite:
        raise UsageError(
            f"{ca_crt} already exists", "pass --overwrite to put a new CA certificate before it"
        )
    reused = ca_key.exists()
    if reused and not allow_ca_key_reuse:
        raise UsageError(
            f"CA key {ca_key} exists, but key reuse is disabled",
            "pass --allow-ca-key-reuse to sign the new CA certificate with it",
        )
    private = _load_private_key(ca_key) if reused else key.generate()
    previous: list[x509.Certificate] = []
    if ca_crt.exists():
        try:
            previous = x509.load_pem_x509_certificates(ca_crt.read_bytes())
        except ValueError:
            raise UsageError(f"{ca_crt} holds no readable certificate", "move it away") from None
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cockroach"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start, end = validity.window()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(private.public_key()), False)
    )
    cert = _sign(builder, private, hash_name)
    if not reused:
        _write_private(ca_key, _key_pem(private), overwrite=False)
    bundle = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *previous])
    _write_public(ca_crt, bundle, overwrite=overwrite)
    return Issued(ca_crt, ca_key)


def _issue(
    *,
    subject_cn: str,
    hosts: Sequence[str],
    server: bool,
    issuer: tuple[x509.Certificate, PrivateKey] | None,
    key: KeySpec,
    validity: Validity,
    hash_name: str,
) -> tuple[x509.Certificate, PrivateKey]:
    private = key.generate()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cockroach"),
            x509.NameAttribute(NameOID.COMMON_NAME, subject_cn),
        ]
    )
    if issuer is None:  # self-signed: signs with its own key
        issuer_name, signing_key = subject, private
    else:
        issuer_name, signing_key = issuer[0].subject, issuer[1]
    start, end = validity.window()
    # As cockroach cert: a certificate must not outlive the CA that vouches for it
    # (a minute of slack so two Validity.expired() windows made in turn still fit).
    if issuer is not None and end > issuer[0].not_valid_after_utc + dt.timedelta(minutes=1):
        raise UsageError(
            f"the CA certificate expires on {issuer[0].not_valid_after_utc:%Y-%m-%d}, "
            f"before the requested certificate would ({end:%Y-%m-%d})",
            "pass a shorter --lifetime or rotate the CA first",
        )
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(private, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(_san_entries(hosts)), critical=False
        )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[0].public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    cert = _sign(builder, signing_key, hash_name)
    return cert, private


def create_node(
    hosts: Sequence[str],
    certs_dir: Path,
    ca_key: Path | None,
    *,
    key: KeySpec = KeySpec(),
    validity: Validity = Validity(),
    hash_name: str = "sha256",
    self_signed: bool = False,
    overwrite: bool = False,
    name: str = "node",
) -> Issued:
    """Write certs_dir/node.crt and node.key naming every host in its SAN."""
    if not hosts:
        raise UsageError("create-node needs at least one host", "e.g. localhost 127.0.0.1")
    certs_dir = Path(certs_dir)
    crt, pem = certs_dir / f"{name}.crt", certs_dir / f"{name}.key"
    _refuse_existing((crt, pem), overwrite=overwrite)
    issuer = None if self_signed else load_ca(certs_dir, _need(ca_key))
    cert, private = _issue(
        subject_cn="node",
        hosts=hosts,
        server=True,
        issuer=issuer,
        key=key,
        validity=validity,
        hash_name=hash_name,
    )
    _write_public(crt, cert.public_bytes(serialization.Encoding.PEM), overwrite=overwrite)
    _write_private(pem, _key_pem(private), overwrite=overwrite)
    return Issued(crt, pem)


def create_client(
    user: str,
    certs_dir: Path,
    ca_key: Path,
    *,
    key: KeySpec = KeySpec(),
    validity: Validity = Validity(),
    hash_name: str = "sha256",
    overwrite: bool = False,
    also_generate_pkcs8_key: bool = False,
) -> Issued:
    """Write certs_dir/client.<user>.crt and .key with CN=user (the SQL user)."""
    if not user or any(c in user for c in "/\\\0") or user.startswith("."):
        raise UsageError(f"invalid SQL user name {user!r}", "use a plain user name like 'app'")
    certs_dir = Path(certs_dir)
    crt, pem = certs_dir / f"client.{user}.crt", certs_dir / f"client.{user}.key"
    pk8 = certs_dir / f"client.{user}.key.pk8"
    _refuse_existing(
        (crt, pem, pk8) if also_generate_pkcs8_key else (crt, pem), overwrite=overwrite
    )
    # As cockroach cert: a client CA, when there is one, issues client certificates.
    client_ca = CLIENT_CA_CERT if (certs_dir / CLIENT_CA_CERT).is_file() else CA_CERT
    issuer = load_ca(certs_dir, ca_key, client_ca)
    cert, private = _issue(
        subject_cn=user,
        hosts=(),
        server=False,
        issuer=issuer,
        key=key,
        validity=validity,
        hash_name=hash_name,
    )
    _write_public(crt, cert.public_bytes(serialization.Encoding.PEM), overwrite=overwrite)
    _write_private(pem, _key_pem(private), overwrite=overwrite)
    if also_generate_pkcs8_key:  # DER PKCS#8 for Java clients, as cockroach writes it
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(pk8, der, overwrite=overwrite)
    return Issued(crt, pem)


# Signature AlgorithmIdentifier OIDs (DER body) for RSA: same length, so a
# SHA-256 TBS can be re-labelled in place. cryptography 45+ refuses to sign
# certificates with SHA-1 or MD5, and tests need such certificates (VF305).
_RSA_SHA256_OID = bytes.fromhex("06092a864886f70d01010b")
_RSA_LEGACY_OID = {
    "sha1": bytes.fromhex("06092a864886f70d010105"),
    "md5": bytes.fromhex("06092a864886f70d010104"),
}


def _sign(builder: x509.CertificateBuilder, key: PrivateKey, hash_name: str) -> x509.Certificate:
    legacy = hash_name.lower()
    if legacy not in _RSA_LEGACY_OID:
        return builder.sign(key, _hash_for(key, hash_name))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UsageError(f"{hash_name} signatures need an RSA key", "use --key-type rsa")
    from cryptography.hazmat.primitives.asymmetric import padding

    draft = builder.sign(key, hashes.SHA256())
    tbs = draft.tbs_certificate_bytes
    if tbs.count(_RSA_SHA256_OID) != 1:
        raise UsageError("cannot build a legacy-hash certificate", "use --hash sha256")
    tbs = tbs.replace(_RSA_SHA256_OID, _RSA_LEGACY_OID[legacy])
    signature = key.sign(tbs, padding.PKCS1v15(), _HASHES[legacy]())
    algorithm = _der(0x30, _RSA_LEGACY_OID[legacy] + b"\x05\x00")
    der = _der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def _need(ca_key: Path | None) -> Path:
    if ca_key is None:
        raise UsageError("--ca-key is required", "pass the CA key written by create-ca")
    return Path(ca_key)
