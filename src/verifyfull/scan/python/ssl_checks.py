"""ssl module use that weakens a client context (VF103, VF104, VF106, VF107).

Reported where the weakening is written: `ctx.verify_mode = ssl.CERT_NONE`,
`ctx.check_hostname = False`, `ssl._create_unverified_context()`, legacy
protocol constants, `minimum_version` below the policy floor, `set_ciphers`
with weak suites. Whether a given connection ends up unverified is judged at
the connection site (sites.py) with the context's resolved state.

A context is judged by its final state and only when it is used (issue 12,
class 9): `check_hostname = False` on a context that ends up CERT_NONE is one
VF103 (at the verify_mode line), not VF103 + VF104; a context weakened and then
never read (not passed, returned, stored or imported by another module) weakens
nothing and is not reported.
"""

from __future__ import annotations

import ast
import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from verifyfull.findings import Related
from verifyfull.policy import TLS_VERSIONS, weak_cipher_reasons
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.values import Const, ContextValue, Symbol, Text

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


def _final(a: Analysis, target: ast.Attribute, scope: Scope) -> ContextValue | None:
    """The context's state after everything its scope does to it (None: not known)."""
    if target.attr not in ("verify_mode", "check_hostname"):
        return None
    try:
        found = a.resolver.value(target.value, a.place(target, scope))
    except RecursionError:
        return None
    return found if isinstance(found, ContextValue) else None


def _is_cert_none(resolved: object) -> bool:
    return isinstance(resolved, Symbol) and resolved.last == "CERT_NONE"


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    if not isinstance(target, ast.Attribute):
        return
    if target.attr not in ("verify_mode", "check_hostname", "minimum_version"):
        return
    place = a.place(value, scope)
    resolved = a.resolver.value(value, place)
    # Only a weakening assignment can be a finding; the context's final state (which may
    # follow the context through its callers) is asked for only then.
    weakening = (target.attr == "verify_mode" and _is_cert_none(resolved)) or (
        target.attr == "check_hostname" and isinstance(resolved, Const) and resolved.value is False
    )
    final = _final(a, target, scope) if weakening else None
    if final is not None and not _context_used(a, target.value, scope):
        return  # built, weakened, never handed to anything: weakens no connection
    if target.attr == "verify_mode":
        if final is not None and final.verify_mode != "CERT_NONE":
            return  # set back to a verifying mode later in the scope
        if _is_cert_none(resolved):
            a.report(
                "VF103",
                target,
                "verify_mode = CERT_NONE: the server certificate is not checked at all; any "
                "on-path attacker's certificate is accepted",
                evidence=f"{a.segment(target)} = {a.segment(value)}",
                fix="Keep verify_mode = ssl.CERT_REQUIRED and load the cluster CA "
                "(cafile='certs/ca.crt').",
            )
            if final is not None:
                hostname_off = [
                    Related(
                        "check_hostname = False on the same context (with CERT_NONE nothing "
                        "is checked: one finding)",
                        a.source.relpath,
                        line,
                        column,
                    )
                    for line, column in weakened_lines(a, target.value, scope, "check_hostname")
                ]
                add_related(a, "VF103", target.lineno, hostname_off)
    elif target.attr == "check_hostname":
        if final is not None and (final.verify_mode == "CERT_NONE" or final.check_hostname):
            return  # nothing is verified at all (one VF103 where CERT_NONE is set)
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
    elif isinstance(resolved, Symbol) and resolved.dotted in _LEGACY_VERSIONS:  # minimum_version
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


def binding_scope(name: str, scope: Scope) -> Scope | None:
    where: Scope | None = scope
    while where is not None and name not in where.assigns:
        where = where.parent
    return where


def weakened_lines(
    a: Analysis, obj: ast.expr, scope: Scope, attr: str | None = None
) -> list[tuple[int, int]]:
    """(line, column) of the `ctx.check_hostname = False` / `ctx.verify_mode = CERT_NONE`
    statements done to the context named `obj` (only `attr` when given)."""
    if not isinstance(obj, ast.Name):
        return []
    where = binding_scope(obj.id, scope)
    if where is None:
        return []
    # Named in the scope that binds it: only what is done to the object bound there,
    # up to the next binding of the name (another context; resolve._mutated alike).
    lines = [b.line for b in where.assigns.get(obj.id, [])]
    start = max((n for n in lines if n <= obj.lineno), default=0) if where is scope else 0
    end = min((n for n in lines if n > obj.lineno), default=None) if where is scope else None
    found = []
    for name, binding in where.attr_assigns.get(obj.id, []):
        if attr is not None and name != attr:
            continue
        if binding.line < start or (end is not None and binding.line >= end):
            continue
        value = binding.value
        weak = (
            name == "check_hostname" and isinstance(value, ast.Constant) and value.value is False
        ) or (
            name == "verify_mode"
            and getattr(value, "attr", getattr(value, "id", "")) == "CERT_NONE"
        )
        if weak:
            found.append(
                (
                    binding.line,
                    1
                    + len(a.lines()[binding.line - 1])
                    - len(a.lines()[binding.line - 1].lstrip()),
                )
            )
    return found


def add_related(a: Analysis, rule_id: str, line: int, related: list[Related]) -> bool:
    """Attach `related` places to the finding of `rule_id` reported at `line` (in this
    file); False when there is none. Searched from the newest: the weakening a call
    acts through is most often the finding reported just before it (a walk over every
    finding per call grows with the square of a module's calls)."""
    for index in range(len(a.findings) - 1, -1, -1):
        item = a.findings[index]
        if item.rule_id == rule_id and item.line == line and item.path == a.source.relpath:
            known = {(r.path, r.line) for r in item.related}
            new = tuple(r for r in related if (r.path, r.line) not in known)
            a.findings[index] = replace(item, related=item.related + new)
            return True
    return False


def _context_used(a: Analysis, obj: ast.expr, scope: Scope) -> bool:
    """Whether the context named `obj` is read anywhere but to configure it (`ctx.attr`):
    passed, returned, stored, closed over; a module's context also when another module
    of the project names it. Not a plain name (self.ctx): assumed used."""
    if not isinstance(obj, ast.Name):
        return True
    name = obj.id
    where = binding_scope(name, scope)
    if where is None:
        return True
    configured: set[int] = set()
    reads: list[ast.Name] = []
    for node in ast.walk(where.node):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            configured.add(id(node.value))
        elif isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            reads.append(node)
    if any(id(read) not in configured for read in reads):
        return True
    if where.parent is not None:
        return False
    if "__all__" in where.assigns:
        return True
    own = a.source.path.resolve()
    return _named_elsewhere(str(_import_root(own)), str(own), name)


def _import_root(path: Path) -> Path:
    """The folder other modules import this one from: above its package (the folders
    holding __init__.py), or its own folder for a top-level module or script."""
    folder = path.parent
    while (folder / "__init__.py").exists() and folder.parent != folder:
        folder = folder.parent
    return folder


_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "site-packages", "__pycache__"})
_MAX_FILES = 2_000
_MAX_BYTES = 8_000_000  # all the modules of one import root read, at most


@lru_cache(maxsize=2)
def _modules_under(root: str) -> tuple[tuple[str, bytes], ...] | None:
    """The .py files under an import root and their bytes, read once per root; None
    past the bounds (then every context there counts as used)."""
    found: list[tuple[str, bytes]] = []
    total = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for file in files:
            if not file.endswith(".py"):
                continue
            path = os.path.join(folder, file)
            try:
                with open(path, "rb") as handle:
                    data = handle.read(_MAX_BYTES)
            except OSError:
                continue
            total += len(data)
            found.append((path, data))
            if len(found) > _MAX_FILES or total > _MAX_BYTES:
                return None
    return tuple(found)


def _named_elsewhere(root: str, own: str, name: str) -> bool:
    """Another module under `root` holds `name` and this module's name (an import of
    the context, conservatively)."""
    modules = _modules_under(root)
    if modules is None:
        return True
    module, wanted = Path(own).stem.encode(), name.encode()
    return any(path != own and wanted in data and module in data for path, data in modules)


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
