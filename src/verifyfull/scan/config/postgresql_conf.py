"""postgresql.conf (and postgresql.auto.conf, conf.d snippets): server TLS settings.

Reads `name = value` lines with PostgreSQL's quoting ('...', '' for a quote)
and hands each parameter to judge.judge_server_setting. A complete
postgresql.conf that never sets `ssl = on` serves without TLS: ssl defaults
to off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from verifyfull.findings import Finding, finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config import judge
from verifyfull.scan.config.installed import as_deployed
from verifyfull.scan.config.judge import falsy, judge_server_setting

_PARAM = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_.]*)\s*(?:=\s*|\s+)"
    r"(?P<value>'(?:[^']|'')*'|[^\s#]+)"
)
_INCLUDES = ("include", "include_dir", "include_if_exists")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str  # unquoted
    line: int
    column: int


def parse_conf(text: str) -> list[Parameter]:
    params: list[Parameter] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _PARAM.match(raw)
        if match is None or raw.lstrip().startswith("#"):
            continue
        value = match.group("value")
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        params.append(Parameter(match.group("name"), value, number, match.start("value") + 1))
    return params


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
    complete = src.path.name == "postgresql.conf" and not names & set(_INCLUDES)
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
