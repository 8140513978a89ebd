"""The TLS questions every target gets, whatever protocol leads to the handshake.

Versions (VF203), weak cipher classes (VF204: OpenSSL's own suites in TLS 1.2,
plus the legacy suites OpenSSL 3 lacks through a hand-written ClientHello), the presented
certificate (VF301-VF305). PostgreSQL-wire and HTTPS targets differ only in
the Endpoint's opener, so both call these two functions.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from verifyfull.policy import Policy, tls_version_name
from verifyfull.probe import legacyhello, tls
from verifyfull.probe.certificate import describe_leaf, judge_certificate
from verifyfull.probe.results import Collector
from verifyfull.wire.net import Deadline

AfterHandshake = Callable[[ssl.SSLSocket, Deadline], None]


@dataclass(frozen=True)
class TLSFutures:
    baseline: Future[tls.Handshake]
    chain: Future[tls.ChainCheck]
    versions: dict[ssl.TLSVersion, Future[tls.Handshake]]
    classes: dict[str, Future[tls.Handshake]]
    legacy: Future[legacyhello.LegacyVerdict]


def submit(
    pool: ThreadPoolExecutor,
    endpoint: tls.Endpoint,
    ca: Path | None,
    then: AfterHandshake | None = None,
) -> TLSFutures:
    """Start the handshakes: baseline (optionally followed by `then`), chain, versions, classes."""
    openssl_classes = tls.weak_cipher_classes()
    covered = frozenset(c.reason for c in openssl_classes)
    return TLSFutures(
        baseline=pool.submit(tls.inspect, endpoint, then),
        chain=pool.submit(tls.chain_verifies, endpoint, ca),
        versions={v: pool.submit(tls.version_accepted, endpoint, v) for v in tls.VERSIONS},
        classes={
            c.reason: pool.submit(tls.cipher_class_accepted, endpoint, c) for c in openssl_classes
        },
        legacy=pool.submit(legacyhello.accepted_classes, endpoint, covered),
    )


def report(
    out: Collector,
    futures: TLSFutures,
    *,
    policy: Policy,
    ca: Path | None,
    hosts: tuple[str, ...],
) -> tls.Handshake | None:
    """Turn the handshakes into facts and findings; the baseline handshake when it completed."""
    _versions(out, futures.versions, policy)
    _ciphers(out, futures.classes, futures.legacy.result())
    main = futures.baseline.result()
    if not main.accepted:
        out.errors.append(f"TLS handshake failed: {main.reason}")
        return None
    out.fact("negotiated", f"{main.version} {main.cipher}")
    if main.leaf_der:
        check = futures.chain.result()
        out.fact("certificate", describe_leaf(main.leaf_der))
        out.fact("chain", _chain_text(check, ca))
        out.findings.extend(
            judge_certificate(
                main.leaf_der,
                chain_ok=check.verified,
                chain_reason=check.reason,
                hosts=hosts,
                policy=policy,
                target=out.label,
            )
        )
    return main


def _versions(
    out: Collector, futures: dict[ssl.TLSVersion, Future[tls.Handshake]], policy: Policy
) -> None:
    accepted, legacy = [], []
    for version, future in futures.items():
        result = future.result()
        name = tls_version_name(version)
        if result.accepted is None:
            out.errors.append(f"{name} not decided: {result.reason}")
        elif result.accepted:
            accepted.append(name)
            if policy.tls_version_too_low(version):
                legacy.append(name)
    out.fact("TLS versions", ", ".join(accepted) or "none")
    if legacy:
        out.find(
            "VF203",
            f"the server accepts {', '.join(legacy)} (below the policy floor "
            f"{tls_version_name(policy.min_tls_version)})",
            evidence=f"handshakes offering only {', '.join(legacy)} completed",
        )


def _ciphers(
    out: Collector, futures: dict[str, Future[tls.Handshake]], legacy: legacyhello.LegacyVerdict
) -> None:
    weak = [
        f"{reason} ({result.cipher})"
        for reason, future in futures.items()
        if (result := future.result()).accepted
    ]
    weak += [f"{reason} ({result.cipher}, {result.version})" for reason, result in legacy.accepted]
    out.fact("weak TLS 1.2 suites", "; ".join(weak) or "none accepted")
    if legacy.undecided:
        out.errors.append(f"legacy suites (EXPORT, RC4, 3DES, DES) not decided: {legacy.undecided}")
    if weak:
        out.find(
            "VF204",
            "the server accepts weak TLS 1.2 cipher suites: " + "; ".join(weak),
            evidence="TLS 1.2 handshakes offering only these classes completed",
        )


def _chain_text(check: tls.ChainCheck, ca: Path | None) -> str:
    roots = str(ca) if ca else "system roots"
    if check.verified:
        return f"verifies against {roots}"
    if check.verified is None:
        return f"not decided: {check.reason}"
    return f"does not verify against {roots}: {check.reason}"
