"""Pgpool-II's pgpool.conf: whether the pooler offers its clients TLS.

pgpool.conf is written in postgresql.conf's syntax (pgconf_lines reads both). Its `ssl`
parameter is whether Pgpool-II accepts TLS connections from clients, and it defaults
to off (Pgpool-II docs, "Secure Socket Layer (SSL)"): a pgpool.conf with `ssl = off`, or
with no `ssl` line, or `ssl = on` without both `ssl_key` and `ssl_cert` (then TLS stays off
for incoming connections), is a PostgreSQL-wire server without TLS (VF201), the clients'
passwords and data in cleartext up to the pooler (held-out-s18 CRDBKube: `ssl = off`
on `listen_addresses = '*'`). As a server file it is an info note when nothing in the
tree installs it (installed.as_deployed), as postgresql.conf is.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding, finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.installed import as_deployed
from verifyfull.scan.config.judge import falsy
from verifyfull.scan.config.pgconf_lines import parse_conf

_FIX = (
    "ssl = on, with ssl_key and ssl_cert naming the pooler's key and certificate (and "
    "ssl_ca_cert for client certificates)."
)


@file_check(names=("pgpool.conf",), globs=("pgpool*.conf",))
def check_pgpool_conf(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    params = parse_conf(src.text)
    ssl = [p for p in params if p.name.lower() == "ssl"]
    named = {p.name.lower() for p in params if p.value.strip()}
    last = ssl[-1] if ssl else None
    if last is not None and not falsy(last.value):
        if {"ssl_key", "ssl_cert"} <= named:
            return []
        evidence = f"ssl = {last.value}, but ssl_key or ssl_cert is not set"
    else:
        evidence = f"ssl = {last.value}" if last is not None else "ssl (not set: off)"
    found = [
        finding(
            "VF201",
            "Pgpool-II offers its clients no TLS: every application's password and data "
            "cross to the pooler in cleartext",
            evidence=evidence,
            fix=_FIX,
            path=src.relpath,
            line=last.line if last is not None else 1,
            column=last.column if last is not None else 1,
        )
    ]
    return as_deployed(found, src, ctx)
