"""pg_hba.conf: which connections PostgreSQL lets in without TLS, and with MD5.

pg_hba is first-match: a `host`/`hostnossl` line lets a client authenticate in
plaintext (VF202) unless an earlier `hostnossl ... reject` line already
refused every plaintext connection it would match. Lines for loopback
addresses only are left alone (whoever reads loopback traffic owns the
machine). The md5 method is reported as VF403.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from verifyfull.findings import Finding, finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.installed import as_deployed

_FIELD = re.compile(r'"(?:[^"]|"")*"|[^\s"]+')
_PLAINTEXT_TYPES = {"host", "hostnossl", "hostnogssenc"}
_NETWORK_TYPES = _PLAINTEXT_TYPES | {"hostssl", "hostgssenc"}
_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class HbaLine:
    kind: str
    database: str
    user: str
    address: str  # "all", a host name, "samenet", or a CIDR ("" for local lines)
    method: str
    line: int
    method_column: int
    text: str

    def network(self) -> Network | None:
        try:
            return ipaddress.ip_network(self.address, strict=False)
        except ValueError:
            return None

    def loopback_only(self) -> bool:
        if self.address in ("localhost", "samehost"):
            return True
        net = self.network()
        return net is not None and any(
            net.version == lo.version and net.subnet_of(lo)  # type: ignore[arg-type]
            for lo in _LOOPBACK
        )

    def covers(self, other: HbaLine) -> bool:
        """Whether this line matches every connection `other` matches (same db/user)."""
        if self.database != "all" or self.user != "all":
            return False
        if self.address == "all":
            return True
        mine, theirs = self.network(), other.network()
        return (
            mine is not None
            and theirs is not None
            and mine.version == theirs.version
            and theirs.subnet_of(mine)  # type: ignore[arg-type]
        )


def _mask_to_prefix(address: str, mask: str) -> str:
    try:
        return str(ipaddress.ip_network(f"{address}/{mask}", strict=False))
    except ValueError:
        return address


def parse_hba(text: str) -> list[HbaLine]:
    lines: list[HbaLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        body = raw.split("#", 1)[0] if '"' not in raw else raw
        matches = list(_FIELD.finditer(body))
        fields = [m.group().strip('"') for m in matches]
        if not fields or fields[0].startswith("#") or fields[0].startswith("include"):
            continue
        kind = fields[0].lower()
        if kind == "local" and len(fields) >= 4:
            method_index = 3
            address = ""
        elif kind in _NETWORK_TYPES and len(fields) >= 5:
            address = fields[3]
            method_index = 4
            if (
                len(fields) >= 6
                and re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", fields[4])
                and ("." in fields[4] or ":" in fields[4])
            ):
                address = _mask_to_prefix(address, fields[4])
                method_index = 5
        else:
            continue
        lines.append(
            HbaLine(
                kind=kind,
                database=fields[1],
                user=fields[2],
                address=address,
                method=fields[method_index].lower(),
                line=number,
                method_column=matches[method_index].start() + 1,
                text=" ".join(raw.split()),
            )
        )
    return lines


def _reaches_plaintext(entry: HbaLine, rejected: list[HbaLine]) -> bool:
    """A plaintext-capable line that a client off this machine really reaches."""
    return not entry.loopback_only() and not any(rule.covers(entry) for rule in rejected)


@file_check(names=("pg_hba.conf",), globs=("pg_hba*.conf", "*.hba.conf"))
def check_pg_hba(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    # A pg_hba.conf nothing installs is not known to be the server's (installed.py).
    return as_deployed(judge_hba(parse_hba(src.text), src.relpath), src, ctx)


def judge_hba(entries: Iterable[HbaLine], relpath: str) -> list[Finding]:
    """The findings of pg_hba records, in a pg_hba.conf or written into one by a
    shell command (scan/config/clients.py)."""
    found: list[Finding] = []
    plaintext_rejected: list[HbaLine] = []
    for entry in entries:
        where = {"path": relpath, "line": entry.line}
        if entry.kind in _PLAINTEXT_TYPES and entry.method == "reject":
            if entry.kind == "hostnossl":
                plaintext_rejected.append(entry)
        elif entry.kind in _PLAINTEXT_TYPES and _reaches_plaintext(entry, plaintext_rejected):
            cleartext = " (and the password method sends the password itself in cleartext)"
            found.append(
                finding(
                    "VF202",
                    f"'{entry.kind}' lets clients from {entry.address} authenticate without "
                    f"TLS{cleartext if entry.method == 'password' else ''}",
                    evidence=entry.text,
                    fix=(
                        f"Change '{entry.kind}' to 'hostssl', and put 'hostnossl all all all "
                        "reject' first."
                    ),
                    column=1,
                    **where,
                )
            )
        if entry.method == "md5":
            found.append(
                finding(
                    "VF403",
                    "the md5 authentication method relies on MD5 password hashes (deprecated)",
                    evidence=entry.text,
                    fix="Use scram-sha-256 (with password_encryption = scram-sha-256) or cert.",
                    column=entry.method_column,
                    **where,
                )
            )
    return found
