"""libpq's own connection-string grammar, in pure Python.

The scanner installs without any driver, so this module re-implements what
libpq's conninfo_parse / conninfo_uri_parse_options do (fe-connect.c), step
for step: URLs with user info, comma-separated host lists, bracketed IPv6
literals, %XX decoding (no '+' to space), and keyword strings with quoting and
backslash escapes. tests/test_conninfo_libpq_agreement.py checks it against
psycopg's `conninfo_to_dict`, which calls the real libpq.

Two layers: `split` reads the text into ordered raw pairs and keeps every key
(asyncpg and SQLAlchemy give meaning to keys libpq refuses); `to_libpq_dict`
then applies libpq's own rules (unknown keys refused, ssl=true read as
sslmode=require, the last value wins).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifyfull.conninfo.redact import redact_text
from verifyfull.conninfo.versions import ALL_LIBPQ_KEYWORDS, PINNED, LibpqVersion
from verifyfull.errors import UsageError

# Every keyword the newest modelled libpq accepts; a version's own set is
# LibpqVersion.keywords (older libpq accepts a subset).
LIBPQ_KEYWORDS = ALL_LIBPQ_KEYWORDS

LIBPQ_URL_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9.-]*)(?:\+(?P<dialect>[A-Za-z0-9_.-]*))?://")


class ConnStringError(UsageError):
    """A connection string that cannot be read; the message never holds a password."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            redact_text(problem),
            "write it as postgresql://user@host:port/db?sslmode=verify-full&sslrootcert=… "
            "or as host=… port=… sslmode=verify-full",
        )


@dataclass(frozen=True)
class Split:
    """A connection string read into raw, decoded pairs, in the order written."""

    is_url: bool
    scheme: str | None  # 'postgresql', 'cockroachdb', … (URLs only)
    dialect: str | None  # the '+asyncpg' suffix without '+'
    pairs: tuple[tuple[str, str], ...]  # from the URL parts first, then the query


def url_scheme(text: str) -> tuple[str, str | None] | None:
    """(scheme, dialect) when text starts like a URL, else None."""
    match = _SCHEME.match(text.strip())
    if match is None:
        return None
    return match.group("scheme").lower(), match.group("dialect")


def split(text: str, libpq: LibpqVersion = PINNED.psycopg_libpq) -> Split:
    """Read a URL or a keyword string the way that libpq does, keeping unknown keys."""
    # Leading blanks are forgiven (a value read from a config file); trailing ones
    # are libpq's to read: "[::1] " is refused, "db " trimmed by libpq 18 only.
    stripped = text.lstrip()
    scheme = url_scheme(stripped)
    if scheme is not None:
        body = stripped[_SCHEME.match(stripped).end() :]  # type: ignore[union-attr]
        return Split(True, scheme[0], scheme[1], tuple(_split_url(body, libpq)))
    return Split(False, None, None, tuple(_split_keywords(stripped)))


def libpq_reading(text: str, libpq: LibpqVersion = PINNED.psycopg_libpq) -> dict[str, str]:
    """Exactly what that libpq makes of `text` (conninfo_to_dict), errors included.

    Unlike `split`, no leniency: only a text starting with "postgresql://" or
    "postgres://" (case and all) is a URL; anything else is a keyword string.
    """
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            scheme = prefix[:-3]
            url_pairs = tuple(_split_url(text[len(prefix) :], libpq))
            return to_libpq_dict(Split(True, scheme, None, url_pairs), libpq)
    pairs = tuple(_split_keywords(text, show_names=False))
    return to_libpq_dict(Split(False, None, None, pairs), libpq)


def to_libpq_dict(parts: Split, libpq: LibpqVersion = PINNED.psycopg_libpq) -> dict[str, str]:
    """What that libpq's conninfo_to_dict returns for these parts (raises as it would)."""
    keywords = libpq.keywords
    result: dict[str, str] = {}
    for key, value in parts.pairs:
        if parts.is_url and key == "ssl" and value == "true":
            # libpq's JDBC compatibility: ?ssl=true in a URL means sslmode=require.
            key, value = "sslmode", "require"
        if key not in keywords:
            if parts.is_url:
                raise ConnStringError(f'invalid URI query parameter: "{key}"')
            raise ConnStringError(f'invalid connection option "{key}"')
        result[key] = value
    return result


def _decode(token: str, part: str, libpq: LibpqVersion) -> str:
    """libpq's %XX decoding; errors name the part, never echo the token (it may be a password).

    libpq 18 also trims spaces around each token and refuses spaces inside one;
    17 and older keep them as written.
    """
    if libpq.trims_url_blanks:
        token = token.strip(" ")
    if libpq.trims_url_blanks and " " in token:
        raise ConnStringError(
            f"unexpected spaces found in the {part}, use percent-encoded spaces (%20) instead"
        )
    out = bytearray()
    raw = token.encode("utf-8")
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == 0x25:  # '%'
            hex_digits = raw[i + 1 : i + 3]
            if len(hex_digits) < 2 or not all(
                chr(c) in "0123456789abcdefABCDEF" for c in hex_digits
            ):
                raise ConnStringError(f"invalid percent-encoded token in the {part}")
            value = int(hex_digits, 16)
            if value == 0:
                raise ConnStringError(f"forbidden value %00 in percent-encoded {part}")
            out.append(value)
            i += 3
        else:
            out.append(char)
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:  # psycopg decodes libpq's final answer strictly and raises
        undecodable = _NotUtf8(out.decode("utf-8", "replace"))
        undecodable.part = part
        return undecodable


def _split_url(body: str, libpq: LibpqVersion) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pos = 0
    # User info runs to the first '@' before any '/', as in libpq.
    at = _first_of(body, "@/", 0)
    if at < len(body) and body[at] == "@":
        userinfo = body[:at]
        user, colon, password = userinfo.partition(":")
        if user:
            pairs.append(("user", _decode(user, "user name", libpq)))
        if colon and password:
            pairs.append(("password", _decode(password, "password", libpq)))
        pos = at + 1
    hosts: list[str] = []
    ports: list[str] = []
    any_port = False
    prevchar = ""
    while True:
        if pos < len(body) and body[pos] == "[":
            close = body.find("]", pos + 1)
            if close == -1:
                raise ConnStringError(
                    'end of string reached when looking for matching "]" in IPv6 host address'
                )
            if close == pos + 1:
                raise ConnStringError("IPv6 host address may not be empty in URI")
            host = body[pos + 1 : close]
            pos = close + 1
            if pos < len(body) and body[pos] not in ":/?,":
                raise ConnStringError(
                    f'unexpected character "{body[pos]}" at position {pos + 1} in URI '
                    '(expected ":" or "/")'
                )
        else:
            end = _first_of(body, ":/?,", pos)
            host = body[pos:end]
            pos = end
        prevchar = body[pos] if pos < len(body) else ""
        hosts.append(host)
        port = ""
        if prevchar == ":":
            any_port = True
            end = _first_of(body, "/?,", pos + 1)
            port = body[pos + 1 : end]
            pos = end
            prevchar = body[pos] if pos < len(body) else ""
        ports.append(port)
        if prevchar != ",":
            break
        pos += 1
    host_text = ",".join(hosts)
    if host_text:
        pairs.append(("host", _decode(host_text, "host", libpq)))
    port_text = ",".join(ports)
    if port_text and (any_port or len(ports) > 1):
        pairs.append(("port", _decode(port_text, "port", libpq)))
    query = ""
    if prevchar == "/":
        rest = body[pos + 1 :]
        dbname, qmark, query = rest.partition("?")
        if dbname:
            pairs.append(("dbname", _decode(dbname, "database name", libpq)))
        if not qmark:
            query = ""
    elif prevchar == "?":
        query = body[pos + 1 :]
    if query:
        pairs.extend(_split_query(query, libpq))
    return _final_values_utf8(pairs)


class _NotUtf8(str):
    """A value whose %XX bytes are not UTF-8: libpq takes the bytes, psycopg refuses to
    decode them only if the value is still there after a later key replaced it."""

    part: str


def _final_values_utf8(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last = {key: index for index, (key, _) in enumerate(pairs)}
    for index, (_, value) in enumerate(pairs):
        if isinstance(value, _NotUtf8) and last[pairs[index][0]] == index:
            raise ConnStringError(f"the percent-encoded {value.part} is not UTF-8")
    # (A replaced one is gone for good: the later value wins everywhere.)
    return [pair for pair in pairs if not isinstance(pair[1], _NotUtf8)]


def _split_query(query: str, libpq: LibpqVersion) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    items = query.split("&")
    if len(items) > 1 and not items[-1]:
        # conninfo_uri_parse_params loops while characters remain: one '&' after the
        # last pair ends the query (`?a=b&`); an empty item anywhere else is refused.
        items.pop()
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise ConnStringError(
                f'missing key/value separator "=" in URI query parameter: "{_shown_key(key)}"'
            )
        if "=" in value:
            raise ConnStringError(
                f'extra key/value separator "=" in URI query parameter: "{_shown_key(key)}"'
            )
        name = _decode(key, "query parameter name", libpq)
        if isinstance(name, _NotUtf8):  # never a keyword: refused whatever follows
            raise ConnStringError("the percent-encoded query parameter name is not UTF-8")
        pairs.append((name, _decode(value, f"value of {name}", libpq)))
    return pairs


def _shown_key(key: str) -> str:
    # A known parameter name is safe to show; anything else might be part of
    # a password that broke the syntax.
    return key if key in LIBPQ_KEYWORDS or key == "ssl" else "…"


def _first_of(text: str, chars: str, start: int) -> int:
    for index in range(start, len(text)):
        if text[index] in chars:
            return index
    return len(text)


def keyword_string_error(text: str, libpq: LibpqVersion = PINNED.psycopg_libpq) -> str | None:
    """libpq's complaint when `text` is read as a keyword string (None: it reads).

    For a URL with a scheme libpq does not know (cockroachdb://,
    postgresql+asyncpg://): libpq then parses it as key=value pairs. Pass
    redacted text: the message quotes it.
    """
    try:
        pairs = _split_keywords(text, show_names=True)
    except ConnStringError as exc:
        return exc.problem
    for key, _ in pairs:
        if key not in libpq.keywords:
            return f'invalid connection option "{key}"'
    return None


def _split_keywords(text: str, *, show_names: bool = False) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pos = 0
    length = len(text)
    while pos < length:
        while pos < length and text[pos].isspace():
            pos += 1
        if pos >= length:
            break
        start = pos
        while pos < length and text[pos] != "=" and not text[pos].isspace():
            pos += 1
        name = text[start:pos]
        while pos < length and text[pos].isspace():
            pos += 1
        if pos >= length or text[pos] != "=":
            shown = name if show_names or name.lower() in LIBPQ_KEYWORDS else "…"
            raise ConnStringError(f'missing "=" after "{shown}" in connection info string')
        pos += 1
        while pos < length and text[pos].isspace():
            pos += 1
        value: list[str] = []
        if pos < length and text[pos] == "'":
            pos += 1
            while True:
                if pos >= length:
                    raise ConnStringError("unterminated quoted string in connection info string")
                char = text[pos]
                if char == "\\":
                    pos += 1
                    if pos < length:
                        value.append(text[pos])
                        pos += 1
                    continue
                if char == "'":
                    pos += 1
                    break
                value.append(char)
                pos += 1
        else:
            while pos < length and not text[pos].isspace():
                if text[pos] == "\\":
                    pos += 1
                    if pos < length:
                        value.append(text[pos])
                        pos += 1
                else:
                    value.append(text[pos])
                    pos += 1
        pairs.append((name, "".join(value)))
    return pairs
