"""Every written form of a connection -> one ConnInfo.

Forms: libpq URLs and keyword strings (parse_dsn), asyncpg keyword arguments
(from_asyncpg_kwargs), SQLAlchemy URLs, URL.create parts and connect_args
(from_sqlalchemy_url, from_url_parts), Tortoise db_url and config dicts
(from_tortoise_db_url, from_tortoise_config), and nothing at all
(from_environment). Parsing never reads the environment and never puts a
password into an error message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from urllib.parse import parse_qsl, unquote, urlsplit

from verifyfull.conninfo import django_url, libpq
from verifyfull.conninfo.asyncpg_dsn import ASYNCPG_SCHEMES, read_asyncpg_dsn
from verifyfull.conninfo.endpoints import hosts_from, parse_port
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.model import ConnInfo, HostPort, Source, split_secret_pairs
from verifyfull.conninfo.redact import MASK, Secret, is_secret_key
from verifyfull.conninfo.sqlalchemy_hosts import sqlalchemy_hosts
from verifyfull.conninfo.sslarg import SSLArg, describe_ssl_value
from verifyfull.conninfo.versions import PINNED, DriverVersions, LibpqVersion

# Schemes the model reads: libpq's two, sqlalchemy-cockroachdb's, and the
# names Tortoise gives its backends in db_url.
KNOWN_SCHEMES = ("postgresql", "postgres", "cockroachdb", "asyncpg", "psycopg")
TORTOISE_SCHEMES = ("postgres", "postgresql", "asyncpg", "psycopg")


def known_scheme(url: str) -> bool:
    """Whether a URL's scheme, its `+driver` dropped, is one the model reads
    (`postgresql+asyncpg://` yes, `sqlite:///`, `mysql+pymysql://` and no scheme no)."""
    scheme, sep, _ = url.partition("://")
    return bool(sep) and scheme.split("+", 1)[0].strip().lower() in KNOWN_SCHEMES


_CONNECTION_FIELDS = ("host", "hostaddr", "port", "user", "dbname", "password")


def parse_dsn(
    text: str, *, literal: bool = True, libpq_version: LibpqVersion = PINNED.psycopg_libpq
) -> ConnInfo:
    """A libpq URL (any known scheme, any +driver suffix) or keyword string, as that
    libpq version reads it (18 trims blanks in a URL, 17 keeps them)."""
    if not isinstance(text, str) or not text.strip():
        raise ConnStringError("empty connection string")
    scheme = libpq.url_scheme(text)
    if scheme is not None and scheme[0] not in KNOWN_SCHEMES:
        raise ConnStringError(
            f"unsupported scheme {scheme[0]!r} (expected one of {', '.join(KNOWN_SCHEMES)})"
        )
    if scheme is None and "=" not in text:
        raise ConnStringError("neither a URL (postgresql://…) nor a key=value string")
    parts = libpq.split(text, libpq_version)
    return _from_pairs(
        parts.pairs,
        source=Source.URL if parts.is_url else Source.KEYWORDS,
        scheme=parts.scheme,
        dialect=parts.dialect or None,
        literal=literal,
    )


def _from_pairs(
    pairs: Iterable[tuple[str, str]],
    *,
    source: Source,
    scheme: str | None,
    dialect: str | None,
    literal: bool,
    kwargs: tuple[tuple[str, str], ...] = (),
    ssl: SSLArg | None = None,
    engine: str | None = None,
) -> ConnInfo:
    fields: dict[str, str] = {}
    others: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in _CONNECTION_FIELDS:
            fields[key] = value  # the last one wins, as in libpq
        else:
            others.append((key, value))
    params, secret_params = split_secret_pairs(others)
    password = fields.get("password")
    return ConnInfo(
        source=source,
        scheme=scheme,
        dialect=dialect,
        hosts=hosts_from(
            fields.get("host"), fields.get("port"), fields.get("hostaddr"), ports_alone=True
        ),
        user=fields.get("user"),
        password=Secret(password) if password else None,
        database=fields.get("dbname"),
        params=params,
        secret_params=secret_params,
        kwargs=kwargs,
        ssl=ssl or SSLArg.absent(),
        engine=engine,
        literal=literal,
        written=tuple(k for k in ("host", "hostaddr", "port") if k in fields),
    )


# --- asyncpg -------------------------------------------------------------------


def from_asyncpg_kwargs(kwargs: Mapping[str, object], *, literal: bool = True) -> ConnInfo:
    """asyncpg.connect / create_pool keyword arguments (dsn included).

    Values the caller could not see may be left out; `ssl` may be given as an
    SSLArg already (the scanner) or as the live value (the guard).
    """
    dsn = kwargs.get("dsn")
    if isinstance(dsn, str) and dsn.strip():
        # asyncpg reads the arguments first: a host or port argument decides which of
        # the DSN's hosts and ports it reads at all.
        given = {"host_given": bool(kwargs.get("host")), "port_given": bool(kwargs.get("port"))}
        base = _asyncpg_dsn(dsn, literal=literal, **given)
    else:
        base = ConnInfo(source=Source.KWARGS, literal=literal)
    return _overlay_kwargs(base, kwargs, skip=("dsn",), asyncpg=True)


def from_pg8000_kwargs(kwargs: Mapping[str, object], *, literal: bool = True) -> ConnInfo:
    """pg8000.connect(user, host, database, port, password, …, ssl_context) keyword
    arguments: ssl_context is the TLS argument (an SSLArg, or the live value)."""
    given = {("ssl" if k == "ssl_context" else k): v for k, v in kwargs.items()}
    base = ConnInfo(source=Source.KWARGS, literal=literal)
    return _overlay_kwargs(base, given, asyncpg=True)  # one host string, as pg8000 takes it


def _asyncpg_dsn(dsn: str, *, literal: bool, host_given: bool, port_given: bool) -> ConnInfo:
    # A URL is read as asyncpg reads it (its precedence, its decoding). A
    # keyword string or another scheme is refused at connect (asyncpg_rules
    # reports it), so keep what the text says.
    scheme = libpq.url_scheme(dsn.strip())
    if scheme is not None and scheme[0] in ASYNCPG_SCHEMES:
        # As written: urllib drops leading blanks (and every tab and newline) itself,
        # a trailing blank stays in the last part (`?user=a ` is user 'a ').
        return read_asyncpg_dsn(dsn, literal=literal, host_given=host_given, port_given=port_given)
    return parse_dsn(dsn, literal=literal)


def _overlay_kwargs(
    base: ConnInfo, kwargs: Mapping[str, object], *, skip: Sequence[str] = (), asyncpg: bool = False
) -> ConnInfo:
    """Driver keyword arguments on top of a parsed DSN: they win, as in asyncpg.

    asyncpg: the call goes to asyncpg.connect(), which takes a host or port string as
    one value (`host='h1,h2'` is one host name, `port='5432,5433'` no number); libpq
    (psycopg's connect_args, Tortoise's psycopg backend) splits them at commas."""
    hosts = base.hosts
    written = base.written
    # asyncpg tests `if not host` and `if not port`: '', 0 and [] are none at all.
    host = kwargs.get("host") or None
    port = kwargs.get("port") or None
    if asyncpg:
        host = [host] if isinstance(host, str) else host
        port = [port] if isinstance(port, str) else port
    if asyncpg:
        _asyncpg_port_numbers(port)
    lone_port: str | None = None
    if not host and not base.hosts and port is not None:
        # A port with no host anywhere: asyncpg gives it to PGHOST's hosts or to its
        # default ones (endpoints.asyncpg_endpoints), not to a host ''.
        lone_port = ",".join(str(p) for p in port) if isinstance(port, list | tuple) else str(port)
    elif asyncpg and port is not None and not _pairs(host, port, base.hosts):
        # asyncpg refuses a port list that does not pair with the hosts: kept apart, so
        # endpoints.asyncpg_endpoints refuses it with asyncpg's message (VF105).
        hosts = _hosts_from_values(host, None, base.hosts)
        lone_port = ",".join(str(p) for p in port) if isinstance(port, list | tuple) else str(port)
        port = None
    elif host is not None or port is not None:
        hosts = _hosts_from_values(host, port, base.hosts)
    if host is not None:
        written = (*written, "host")  # hides PGHOST (and a service's host)
    if port is not None and hosts:
        written = (*written, "port")  # paired with the hosts: PGPORT is never read
    user = kwargs.get("user", kwargs.get("username"))
    password = kwargs.get("password")
    database = kwargs.get("database", kwargs.get("dbname"))
    ssl_value = kwargs.get("ssl")
    ssl = base.ssl
    if "ssl" in kwargs:
        ssl = ssl_value if isinstance(ssl_value, SSLArg) else describe_ssl_value(ssl_value)
    rest: list[tuple[str, str]] = list(base.kwargs)
    consumed = {"host", "port", "user", "username", "password", "database", "dbname", "ssl"}
    for key, value in kwargs.items():
        if key in consumed or key in skip:
            continue
        rest.append((key, _render_value(key, value)))
    if lone_port is not None:
        rest.append(("port", lone_port))
    return replace(
        base,
        source=base.source if base.source is not Source.ENV else Source.KWARGS,
        hosts=hosts,
        user=str(user) if isinstance(user, str) else base.user,
        password=_secret(password) if password is not None else base.password,
        database=str(database) if isinstance(database, str) else base.database,
        kwargs=tuple(rest),
        ssl=ssl,
        written=tuple(dict.fromkeys(written)),
    )


def _asyncpg_port_numbers(port: object) -> None:
    """asyncpg int()s each port argument (no range check: a port out of range fails
    only when it is dialled)."""
    for value in port if isinstance(port, list | tuple) else [port]:
        if value is None or isinstance(value, int):
            continue
        try:
            int(str(value))
        except ValueError:
            raise ConnStringError(
                "the port argument is not a number (asyncpg: int() fails)"
            ) from None


def _pairs(host: object, port: object, fallback: tuple[HostPort, ...]) -> bool:
    """asyncpg's _validate_port_spec: one port serves every host, a list pairs one to one."""
    if not isinstance(port, list | tuple) or len(port) <= 1:
        return True
    names = host if isinstance(host, list | tuple) else [host] if host else fallback or [""]
    return len(port) == len(names)


def _hosts_from_values(
    host: object, port: object, fallback: tuple[HostPort, ...]
) -> tuple[HostPort, ...]:
    if isinstance(host, list | tuple):
        names = [str(h) for h in host]
    elif isinstance(host, str):
        names = host.split(",")
    else:
        names = [h.host for h in fallback] or [""]
    if isinstance(port, list | tuple):
        ports: list[object] = list(port)
    elif port is None:
        ports = []
    else:
        ports = [*port.split(",")] if isinstance(port, str) else [port]
    if len(ports) == 1:
        ports = ports * len(names)
    if ports and len(ports) != len(names):
        raise ConnStringError(f"could not match {len(ports)} port numbers to {len(names)} hosts")
    return tuple(
        HostPort(name, parse_port(str(ports[i])) if ports else None) for i, name in enumerate(names)
    )


def _secret(value: object) -> Secret | None:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value) if value else None
    return None  # a callable or an unknown expression: nothing literal to hold


def _render_value(key: str, value: object) -> str:
    if is_secret_key(key):
        return MASK
    if isinstance(value, Mapping):
        inner = ", ".join(
            f"{k!r}: {MASK if is_secret_key(str(k)) else repr(v)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, str):
        return value
    return repr(value)


# --- SQLAlchemy ----------------------------------------------------------------

# SQLAlchemy 2.0's own URL pattern (sqlalchemy/engine/url.py, _parse_url), for
# when SQLAlchemy is not installed; agreement with make_url is tested.
_SA_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)


def from_sqlalchemy_url(
    url: object,
    connect_args: Mapping[str, object] | None = None,
    *,
    literal: bool = True,
) -> ConnInfo:
    """create_engine / create_async_engine's URL (str or URL object) and connect_args."""
    if isinstance(url, str):
        url = _make_url(url)
    if isinstance(url, str):
        parts = _split_sqlalchemy_url(url)
    elif hasattr(url, "drivername"):
        parts = (
            str(url.drivername),
            getattr(url, "username", None),
            getattr(url, "password", None),
            getattr(url, "host", None),
            getattr(url, "port", None),
            getattr(url, "database", None),
            _query_pairs(getattr(url, "query", {}) or {}),
        )
    else:
        raise ConnStringError(f"not a SQLAlchemy URL: a {type(url).__name__}")
    drivername, username, password, host, port, database, query = parts
    return from_url_parts(
        drivername,
        username=username,
        password=password,
        host=host,
        port=port,
        database=database,
        query=query,
        connect_args=connect_args,
        literal=literal,
    )


def _make_url(url: str) -> object:
    """SQLAlchemy's own make_url when it is installed (its decoding, its repeated query
    keys); else the text, read below with a copy of its pattern."""
    try:
        from sqlalchemy.engine import make_url  # optional: the scanner runs without it
        from sqlalchemy.exc import ArgumentError
    except ImportError:
        return url
    try:
        # As written: make_url does not strip (a leading blank is refused, a trailing
        # one stays in the last part).
        return make_url(url)
    except (ArgumentError, ValueError):
        raise ConnStringError("Could not parse SQLAlchemy URL from given URL string") from None


def _split_sqlalchemy_url(
    url: str,
) -> tuple[str, str | None, str | None, str | None, int | None, str | None, list[tuple[str, str]]]:
    match = _SA_URL.match(url)
    if match is None:
        raise ConnStringError("Could not parse SQLAlchemy URL from given URL string")
    parts = match.groupdict()
    port_text = parts["port"]
    port = None
    if port_text:
        if not port_text.isdigit():
            raise ConnStringError(f'invalid port number: "{port_text}"')
        port = int(port_text)
    return (
        parts["name"],
        unquote(parts["username"]) if parts["username"] is not None else None,
        unquote(parts["password"]) if parts["password"] is not None else None,
        parts["ipv4host"] or parts["ipv6host"],
        port,
        parts["database"],
        parse_qsl(parts["query"]) if parts["query"] is not None else [],
    )


def _query_pairs(query: Mapping[str, object]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return pairs


def from_url_parts(
    drivername: str,
    *,
    username: object = None,
    password: object = None,
    host: object = None,
    port: object = None,
    database: object = None,
    query: Mapping[str, object] | Iterable[tuple[str, str]] | None = None,
    connect_args: Mapping[str, object] | None = None,
    literal: bool = True,
) -> ConnInfo:
    """SQLAlchemy's URL.create(drivername, username=…, …, query={…}) plus connect_args."""
    scheme, _, dialect = drivername.partition("+")
    scheme = scheme.lower()
    if scheme not in KNOWN_SCHEMES:
        raise ConnStringError(
            f"unsupported scheme {scheme!r} (expected one of {', '.join(KNOWN_SCHEMES)})"
        )
    if query is None:
        pairs: list[tuple[str, str]] = []
    elif isinstance(query, Mapping):
        pairs = _query_pairs(query)
    else:
        pairs = [(str(k), str(v)) for k, v in query]
    asyncpg = (dialect or "").lower() == "asyncpg"
    multihost = any(k == "host" for k, _ in pairs)  # the dialect's own host list
    hosts = sqlalchemy_hosts(pairs, host, port, asyncpg=asyncpg)
    lone_port: str | None = None
    if asyncpg and len(hosts) == 1 and not hosts[0].host:
        # ?host=:5433 hands asyncpg host='' (none: PGHOST's or its own hosts) and the port.
        lone_port = None if hosts[0].port is None else str(hosts[0].port)
        hosts = ()
    pairs = [(k, v) for k, v in pairs if k not in ("host", "port")]
    hostaddr = [v for k, v in pairs if k == "hostaddr"]
    if hostaddr and not asyncpg:  # a libpq option: it pairs with the hosts
        ports = ",".join("" if h.port is None else str(h.port) for h in hosts)
        names = ",".join(h.host for h in hosts)
        hosts = hosts_from(names or None, ports or None, hostaddr[-1])
        pairs = [(k, v) for k, v in pairs if k != "hostaddr"]
    info = _from_pairs(
        pairs,
        source=Source.URL,
        scheme=scheme,
        dialect=dialect or None,
        literal=literal,
    )
    # The dialects update the netloc's arguments with the query's (opts.update(url.query)):
    # a query user, password or database wins over the netloc's.
    query_keys = {k for k, _ in pairs}
    netloc_db = database if isinstance(database, str) and database else None
    if asyncpg:
        # asyncpg.connect() takes database=; a query dbname= is an unknown keyword there.
        database_value = info.param("database") if "database" in query_keys else netloc_db
        for key in ("dbname", "hostaddr"):
            if key in query_keys:
                info = info.with_params(**{key: [v for k, v in pairs if k == key][-1]})
        if lone_port is not None:
            info = info.with_params(port=lone_port)
        elif not hosts and (port_alone := _port_without_host(query, port)) is not None:
            # asyncpg.connect(port=…) without a host: PGHOST's or the default hosts.
            info = info.with_params(port=port_alone)
    else:
        database_value = info.database if "dbname" in query_keys else netloc_db
    info = replace(
        info,
        hosts=hosts,
        user=info.user if "user" in query_keys else _text_or_none(username),
        password=info.password if "password" in query_keys else _secret(password),
        database=database_value,
        written=_sqlalchemy_written(hosts, multihost, asyncpg=asyncpg)
        # The psycopg dialects pass a netloc host whenever its text is not empty, even
        # ',' (entries all empty): libpq then ignores PGHOST.
        + (("host",) if not asyncpg and not multihost and _text_or_none(host) else ())
        + (("hostaddr",) if hostaddr and not asyncpg else ()),
    )
    if connect_args and (dialect or "").lower() == "pg8000":  # its TLS argument
        connect_args = {("ssl" if k == "ssl_context" else k): v for k, v in connect_args.items()}
    if connect_args:
        info = _overlay_kwargs(info, connect_args, asyncpg=asyncpg)
    return info


def _port_without_host(query: object, port: object) -> str | None:
    pairs = _query_pairs(query) if isinstance(query, Mapping) else list(query or ())  # type: ignore[call-overload]
    ports = [str(v) for k, v in pairs if k == "port"]
    if ports:
        # The dialect int()s it (a non-number was refused in sqlalchemy_hosts), and
        # asyncpg takes a falsy port argument (0) for none.
        return ports[-1] if int(ports[-1]) else None
    return str(port) if port not in (None, "", 0) else None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _sqlalchemy_written(
    hosts: tuple[HostPort, ...], multihost: bool, *, asyncpg: bool
) -> tuple[str, ...]:
    """What the psycopg dialects write for a query host list: host=h1,h2 always, and
    port=p1,p2 (',' when no port is given: 5432 each, never PGPORT) unless one host
    has no port. The asyncpg dialect passes port= when every host has one (it raises
    otherwise): asyncpg then never reads PGPORT."""
    if asyncpg:
        return ("port",) if hosts and all(h.port is not None for h in hosts) else ()
    if not multihost:
        return ()
    return ("host", "port") if len(hosts) > 1 or hosts[0].port is not None else ("host",)


# --- Tortoise ------------------------------------------------------------------

TORTOISE_ENGINES = {
    "asyncpg": "tortoise.backends.asyncpg",
    "postgres": "tortoise.backends.asyncpg",
    "postgresql": "tortoise.backends.asyncpg",
    "psycopg": "tortoise.backends.psycopg",
}


def from_tortoise_db_url(db_url: str, *, literal: bool = True) -> ConnInfo:
    """Tortoise's db_url (tortoise.backends.base.config_generator.expand_db_url).

    Tortoise reads the query with parse_qs (blank values dropped, '+' as a
    space) and turns every key into a backend credential; that is kept as
    kwargs here, since none of them reaches a DSN parser.
    """
    scheme_parts = libpq.url_scheme(db_url)
    if scheme_parts is None or scheme_parts[0] not in TORTOISE_SCHEMES:
        got = scheme_parts[0] if scheme_parts else "none"
        raise ConnStringError(
            f"Tortoise reads only {', '.join(TORTOISE_SCHEMES)} db_url schemes (got {got!r})"
        )
    scheme = scheme_parts[0]
    # Read as expand_db_url does (urllib, not libpq): the last '@' ends the
    # user info, the host is lower-cased, the user name is not unquoted but
    # the password is, and '[' ']' in the user info are quoted first.
    try:
        parsed = urlsplit(_quote_tortoise_userinfo(db_url))
    except ValueError:  # urllib: "Invalid IPv6 URL"; Tortoise raises the same
        raise ConnStringError("an invalid IPv6 literal (Tortoise's db_url)") from None
    try:
        port = parsed.port
    except ValueError:
        raise ConnStringError("Port is not an integer (Tortoise's db_url)") from None
    query: dict[str, str] = {}
    for key, value in parse_qsl(parsed.query):
        if value != "":  # parse_qs drops blank values
            query[key] = value
    host = parsed.hostname or query.get("host")
    password = unquote(parsed.password) if parsed.password else query.get("password")
    kwargs = tuple(
        (k, MASK if is_secret_key(k) else v)
        for k, v in query.items()
        if k not in ("host", "port", "user", "password", "database")
    )
    # The netloc's port (when not 0), else the query's (a string, as written), else
    # Tortoise's default 5432, which reaches the driver even without a host (asyncpg
    # then dials its default hosts on 5432, never PGPORT).
    port_value = str(port or query.get("port") or 5432)
    number = int(port_value) if port_value.isdigit() else None
    if not host or number is None:
        kwargs += (("port", port_value),)
    return ConnInfo(
        source=Source.URL,
        scheme=scheme,
        hosts=(HostPort(host, number),) if host else (),
        written=("port",) if host and number is not None else (),  # always passed on
        user=parsed.username or query.get("user"),
        password=Secret(password) if password else None,
        database=parsed.path[1:] or None,
        kwargs=kwargs,
        engine=TORTOISE_ENGINES[scheme],
        literal=literal,
    )


def _quote_tortoise_userinfo(db_url: str) -> str:
    """Tortoise's _quote_url_userinfo: '[' and ']' before the first '@' of the text (even
    one in the query) are percent-encoded, so urllib does not read them as IPv6."""
    head, sep, rest = db_url.partition("://")
    userinfo, at, after = rest.partition("@")
    if not sep or not at:
        return db_url
    userinfo = userinfo.replace("[", "%5B").replace("]", "%5D")
    return f"{head}{sep}{userinfo}{at}{after}"


def from_tortoise_config(
    config: Mapping[str, object], *, literal: bool = True
) -> dict[str, ConnInfo]:
    """Every connection of a Tortoise config dict (`{"connections": {...}}` or the inner dict)."""
    connections = config.get("connections", config)
    if not isinstance(connections, Mapping):
        raise ConnStringError("Tortoise config: 'connections' must be a mapping")
    result: dict[str, ConnInfo] = {}
    for name, entry in connections.items():
        if isinstance(entry, str):
            result[str(name)] = from_tortoise_db_url(entry, literal=literal)
        elif isinstance(entry, Mapping):
            result[str(name)] = from_tortoise_credentials(
                str(entry.get("engine", "")),
                entry.get("credentials", {}),
                literal=literal,
            )
        else:
            raise ConnStringError(
                f"Tortoise config: connection {name!r} must be a db_url or a mapping"
            )
    return result


def from_tortoise_credentials(
    engine: str, credentials: Mapping[str, object], *, literal: bool = True
) -> ConnInfo:
    if not isinstance(credentials, Mapping):
        raise ConnStringError("Tortoise config: 'credentials' must be a mapping")
    base = ConnInfo(
        source=Source.TORTOISE_CONFIG,
        engine=engine or None,
        literal=literal,
    )
    settings = credentials.get("server_settings")
    if engine == TORTOISE_ENGINES["psycopg"] and isinstance(settings, Mapping):
        # The psycopg backend hands server_settings to make_conninfo: libpq
        # connection options (sslmode, sslrootcert …), kept as params.
        public, secret = split_secret_pairs(
            [(str(k), str(v)) for k, v in settings.items() if v is not None]
        )
        base = replace(base, params=public, secret_params=secret)
        return _overlay_kwargs(base, credentials, skip=("server_settings",))
    return _overlay_kwargs(base, credentials, asyncpg=engine == TORTOISE_ENGINES["asyncpg"])


# --- nothing written -----------------------------------------------------------


def from_environment(*, literal: bool = False) -> ConnInfo:
    """A connection described by nothing but PG* variables and driver defaults."""
    return ConnInfo(source=Source.ENV, literal=literal)


def parse_for_driver(
    text: str, driver: str | None, *, literal: bool = True, versions: DriverVersions = PINNED
) -> ConnInfo:
    """The reading `verifyfull explain` uses: how that driver (at `versions`) would
    receive the text."""
    if driver == "tortoise":
        return from_tortoise_db_url(text, literal=literal)
    if driver == "sqlalchemy":
        return from_sqlalchemy_url(text, literal=literal)
    if driver == "asyncpg":
        return from_asyncpg_kwargs({"dsn": text}, literal=literal)
    return parse_dsn(text, literal=literal, libpq_version=versions.libpq_for(driver or "psycopg"))


def parse_django_url(text: str, *, literal: bool = True) -> ConnInfo:
    """The connection a Django URL helper's DATABASES entry opens (conninfo.django_url):
    the libpq keywords Django passes, read as libpq reads them."""
    pairs = django_url.django_url_pairs(text)
    return _from_pairs(pairs, source=Source.URL, scheme="postgresql", dialect=None, literal=literal)


def read_any_driver(text: str, *, literal: bool = True) -> tuple[ConnInfo, str | None]:
    """A connection whose driver is not known (a config value, `explain` without --driver):
    SQLAlchemy's reading of a +driver URL ("sqlalchemy"), else libpq's and the driver it
    implies (None); when libpq refuses the text,
    asyncpg's reading, which may still connect (a raw '%' in a password): ("asyncpg").
    A scheme only Django's URL helpers read (`psql://`) is read as they hand it to libpq."""
    if django_url.is_django_url(text):
        return parse_django_url(text, literal=literal), None
    scheme = libpq.url_scheme(text)
    if scheme is not None and scheme[1]:
        # `postgresql+psycopg://`: only SQLAlchemy reads a +driver URL, and its reading is
        # not libpq's (a netloc 'h1,h2' passed on whole, PGPORT read; ?host= over the
        # netloc). Where make_url refuses it, libpq's reading still says what it holds.
        try:
            return from_sqlalchemy_url(text, literal=literal), "sqlalchemy"
        except ConnStringError:
            pass
    try:
        return parse_dsn(text, literal=literal), None
    except ConnStringError:
        scheme = libpq.url_scheme(text)
        if scheme is None or scheme[0] not in ASYNCPG_SCHEMES or scheme[1]:
            raise
        try:
            return read_asyncpg_dsn(text, literal=literal), "asyncpg"
        except ConnStringError:
            pass
        raise
