"""Minimal text edits to a libpq connection string (URL or keyword form).

conninfo decides what a string means; this module only rewrites the TLS
parameters in place, so every byte of the string that is not a TLS parameter
stays as written (host lists, options, placeholders such as `{DB_HOST}` or
`${DB_HOST}` inside the text are never touched).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Parameters a fix owns: replaced or removed, never left half-way.
TLS_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "ssl")
_URL_SCHEME = re.compile(r"^\s*[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_URL_PARAM = re.compile(r"([?&])([A-Za-z_]+)=([^&#]*)")
_KEYWORD_PARAM = re.compile(r"(^|\s)([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


@dataclass(frozen=True)
class CertFiles:
    """How the CA, client certificate and key are written in the edited text."""

    root: str | None
    cert: str | None = None
    key: str | None = None

    def params(self) -> list[tuple[str, str]]:
        named = (("sslrootcert", self.root), ("sslcert", self.cert), ("sslkey", self.key))
        return [(name, value) for name, value in named if value]


def is_url(text: str) -> bool:
    return bool(_URL_SCHEME.match(text))


def url_tls_params(text: str) -> dict[str, str]:
    """The TLS query parameters of a URL, as written (last one wins)."""
    query = text.partition("?")[2]
    return {
        m.group(2): m.group(3) for m in _URL_PARAM.finditer("?" + query) if m.group(2) in TLS_KEYS
    }


def strip_url_tls(text: str) -> str:
    """The URL without its TLS query parameters (`?` kept correct for what remains)."""
    base, sep, query = text.partition("?")
    if not sep:
        return text
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in TLS_KEYS]
    return base + ("?" + "&".join(kept) if kept else "")


def upgrade(text: str, files: CertFiles, *, url: bool | None = None, query: bool = False) -> str:
    """`text` with sslmode=verify-full and the certificate files it lacks.

    Keeps a root, certificate or key already named; when the text names its own
    root, no client certificate is added (the author chose the files). Removes
    the JDBC-style `ssl=` alias (libpq reads it as require, asyncpg as a server
    setting).

    url, query: the shape of the string the text is part of, when the text alone does
    not show it (an f-string's source, whose values make the URL and perhaps its query:
    fix/rendering.py); None reads the shape from the text.
    """
    if url is None:
        url, query = is_url(text), False
    if url:
        return _upgrade_url(text, files, query)
    return _upgrade_keywords(text, files)


def _upgrade_url(text: str, files: CertFiles, query_elsewhere: bool = False) -> str:
    base, sep, rest = text.partition("?")
    if not sep and query_elsewhere:
        # the query is in a value the text reads (`f"{base}/db{options}"`): the
        # parameters join it at the end
        present = {m.group(2) for m in _URL_PARAM.finditer(text)}
        files = _own_root_only(files, present)
        mode_set = False

        def rewrite(match: re.Match[str]) -> str:
            nonlocal mode_set
            name = match.group(2)
            if name == "ssl" or (name == "sslmode" and mode_set):
                return ""
            if name == "sslmode":
                mode_set = True
                return f"{match.group(1)}sslmode=verify-full"
            return match.group(0)

        edited = _URL_PARAM.sub(rewrite, text)
        added = [] if mode_set else ["sslmode=verify-full"]
        added += [f"{name}={value}" for name, value in files.params() if name not in present]
        return edited + "".join(f"&{pair}" for pair in added)
    query, hash_sep, fragment = rest.partition("#")
    pairs = [p for p in query.split("&") if p] if sep else []
    present = {p.split("=", 1)[0] for p in pairs}
    files = _own_root_only(files, present)
    out: list[str] = []
    mode_set = False
    for pair in pairs:
        name = pair.split("=", 1)[0]
        if name == "ssl":
            continue
        if name == "sslmode":
            if not mode_set:
                out.append("sslmode=verify-full")
                mode_set = True
            continue
        out.append(pair)
    if not mode_set:
        out.append("sslmode=verify-full")
    out += [f"{name}={value}" for name, value in files.params() if name not in present]
    return base + "?" + "&".join(out) + (hash_sep + fragment)


def _upgrade_keywords(text: str, files: CertFiles) -> str:
    present = {m.group(2) for m in _KEYWORD_PARAM.finditer(text)}
    files = _own_root_only(files, present)
    mode_set = False

    def rewrite(match: re.Match[str]) -> str:
        nonlocal mode_set
        lead, name = match.group(1), match.group(2)
        if name == "ssl":
            return ""
        if name == "sslmode":
            if mode_set:
                return ""
            mode_set = True
            return f"{lead}sslmode=verify-full"
        return match.group(0)

    edited = _KEYWORD_PARAM.sub(rewrite, text)
    trailing = edited[len(edited.rstrip()) :]
    edited = edited.rstrip()
    extra = [] if mode_set else ["sslmode=verify-full"]
    extra += [f"{name}={value}" for name, value in files.params() if name not in present]
    return " ".join([edited, *extra]) + trailing if extra else edited + trailing


def _own_root_only(files: CertFiles, present: set[str]) -> CertFiles:
    return CertFiles(None) if "sslrootcert" in present else files
