"""Judge the certificate a live server presents, with the same code as `certs check`.

The leaf's own properties (expiry VF303, key VF304, hash VF305, host names
VF302) come from verifyfull.certs.judge; the chain (VF301) was decided by a
handshake against --ca or the system roots (tls.chain_verifies), because only
the server knows which intermediates it sends.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509

from verifyfull.certs.inspect import describe
from verifyfull.certs.judge import judge_certificate as judge_one
from verifyfull.findings import Finding, finding
from verifyfull.policy import Policy


def judge_certificate(
    leaf_der: bytes,
    *,
    chain_ok: bool | None,
    chain_reason: str,
    hosts: Iterable[str],
    policy: Policy,
    target: str,
) -> tuple[Finding, ...]:
    try:
        info = describe(x509.load_der_x509_certificate(leaf_der))
    except ValueError as exc:
        return (
            finding(
                "VF301",
                f"the server presented a certificate that cannot be parsed ({exc})",
                target=target,
            ),
        )
    found = list(judge_one(info, policy, hosts=tuple(hosts), target=target))
    if chain_ok is False:
        found.insert(
            0,
            finding(
                "VF301",
                f"the server's certificate chain does not verify: {chain_reason}",
                evidence=f"subject: {info.subject}; issuer: {info.issuer}",
                target=target,
            ),
        )
    return tuple(found)


def describe_leaf(leaf_der: bytes) -> str:
    """One line for the summary: subject CN, SANs, key, expiry."""
    try:
        info = describe(x509.load_der_x509_certificate(leaf_der))
    except ValueError:
        return "unparseable certificate"
    sans = ", ".join(info.sans) or "no SAN"
    return (
        f"CN={info.subject_cn or '-'}; SAN {sans}; {info.key_type.upper()} {info.key_bits}; "
        f"{info.signature_hash or info.signature_algorithm}; "
        f"until {info.not_after:%Y-%m-%d}"
    )
