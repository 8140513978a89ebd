"""libpq's own files: `.pgpass` (literal passwords) and `pg_service.conf` (connection
services, each judged by conninfo as the keyword string libpq builds from it)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from verifyfull.conninfo.libpq import LIBPQ_KEYWORDS
from verifyfull.conninfo.redact import MASK, is_secret_key
from verifyfull.findings import Finding, finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config import dsn
from verifyfull.scan.config.ini import validate
from verifyfull.scrub import register_secret

# hostname:port:database:username:password, with \: and \\ escapes.
_PGPASS_FIELD = re.compile(r"(?:\\.|[^:\\])*")
_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]")
_OPTION = re.compile(r"^\s*(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>.*?)\s*$")


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
    """Each [service] is the keyword string libpq would build; conninfo judges it, and
    the findings sit on the service's sslmode line (its header when none is set)."""
    validate(src.text)
    found: list[Finding] = []
    services: list[_Service] = []
    for number, raw in enumerate(src.text.splitlines(), start=1):
        header = _SECTION.match(raw)
        if header is not None:
            services.append(_Service(header.group("name").strip(), number))
            continue
        option = _OPTION.match(raw)
        if option is None or not services or raw.lstrip().startswith(("#", ";")):
            continue
        key = option.group("key").lower()
        services[-1].pairs.append((key, option.group("value")))
        if key == "sslmode":
            services[-1].sslmode_line = number
    for service in services:
        if not service.pairs:
            continue
        pairs = service.pairs
        if not any(key in ("host", "hostaddr") for key, _ in pairs):
            pairs = [("host", dsn.NETWORK_HOST), *pairs]  # a service file names remote servers
        text = " ".join(f"{key}='{_quoted(value)}'" for key, value in pairs)
        shown = " ".join(f"{k}={v if _showable(k) else MASK}" for k, v in service.pairs)
        where = {
            "path": src.relpath,
            "line": service.sslmode_line or service.line,
            "column": 1,
            "evidence": f"[{service.name}] {shown}",
        }
        found.extend(dsn.dsn_findings(text, {}, ctx.policy, where))
    return found


@dataclass
class _Service:
    name: str
    line: int
    pairs: list[tuple[str, str]] = field(default_factory=list)
    sslmode_line: int | None = None


def _showable(key: str) -> bool:
    """Only values of known, non-secret libpq keywords go into evidence (a mistyped
    `pasword=` is still a password)."""
    return key in LIBPQ_KEYWORDS and not is_secret_key(key)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
