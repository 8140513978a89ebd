"""Connection service files (pg_service.conf), read the way each driver reads them.

libpq 18 (fe-connect.c parseServiceInfo/parseServiceFile, checked with the
libpq psycopg-binary 3.3.9 bundles): the service is the written `service`
option, else PGSERVICE. It is looked up in PGSERVICEFILE (which must exist)
or ~/.pg_service.conf (skipped when missing), then in
PGSYSCONFDIR/pg_service.conf (compiled-in: /etc/postgresql-common); the
first file holding the group is the only one read. Lines are trimmed, '#'
starts a comment (';' does not), `[name]` matches by prefix up to ']', keys
are case-sensitive libpq keywords with no spaces before '=' (anything else is
"syntax error in service file"), `service=` inside is refused as nested, the
first value of a key wins, and each value fills only an option not written
(a written one, even empty, wins; the service then beats PG* variables). A
service that is found nowhere is an error.

asyncpg 0.32 (connect_utils._parse_connect_dsn_and_args): only when a DSN is
given; the service is the `service` argument, else the DSN's ?service=
(PGSERVICE is never used to read a file); the file is `servicefile`, else
PGSERVICEFILE, else ~/.pg_service.conf (PGSYSCONFDIR is not read), parsed by
configparser (case-folded keys, ':' or '=', ';' and '#' comments,
continuation lines, %-interpolation, a DEFAULT section, and an error for a
repeated section or key anywhere in the file). A missing file or service is
silently nothing. It takes only its own keys, each one only when the DSN and
the arguments left it unset; a service port counts only when no host or port
was written.

The model never reads files itself: `Environment.services` holds the files
as seen (Environment.current() reads them), or None when they are the
deployment's and unknown (then a service reference leaves TLS to deploy time).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from verifyfull.conninfo.asyncpg_dsn import port_list
from verifyfull.conninfo.asyncpg_rules import ASYNCPG_DSN_KEYS
from verifyfull.conninfo.endpoints import asyncpg_hostlist, hosts_from
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.model import (
    LIBPQ_SYSCONFDIR,
    MAX_SERVICE_FILE,
    SERVICE_FILE_NAME,
    SYSTEM_FILE_NAME,
    ConnInfo,
    Environment,
    Source,
)
from verifyfull.conninfo.redact import Secret, is_secret_key
from verifyfull.conninfo.target import Driver, Target
from verifyfull.conninfo.versions import PINNED, DriverVersions, LibpqVersion

# The keys asyncpg 0.32 takes from a service section: the DSN keys it reads itself.
ASYNCPG_SERVICE_KEYS = tuple(sorted(ASYNCPG_DSN_KEYS - {"service"}))
_CONNECTION_FIELDS = ("host", "hostaddr", "port", "user", "dbname", "database", "password")


@dataclass(frozen=True)
class ServiceReading:
    """What the driver takes from a service: the connection with the service's values
    filled in, or the error it raises; `unknown` when the files are not known."""

    info: ConnInfo
    service: str | None = None  # the service name the driver looks up
    path: str | None = None  # the file it was found in
    error: str | None = None
    unknown: bool = False


def read_service(
    info: ConnInfo, target: Target, env: Environment, versions: DriverVersions = PINNED
) -> ServiceReading:
    """Apply the service the driver would read, if any."""
    if target.engine == "pg8000":
        return ServiceReading(info)  # pg8000 has no services and reads no PG* variable
    if target.engine == "asyncpg":
        return _asyncpg_service(info, target, env)
    return _libpq_service(info, env, versions.libpq_for(target.libpq_module))


# --- libpq ------------------------------------------------------------------------


def _argument(info: ConnInfo, key: str) -> str | None:
    """A keyword argument's value; None (rendered 'None') is not given."""
    value = info.kwarg(key)
    return None if value in (None, "None") else value


def libpq_service_name(info: ConnInfo, env: Environment) -> str | None:
    if _argument(info, "service") is not None:
        return _argument(info, "service")
    if info.has_param("service"):
        return info.param("service")
    return env.get("PGSERVICE")


def _libpq_service(info: ConnInfo, env: Environment, libpq: LibpqVersion) -> ServiceReading:
    name = libpq_service_name(info, env)
    if name is None:
        return ServiceReading(info)
    files = env.services
    if files is None:
        return ServiceReading(info, name, unknown=True)
    explicit = env.get("PGSERVICEFILE")
    candidates: list[tuple[str, bool]] = []
    if explicit is not None:
        candidates.append((explicit, True))
    elif files.home is not None:
        candidates.append((str(PurePosixPath(files.home) / SERVICE_FILE_NAME), False))
    sysconf = env.get("PGSYSCONFDIR") or LIBPQ_SYSCONFDIR
    candidates.append((str(PurePosixPath(sysconf) / SYSTEM_FILE_NAME), False))
    for path, must_exist in candidates:
        text = files.text(path)
        if text is None:
            if must_exist:
                return ServiceReading(info, name, path, f'service file "{path}" not found')
            continue
        try:
            pairs = libpq_service_section(text, name, path, libpq)
        except ConnStringError as exc:
            return ServiceReading(info, name, path, exc.problem)
        if pairs is not None:
            return ServiceReading(_fill_libpq(info, pairs), name, path)
    return ServiceReading(info, name, None, f'definition of service "{name}" not found')


def libpq_service_section(
    text: str, name: str, path: str, libpq: LibpqVersion = PINNED.psycopg_libpq
) -> list[tuple[str, str]] | None:
    """The (key, value) lines of group `name`, or None when the file has no such group.
    Raises ConnStringError with that libpq's message for a line it refuses."""
    found = False
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if found:
                break  # the end of the group: libpq stops reading
            found = line[1 : 1 + len(name)] == name and line[1 + len(name) : 2 + len(name)] == "]"
            continue
        if not found:
            continue  # lines of other groups are never looked at
        key, eq, value = line.partition("=")
        if not eq:
            raise ConnStringError(f'syntax error in service file "{path}", line {number}')
        if key == "service":
            raise ConnStringError(
                f'nested service specifications not supported in service file "{path}", '
                f"line {number}"
            )
        if key not in libpq.keywords:
            raise ConnStringError(f'syntax error in service file "{path}", line {number}')
        pairs.append((key, value))
    return pairs if found else None


def first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)  # libpq keeps the first value of a key
    return first


def _fill_libpq(info: ConnInfo, pairs: list[tuple[str, str]]) -> ConnInfo:
    """Every option the connection did not write, from the service."""
    values = first_values(pairs)
    for key in ("password", "sslpassword"):
        if key in values:
            Secret(values[key])  # registered with scrub: never printed
    hosts = info.hosts
    texts = {key: info.written_text(key) for key in ("host", "hostaddr", "port")}
    filled = tuple(k for k, text in texts.items() if text is None and k in values)
    if filled:
        hosts = hosts_from(
            *(
                texts[k] if texts[k] is not None else values.get(k)
                for k in ("host", "port", "hostaddr")
            )
        )
    written = set(info.param_keys) | {k for k, _ in info.kwargs}
    extra = [
        (k, v)
        for k, v in values.items()
        if k not in _CONNECTION_FIELDS and k not in written and not is_secret_key(k)
    ]
    return replace(
        info,
        hosts=hosts,
        user=info.user if info.user is not None else values.get("user"),
        database=info.database if info.database is not None else values.get("dbname"),
        params=info.params + tuple(extra),
        written=info.written + filled,
    )


# --- asyncpg ----------------------------------------------------------------------


def _asyncpg_service(info: ConnInfo, target: Target, env: Environment) -> ServiceReading:
    # Only asyncpg.connect(dsn=…) reads service files; SQLAlchemy's and Tortoise's
    # asyncpg backends pass keyword arguments without a DSN.
    if target.driver is not Driver.ASYNCPG or info.source is not Source.URL:
        return ServiceReading(info)
    name = _argument(info, "service") or info.param("service")
    if not name:
        return ServiceReading(info)
    files = env.services
    if files is None:
        return ServiceReading(info, name, unknown=True)
    path = _argument(info, "servicefile") or env.get("PGSERVICEFILE")
    if path is None:
        if files.home is None:
            return ServiceReading(info, name)
        path = str(PurePosixPath(files.home) / SERVICE_FILE_NAME)
    text = files.text(path)
    if text is None:
        return ServiceReading(info, name, path)  # configparser skips a missing file
    try:
        values = asyncpg_service_section(text, name)
    except (configparser.Error, KeyError, ValueError) as exc:
        # The message may quote a line of the file (a password): name the class only.
        problem = (
            f"configparser.{type(exc).__name__}"
            if isinstance(exc, configparser.Error)
            else (type(exc).__name__)
        )
        return ServiceReading(info, name, path, f"{problem} while asyncpg reads {path}")
    if values is None:
        return ServiceReading(info, name, path)
    try:
        return ServiceReading(_fill_asyncpg(info, values), name, path)
    except ConnStringError as exc:
        return ServiceReading(info, name, path, exc.problem)


def asyncpg_service_section(text: str, name: str) -> dict[str, str] | None:
    """The values asyncpg pops from section `name` (configparser, as asyncpg uses it)."""
    parser = configparser.ConfigParser()
    parser.read_string(text[:MAX_SERVICE_FILE])
    if name not in parser.sections():
        return None
    section = parser[name]
    values: dict[str, str] = {}
    for key in ASYNCPG_SERVICE_KEYS:
        if key in section:
            values[key] = section.pop(key)  # interpolation and DEFAULT keys raise here
    for key in ("password", "sslpassword"):
        if key in values:
            Secret(values[key])
    return values


def _fill_asyncpg(info: ConnInfo, values: dict[str, str]) -> ConnInfo:
    hosts = info.hosts
    written = info.written
    # asyncpg reads the service after the arguments and the DSN: its port only while no
    # port is held (none given, no host list with its ports read), its host only while
    # no host is. A host argument's hosts hold no port yet; a DSN's do (theirs or PGPORT's).
    port_open = not hosts or ("host" in written and "port" not in written)
    held = info.kwarg("port") or info.param("port")
    port_text = held or (values.get("port") if port_open else None) or None
    params = [(k, v) for k, v in info.params if k != "port"]
    if not hosts and values.get("host"):
        hosts = asyncpg_hostlist(values["host"], ports=not port_text)
    if port_text and not info.kwarg("port"):
        # Apart from the hosts (the service's, the host argument's, PGHOST's or the
        # default ones): endpoints.asyncpg_endpoints pairs them (and refuses a list
        # that does not pair, as asyncpg does); PGPORT is then not read.
        params.append(("port", port_list(port_text)))
    set_keys = {k for k, _ in info.params if k != "port"} | {k for k, _ in info.secret_params}
    set_keys |= {k for k, _ in info.kwargs}
    for key in ASYNCPG_SERVICE_KEYS:
        if key in ("port", "host", "dbname", "database", "user", "password", "passfile"):
            continue
        if key not in values or key in set_keys:
            continue
        if key == "sslmode" and not info.ssl.is_absent:
            continue
        if is_secret_key(key):
            continue
        params.append((key, values[key]))
    database = info.database
    for key in ("dbname", "database"):
        if database is None and key in values:
            database = values[key]
    return replace(
        info,
        hosts=hosts,
        user=info.user if info.user is not None else values.get("user"),
        database=database,
        params=tuple(params),
        written=tuple(dict.fromkeys(written)),
    )
