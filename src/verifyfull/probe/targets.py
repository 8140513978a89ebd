"""What the user names on the command line, turned into endpoints to dial.

postgresql://, postgres://, cockroachdb:// (any +driver suffix), multi-host
included, are read by verifyfull.conninfo, the one parser of connection
strings; `host:port` and http(s):// URLs are read here. A password in a DSN
is never used and never shown.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from verifyfull.conninfo.parse import parse_dsn
from verifyfull.errors import UsageError

PG_DEFAULT_PORT = 5432
CRDB_DEFAULT_PORT = 26257
PG_SCHEMES = ("postgresql", "postgres", "cockroachdb")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Target:
    text: str  # as shown: passwords masked
    protocol: str  # "pg", "https" or "http"
    endpoints: tuple[Endpoint, ...]
    user: str | None = None
    database: str | None = None
    path: str = "/"  # HTTPS only: path and query, sent only over TLS verified for the host
    ca: Path | None = None  # sslrootcert from the DSN
    cert: Path | None = None  # sslcert from the DSN
    key: Path | None = None  # sslkey from the DSN


def parse_target(text: str) -> Target:
    raw = text.strip()
    if not raw:
        raise UsageError("empty probe target", "name host:port, a postgresql:// URL or https://")
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else None
    if scheme in ("http", "https"):
        return _http_target(raw, scheme)
    if scheme is not None:
        base = scheme.split("+", 1)[0]
        if base not in PG_SCHEMES:
            raise UsageError(
                f"unsupported target scheme {scheme!r}",
                "use postgresql://, cockroachdb://, host:port, https:// or http://",
            )
        return _pg_url_target(raw, base)
    return _host_port_target(raw)


def _pg_url_target(raw: str, scheme: str) -> Target:
    info = parse_dsn(raw)
    default_port = CRDB_DEFAULT_PORT if scheme == "cockroachdb" else PG_DEFAULT_PORT
    endpoints = tuple(Endpoint(hp.host, hp.port or default_port) for hp in info.tcp_hosts) or (
        Endpoint("localhost", default_port),
    )
    if info.only_unix_sockets:
        raise UsageError(
            f"{info} names only Unix sockets", "probe a TCP host: TLS is not used on sockets"
        )

    def path(key: str) -> Path | None:
        value = info.param(key)
        return Path(value).expanduser() if value and value != "system" else None

    return Target(
        text=str(info),
        protocol="pg",
        endpoints=endpoints,
        user=info.user,
        database=info.database,
        ca=path("sslrootcert"),
        cert=path("sslcert"),
        key=path("sslkey"),
    )


def _host_port_target(raw: str) -> Target:
    host, sep, port_text = raw.rpartition(":")
    if not sep or not host:
        raise UsageError(
            f"probe target {raw!r} has no port", "write host:port, e.g. db.internal:26257"
        )
    bracketed = host.startswith("[") and host.endswith("]")
    host = host.strip("[]")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            bracketed = False
        if not bracketed:
            raise UsageError(f"probe target {raw!r} is not host:port", "write IPv6 as [::1]:26257")
    port = _port(port_text, raw)
    endpoint = Endpoint(host, port)
    return Target(text=endpoint.label, protocol="pg", endpoints=(endpoint,))


def _http_target(raw: str, scheme: str) -> Target:
    parts = urlsplit(raw)
    if not parts.hostname:
        raise UsageError(f"probe target {raw!r} has no host", "e.g. https://api.example.com")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UsageError(f"probe target {raw!r} has an invalid port", "use 1-65535") from None
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
    # Userinfo and fragment are dropped here: they are never sent, never shown.
    path = _request_text(parts.path or "/")
    query = _request_text(parts.query)
    return Target(
        text=urlunsplit((scheme, netloc, path, "", "")),  # no query: it may hold a token
        protocol=scheme,
        endpoints=(Endpoint(parts.hostname, port),),
        path=path + (f"?{query}" if query else ""),
    )


def _request_text(text: str) -> str:
    """Percent-encode what may not stand in a request line (spaces, controls, non-ASCII)."""
    return quote(text, safe="/?:@!$&'()*+,;=-._~%")


def _port(text: str, raw: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"invalid port in probe target {raw!r}", "use a number 1-65535")
    return int(text)
