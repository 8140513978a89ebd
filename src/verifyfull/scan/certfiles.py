"""Certificates and private keys in the scanned tree (VF303, VF304, VF305, VF306).

Each certificate is judged by verifyfull.certs.judge.judge_certificate, the
same judgement `certs check`, the probe and the guard use; this module only
finds the certificates and keys in files and places the findings on the line
of their PEM block. A private key in the tree is VF306 whatever its mode
(whoever clones the repository holds it); a key file readable by group or
others says so too. No finding ever carries key material.

cryptography is imported by the functions that parse, on the first certificate or
key file: most scans meet none, and the import was a tenth of the start-up.
"""

from __future__ import annotations

import dataclasses
import re
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from verifyfull.findings import Finding, finding
from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.model import ConfigParseError

_BLOCK = re.compile(
    rb"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\r?\n(?P<body>.*?)-----END (?P=label)-----",
    re.DOTALL,
)
_KEY_LABELS = re.compile(rb"PRIVATE KEY$")


@dataclass(frozen=True)
class Block:
    label: str
    der_or_pem: bytes  # the whole PEM block, or the DER bytes of a binary file
    line: int
    is_pem: bool = True


def pem_blocks(data: bytes) -> list[Block]:
    return [
        Block(m.group("label").decode(), m.group(), data.count(b"\n", 0, m.start()) + 1)
        for m in _BLOCK.finditer(data)
    ]


def _place(found: Iterable[Finding], src: SourceFile, line: int) -> list[Finding]:
    return [dataclasses.replace(f, path=src.relpath, line=line, column=1) for f in found]


def _certificate(block: Block, src: SourceFile, policy: Policy) -> list[Finding]:
    from cryptography import x509
    from cryptography.utils import CryptographyDeprecationWarning

    from verifyfull.certs.inspect import describe
    from verifyfull.certs.judge import judge_certificate

    load = x509.load_pem_x509_certificate if block.is_pem else x509.load_der_x509_certificate
    with warnings.catch_warnings():
        # Old roots (certifi's bundle) have non-positive serials: cryptography warns on
        # stderr, which would clutter every scan's output; the certificate is still judged.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        info = describe(load(block.der_or_pem), path=src.relpath)
    return _place(judge_certificate(info, policy), src, block.line)


def _loose_mode(src: SourceFile) -> int | None:
    try:
        mode = stat.S_IMODE(src.path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def _load_key(block: Block) -> object | None:
    """The key object, or None when it is encrypted or unreadable (still a key in the tree)."""
    from cryptography.hazmat.primitives import serialization

    if block.label == "ENCRYPTED PRIVATE KEY":
        return None
    try:
        if block.is_pem and block.label == "OPENSSH PRIVATE KEY":
            return serialization.load_ssh_private_key(block.der_or_pem, password=None)
        if block.is_pem:
            return serialization.load_pem_private_key(block.der_or_pem, password=None)
        return serialization.load_der_private_key(block.der_or_pem, password=None)
    except (ValueError, TypeError, NotImplementedError):
        return None


def _private_key(block: Block, src: SourceFile, policy: Policy) -> list[Finding]:
    where = {"path": src.relpath, "line": block.line, "column": 1}
    described = f"{block.label}"
    found: list[Finding] = []
    key = _load_key(block)
    if key is not None:
        from verifyfull.certs.inspect import key_type_and_bits

        kind, bits = key_type_and_bits(key)
        described = f"{kind.upper()} {bits}-bit private key"
        if policy.key_too_weak(kind, bits):
            floor = policy.min_ec_bits if kind == "ec" else policy.min_rsa_bits
            found.append(
                finding(
                    "VF304",
                    f"{kind.upper()} private key of {bits} bits (policy minimum {floor} bits)",
                    evidence=described,
                    **where,
                )
            )
    mode = _loose_mode(src)
    loose = f", and the file is readable by group or others (mode {mode:04o})" if mode else ""
    found.append(
        finding(
            "VF306",
            f"a private key is stored in the scanned tree{loose}",
            evidence=described + (f", mode {mode:04o}" if mode else ""),
            **where,
        )
    )
    return found


def _der_block(data: bytes) -> Block | None:
    """A binary file that is one DER certificate or key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        x509.load_der_x509_certificate(data)
        return Block("CERTIFICATE", data, 1, is_pem=False)
    except ValueError:
        pass
    try:
        serialization.load_der_private_key(data, password=None)
        return Block("PRIVATE KEY", data, 1, is_pem=False)
    except (ValueError, TypeError, NotImplementedError):
        return None


@file_check(
    suffixes=(".crt", ".pem", ".cer", ".key", ".der", ".pk8", ".p8"),
    binary=True,
)
def check_cert_file(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    data = src.data or src.text.encode("utf-8", "replace")
    blocks = pem_blocks(data) if b"-----BEGIN " in data else []
    if not blocks and b"-----BEGIN " not in data:
        der = _der_block(data)
        blocks = [der] if der is not None else []
    found: list[Finding] = []
    broken: list[int] = []
    for block in blocks:
        try:
            if block.label in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                found.extend(_certificate(block, src, ctx.policy))
            elif _KEY_LABELS.search(block.label.encode()):
                found.extend(_private_key(block, src, ctx.policy))
        except ValueError:
            broken.append(block.line)
    if broken and not found:
        lines = ", ".join(str(n) for n in broken)
        raise ConfigParseError(
            f"PEM block at line {lines} is not a readable certificate",
            "replace the file with a valid PEM certificate, or exclude it",
        )
    return found
