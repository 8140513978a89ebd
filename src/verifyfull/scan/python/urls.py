"""What code does to a connection URL's text once it is built: pydantic's
`PostgresDsn.build(...)`, and the edits that remove TLS settings from it
(`url.split("?")[0]`, `urlsplit(url)._replace(query="")`,
`make_url(url).difference_update_query(["sslmode"])`, `url.set(query={})`).

Each works on a partly known Text: the edit is made when the part it touches is
known, and otherwise the result is Unknown with the reason (never a guess). A
removal is noted on the value ("TLS settings removed at line N"), so the evidence
of the connection site says where its sslmode went.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from urllib.parse import parse_qsl, unquote_plus, urlencode

from verifyfull.scan.python.values import DictValue, Text, Unknown, Value, as_text

# The query keys that decide TLS (libpq and asyncpg spellings): what a removal reports.
TLS_KEYS = frozenset({"sslmode", "ssl", "sslrootcert", "sslcert", "sslkey", "sslcrl"})


def _split(text: Text) -> tuple[Text, str | None] | None:
    """(the URL before '?', the query text or None when there is none); None when the
    query cannot be read (an unknown part after or around the '?')."""
    head: list[str | Unknown] = []
    for index, part in enumerate(text.parts):
        if isinstance(part, str) and "?" in part:
            before, _, after = part.partition("?")
            rest = text.parts[index + 1 :]
            if any(isinstance(p, Unknown) for p in rest):
                return None
            tail = after + "".join(p for p in rest if isinstance(p, str))
            return Text((*head, before) if before else tuple(head), text.notes), tail
        head.append(part)
    if text.parts and isinstance(text.parts[-1], Unknown):
        return None  # the unknown end may hold a query
    return text, None


def known_tls_pairs(query: Text) -> dict[str, str]:
    """The TLS keys a partly known query writes with a known value (`sslmode=require` in
    `sslmode=require&{the other keys}`); a key whose value is a hole is not one."""
    found: dict[str, str] = {}
    for part in query.parts:
        if isinstance(part, str):
            for key, value in parse_qsl(part.strip("&?"), keep_blank_values=True):
                if key in TLS_KEYS and value:
                    found[key] = value
    return found


def over_query(url: str, pairs: dict[str, str]) -> str:
    """`url` with `pairs` set in its query (each replacing the key's value there)."""
    base, _, query = url.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in pairs]
    return base + "?" + urlencode([*kept, *pairs.items()], safe="/:@")


def strip_query(text: Text, line: int) -> Value:
    """`url.split("?")[0]`, `urlsplit(url)._replace(query="")`: everything after '?'."""
    split = _split(text)
    if split is None:
        head = [p for p in text.parts if not (isinstance(p, str) and "?" in p)]
        if len(head) == len(text.parts):
            return Unknown("a URL cut at '?' whose query part is not known")
        return Unknown("a URL cut at '?' with unknown parts")
    base, query = split
    removed = _tls_keys(query)
    if not removed:
        return base
    return _removal_note(base, removed, line)


def without_keys(text: Text, keys: Iterable[str], line: int) -> Value:
    """`make_url(url).difference_update_query([...])`, `query.pop("sslrootcert")`."""
    split = _split(text)
    if split is None:
        return Unknown("a URL query edited where it is not known")
    base, query = split
    if query is None:
        return text
    dropped = set(keys)
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k not in dropped]
    removed = sorted({k for k, _ in pairs if k in dropped} & TLS_KEYS)
    result = base + Text.of("?" + urlencode(kept, safe="/:@")) if kept else base
    return _removal_note(result, removed, line) if removed else result


def with_query(text: Text, query: dict[str, str], line: int) -> Value:
    """`url.set(query={...})`: the query replaced."""
    stripped = strip_query(text, line)
    if not isinstance(stripped, Text) or not query:
        return stripped
    return stripped + Text.of("?" + urlencode(list(query.items()), safe="/:@"))


def merged_query(text: Text, pairs: list[tuple[str, str]], append: bool) -> Value:
    """yarl's `url.update_query(pairs)` (each key set, the others kept) and
    `url.extend_query(pairs)` (appended after the old ones)."""
    split = _split(text)
    if split is None:
        return Unknown("a URL whose old query cannot be told from the rest")
    base, query = split
    old = parse_qsl(query or "", keep_blank_values=True)
    if not append:
        named = {key for key, _ in pairs}
        old = [(k, v) for k, v in old if k not in named]
    merged = [*old, *pairs]
    return base + Text.of("?" + urlencode(merged, safe="/:@")) if merged else base


def replace_query(text: Text, query: str) -> Value:
    """`urlparse(url)._replace(query=urlencode(params))` with the new query known: the
    URL before '?' and that query (whatever the old one said is gone)."""
    split = _split(text)
    if split is None:
        return Unknown("a URL whose old query cannot be told from the rest")
    return split[0] + Text.of("?" + query)


def with_scheme(text: Text, scheme: str) -> Value:
    """`url.set(drivername="postgresql+psycopg2")`: the part before '://' replaced."""
    first = text.parts[0] if text.parts else None
    if not isinstance(first, str) or "://" not in first:
        return Unknown("a URL whose scheme is not known")
    rest = first.split("://", 1)[1]
    return Text((f"{scheme}://{rest}", *text.parts[1:]), text.notes)


def build(parts: dict[str, Text | None], what: str = "PostgresDsn.build()") -> Text:
    """pydantic `PostgresDsn.build(scheme=, user|username=, password=, host=, port=,
    path=, query=)` (v1 and v2: a path with or without its leading '/'), and yarl's
    `URL.build(...)` of the same parts (yarl_urls.py)."""
    url = (parts.get("scheme") or Text((Unknown("scheme"),))) + Text.of("://")
    user = parts.get("username") or parts.get("user")
    if user is not None:
        url = url + user
        password = parts.get("password")
        if password is not None:
            url = url + Text.of(":") + password
        url = url + Text.of("@")
    host = parts.get("host")
    if host is not None:
        url = url + host
    port = parts.get("port")
    if port is not None:
        url = url + Text.of(":") + port
    path = parts.get("path")
    if path is not None:
        lead = path.parts[0] if path.parts else ""
        slash = isinstance(lead, str) and lead.startswith("/")
        url = url + (path if slash else Text.of("/") + path)
    query = parts.get("query")
    if query is not None:
        url = url + Text.of("?") + query
    return replace(url, notes=(*url.notes, f"built by {what}"))


def _tls_keys(query: str | None) -> list[str]:
    if not query:
        return []
    return sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)} & TLS_KEYS)


def _removal_note(text: Text, removed: list[str], line: int) -> Text:
    note = f"TLS settings removed from the URL at line {line} ({', '.join(removed)})"
    return replace(text, notes=(*text.notes, note))


_PERCENT_FIELD = re.compile(r"%[sdr]")
# `%(name)s`: a key without ')' (bounded, so no backtracking), then the conversion
_PERCENT_NAMED = re.compile(r"%\(([^)]{0,200})\)([sdr])")


def percent(template: Text, given: Sequence[Value]) -> Text | None:
    """`"postgresql://%s:%s@%s/%s" % (user, password, host, name)`: each %s the
    argument's text (or an unknown part); None for a template this does not read
    (unknown, `%(name)s` mappings, a count that does not match)."""
    known = template.known
    if known is None or "%(" in known:
        return None
    pieces = _PERCENT_FIELD.split(known.replace("%%", "\0"))
    if len(pieces) != len(given) + 1:
        return None
    result = Text((), template.notes) + Text.of(pieces[0].replace("\0", "%"))
    for value, piece in zip(given, pieces[1:], strict=True):
        part = as_text(value) or Text((Unknown("a format argument"),))
        result = result + part + Text.of(piece.replace("\0", "%"))
    return result


def percent_mapping(template: Text, mapping: DictValue) -> Text | None:
    """`"postgresql://%(user)s:%(pw)s@%(host)s/%(db)s" % POSTGRES` (held-out-s15 carlostbf/TFG):
    each field the mapping's entry for its key. A key the mapping may hold without it
    being known here (a spread of a dict built elsewhere) is an unknown part, never a
    made-up one; None for a template this does not read (unknown text, positional %s
    mixed in, a key a complete mapping lacks: a KeyError, no connection)."""
    known = template.known
    if known is None:
        return None
    escaped = known.replace("%%", "\0")
    result = Text((), template.notes)
    position = 0
    for match in _PERCENT_NAMED.finditer(escaped):
        before = escaped[position : match.start()]
        if "%" in before:
            return None  # a positional field beside the named ones: a TypeError
        result = result + Text.of(before.replace("\0", "%"))
        key = match.group(1)
        value = mapping.get(key)
        if value is None and mapping.complete:
            return None
        part = as_text(value) if value is not None else None
        result = result + (part or Text((Unknown(f"mapping entry {key!r}"),)))
        position = match.end()
    rest = escaped[position:]
    if "%" in rest or position == 0:
        return None
    return result + Text.of(rest.replace("\0", "%"))


# urllib.parse's split results, by place: urlsplit's five, urlparse's six (`;params`)
SPLIT_FIELDS = ("scheme", "netloc", "path", "query", "fragment")
PARSE_FIELDS = ("scheme", "netloc", "path", "params", "query", "fragment")


def components(text: Text, fields: Sequence[str]) -> dict[str, Text] | None:
    """The parts urlsplit/urlparse would give of a partly known URL (`fields` names
    which), each a Text that keeps the holes it spans; None when the text has no
    written '://' (not a URL whose parts can be told). A hole is taken to hold no
    delimiter ('/', '?', '#'), as elsewhere here (_split): a host or a password, not
    a query."""
    stops = {"netloc": "/?#", "path": "?#", "params": "?#", "query": "#", "fragment": ""}
    found: dict[str, list[str | Unknown]] = {name: [] for name in fields}
    order = [name for name in fields if name != "params"]
    current = 0  # the index in `order` of the part being read
    seen_scheme = False
    for part in text.parts:
        if isinstance(part, Unknown):
            found[order[current]].append(part)
            continue
        rest = part
        if not seen_scheme:
            if "://" not in rest:
                found["scheme"].append(rest)
                continue
            scheme, rest = rest.split("://", 1)
            found["scheme"].append(scheme)
            seen_scheme, current = True, 1
        while rest:
            name = order[current]
            cut = min((rest.find(c) for c in stops[name] if c in rest), default=-1)
            if cut < 0:
                found[name].append(rest)
                break
            found[name].append(rest[:cut])
            delimiter, rest = rest[cut], rest[cut + 1 :]
            current = order.index({"/": "path", "?": "query", "#": "fragment"}[delimiter])
            if delimiter == "/":
                rest = "/" + rest  # the path keeps its leading slash
    if not seen_scheme:
        return None
    if "params" in found and found["path"]:
        # urlparse: ';params' of the path's last segment (a known part only)
        last = found["path"][-1]
        if isinstance(last, str) and ";" in last.rsplit("/", 1)[-1]:
            head, params = last.rsplit(";", 1)
            found["path"][-1] = head
            found["params"] = [params]
    # a part of a URL written in one place is still written there: a TLS setting its
    # query carries through urlunsplit is reported where the URL was written
    return {name: replace(_text(found[name], text.notes), written=text.written) for name in fields}


def _text(parts: list[str | Unknown], notes: tuple[str, ...]) -> Text:
    joined: list[str | Unknown] = []
    for part in parts:
        if isinstance(part, str) and not part:
            continue
        if joined and isinstance(part, str) and isinstance(joined[-1], str):
            joined[-1] += part
        else:
            joined.append(part)
    return Text(tuple(joined), notes)


def unsplit(parts: Sequence[Value], fields: Sequence[str]) -> Value:
    """urlunsplit((scheme, netloc, path, query, fragment)) / urlunparse's six: the URL
    put back together; Unknown when its scheme or host part is not a text."""
    texts = dict(zip(fields, (_part_text(p) for p in parts), strict=False))
    scheme, netloc = texts.get("scheme"), texts.get("netloc")
    if scheme is None or netloc is None or not scheme.parts or not netloc.parts:
        return Unknown("a URL put back together from parts not known")
    if any(isinstance(p, Unknown) for p in scheme.parts):
        return Unknown("a URL put back together with a scheme not known")
    url = scheme + Text.of("://") + netloc + (texts.get("path") or Text(()))
    params = texts.get("params")
    if params is not None and params.parts:
        url = url + Text.of(";") + params
    for mark, name in (("?", "query"), ("#", "fragment")):
        value = texts.get(name)
        if value is not None and value.parts:
            url = url + Text.of(mark) + value
    # where the URL put back is written: where its TLS setting was (a query carried
    # through), else, with no TLS setting in it, where its host was (the URL taken apart)
    query = texts.get("query")
    written = query.written if query is not None and known_tls_pairs(query) else netloc.written
    return replace(url, written=written) if written is not None else url


def _part_text(value: Value) -> Text:
    """A part given to urlunsplit as text: an unknown value is a hole, not nothing."""
    text = as_text(value)
    if text is not None:
        return text
    return Text((value if isinstance(value, Unknown) else Unknown("a URL part not known"),))


def query_pairs(query: Text) -> tuple[list[tuple[str, Text]], bool]:
    """parse_qsl of a partly known query text: (key, value) pairs, each value a Text
    that keeps its holes (`application_name={unknown}`), and whether every key is
    known. A hole is taken to hold no '&' or '=' (a value, not more pairs: as
    elsewhere here); a hole where a key stands makes the rest not known."""
    pairs: list[tuple[str, Text]] = []
    complete = True
    key: str | None = None  # the pair being read: its key once its '=' is met
    pending: list[str | Unknown] = []  # the key's text before '=', or the value's
    for part in (*query.parts, "&"):
        if isinstance(part, Unknown):
            if key is None:
                complete = False  # a hole in a key: which key is not known
            pending.append(part)
            continue
        for index, piece in enumerate(part.split("&")):
            if index:  # an '&': the pair read so far ends
                if key is not None:
                    pairs.append((unquote_plus(key), _value_text(pending, query.notes)))
                elif (
                    pending
                    and all(isinstance(p, str) for p in pending)
                    and "".join(p for p in pending if isinstance(p, str))
                ):
                    pairs.append(
                        (
                            unquote_plus("".join(p for p in pending if isinstance(p, str))),
                            Text.of(""),
                        )
                    )
                key, pending = None, []
            if key is None and "=" in piece and all(isinstance(p, str) for p in pending):
                name, _, rest = piece.partition("=")
                key = "".join(p for p in pending if isinstance(p, str)) + name
                pending = [rest] if rest else []
            else:
                pending.append(piece)
    return [(k, v) for k, v in pairs if k], complete


def _value_text(parts: list[str | Unknown], notes: tuple[str, ...]) -> Text:
    decoded = [unquote_plus(p) if isinstance(p, str) else p for p in parts]
    return _text(decoded, notes)
