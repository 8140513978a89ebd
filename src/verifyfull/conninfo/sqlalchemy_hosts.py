"""The hosts SQLAlchemy 2.0's PostgreSQL dialects hand the driver (_split_multihost_from_url).

A query `host` beats the netloc host; `?host=h1,h2&port=p1,p2` and
`?host=h1:p1&host=h2:p2` are host lists; `?port=` is kept. The psycopg
dialects join the list for libpq ("h1,h2", "p1,p2"); the asyncpg dialect
passes lists and raises ArgumentError when an entry misses a host or a port.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.model import HostPort

_SINGLE = re.compile(r"^([a-zA-Z0-9\-\.]*)(?:\:(\d*))?$")


def sqlalchemy_hosts(
    query: Sequence[tuple[str, str]], host: object, port: object, *, asyncpg: bool
) -> tuple[HostPort, ...]:
    hosts_q = [v for k, v in query if k == "host"]
    ports_q = [v for k, v in query if k == "port"]
    # translate_connect_args drops a falsy netloc port: port 0 is no port.
    netloc_port = (_int(port) or None) if port not in (None, "") else None
    if not hosts_q:
        listed = ports_q if len(ports_q) > 1 else (ports_q[0].split(",") if ports_q else [])
        numbers = [_int(p) if p else None for p in listed]  # int() of each, as SQLAlchemy
        if len(numbers) > 1:
            raise ConnStringError("number of hosts and ports don't match (SQLAlchemy)")
        if isinstance(host, str) and host:
            only = numbers[0] if numbers else None
            if ports_q and asyncpg:
                # opts.update(url.query) replaces the netloc's port, and asyncpg takes a
                # falsy port argument (0) for none: PGPORT, else 5432.
                return (HostPort(host, only or None),)
            return (HostPort(host, only if ports_q else netloc_port),)
        if ports_q and not asyncpg:
            return (HostPort("", _int(ports_q[-1])),)
        if netloc_port is not None and not asyncpg:
            return (HostPort("", netloc_port),)  # a port alone: libpq's socket or PGHOST
        return ()
    integrated = False
    ports: list[str | None] = []
    if len(hosts_q) > 1:
        integrated = True
        names = []
        for token in hosts_q:
            name, colon, number = token.partition(":")
            names.append(name)
            ports.append(number if colon else None)
    else:
        names = hosts_q[0].split(",")
        match = _SINGLE.match(names[0]) if not ports_q and len(names) == 1 else None
        if match and ":" in names[0]:
            integrated = True
            names, ports = [match.group(1)], [match.group(2) or None]
    if ports_q:
        if integrated:
            raise ConnStringError("Can't mix 'multihost' formats together (SQLAlchemy)")
        ports = list(ports_q if len(ports_q) > 1 else ports_q[0].split(","))
    numbers = [_int(p) if p else None for p in ports]
    if not asyncpg and not (ports_q and len(numbers) == 1):
        # The psycopg dialects join `str(p) if p else ""`: port 0 is blank. A single
        # ?port= stays as the query wrote it (opts.update(url.query); the join is empty).
        numbers = [n or None for n in numbers]
    if numbers and len(names) != len(numbers) and (len(names) > 1 or len(numbers) > 1):
        raise ConnStringError("number of hosts and ports don't match (SQLAlchemy)")
    numbers = numbers or [None] * len(names)
    if len(names) == 1:
        # One host: the query's port, else the netloc's (the asyncpg dialect passes a
        # query port 0 on, which asyncpg takes for none: PGPORT, else 5432).
        if numbers[0] is not None:
            return (HostPort(names[0], (numbers[0] or None) if asyncpg else numbers[0]),)
        return (HostPort(names[0], netloc_port),)
    if asyncpg and not all(names):
        raise ConnStringError("All hosts are required to be present for asyncpg multiple host URL")
    if asyncpg and not all(numbers):  # `not all(multiports)`: a port 0 is missing too
        raise ConnStringError("All ports are required to be present for asyncpg multiple host URL")
    # (psycopg dialects: a host list without ports is written port=',': 5432 each,
    # never the netloc's port; from_url_parts marks it written.)
    return tuple(HostPort(n, numbers[i]) for i, n in enumerate(names))


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ConnStringError("Received non-integer port arguments (SQLAlchemy)") from None
