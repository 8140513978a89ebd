"""PgBouncer's pgbouncer.ini: the two TLS legs of a pooler.

PgBouncer terminates the client's connection and opens its own to PostgreSQL, so a
pgbouncer.ini holds a server's setting and a client's (pgbouncer docs, "TLS settings"):
- `client_tls_sslmode`, what PgBouncer accepts from applications: `disable` (the
  default) accepts no TLS at all (VF201), `allow`/`prefer` accept plaintext clients
  (VF202); `require`, `verify-ca`, `verify-full` refuse them.
- `server_tls_sslmode`, how PgBouncer connects to PostgreSQL, libpq's modes: `disable`
  VF101, `allow`/`prefer` VF102 (and unset: `prefer` since PgBouncer 1.21, `disable`
  before, pgbouncer PR #866), `require` VF103, `verify-ca` VF104.
The `[databases]` entries' connection strings take no sslmode of their own (the server leg
is the global setting), so the generic reading of each entry as a libpq string does not
apply: its transport findings are replaced by the one for `server_tls_sslmode`.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifyfull.findings import Finding, finding
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Setting
from verifyfull.scan.inireader import section_line

_CLIENT = "client_tls_sslmode"
_SERVER = "server_tls_sslmode"
_REFUSES_PLAINTEXT = frozenset({"require", "verify-ca", "verify-full"})
_SERVER_RULES = {"disable": "VF101", "allow": "VF102", "prefer": "VF102", "require": "VF103"}
_SERVER_RULES["verify-ca"] = "VF104"
_FIX_CLIENT = (
    "client_tls_sslmode = require (or verify-full for client certificates), with "
    "client_tls_key_file and client_tls_cert_file."
)
_FIX_SERVER = "server_tls_sslmode = verify-full, with server_tls_ca_file = the cluster CA."


@dataclass(frozen=True)
class Judged:
    findings: tuple[Finding, ...]
    replaced_lines: frozenset[int]  # lines whose generic transport findings these replace


def is_pgbouncer(settings: list[Setting]) -> bool:
    return any(s.context[:1] == ("pgbouncer",) for s in settings)


def judge(src: SourceFile, settings: list[Setting]) -> Judged:
    """The pooler's two legs, and the lines whose generic findings they replace."""
    section = [s for s in settings if s.context[:1] == ("pgbouncer",)]
    header = section_line(src.text, "pgbouncer") or 1
    by_key = {s.key.lower(): s for s in section}
    found: list[Finding] = []
    client = by_key.get(_CLIENT)
    mode = client.value.strip().lower() if client is not None else "disable"
    line, column = (client.line, client.column) if client is not None else (header, 1)
    written = f"{_CLIENT} = {mode}" + ("" if client is not None else " (not set: the default)")
    client_rule, message = None, ""
    if mode == "disable":
        client_rule = "VF201"
        message = (
            "PgBouncer accepts no TLS from its clients: every application's password and "
            "data cross to the pooler in cleartext"
        )
    elif mode not in _REFUSES_PLAINTEXT:
        client_rule = "VF202"
        message = (
            f"PgBouncer accepts clients without TLS ({mode}): a client or an attacker that "
            "does not ask for TLS gets a plaintext session"
        )
    if client_rule is not None:
        found.append(
            finding(
                client_rule,
                message,
                evidence=written,
                fix=_FIX_CLIENT,
                path=src.relpath,
                line=line,
                column=column,
            )
        )
    server = by_key.get(_SERVER)
    server_mode = server.value.strip().lower() if server is not None else "prefer"
    rule = _SERVER_RULES.get(server_mode)
    if rule is not None:
        where = (server.line, server.column) if server is not None else (header, 1)
        unset = (
            "" if server is not None else " (not set: prefer since PgBouncer 1.21, disable before)"
        )
        found.append(
            finding(
                rule,
                f"PgBouncer connects to PostgreSQL with server_tls_sslmode={server_mode}{unset}",
                evidence=f"{_SERVER} = {server_mode}",
                fix=_FIX_SERVER,
                path=src.relpath,
                line=where[0],
                column=where[1],
            )
        )
    replaced = {s.line for s in settings if s.context[:1] == ("databases",)}
    replaced |= {s.line for s in (client, server) if s is not None}
    return Judged(tuple(found), frozenset(replaced))
