"""The judgement of ONE certificate against the policy: expiry, key, hash, host names.

Also the judgement of one private key file's mode (VF306), for the same reason.

`judge_certificate` is the single place these verdicts are made: `certs
check` calls it for files, the probe for the certificate a live server
presents, the guard for client certificates at start-up. It reads a CertInfo
only, so it works the same whatever the certificate came from.
"""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Iterable
from pathlib import Path

from verifyfull.certs.hostmatch import HowMatched, match_host
from verifyfull.certs.inspect import CertInfo
from verifyfull.findings import Finding, finding
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.rules import Severity


def _day(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _name(info: CertInfo) -> str:
    return f"certificate {info.subject_cn!r}" if info.subject_cn else "certificate"


def judge_expiry(
    info: CertInfo, policy: Policy = DEFAULT_POLICY, *, now: dt.datetime | None = None
) -> tuple[str, Severity, str] | None:
    """(message, severity, evidence) when VF303 applies, else None."""
    now = now or dt.datetime.now(dt.timezone.utc)
    evidence = f"notBefore={_day(info.not_before)} notAfter={_day(info.not_after)}"
    if now >= info.not_after:
        days = (now - info.not_after).days
        ago = {0: "today", 1: "1 day ago"}.get(days, f"{days} days ago")
        return f"{_name(info)} expired on {_day(info.not_after)} ({ago})", Severity.HIGH, evidence
    if now < info.not_before:
        return (
            f"{_name(info)} is not valid before {_day(info.not_before)} "
            "(issued with a future start, or this clock is behind)",
            Severity.HIGH,
            evidence,
        )
    left = info.not_after - now
    if left < dt.timedelta(days=policy.expiry_warning_days):
        return (
            f"{_name(info)} expires on {_day(info.not_after)}, in {left.days} days "
            f"(warning window {policy.expiry_warning_days} days)",
            Severity.MEDIUM,
            evidence,
        )
    return None


def judge_certificate(
    info: CertInfo,
    policy: Policy = DEFAULT_POLICY,
    *,
    hosts: Iterable[str] = (),
    now: dt.datetime | None = None,
    target: str | None = None,
) -> tuple[Finding, ...]:
    """Every finding one certificate raises on its own (no chain: that needs the issuer).

    VF303 expiry (medium inside the policy's warning window, high when expired
    or not yet valid), VF304 weak key, VF305 weak signature hash (not for a
    self-issued CA: nobody checks a trust anchor's own signature), VF302 for
    each host the certificate does not name. Findings carry `info.path` and
    `target` as given.
    """
    where = {"path": info.path, "target": target}
    found: list[Finding] = []
    expiry = judge_expiry(info, policy, now=now)
    if expiry is not None:
        message, severity, evidence = expiry
        found.append(
            finding(
                "VF303",
                message,
                evidence=evidence,
                severity_override=None if severity is Severity.HIGH else severity,
                **where,
            )
        )
    if policy.key_too_weak(info.key_type, info.key_bits):
        floor = policy.min_ec_bits if info.key_type == "ec" else policy.min_rsa_bits
        found.append(
            finding(
                "VF304",
                f"{_name(info)} has a {info.key_bits}-bit {info.key_type.upper()} key "
                f"(policy minimum {floor} bits)",
                evidence=f"{info.key_type.upper()} {info.key_bits} bits",
                **where,
            )
        )
    trust_anchor = info.is_ca and info.self_issued
    if not trust_anchor and policy.signature_hash_weak(info.signature_hash):
        found.append(
            finding(
                "VF305",
                f"{_name(info)} is signed with {(info.signature_hash or '').upper()} "
                f"({info.signature_algorithm})",
                evidence=f"Signature Algorithm: {info.signature_algorithm}",
                **where,
            )
        )
    for host in hosts:
        found.extend(_judge_host(info, host, where))
    return tuple(found)


def _judge_host(info: CertInfo, host: str, where: dict[str, str | None]) -> list[Finding]:
    match = match_host(info, host)
    sans = ", ".join([f"DNS:{n}" for n in info.dns_names] + [f"IP:{a}" for a in info.ip_addresses])
    evidence = f"SAN: {sans or '(none)'}; CN: {info.subject_cn or '(none)'}"
    if match.how is HowMatched.SAN:
        return []
    if match.how is HowMatched.CN_ONLY:
        return [
            finding(
                "VF302",
                f"{_name(info)} names {host!r} only in its subject CN, not in a SAN: "
                "OpenSSL-based clients (libpq, Python) accept that, Go clients (the "
                "cockroach CLI) and RFC 6125 do not",
                evidence=evidence,
                severity_override=Severity.MEDIUM,
                **where,
            )
        ]
    if match.how is HowMatched.DNS_SAN_FOR_IP:
        return [
            finding(
                "VF302",
                f"{_name(info)} spells the address {host!r} as a DNS name, not as an IP SAN: "
                "Python's ssl (asyncpg) and Go refuse it",
                evidence=evidence,
                **where,
            )
        ]
    return [
        finding(
            "VF302",
            f"{_name(info)} does not name {host!r}: a verify-full client dialling it refuses "
            "the connection",
            evidence=evidence,
            **where,
        )
    ]


def judge_key_mode(path: Path, mode: int, owner_uid: int) -> Finding | None:
    """VF306 for a private key file open to group or others (None when 0600 or stricter).

    libpq, PostgreSQL and cockroach accept group read on a root-owned key (for
    a shared ssl-cert group) and refuse anything looser: that case stays a
    finding, since the whole group can impersonate the key's owner, but medium.
    """
    if not mode & 0o077:
        return None
    who = " and ".join(w for w, bits in (("group", 0o070), ("others", 0o007)) if mode & bits)
    tolerated = not mode & 0o037 and owner_uid == 0
    consequence = (
        "libpq (14+) and cockroach accept this on a root-owned key, but every group "
        "member can impersonate its owner"
        if tolerated
        else "anyone who reads it impersonates its owner, and libpq, PostgreSQL and "
        "cockroach refuse keys this open"
    )
    return finding(
        "VF306",
        f"{path.name} is open to {who} (mode {mode:04o}): {consequence}",
        evidence=f"mode {stat.filemode(stat.S_IFREG | mode)}, owner uid {owner_uid}",
        fix=f"chmod 600 {path}",
        path=str(path),
        severity_override=Severity.MEDIUM if tolerated else None,
    )
