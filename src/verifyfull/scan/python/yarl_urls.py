"""yarl's URL (aiohttp's URL type, and the settings property `db_url` of the s3rius
fastapi_template layout): what `URL.build(...)` writes and what each edit leaves of the
query, where a connection's sslmode or ssl lives (held-out-s20 StabRise/scaledp-chat).

Read in yarl's _url.py and checked against yarl 1.25.1:
- `URL.build(*, scheme, authority, user, password, host, port, path, query,
  query_string, fragment, encoded)`: `query` is a mapping, a sequence of pairs or a
  string, `query_string` a string;
- `with_path(path)` (unless `keep_query=True`), `joinpath(...)`, `with_name(...)`,
  `with_suffix(...)` and `url / "segment"` clear the query and the fragment: a TLS
  setting in the query is removed there;
- `with_port`, `with_user`, `with_password`, `with_fragment` and `with_scheme` keep
  the query;
- `with_query(q)` replaces it (None clears it), `update_query(q)` sets the keys it
  names (None clears it), `extend_query(q)` appends, `without_query_params(*keys)`
  removes those keys.

The resolver hands the resolved arguments here; a value that is not known is Unknown
with the reason, never a guess.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from verifyfull.scan.python import urls
from verifyfull.scan.python.values import (
    Const,
    DictValue,
    ListValue,
    Text,
    Unknown,
    Value,
    as_text,
)

BUILD = "yarl.URL.build"
CONSTRUCTOR = "yarl.URL"
PATH_EDITS = frozenset({"with_path", "joinpath", "with_name", "with_suffix"})
QUERY_KEEPING_EDITS = frozenset(
    {"with_port", "with_user", "with_password", "with_fragment", "with_scheme"}
)
QUERY_EDITS = frozenset({"with_query", "update_query", "extend_query", "without_query_params"})
EDITS = PATH_EDITS | QUERY_KEEPING_EDITS | QUERY_EDITS

_CLEARED = object()  # a query argument of None: the query is cleared


def is_url(value: Value) -> bool:
    """A Text whose known start names a scheme: a URL, not some other string."""
    if not isinstance(value, Text) or not value.parts:
        return False
    first = value.parts[0]
    return isinstance(first, str) and "://" in first


def query_pairs(value: Value) -> list[tuple[str, str]] | object | None:
    """A yarl query argument as pairs, _CLEARED for None, or None when not known."""
    if isinstance(value, Const) and value.value is None:
        return _CLEARED
    if isinstance(value, DictValue):
        pairs = [(key, _known(item)) for key, item in value.items]
        if not value.complete or any(v is None for _, v in pairs):
            return None
        return [(k, v) for k, v in pairs if v is not None]
    if isinstance(value, ListValue):
        found: list[tuple[str, str]] = []
        for item in value.items:
            if not (isinstance(item, ListValue) and len(item.items) == 2):
                return None
            key, text = _known(item.items[0]), _known(item.items[1])
            if key is None or text is None:
                return None
            found.append((key, text))
        return found
    text = _known(value)
    if text is None:
        return None
    return parse_qsl(text.lstrip("?"), keep_blank_values=True)


def _known(value: Value) -> str | None:
    """The text a value is when wholly known (values.as_text: a number as written; a
    bool is none, as yarl refuses one in a query)."""
    text = as_text(value)
    return text.known if text is not None else None


def build(parts: dict[str, Value]) -> Value:
    """`URL.build(...)` from its resolved keyword arguments (urls.build writes the text)."""
    if "authority" in parts:
        return Unknown("a yarl URL built from an authority")
    texts: dict[str, Text | None] = {}
    for name in ("scheme", "user", "password", "host", "port", "path"):
        if name not in parts:
            continue
        value = parts[name]
        text = as_text(value)
        if isinstance(value, Const) and value.value is None:
            texts[name] = None
        else:  # as PostgresDsn.build's parts (resolve._dsn_build)
            texts[name] = text or Text((Unknown(f"the {name} of URL.build()"),))
    query: list[tuple[str, str]] = []
    for name in ("query", "query_string"):
        if name not in parts:
            continue
        pairs = query_pairs(parts[name])
        if pairs is None:
            texts["query"] = Text((Unknown(f"the {name} of URL.build()"),))
            break
        if isinstance(pairs, list):
            query += pairs
    else:
        if query:
            texts["query"] = Text.of(urlencode(query, safe="/:@"))
    return urls.build(texts, "yarl URL.build()")


def edit(
    receiver: Text, method: str, given: list[Value], keywords: dict[str, Value], line: int
) -> Value:
    """What `receiver.<method>(*given, **keywords)` leaves of a yarl URL's text."""
    if method in QUERY_KEEPING_EDITS:
        if method == "with_scheme":
            scheme = _known(given[0]) if given else None
            if scheme is None:
                return Unknown("a URL whose scheme is replaced by one not known")
            return urls.with_scheme(receiver, scheme)
        return receiver
    if method in PATH_EDITS:
        keep = keywords.get("keep_query")
        if method == "with_path" and isinstance(keep, Const) and keep.value is True:
            return receiver
        if method == "with_path" and keep is not None and not isinstance(keep, Const):
            return Unknown("a URL whose query is kept or not, by a value not known")
        return urls.strip_query(receiver, line)
    if method == "without_query_params":
        names = [_known(v) for v in given]
        if any(n is None for n in names):
            return Unknown("a URL with query keys removed that are not known")
        return urls.without_keys(receiver, [n for n in names if n is not None], line)
    argument: Value | None = given[0] if given else None
    if argument is None and keywords:
        argument = DictValue(tuple(keywords.items()), True)
    pairs = _CLEARED if argument is None else query_pairs(argument)
    if pairs is None:
        return Unknown(f"a URL whose query is changed by {method}() with values not known")
    if pairs is _CLEARED or (method == "with_query" and not pairs):
        return urls.strip_query(receiver, line)
    assert isinstance(pairs, list)
    if method == "with_query":
        return urls.with_query(receiver, dict(pairs), line)
    return urls.merged_query(receiver, pairs, append=method == "extend_query")
