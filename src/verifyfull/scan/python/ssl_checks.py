"""ssl module use that weakens a client context (VF103, VF104, VF106, VF107).

Reported where the weakening is written: `ctx.verify_mode = ssl.CERT_NONE`,
`ctx.check_hostname = False`, `ssl._create_unverified_context()`, legacy
protocol constants, `minimum_version` below the policy floor, `set_ciphers`
with weak suites. Whether a given connection ends up unverified is judged at
the connection site (sites.py) with the context's resolved state.
"""

from __future__ import annotations

import ast

from verifyfull.policy import TLS_VERSIONS, weak_cipher_reasons
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.values import Const, Symbol, Text

_LEGACY_PROTOCOLS = {
    "ssl.PROTOCOL_TLSv1": "TLS 1.0",
    "ssl.PROTOCOL_TLSv1_1": "TLS 1.1",
    "ssl.PROTOCOL_SSLv3": "SSL 3.0",
    "ssl.PROTOCOL_SSLv2": "SSL 2.0",
}
_LEGACY_VERSIONS = {
    "ssl.TLSVersion.TLSv1": "TLSv1",
    "ssl.TLSVersion.TLSv1_1": "TLSv1.1",
    "ssl.TLSVersion.SSLv3": "SSLv3",
    "ssl.TLSVersion.MINIMUM_SUPPORTED": "MINIMUM_SUPPORTED",
}
_UNVERIFIED = "ssl._create_unverified_context"


def on_reference(a: Analysis, node: ast.Attribute | ast.Name, scope: Scope) -> None:
    """A name or attribute read: legacy protocol constants, the unverified factory."""
    qual = a.module.qualname(node)
    if qual in _LEGACY_PROTOCOLS and isinstance(node.ctx, ast.Load):
        a.report(
            "VF106",
            node,
            f"{qual} pins the connection to {_LEGACY_PROTOCOLS[qual]}, deprecated by RFC 8996",
            fix="Use ssl.create_default_context() (TLS 1.2 minimum) or "
            "ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).",
        )
    elif qual == _UNVERIFIED and isinstance(node.ctx, ast.Load):
        a.report(
            "VF103",
            node,
            "ssl._create_unverified_context() accepts any server certificate "
            "(CERT_NONE, no host name check)",
            fix="Use ssl.create_default_context(cafile='certs/ca.crt').",
        )


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    if not isinstance(target, ast.Attribute):
        return
    place = a.place(value, scope)
    if target.attr == "verify_mode":
        resolved = a.resolver.value(value, place)
        if isinstance(resolved, Symbol) and resolved.last == "CERT_NONE":
            a.report(
                "VF103",
                target,
                "verify_mode = CERT_NONE: the server certificate is not checked at all; any "
                "on-path attacker's certificate is accepted",
                evidence=f"{a.segment(target)} = {a.segment(value)}",
                fix="Keep verify_mode = ssl.CERT_REQUIRED and load the cluster CA "
                "(cafile='certs/ca.crt').",
            )
    elif target.attr == "check_hostname":
        resolved = a.resolver.value(value, place)
        if isinstance(resolved, Const) and resolved.value is False:
            a.report(
                "VF104",
                target,
                "check_hostname = False: any certificate from the CA is accepted for any "
                "host (verify-ca, not verify-full)",
                evidence=f"{a.segment(target)} = {a.segment(value)}",
                fix="Keep check_hostname = True and make the node certificates name every "
                "address clients dial.",
            )
    elif target.attr == "minimum_version":
        resolved = a.resolver.value(value, place)
        if isinstance(resolved, Symbol) and resolved.dotted in _LEGACY_VERSIONS:
            name = _LEGACY_VERSIONS[resolved.dotted]
            known = TLS_VERSIONS.get(name)
            if known is None or a.ctx.policy.tls_version_too_low(known):
                a.report(
                    "VF106",
                    target,
                    f"minimum_version = {resolved.last} lets the handshake fall below TLS 1.2",
                    evidence=f"{a.segment(target)} = {a.segment(value)}",
                    fix="ctx.minimum_version = ssl.TLSVersion.TLSv1_2",
                )


def on_call(a: Analysis, node: ast.Call, scope: Scope) -> None:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "set_ciphers" and node.args:
        resolved = a.resolver.value(node.args[0], a.place(node, scope))
        cipher_string = resolved.known if isinstance(resolved, Text) else None
        if cipher_string is None:
            return
        reasons = weak_cipher_reasons(cipher_string)
        if reasons:
            a.report(
                "VF107",
                node,
                f"set_ciphers admits weak suites: {', '.join(reasons)}",
                fix="Drop the set_ciphers call (OpenSSL's default is sound) or use "
                "'ECDHE+AESGCM:ECDHE+CHACHA20'.",
            )
        return
    if a.module.qualname(func) == "ssl.wrap_socket":
        for keyword in node.keywords:
            resolved = a.resolver.value(keyword.value, a.place(node, scope))
            if (
                keyword.arg == "cert_reqs"
                and isinstance(resolved, Symbol)
                and resolved.last == "CERT_NONE"
            ):
                a.report(
                    "VF103",
                    keyword.value,
                    "ssl.wrap_socket(cert_reqs=CERT_NONE) accepts any server certificate",
                    fix="Use ssl.create_default_context(cafile=…).wrap_socket(sock, "
                    "server_hostname=host).",
                )
