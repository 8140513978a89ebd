"""Refusal: a requested mode or an SSLContext weaker than the policy is an error.

What a setting means as a transport is asked of conninfo (`evaluate`, the
same verdict the scanner reports), with libpq's reading of a requested
sslmode and asyncpg's reading of an SSLContext; which of its rules are
refused is the policy's call (`Policy.refuses`). So the guard refuses exactly
what the scanner flags. verify-ca passes only with the policy's explicit
opt-in, and is then logged as VF104 every time it is used. Live cipher
suites (VF107) are read off the context itself.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from verifyfull import rules
from verifyfull.conninfo import (
    ConnInfo,
    Environment,
    HostPort,
    Source,
    describe_ssl_value,
    evaluate,
)
from verifyfull.errors import InsecureConfigurationError, UsageError
from verifyfull.findings import Finding
from verifyfull.policy import SSLMODES, Policy, suite_weakness

log = logging.getLogger("verifyfull.guard")

# Transport rules the guard acts on; other verdict notes (e.g. files a
# deployment may provide) are not the guard's to refuse.
_TRANSPORT_RULES = rules.TRANSPORT_RULES
_PLACEHOLDER_HOST = (HostPort("database", 26257),)  # only the TLS settings are judged


# The guard's own fix line per rule: what to change in the guard's settings.
_FIX = {
    "VF101": "use sslmode=verify-full with the cluster CA (DB_CA_PATH)",
    "VF102": "use sslmode=verify-full with the cluster CA (DB_CA_PATH)",
    "VF103": "use sslmode=verify-full with the cluster CA (DB_CA_PATH)",
    "VF104": "use verify-full (check_hostname=True), or set DB_ALLOW_VERIFY_CA=true to accept it",
    "VF105": "build the context with verifyfull.guard.client_context()",
    "VF106": "set minimum_version to TLSv1.2 or later",
    "VF107": "leave the cipher list at Python's default",
}


def _refuse(rule_id: str, problem: str) -> InsecureConfigurationError:
    return InsecureConfigurationError(rule_id, problem, _FIX.get(rule_id, rules.get(rule_id).fix))


def _act_on(findings: tuple[Finding, ...], what: str, policy: Policy) -> None:
    for found in findings:
        if found.rule_id not in _TRANSPORT_RULES:
            continue
        if policy.refuses(found.rule_id):
            raise _refuse(found.rule_id, f"{what} is refused: {found.message}")
        log.warning("%s: %s is allowed by policy: %s", found.rule_id, what, found.message)


def refuse_sslmode(mode: str, policy: Policy, ca_file: Path | None = None) -> bool:
    """Refuse a requested sslmode weaker than the policy; True when host names are checked."""
    norm = mode.strip().lower()
    if norm not in SSLMODES:
        raise UsageError(f"unknown sslmode {mode!r}", f"use one of {', '.join(SSLMODES)}")
    params = [("sslmode", norm)]
    if ca_file is not None:
        params.append(("sslrootcert", str(ca_file)))
    info = ConnInfo(
        source=Source.KEYWORDS, hosts=_PLACEHOLDER_HOST, params=tuple(params), literal=False
    )
    verdict = evaluate(info, "psycopg", Environment.empty(), policy)
    _act_on(verdict.findings, f"sslmode={norm}", policy)
    return norm == "verify-full"


def refuse_context(ctx: ssl.SSLContext, policy: Policy) -> None:
    """Refuse an SSLContext that would not give verify-full under the policy."""
    if not isinstance(ctx, ssl.SSLContext):
        raise _refuse("VF105", f"ssl must be an ssl.SSLContext, not {type(ctx).__name__}")
    if ctx.protocol is ssl.PROTOCOL_TLS_SERVER:
        raise _refuse("VF105", "the SSLContext is a server context")
    info = ConnInfo(
        source=Source.KWARGS, hosts=_PLACEHOLDER_HOST, ssl=describe_ssl_value(ctx), literal=False
    )
    verdict = evaluate(info, "asyncpg", Environment.empty(), policy)
    _act_on(verdict.findings, "the SSLContext", policy)
    weak = sorted({w for s in ctx.get_ciphers() if (w := suite_weakness(s["name"]))})
    if weak:
        raise _refuse("VF107", f"the SSLContext offers weak cipher suites ({', '.join(weak)})")
