"""libpq's own files: `.pgpass` (literal passwords) and `pg_service.conf` (connection
services, each judged by conninfo as the keyword string libpq builds from it).

Two formats: .pgpass is libpq's colon-separated password file (read here: it
describes no connection); pg_service.conf is read by conninfo.service only, the
same reading conninfo applies when a connection names a service."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from verifyfull.conninfo import unreadable
from verifyfull.conninfo.libpq import LIBPQ_KEYWORDS, ConnStringError
from verifyfull.conninfo.redact import MASK, is_secret_key
from verifyfull.conninfo.service import first_values, libpq_service_section
from verifyfull.findings import Finding, finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config import dsn
from verifyfull.scrub import register_secret

# hostname:port:database:username:password, with \: and \\ escapes.
_PGPASS_FIELD = re.compile(r"(?:\\.|[^:\\])*")


def _pgpass_fields(line: str) -> list[tuple[str, int]]:
    """(field, 0-based start) for each colon-separated field of a .pgpass line."""
    fields: list[tuple[str, int]] = []
    position = 0
    while position <= len(line) and len(fields) < 5:
        match = _PGPASS_FIELD.match(line, position)
        assert match is not None  # the pattern matches the empty string
        fields.append((match.group(), match.start()))
        position = match.end() + 1
    return fields


@file_check(names=(".pgpass", "pgpass", "pgpass.conf"), globs=("*.pgpass",))
def check_pgpass(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    found: list[Finding] = []
    for number, raw in enumerate(src.text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        fields = _pgpass_fields(raw)
        if len(fields) < 5 or not fields[4][0]:
            continue
        host, port, database, user = (f for f, _ in fields[:4])
        register_secret(re.sub(r"\\(.)", r"\1", fields[4][0]))  # unescaped; scrub re-escapes
        found.append(
            finding(
                "VF401",
                f"a literal password for user {user or '*'} on {host or '*'}:{port or '*'} "
                "is stored in the tree (.pgpass)",
                evidence=f"{host}:{port}:{database}:{user}:***",
                fix="Keep .pgpass out of the repository (it belongs in the user's home, mode "
                "0600), or use client-certificate authentication.",
                path=src.relpath,
                line=number,
                column=fields[4][1] + 1,
            )
        )
    return found


@file_check(names=("pg_service.conf", ".pg_service.conf"))
def check_pg_service(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    """Each [service] as libpq reads it (conninfo.service, the one reading of the
    format: '#' comments only, case-sensitive keys, the first group of a name, the
    first value of a key) is the keyword string libpq would build; conninfo judges it,
    and the findings sit on the service's sslmode line (its header when none is set).
    A group libpq refuses is a VF105 on its header: a connection naming it fails."""
    found: list[Finding] = []
    for group in service_groups(src.text):
        try:
            pairs = libpq_service_section(src.text, group.name, src.relpath)
        except ConnStringError as exc:
            failure = unreadable(exc, f"[{group.name}]")
            found.append(replace(failure, path=src.relpath, line=group.line, column=1))
            continue
        if not pairs:
            continue
        values = first_values(pairs)
        shown = " ".join(f"{k}={v if _showable(k) else MASK}" for k, v in values.items())
        if not any(key in ("host", "hostaddr") for key in values):
            values = {"host": dsn.NETWORK_HOST, **values}  # a service file names remote servers
        text = " ".join(f"{key}='{_quoted(value)}'" for key, value in values.items())
        where = {
            "path": src.relpath,
            "line": group.sslmode_line or group.line,
            "column": 1,
            "evidence": f"[{group.name}] {shown}",
        }
        found.extend(dsn.dsn_findings(text, {}, ctx.policy, where))
    return found


@dataclass(frozen=True)
class ServiceGroup:
    """A group libpq could look up: its name, header line and first sslmode line."""

    name: str
    line: int
    sslmode_line: int | None = None


def service_groups(text: str) -> list[ServiceGroup]:
    """The groups of a service file as libpq finds them: a trimmed line starting with
    '[' names the group up to the first ']'; only the first group of a name is read."""
    groups: list[ServiceGroup] = []
    seen: set[str] = set()
    current = False
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line.startswith("["):
            name, bracket, _ = line[1:].partition("]")
            current = bool(bracket) and name not in seen
            if current:
                seen.add(name)
                groups.append(ServiceGroup(name, number))
        elif current and groups[-1].sslmode_line is None and line.startswith("sslmode="):
            groups[-1] = replace(groups[-1], sslmode_line=number)
    return groups


def _showable(key: str) -> bool:
    """Only values of known, non-secret libpq keywords go into evidence (a mistyped
    `pasword=` is still a password)."""
    return key in LIBPQ_KEYWORDS and not is_secret_key(key)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
