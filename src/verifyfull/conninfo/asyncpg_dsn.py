"""A DSN read the way asyncpg 0.32 reads it (connect_utils._parse_connect_dsn_and_args).

asyncpg does not use libpq's grammar: urllib splits the URL, the user info
ends at the first '@' of the netloc, %XX is decoded leniently (a raw '%' in a
password passes, %00 becomes a NUL), the query goes through
parse_qs(strict_parsing=True) ('+' is a space, the last value of a key wins,
'a=b=c' is a=('b=c')), and what is written before the query beats the query:
a netloc host makes ?host= and ?port= ignored, a path beats ?dbname=, a
netloc user beats ?user=. Hosts in ?host= are split as `host:port` and
`[v6]:port`. libpq refuses several of these inputs; asyncpg connects.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

from verifyfull.conninfo.endpoints import asyncpg_hostlist
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.model import ConnInfo, HostPort, Source, split_secret_pairs
from verifyfull.conninfo.redact import Secret, is_secret_key

ASYNCPG_SCHEMES = ("postgresql", "postgres")


def read_asyncpg_dsn(
    dsn: str, *, literal: bool = True, host_given: bool = False, port_given: bool = False
) -> ConnInfo:
    """asyncpg's reading of `dsn`; raises ConnStringError where asyncpg raises.

    host_given, port_given: connect() also got a host or port argument (a truthy one:
    asyncpg tests `if not host`). The arguments are read first, so asyncpg never reads
    the DSN's hosts beside a host argument (netloc and ?host=, not even to refuse them),
    nor any port the DSN writes beside a port argument; the DSN's ?port= still serves a
    host argument's hosts (kept as the `port` option, see endpoints.asyncpg_endpoints).
    """
    try:
        parsed = urlparse(dsn)
        query = parse_qs(parsed.query, strict_parsing=True) if parsed.query else {}
    except ValueError as exc:
        # urllib's messages ("Invalid IPv6 URL", "bad query field: …") may quote
        # the text; name the problem only.
        problem = "an invalid IPv6 literal" if "IPv6" in str(exc) else "a query field without '='"
        raise ConnStringError(f"asyncpg cannot read this DSN: {problem} (ValueError)") from None
    values = {key: items[-1] for key, items in query.items()}
    scheme = parsed.scheme
    if scheme.partition("+")[0] not in ASYNCPG_SCHEMES:
        raise ConnStringError(
            'invalid DSN: scheme is expected to be either "postgresql" or "postgres", '
            f"got {scheme!r}"
        )
    auth, at, hostspec = parsed.netloc.partition("@")
    if not at:
        auth, hostspec = "", parsed.netloc
    user_text, _, password_text = auth.partition(":")

    hosts: tuple[HostPort, ...] = ()
    if hostspec and not host_given:
        hosts = asyncpg_hostlist(hostspec, unquote=True, ports=not port_given)
    # A netloc host list carries its ports (or PGPORT's): ?port= is then never read.
    query_port = None if hosts or port_given else values.pop("port", None)
    values.pop("port", None)
    query_host = None if host_given else values.pop("host", None)
    values.pop("host", None)
    if not hosts and query_host:
        hosts = asyncpg_hostlist(query_host, ports=not (query_port or port_given))
    if query_port:
        # Kept apart from the hosts (?host='s, the host argument's, PGHOST's or the
        # default ones): endpoints.asyncpg_endpoints pairs them, as asyncpg does, and a
        # list that does not pair is asyncpg's ClientConfigurationError there.
        values["port"] = port_list(query_port)

    database: str | None = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
    if not parsed.path:
        database = None
    for key in ("dbname", "database"):
        value = values.pop(key, None)
        if database is None and value is not None:
            database = value
    user = unquote(user_text) if user_text else None
    query_user = values.pop("user", None)
    user = user if user is not None else query_user
    password = unquote(password_text) if password_text else None
    query_password = values.pop("password", None)
    password = password if password is not None else query_password

    plain, secret = split_secret_pairs(list(values.items()))
    return ConnInfo(
        source=Source.URL,
        scheme=scheme.partition("+")[0],
        dialect=scheme.partition("+")[2] or None,
        hosts=hosts,
        user=user,
        password=Secret(password) if password else None,
        database=database,
        params=plain,
        secret_params=secret,
        literal=literal,
        reading_notes=_plus_notes(parsed.query),
    )


def port_list(port_text: str) -> str:
    """A port list asyncpg int()s where it reads it (a DSN's ?port=, a service's port)."""
    try:
        [int(p) for p in port_text.split(",")]
    except ValueError:
        raise ConnStringError("the ?port= value is not a number (asyncpg: int() fails)") from None
    return port_text


def _plus_notes(query: str) -> tuple[str, ...]:
    notes = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        name = unquote(key)
        # sslpassword is a secret: never quoted in a message.
        if name.startswith("ssl") and not is_secret_key(name) and "+" in value:
            notes.append(
                f"asyncpg reads '+' in the DSN query as a space: {unquote(key)}={unquote(value)} "
                f"names {unquote(value.replace('+', ' '))!r}; write '+' as %2B"
            )
    return tuple(notes)


def asyncpg_call(info: ConnInfo) -> tuple[str, list[int]]:
    """A DSN and a port argument that asyncpg reads to the hosts and ports `info` gives it
    (endpoints.asyncpg_endpoints), leaving unwritten what was: no host written is no host
    (PGHOST's, else asyncpg's own list), no port written is PGPORT's, else 5432.

    Hosts go into the netloc, each percent-encoded (asyncpg unquotes them, so a host
    argument 'h:5433' or '@name' stays one name; an IPv6 address in brackets). A port
    given apart from the hosts (a port argument, a DSN's ?port= that served a host
    argument's hosts or none) becomes the port argument: beside netloc hosts asyncpg
    never reads ?port=."""
    import ipaddress
    from urllib.parse import quote

    hosts = info.hosts
    apart = info.param("port") if info.source is Source.URL else None
    if not hosts:
        apart = info.kwarg("port") or apart
    ports: list[int] = []
    named = hosts
    if hosts and "port" in info.written and all(h.port is not None for h in hosts):
        ports = [h.port for h in hosts if h.port is not None]  # the port argument's
        named = tuple(HostPort(h.host) for h in hosts)
    elif apart:
        ports = [int(p) for p in apart.split(",")]
        named = tuple(HostPort(h.host) for h in hosts)

    def shown(host: HostPort) -> str:
        masked = host.shown_host()
        if masked != host.host:  # the rest of a password (docs/conninfo.md, Passwords)
            return masked if host.port is None else f"{masked}:{host.port}"
        try:
            name = f"[{host.host}]" if ipaddress.ip_address(host.host).version == 6 else host.host
        except ValueError:
            name = quote(host.host, safe="")
        return name if host.port is None else f"{name}:{host.port}"

    user = quote(info.user, safe="") + "@" if info.user is not None else ""
    path = "/" + quote(info.database, safe="") if info.database is not None else ""
    dsn = f"postgresql://{user}{','.join(shown(h) for h in named)}{path}"
    if len(set(ports)) == 1:
        ports = ports[:1]
    return dsn, ports
