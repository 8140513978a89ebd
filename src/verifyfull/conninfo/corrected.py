"""The corrected form of a connection for the driver that receives it.

libpq drivers get a URL (sslmode=verify-full, sslrootcert, the client
certificate when one was named). asyncpg, SQLAlchemy's asyncpg dialect and
Tortoise's asyncpg backend get code that passes an SSLContext; Tortoise's
psycopg backend gets a config whose server_settings carry the libpq
parameters. The password is never copied: the corrected form takes it from
PGPASSWORD (or uses the client certificate).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from verifyfull.conninfo.asyncpg_dsn import asyncpg_call
from verifyfull.conninfo.libpq_options import option_refusal
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort, Source
from verifyfull.conninfo.target import sqlalchemy_scheme
from verifyfull.conninfo.versions import PINNED, LibpqVersion

if TYPE_CHECKING:
    from verifyfull.conninfo.target import Target

DEFAULT_ROOT = "certs/ca.crt"
_PLAIN_HOST = re.compile(r"[A-Za-z0-9._-]+")
_TLS_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "ssl")


def corrected_form(
    info: ConnInfo, target: Target, libpq: LibpqVersion = PINNED.psycopg_libpq
) -> str:
    """The connection rewritten to verify-full; a libpq form keeps only the options the
    driver's libpq (`libpq`: that version) has and accepts."""
    root, cert, key = _files(info)
    if target.driver.value == "tortoise" and target.backend == "psycopg":
        return _tortoise_psycopg_config(info, root, cert, key)
    if target.engine == "libpq":
        return _libpq_url(info, target, root, cert, key, libpq)
    return _ssl_context_code(info, target, root, cert, key)


def _files(info: ConnInfo) -> tuple[str, str | None, str | None]:
    def pick(name: str) -> str | None:
        return info.param(name) or info.kwarg(name)

    root = pick("sslrootcert") or DEFAULT_ROOT
    return root, pick("sslcert"), pick("sslkey")


def _libpq_url(
    info: ConnInfo,
    target: Target,
    root: str,
    cert: str | None,
    key: str | None,
    libpq: LibpqVersion,
) -> str:
    keywords = libpq.keywords
    base = replace(
        info,
        password=None,
        secret_params=(),
        kwargs=(),
        params=tuple((k, v) for k, v in info.params if k not in _TLS_KEYS and k in keywords),
        # No host written: leave it so (libpq then takes PGHOST, as the original did).
        hosts=info.hosts,
    )
    files = {"sslmode": "verify-full", "sslrootcert": root}
    if cert:
        files["sslcert"] = cert
    if key:
        files["sslkey"] = key
    base = _without_refused_options(base.with_params(**files), libpq)
    if info.source is Source.KEYWORDS and target.driver.value in ("psycopg", "psycopg2"):
        return base.to_keywords()  # answer in the form it was written
    if target.driver.value == "sqlalchemy":
        return sqlalchemy_url(base, sqlalchemy_scheme(info.scheme) + f"+{target.backend}")
    return base.to_url(scheme="postgresql", libpq=True)


def sqlalchemy_url(info: ConnInfo, scheme: str) -> str:
    """The URL SQLAlchemy reads back to the same hosts: a host list goes in the query
    (`?host=h1,h2&port=p1,p2`, its _split_multihost_from_url), since make_url reads a
    netloc list as one host with a port it cannot int() ('5432,h2:5433'), and it never
    unquotes a netloc host: a name that needs quoting goes there too."""
    single = len(info.hosts) <= 1 and all(_netloc_name(h.host) for h in info.hosts)
    if single and not _written_empty_host(info):
        return info.to_url(scheme=scheme)
    listed = None if single else _netloc_list(info, scheme)
    if single:
        # An empty host written (`?host=:6000`): make_url drops an empty `?host=` (parse_qsl
        # keeps no blank values), while `?host=:` and `?host=:6000` split into host '' and
        # the port; a netloc without a host would read PGHOST again.
        url = replace(info, hosts=(), written=()).to_url(scheme=scheme)
        port = info.hosts[0].port
        query = f"&host=:{'' if port is None else port}"
    elif listed is not None:
        url = replace(info, hosts=(listed,), written=()).to_url(scheme=scheme)
        query = ""
    else:
        url = replace(info, hosts=(), written=()).to_url(scheme=scheme)
        names = quote(",".join(h.host for h in info.hosts), safe=",:/")
        query = f"&host={names}"
        if "port" in info.written or any(h.port is not None for h in info.hosts):
            # (No port written stays so: the driver then reads PGPORT, as the original did.)
            ports = ",".join("" if h.port is None else str(h.port) for h in info.hosts)
            query += f"&port={ports}"
    if any(h.hostaddr for h in info.hosts):  # kept with its hosts, one per host
        query += "&hostaddr=" + ",".join(h.hostaddr or "" for h in info.hosts)
    return _with_query(url, query)


def _with_query(url: str, query: str) -> str:
    """The URL with `&key=value...` appended to its query."""
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query[1:]}"


def _written_empty_host(info: ConnInfo) -> bool:
    """One host, written empty (`?host=:6000`): a libpq dialect passes host='', which hides
    PGHOST (a netloc without a host would read it again)."""
    return len(info.hosts) == 1 and info.hosts[0].host == "" and "host" in info.written


def _netloc_list(info: ConnInfo, scheme: str) -> HostPort | None:
    """One netloc host `h1,h2` (with the one port), when a libpq dialect's hosts share one
    port or none is written: the dialect passes a netloc host on as written (host='h1,h2',
    an empty entry too) and libpq splits it, each host then taking the one port, or
    PGPORT's, as the original did; `?host=h1,h2` would make the dialect write port=','
    (5432 each) and refuse a single `&port=`. A hostaddr list stays in the query beside
    it, as libpq pairs it with the hosts. The asyncpg dialect passes 'h1,h2' as one name:
    never."""
    if scheme.lower().endswith("+asyncpg"):
        return None
    ports = {h.port for h in info.hosts}
    if len(ports) != 1 or (ports == {None} and "port" in info.written):
        return None  # ports of their own, or an empty port written: the query form keeps it
    names = [name for h in info.hosts for name in h.host.split(",")]
    if len(names) < 2 or not all(not name or _PLAIN_HOST.fullmatch(name) for name in names):
        return None
    (port,) = ports
    return HostPort(",".join(names), port)


def _netloc_name(host: str) -> bool:
    """A host make_url reads back from the netloc as written: a plain name or an IPv6
    address (rendered in brackets)."""
    if not host or _PLAIN_HOST.fullmatch(host):  # (an empty one: as the renderings do)
        return True
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def _without_refused_options(info: ConnInfo, libpq: LibpqVersion) -> ConnInfo:
    """Drop each option that libpq version would refuse (a value outside its list, a
    TLS ceiling under the floor, require_auth=oauth before 18, ...): the corrected form
    must connect. Written TLS modes and roots are the corrected ones already, so they
    are never what is refused."""
    for _ in range(len(info.params)):
        refusal = option_refusal(dict(info.params), Environment.empty(), libpq_major=libpq.major)
        if refusal is None or refusal.option not in dict(info.params):
            break
        info = replace(info, params=tuple((k, v) for k, v in info.params if k != refusal.option))
    return info


def _py(value: object) -> str:
    """A Python literal in double quotes, matching the code around it."""
    return f'"{value}"' if isinstance(value, str) and '"' not in value else repr(value)


def _tortoise_credentials(info: ConnInfo) -> str:
    host = (info.hosts or (HostPort("localhost"),))[0]
    credentials = {
        "host": host.host,
        "port": host.port or 5432,
        "user": info.user,
        "database": info.database,
    }
    return ", ".join(f'"{k}": {_py(v)}' for k, v in credentials.items() if v is not None)


def _tortoise_psycopg_config(info: ConnInfo, root: str, cert: str | None, key: str | None) -> str:
    """Tortoise's psycopg backend: libpq parameters through server_settings, no ssl key
    (an ssl credential would overwrite sslmode)."""
    files = {"sslmode": "verify-full", "sslrootcert": root}
    if cert:
        files["sslcert"] = cert
    if key:
        files["sslkey"] = key
    settings = ", ".join(f'"{k}": {_py(v)}' for k, v in files.items())
    credentials = f'{_tortoise_credentials(info)},\n{" " * 48}"server_settings": {{{settings}}}'
    lines = _tortoise_config("tortoise.backends.psycopg", credentials)
    return "\n".join(_password_note(info, lines))


def _tortoise_config(engine: str, credentials: str) -> list[str]:
    return [
        "TORTOISE_ORM = {",
        f'    "connections": {{"default": {{"engine": "{engine}",',
        '                                "credentials": {' + credentials + "}}},",
        '    "apps": {"models": {"models": ["app.models"], "default_connection": "default"}},',
        "}",
    ]


def _password_note(info: ConnInfo, lines: list[str], *, pgpassword: bool = True) -> list[str]:
    """pgpassword: the driver reads PGPASSWORD (pg8000 reads no PG* variable)."""
    if info.password is not None:
        where = "PGPASSWORD or a secret store" if pgpassword else "a secret store"
        lines.append(f"# the password comes from {where}, not from code")
    return lines


# What the call (argument or DSN) says that beats a PG* variable asyncpg would read
# otherwise (PGTARGETSESSIONATTRS, PGGSSLIB, PGKRBSRVNAME): kept, so the corrected call
# is refused exactly when the original is.
_KEPT_ASYNCPG = ("target_session_attrs", "gsslib", "krbsrvname")


def _kept_asyncpg_arguments(info: ConnInfo) -> list[tuple[str, str]]:
    kept = []
    for key in _KEPT_ASYNCPG:
        value = info.kwarg(key)
        if value is None and info.source is Source.URL:
            value = info.param(key)
        if value is not None and value != "None":  # (an argument of None names nothing)
            kept.append((key, value))
    return kept


def _ssl_context_code(
    info: ConnInfo, target: Target, root: str, cert: str | None, key: str | None
) -> str:
    lines = [
        "import ssl",
        "",
        f"ctx = ssl.create_default_context(cafile={_py(root)})  # verify-full: chain and host name",
    ]
    if cert and key:
        lines.append(f"ctx.load_cert_chain({_py(cert)}, {_py(key)})")
    elif cert:
        lines.append(f"ctx.load_cert_chain({_py(cert)})")
    plain = replace(
        info,
        password=None,
        secret_params=(),
        kwargs=(),
        params=(),
        ssl=info.ssl.absent(),
        hosts=info.hosts or (HostPort("localhost"),),
    )
    driver = target.driver.value
    if driver == "asyncpg":
        # Hosts and ports as asyncpg reads them from the call; none written stays none.
        dsn, ports = asyncpg_call(info)  # (it never renders the password)
        # (A list when the one port is 0: asyncpg takes a falsy port argument for none.)
        port = f", port={ports[0] if len(ports) == 1 and ports[0] else ports}" if ports else ""
        kept = "".join(f", {k}={_py(v)}" for k, v in _kept_asyncpg_arguments(info))
        lines.append(f"conn = await asyncpg.connect({_py(dsn)}{port}{kept}, ssl=ctx)")
    elif driver == "pg8000":
        host = plain.hosts[0]
        port = f", port={host.port}" if host.port else ""
        user = f"{_py(info.user)}, " if info.user else ""
        database = f", database={_py(info.database)}" if info.database else ""
        lines.append(
            f"conn = pg8000.native.Connection({user}host={_py(host.host)}{port}{database}, "
            "ssl_context=ctx)"
        )
    elif driver == "sqlalchemy" and target.backend == "pg8000":
        url = sqlalchemy_url(replace(plain, hosts=info.hosts), "postgresql+pg8000")
        lines.append(f'engine = create_engine({_py(url)}, connect_args={{"ssl_context": ctx}})')
    elif driver == "sqlalchemy":
        # No host written stays so (asyncpg then takes PGHOST or its default hosts, as
        # the original did), and a port written without a host is kept.
        alone = tuple((k, v) for k, v in info.params if k == "port")
        url = sqlalchemy_url(
            replace(plain, hosts=info.hosts, params=alone),
            f"{sqlalchemy_scheme(info.scheme)}+asyncpg",
        )
        lines.append(f'engine = create_async_engine({_py(url)}, connect_args={{"ssl": ctx}})')
    else:
        credentials = f'{_tortoise_credentials(plain)}, "ssl": ctx'
        lines += _tortoise_config("tortoise.backends.asyncpg", credentials)
    return "\n".join(_password_note(info, lines, pgpassword=target.engine != "pg8000"))
