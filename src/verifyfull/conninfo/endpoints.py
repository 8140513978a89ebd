"""Where each driver really connects: the endpoints after its own defaults and PG* variables.

libpq (fe-connect.c connectOptions2) and asyncpg 0.32 (connect_utils
_parse_hostlist and _parse_connect_dsn_and_args) fill in what was not written
differently, and the TLS verdict depends on it: a Unix socket has no network
path, a TCP host has. tests/test_conninfo_differential.py compares these lists
with the drivers' own on generated inputs.
"""

from __future__ import annotations

import re
from dataclasses import replace

from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort, Source

# psycopg-binary's and Debian's libpq are built with this socket directory.
LIBPQ_DEFAULT_SOCKET = "/var/run/postgresql"
DEFAULT_PORT = 5432
# asyncpg's list when no host is given anywhere (not on Windows).
ASYNCPG_DEFAULT_HOSTS = (
    "/run/postgresql",
    "/var/run/postgresql",
    "/tmp",  # noqa: S108 - asyncpg's own list, not a file we create
    "/private/tmp",
    "localhost",
)
_PORT = re.compile(r"[+-]?[0-9]+")
_C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale


class AsyncpgRefusal(ConnStringError):
    """asyncpg refuses the endpoints while it reads its arguments (before dialling):
    `error` is what it raises, as `module.Class: message`."""

    def __init__(self, error: str) -> None:
        super().__init__(error.partition(": ")[2] or error)
        self.error = error


_ASYNCPG_V6 = re.compile(r"(?:\[([^\]]+)\])(?::([0-9]+))?")


def libpq_endpoints(info: ConnInfo, env: Environment) -> tuple[HostPort, ...]:
    """libpq's list. host, hostaddr and port each fall back to PGHOST, PGHOSTADDR and
    PGPORT on their own (conninfo_add_defaults); an empty host is its socket directory."""
    written = [info.written_text(key) for key in ("host", "port", "hostaddr")]
    host_text, port_text, addr_text = (
        text if text is not None else env.get(name)
        for text, name in zip(written, ("PGHOST", "PGPORT", "PGHOSTADDR"), strict=True)
    )
    resolved = hosts_from(host_text, port_text, addr_text)
    default_port = DEFAULT_PORT
    return tuple(
        HostPort(
            h.host or ("" if h.hostaddr else LIBPQ_DEFAULT_SOCKET),
            _or(h.port, default_port),
            h.hostaddr,
        )
        for h in resolved
    ) or (HostPort(LIBPQ_DEFAULT_SOCKET, default_port),)


def _or(port: int | None, default: int) -> int:
    return default if port is None else port


def asyncpg_endpoints(info: ConnInfo, env: Environment) -> tuple[HostPort, ...]:
    """asyncpg's list, each host a socket only when asyncpg dials it so ('/…')."""
    return tuple(
        replace(h, socket=False) if h.host.startswith("@") else h for h in _asyncpg_hosts(info, env)
    )


def _asyncpg_hosts(info: ConnInfo, env: Environment) -> tuple[HostPort, ...]:
    """asyncpg's list (_parse_connect_dsn_and_args): the hosts it was given, else PGHOST
    (host:port and [v6] split), else its socket directories and localhost. A port given
    apart from the hosts (the port argument, the DSN's ?port=, a service's port) serves
    them all; without one, PGPORT (else 5432) is read and paired with the hosts even when
    each names its own port, which then wins."""
    # A port list not yet paired with hosts: the DSN's ?port= the DSN did not use itself
    # (it names no host, only ?host=, or a host argument hid them), a service's port, or a
    # port argument (Tortoise's port credential) that names no host or does not pair with
    # the hosts. This is the one place asyncpg's pairing happens (its _validate_port_spec):
    # the readers keep such a list apart, so a list that does not pair is refused here,
    # with asyncpg's message, as a predicted failure (asyncpg_rules: VF105).
    given = info.param("port") if info.source is Source.URL else None
    given = info.kwarg("port") or given  # asyncpg's port=, Tortoise's port credential
    port_argument = "port" in info.written  # paired with the hosts of the arguments already
    hosts = info.hosts
    if not hosts and env.get("PGHOST"):
        # asyncpg int()s a port inside PGHOST only when no port was given.
        hosts = asyncpg_hostlist(env.get("PGHOST") or "", ports=not given)
    if not hosts:
        hosts = tuple(HostPort(h) for h in ASYNCPG_DEFAULT_HOSTS)
    if given:
        ports = _asyncpg_port_list(given, len(hosts), "the port")
        return tuple(HostPort(h.host, ports[i]) for i, h in enumerate(hosts))
    if port_argument:
        return hosts
    ports = _asyncpg_default_ports(env, len(hosts))
    return tuple(HostPort(h.host, _or(h.port, ports[i])) for i, h in enumerate(hosts))


def _asyncpg_port_list(text: str, count: int, what: str) -> list[int]:
    try:
        values = [int(p) for p in text.split(",")]
    except ValueError:
        raise AsyncpgRefusal(
            f"ValueError: {what} is not a port list (asyncpg: int() fails)"
        ) from None
    if len(values) == 1:
        return values * count
    if len(values) != count:
        raise AsyncpgRefusal(asyncpg_port_mismatch(len(values), count))
    return values


def asyncpg_port_mismatch(ports: int, hosts: int) -> str:
    """asyncpg's own error for a port list that does not pair with the host list."""
    return (
        "asyncpg.exceptions.ClientConfigurationError: "
        f"could not match {ports} port numbers to {hosts} hosts"
    )


def _asyncpg_default_ports(env: Environment, count: int) -> list[int]:
    text = env.get("PGPORT")
    if not text:
        return [DEFAULT_PORT] * count
    return _asyncpg_port_list(text, count, "PGPORT")


def asyncpg_hostlist(
    text: str, *, unquote: bool = False, ports: bool = True
) -> tuple[HostPort, ...]:
    """asyncpg's _parse_hostlist: comma-separated specs, `host:port`, `[v6]:port`, `/socket`.

    ports=False: a port was given apart from the list, so asyncpg never reads (nor
    int()s) the ports written inside it."""
    from urllib.parse import unquote as decode

    result = []
    for spec in text.split(","):
        port_text = ""
        if not spec:  # asyncpg reads hostspec[0]: an empty entry raises IndexError
            raise ConnStringError("an empty entry in the host list (asyncpg: IndexError)")
        if spec.startswith("/"):
            addr = spec
        elif spec.startswith("["):
            match = _ASYNCPG_V6.match(spec)
            if match is None:
                raise ConnStringError("invalid IPv6 address in the connection URI (asyncpg)")
            addr, port_text = match.group(1), match.group(2) or ""
        else:
            addr, _, port_text = spec.partition(":")
        if unquote:
            addr, port_text = decode(addr), decode(port_text)
        result.append(HostPort(addr, _asyncpg_port(port_text) if ports else None))
    return tuple(result)


def _asyncpg_port(text: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)  # asyncpg's int(): no range check, '+5' and ' 5' pass
    except ValueError:
        raise ConnStringError("the port is not a number (asyncpg: int() fails)") from None


# --- libpq's pairing ---------------------------------------------------------------


def hosts_from(
    host: str | None,
    port: str | int | None,
    hostaddr: str | None = None,
    *,
    ports_alone: bool = False,
) -> tuple[HostPort, ...]:
    """libpq's pairing of comma-separated hosts, hostaddrs and ports (one port serves all).

    ports_alone: a port list written without hosts is kept as it is (one entry per
    port), to be paired with PGHOST later; libpq_endpoints pairs strictly."""
    if host is None and port is None and hostaddr is None:
        return ()
    host_list = host.split(",") if host else []
    addr_list = hostaddr.split(",") if hostaddr else []
    # A written hostaddr hides PGHOSTADDR, even where an entry names no address; an
    # empty one (hostaddr='') names none at all: ConnInfo.written holds it.
    addr_blank = "" if hostaddr else None
    if host_list and addr_list and len(host_list) != len(addr_list):
        raise ConnStringError(
            f"could not match {len(host_list)} host names to {len(addr_list)} hostaddr values"
        )
    port_text = "" if port is None else str(port)
    port_list = port_text.split(",") if port_text else []
    count = max(len(host_list), len(addr_list), 1)
    # libpq counts the hosts from a non-empty hostaddr, else a non-empty host, else one:
    # hostaddr='' leaves the count to PGHOST (host='' is one empty entry).
    if ports_alone and host is None and not hostaddr:
        count = max(len(port_list), 1)
    host_list = host_list or [""] * count
    if len(port_list) == 1:
        port_list = port_list * count
    elif port_list and len(port_list) != count:
        raise ConnStringError(f"could not match {len(port_list)} port numbers to {count} hosts")
    result = []
    for index, name in enumerate(host_list):
        raw_port = port_list[index] if port_list else ""
        # As written: libpq hands a hostaddr to getaddrinfo untrimmed (' 127.0.0.1' is
        # "could not parse network address"; a service file's value keeps its blanks).
        addr = addr_list[index] if addr_list else ""
        result.append(HostPort(name, parse_port(raw_port), addr or addr_blank))
    return tuple(result)


def parse_port(text: str) -> int | None:
    if not text:
        return None  # unwritten or written empty: libpq's default port
    # libpq's parse_int_param (strtol): C blanks around and a sign are fine, but a port
    # of blanks only has no digits and is refused ("invalid integer value"); libpq 18
    # trims a URL's blanks before, so only there `h: /db` reaches here as ''.
    digits = text.strip(_C_SPACE)
    if not _PORT.fullmatch(digits) or not 0 < int(digits) < 65536:
        raise ConnStringError(f'invalid port number: "{text}"')
    return int(digits)
