"""What pg8000 does with its keyword arguments (read in pg8000's core.py, 1.29.3 to
1.31.6; docs/FACTS.md "pg8000").

pg8000 takes no connection string and reads no PG* variable: only `connect(user,
host="localhost", database, port=5432, password, ..., unix_sock, ssl_context)`. Its TLS
is `ssl_context`, whose meaning changed in 1.31:
- before 1.31: None (the default) sends no SSLRequest at all: plaintext; True is
  `ssl.create_default_context()`: TLS required, chain and host name checked against
  the system store; an SSLContext is used as is; anything else (False, a string) is
  taken for a context and fails at connect (AttributeError);
- 1.31 and later: None asks for TLS with a context that checks nothing
  (CERT_NONE, check_hostname=False) and carries on in plaintext when the server says
  no (libpq's prefer); True is the same context but TLS is required ("Server refuses
  SSL"); False is no TLS; an SSLContext is required and used as is.
No host is TCP to localhost, not a Unix socket; `unix_sock` is the socket. SQLAlchemy's
pg8000 dialect passes the URL's query to connect() as keyword arguments, so
`?sslmode=require` is a TypeError at connect.
"""

from __future__ import annotations

from verifyfull.conninfo.asyncpg_rules import judge_context
from verifyfull.conninfo.model import ConnInfo
from verifyfull.conninfo.sslarg import SSLArgKind
from verifyfull.conninfo.target import Target
from verifyfull.conninfo.verdict import Judge
from verifyfull.conninfo.versions import DriverVersions
from verifyfull.policy import TLSUse

# pg8000.connect()'s parameters (1.31.6; 1.29 lacks none of the TLS ones).
PG8000_KWARGS = frozenset(
    {
        "user",
        "host",
        "database",
        "port",
        "password",
        "source_address",
        "unix_sock",
        "ssl_context",
        "timeout",
        "tcp_keepalive",
        "application_name",
        "replication",
        "startup_params",
        "sock",
    }
)
_CHANGED = (1, 31)
_AS_CONTEXT = (
    "AttributeError: '{kind}' object has no attribute 'wrap_socket'",
    "pg8000 takes ssl_context={value} for an SSLContext: connecting fails",
)


def pg8000_front(info: ConnInfo, target: Target, judge: Judge, versions: DriverVersions) -> None:
    new = versions.pg8000 >= _CHANGED
    shown = ".".join(str(p) for p in versions.pg8000)
    judge.note(
        f"pg8000 {shown} reads only its keyword arguments: no connection string, no PG* "
        "variable, no sslmode"
    )
    given = [k for k, _ in (*info.params, *info.kwargs) if k not in PG8000_KWARGS]
    if given:
        through = (
            " (SQLAlchemy's pg8000 dialect hands the URL query to pg8000.connect() as keyword "
            "arguments)"
            if target.backend
            else ""
        )
        judge.crash(
            f"TypeError: connect() got an unexpected keyword argument '{given[0]}'",
            f"pg8000 has no {', '.join(sorted(set(given)))} argument: connecting raises "
            f"TypeError{through}; its TLS setting is ssl_context",
        )
    if info.kwarg("unix_sock") not in (None, "None") or info.kwarg("sock") not in (None, "None"):
        judge.transport(TLSUse.NEVER, False, False)
        judge.local_only = True
        judge.note("unix_sock / sock: no network path (pg8000 dials no host)")
        return
    ssl = info.ssl
    if ssl.kind is SSLArgKind.ABSENT:
        if new:
            judge.transport(TLSUse.MAYBE, False, False)
            judge.note(
                "ssl_context=None (the default): pg8000 1.31+ asks for TLS with a context "
                "that checks nothing and goes on in plaintext when the server says no"
            )
        else:  # pg8000's plaintext-only mode, no fallback: switched off, as written
            judge.transport(TLSUse.NEVER, False, False, off=True)
            judge.note("ssl_context=None (the default): before 1.31 pg8000 never asks for TLS")
    elif ssl.kind is SSLArgKind.BOOL and ssl.flag:
        if new:
            judge.transport(TLSUse.ALWAYS, False, False)
            judge.note(
                "ssl_context=True: pg8000 1.31+ requires TLS but with CERT_NONE and "
                "check_hostname=False (before 1.31 it checked both)"
            )
        else:
            judge.transport(TLSUse.ALWAYS, True, True)
            judge.note(
                "ssl_context=True: ssl.create_default_context(), chain and host name checked "
                "against the system store (pg8000 before 1.31)"
            )
    elif ssl.kind is SSLArgKind.BOOL:
        judge.transport(TLSUse.NEVER, False, False, off=True)
        if new:
            judge.note("ssl_context=False: pg8000 1.31+ never uses TLS")
        else:
            error, message = _AS_CONTEXT
            judge.crash(error.format(kind="bool"), message.format(value="False"))
    elif ssl.kind is SSLArgKind.CONTEXT:
        assert ssl.context is not None
        judge_context(ssl.context, judge)
    elif ssl.kind is SSLArgKind.UNKNOWN:
        judge.determined = False
        judge.note(f"ssl_context is not known statically ({ssl.reason})")
    else:  # a string or a dict: taken for a context
        judge.transport(TLSUse.ALWAYS, False, False)
        judge.intent_unknown = True
        error, message = _AS_CONTEXT
        kind = "str" if ssl.kind is SSLArgKind.MODE else "dict"
        judge.crash(error.format(kind=kind), message.format(value=ssl.describe()))
