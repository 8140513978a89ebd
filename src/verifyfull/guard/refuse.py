"""Refusal: a requested mode or an SSLContext weaker than the policy is an error.

The rule a setting breaks comes from `Policy.transport_rule`, the one place
acceptance is decided; this module only says what a mode or a context means
as a transport (TLS always? chain checked? host name checked?).
verify-ca passes only with the policy's explicit opt-in, and is then logged
as VF104 every time it is used.
"""

from __future__ import annotations

import logging
import ssl

from verifyfull import rules
from verifyfull.errors import InsecureConfigurationError, UsageError
from verifyfull.policy import SSLMODES, Policy, TLSUse, suite_weakness, tls_version_name

log = logging.getLogger("verifyfull.guard")

# What each libpq sslmode means as a transport (FACTS.md, libpq docs).
_MODE_TRANSPORT: dict[str, tuple[TLSUse, bool, bool]] = {
    "disable": (TLSUse.NEVER, False, False),
    "allow": (TLSUse.MAYBE, False, False),
    "prefer": (TLSUse.MAYBE, False, False),
    "require": (TLSUse.ALWAYS, False, False),
    "verify-ca": (TLSUse.ALWAYS, True, False),
    "verify-full": (TLSUse.ALWAYS, True, True),
}


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


def _judge(
    policy: Policy, what: str, tls: TLSUse, chain: bool, hostname: bool, *, explicit_off: bool
) -> None:
    rule_id = policy.transport_rule(tls, chain, hostname, explicit_off=explicit_off)
    if rule_id is None:
        return
    if policy.refuses(rule_id):
        raise _refuse(rule_id, f"{what} is refused ({rules.get(rule_id).title.lower()})")
    log.warning("%s: %s is allowed by policy but does not check the host name", rule_id, what)


def refuse_sslmode(mode: str, policy: Policy) -> bool:
    """Refuse a requested sslmode weaker than the policy; True when host names are checked."""
    norm = mode.strip().lower()
    if norm not in _MODE_TRANSPORT:
        raise UsageError(f"unknown sslmode {mode!r}", f"use one of {', '.join(SSLMODES)}")
    tls, chain, hostname = _MODE_TRANSPORT[norm]
    _judge(policy, f"sslmode={norm}", tls, chain, hostname, explicit_off=norm == "disable")
    return hostname


def refuse_context(ctx: ssl.SSLContext, policy: Policy) -> None:
    """Refuse an SSLContext that would not give verify-full under the policy."""
    if not isinstance(ctx, ssl.SSLContext):
        raise _refuse("VF105", f"ssl must be an ssl.SSLContext, not {type(ctx).__name__}")
    if ctx.protocol is ssl.PROTOCOL_TLS_SERVER:
        raise _refuse("VF105", "the SSLContext is a server context")
    chain = ctx.verify_mode == ssl.CERT_REQUIRED
    weakness = "check_hostname=False" if chain else "verify_mode != CERT_REQUIRED"
    _judge(
        policy,
        f"an SSLContext with {weakness}",
        TLSUse.ALWAYS,
        chain,
        ctx.check_hostname,
        explicit_off=False,
    )
    if policy.tls_version_too_low(_effective_minimum(ctx)):
        raise _refuse(
            "VF106",
            f"the SSLContext allows {tls_version_name(_effective_minimum(ctx))}, "
            f"below the policy's {tls_version_name(policy.min_tls_version)}",
        )
    weak = sorted({w for s in ctx.get_ciphers() if (w := suite_weakness(s["name"]))})
    if weak:
        raise _refuse("VF107", f"the SSLContext offers weak cipher suites ({', '.join(weak)})")


def _effective_minimum(ctx: ssl.SSLContext) -> ssl.TLSVersion:
    minimum = ctx.minimum_version
    if minimum is ssl.TLSVersion.MINIMUM_SUPPORTED:
        # OpenSSL's own floor: TLSv1 unless the options switch the old versions off.
        for version, option in (
            (ssl.TLSVersion.TLSv1, ssl.OP_NO_TLSv1),
            (ssl.TLSVersion.TLSv1_1, ssl.OP_NO_TLSv1_1),
            (ssl.TLSVersion.TLSv1_2, ssl.OP_NO_TLSv1_2),
        ):
            if not ctx.options & option:
                return version
        return ssl.TLSVersion.TLSv1_3
    return minimum
