"""A connection URL written as an f-string, read as its parts: each part literal text or
one `{expression}` (`f"postgres://{user}:{password}@{host}:{port}/{name}"`).

A Tortoise `db_url` has no place for an SSLContext; rewritten as a config dict, each
part becomes a credentials entry holding the same expression (so the values still come
from where the code reads them). A part that mixes text and expressions, a host list, or
query parameters other than the TLS ones make the template unreadable here (None), and
the site is left for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

_CODE = cst.Module(body=[]).code_for_node
_SLOT = "\ue000{}\ue001"
_ONE_SLOT = re.compile("^\ue000(\\d+)\ue001$")
_URL = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+]*)://"
    r"(?:(?P<user>[^:@/]*)(?::(?P<password>[^@/]*))?@)?"
    r"(?P<host>[^:/?,]*)(?::(?P<port>[^/?]*))?"
    r"(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?$",
    re.DOTALL,
)
_TLS_QUERY = {"ssl", "sslmode"}


@dataclass(frozen=True)
class UrlParts:
    scheme: str
    parts: dict[str, str]  # credentials key -> Python source of its value
    literal_password: bool  # a password written as text (never copied into code)


def read(node: cst.BaseExpression) -> UrlParts | None:
    if not isinstance(node, cst.FormattedString):
        return None
    expressions: list[str] = []
    template = ""
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            template += part.value
        elif (
            isinstance(part, cst.FormattedStringExpression)
            and part.conversion is None
            and part.format_spec is None
        ):
            template += _SLOT.format(len(expressions))
            expressions.append(_CODE(part.expression))
        else:
            return None
    match = _URL.match(template)
    if match is None or "\ue000" in match.group("scheme"):
        return None
    query = match.group("query") or ""
    names = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
    if names - _TLS_QUERY or "\ue000" in query:
        return None
    parts: dict[str, str] = {}
    literal_password = False
    for key in ("host", "port", "user", "password", "database"):
        text = match.group(key)
        if not text:
            continue
        slot = _ONE_SLOT.match(text)
        if slot:
            parts[key] = expressions[int(slot.group(1))]
        elif "\ue000" in text or "%" in text:
            return None  # mixed text and expressions, or percent-encoding: not ours
        elif key == "password":
            literal_password = True
        elif key == "port":
            if not text.isdigit():
                return None
            parts[key] = text
        else:
            parts[key] = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if "host" not in parts:
        return None
    parts.setdefault("port", "5432")
    return UrlParts(match.group("scheme").lower(), parts, literal_password)
