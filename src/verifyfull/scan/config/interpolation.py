"""Connection strings that hold deploy-time interpolations, made judgeable.

Deployment files build DSNs from pieces filled in later: Terraform and Bicep
`${var.db.address}`, compose and shell `${DB_HOST}` / `${DB_PORT:-5432}` /
`${PW:?set it}`, GitHub Actions `${{ job.services.postgres.ports[5432] }}`
(blanked to `$____` by helm.untemplate before YAML is read). Such a string
is unreadable as written (the port `${var.port}` is not a number), but
what TLS it gets is decided by its literal parts: `neutral_dsn` replaces each
interpolation by a neutral stand-in (a default when one is written, `5432`
in the port place, `x` elsewhere) so conninfo can judge the rest.

When an interpolation decides the TLS part itself (it sits in the query
string, `?sslmode=${SSLMODE}` with no default), nothing can be claimed and
`neutral_dsn` gives None. A password that is an interpolation is a reference,
not a literal (`password_interpolated`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `${{ … }}`, `${ … }` (one level of inner braces, Terraform's `${var.m["k"]}`),
# and a template blanked by helm.untemplate (`$` + underscores, or underscores).
# Character classes only, no nested quantifier: linear in the value.
_PLACEHOLDER = re.compile(r"\$\{\{[^}]*\}\}|\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)?\}|\$?_{6,}")
_DEFAULT = re.compile(r"^\$\{[A-Za-z_]\w*:?-(?P<default>[^}]*)\}$")
_PORT_END = "/?,"
STAND_IN = "x"
PORT_STAND_IN = "5432"


@dataclass(frozen=True)
class Neutral:
    text: str  # the DSN with every interpolation replaced
    password_interpolated: bool  # the URL password was (or held) an interpolation


def neutral_dsn(value: str) -> Neutral | None:
    """The DSN with stand-ins for its interpolations, or None when one decides its TLS."""
    if "$" not in value and "______" not in value:
        return Neutral(value, False)
    # Positions are judged on a copy with every interpolation masked: `${PW:?say}`
    # holds a `?` that is not the query's.
    masked = _PLACEHOLDER.sub(lambda m: "x" * len(m.group()), value)
    query_at = masked.find("?")
    pieces: list[str] = []
    last = 0
    password_interpolated = False
    for match in _PLACEHOLDER.finditer(value):
        start, end = match.span()
        default = _DEFAULT.match(match.group())
        if query_at >= 0 and start > query_at and default is None:
            return None  # `?sslmode=${SSLMODE}`: the deployment decides
        pieces.append(value[last:start])
        if default is not None:
            pieces.append(default.group("default"))
        elif _port_place(masked, start, end):
            pieces.append(PORT_STAND_IN)
        else:
            pieces.append(STAND_IN)
        if default is None:  # a default is a literal written in the file
            password_interpolated = password_interpolated or _in_password(masked, start)
        last = end
    pieces.append(value[last:])
    return Neutral("".join(pieces), password_interpolated)


def _port_place(masked: str, start: int, end: int) -> bool:
    """Whether masked[start:end] is the port of a host (`@host:${PORT}/db`)."""
    after_colon = start > 0 and masked[start - 1] == ":"
    closes = end == len(masked) or masked[end] in _PORT_END
    return after_colon and closes and _in_authority(masked, start)


def _authority(value: str) -> tuple[int, int]:
    """Start and end of the URL's authority (user:password@hosts), or (-1, -1)."""
    scheme = value.find("://")
    if scheme < 0:
        return -1, -1
    start = scheme + 3
    ends = [i for i in (value.find("/", start), value.find("?", start)) if i >= 0]
    return start, min(ends) if ends else len(value)


def _in_authority(value: str, index: int) -> bool:
    """Whether `index` is in the host part (after the last `@` of the authority)."""
    start, end = _authority(value)
    if not start <= index < end:
        return False
    return index > value.rfind("@", start, end)


def _in_password(value: str, index: int) -> bool:
    start, end = _authority(value)
    at = value.rfind("@", start, end) if start >= 0 else -1
    if at < 0 or not start <= index < at:
        return False
    colon = value.find(":", start, at)
    return 0 <= colon < index
