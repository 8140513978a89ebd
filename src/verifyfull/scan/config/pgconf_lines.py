"""postgresql.conf's line syntax: `name = value`, PostgreSQL's quoting ('...', '' for a
quote), `#` comments. Shared by the postgresql.conf check and the judge of lines a
script writes into one (`echo "ssl = off" >> postgresql.conf`); no dependencies, so
judge.py can import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAM = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_.]*)\s*(?:=\s*|\s+)"
    r"(?P<value>'(?:[^']|'')*'|[^\s#]+)"
)
INCLUDES = ("include", "include_dir", "include_if_exists")


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
