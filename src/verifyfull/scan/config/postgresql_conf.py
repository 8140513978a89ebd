"""postgresql.conf (and postgresql.auto.conf, conf.d snippets): server TLS settings.

Reads `name = value` lines with PostgreSQL's quoting ('...', '' for a quote)
and hands each parameter to judge.judge_server_setting. A complete
postgresql.conf that never sets `ssl = on` serves without TLS: ssl defaults
to off.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding, finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config import judge
from verifyfull.scan.config.installed import as_deployed
from verifyfull.scan.config.judge import falsy, judge_server_setting
from verifyfull.scan.config.pgconf_lines import INCLUDES, Parameter, parse_conf

__all__ = ["Parameter", "check_postgresql_conf", "parse_conf"]


@file_check(
    names=("postgresql.conf", "postgresql.auto.conf"),
    globs=("postgresql*.conf", "postgres*.conf"),
)
def check_postgresql_conf(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    params = parse_conf(src.text)
    found: list[Finding] = []
    for param in params:
        found.extend(
            judge_server_setting(src, param.name, param.value, param.line, param.column, ctx.policy)
        )
    names = {p.name.lower() for p in params}
    ssl_on = any(p.name.lower() == "ssl" and not falsy(p.value) for p in params)
    complete = src.path.name == "postgresql.conf" and not names & set(INCLUDES)
    if complete and not ssl_on and "ssl" not in names:
        found.append(
            finding(
                "VF201",
                "postgresql.conf never sets ssl = on, and PostgreSQL's default is off: "
                "the server accepts no TLS",
                evidence="ssl (not set)",
                fix=judge.POSTGRES_TLS_FIX,
                path=src.relpath,
                line=1,
                column=1,
            )
        )
    return as_deployed(found, src, ctx)
