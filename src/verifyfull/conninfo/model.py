"""The connection model: one frozen ConnInfo for every way a connection is described.

Passwords live in `Secret`s, so every rendering (str, repr, to_url, to_keywords,
evidence) shows `***`. The only raw form is `connect_string_with_secret()`, for
the guard when it really connects.

The environment (PG* variables, ~/.postgresql/root.crt) is an explicit
`Environment` value: the model never reads os.environ by itself, so a
verdict depends only on its inputs.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from verifyfull.conninfo.redact import MASK, Secret, is_secret_key
from verifyfull.conninfo.sslarg import SSLArg

_NO_SSL_ARG = SSLArg.absent()


class Source(str, enum.Enum):
    """How the connection was written; the driver semantics depend on it."""

    URL = "url"  # a URL (libpq, SQLAlchemy or Tortoise form)
    KEYWORDS = "keywords"  # a libpq keyword string: host=… sslmode=…
    KWARGS = "kwargs"  # keyword arguments to a driver call (asyncpg.connect, connect_args)
    TORTOISE_CONFIG = "tortoise-config"  # a Tortoise connections entry with credentials
    ENV = "env"  # nothing written: PG* variables and defaults only


def names_unix_socket(host: str) -> bool:
    """libpq's test (and asyncpg's, for '/'): a host that is a socket directory or an
    abstract socket name, reached without TCP and so without TLS."""
    return host.startswith(("/", "@"))


@dataclass(frozen=True)
class HostPort:
    # A name, an IP literal (no brackets), a Unix socket directory, or "" for
    # "not written" (the driver's default: PGHOST, then its socket or localhost).
    host: str
    port: int | None = None
    # libpq's hostaddr: the address actually dialled over TCP; `host` then only
    # names the server for the certificate check and the password file.
    # None: not written; "": written empty (it hides PGHOSTADDR, dials nothing).
    hostaddr: str | None = None
    # Whether the driver dials it as a Unix socket, where its rule is not libpq's
    # (None: libpq's, names_unix_socket). asyncpg takes only '/…' as a socket: '@name'
    # (libpq's abstract socket) is a TCP host name to it (endpoints.asyncpg_endpoints).
    socket: bool | None = field(default=None, repr=False)

    @property
    def is_unix_socket(self) -> bool:
        if self.hostaddr:
            return False
        return names_unix_socket(self.host) if self.socket is None else self.socket

    @property
    def dialled(self) -> str:
        """What the driver connects to: the hostaddr when there is one, else the host."""
        return self.hostaddr or self.host

    def __repr__(self) -> str:  # redacted like every other rendering
        return (
            f"HostPort(host={self.shown_host()!r}, port={self.port!r}, hostaddr={self.hostaddr!r})"
        )

    def shown_host(self, *, reveal: bool = False) -> str:
        """The host, with whatever stands before an '@' masked unless revealed.

        A host name never holds '@': one there is the rest of a password that
        had a raw '@' (libpq and asyncpg end the user info at the first one).
        """
        if reveal or "@" not in self.host[1:]:  # '@name' alone: an abstract socket
            return self.host
        return f"{MASK}@{self.host.rsplit('@', 1)[1]}"

    def render(self, *, reveal: bool = False, libpq: bool = False) -> str:
        """The host (and port) in a URL's netloc. libpq: for libpq alone, which decodes
        %XX in every part (inside brackets too) and refuses a blank in a URL (18), so
        a name that is no plain word is percent-encoded."""
        shown = self.shown_host(reveal=reveal)
        if shown != self.host:
            return f"{shown}:{self.port}" if self.port is not None else shown
        host = f"[{self.host}]" if ":" in self.host else self.host
        if libpq:
            inner = quote(self.host, safe=":")
            host = f"[{inner}]" if ":" in self.host else quote(self.host, safe="")
        if self.is_unix_socket or self.host.startswith("["):
            # A socket path, or a name written with its brackets (libpq takes it as a
            # name): percent-encoded, libpq decodes it back.
            host = quote(self.host, safe="")
        return f"{host}:{self.port}" if self.port is not None else host


# The PG* variables that take part in connection settings (libpq's list).
PG_VARIABLES = (
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
    "PGSSLMODE",
    "PGREQUIRESSL",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLCRL",
    "PGSSLCRLDIR",
    "PGSSLPASSWORD",
    "PGSSLMINPROTOCOLVERSION",
    "PGSSLMAXPROTOCOLVERSION",
    "PGSSLNEGOTIATION",
    "PGSSLSNI",
    "PGSSLCERTMODE",
    "PGGSSENCMODE",
    "PGAPPNAME",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
    # asyncpg's gsslib default (it refuses anything but gssapi and sspi); libpq reads it
    # too (PQconndefaults) and uses it only in Windows builds with SSPI: never refused.
    "PGGSSLIB",
    # libpq's other checked options (conninfo.libpq_options)
    "PGREQUIREAUTH",
    "PGCHANNELBINDING",
    "PGLOADBALANCEHOSTS",
    "PGMINPROTOCOLVERSION",
    "PGMAXPROTOCOLVERSION",
)
_SECRET_VARIABLES = frozenset({"PGPASSWORD", "PGSSLPASSWORD"})


@dataclass(frozen=True)
class ServiceFiles:
    """The connection service files (pg_service.conf) as the drivers would find them.

    `files` maps a path to its text (None: it does not exist); a path not
    listed does not exist either. The texts may hold passwords: never shown.
    conninfo.service says how each driver reads them.
    """

    home: str | None = None  # the home directory, for ~/.pg_service.conf
    files: tuple[tuple[str, str | None], ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, files: Mapping[str, str | None], *, home: str | None = None) -> ServiceFiles:
        return cls(home, tuple(files.items()))

    @classmethod
    def read(cls, variables: Mapping[str, str], home: Path | None) -> ServiceFiles:
        """The files libpq and asyncpg would open for these variables (explicitly: the
        model never reads files by itself)."""
        paths = [
            variables.get("PGSERVICEFILE")
            or (str(home / SERVICE_FILE_NAME) if home is not None else None),
            str(Path(variables.get("PGSYSCONFDIR") or LIBPQ_SYSCONFDIR) / SYSTEM_FILE_NAME),
        ]
        files: dict[str, str | None] = {}
        for path in paths:
            if path is None:
                continue
            try:
                with open(path, "rb") as handle:
                    files[path] = handle.read(MAX_SERVICE_FILE).decode("utf-8", "replace")
            except OSError:  # missing or unreadable: the drivers skip it as well
                files[path] = None
        return cls(str(home) if home is not None else None, tuple(files.items()))

    def text(self, path: str) -> str | None:
        for name, text in self.files:
            if name == path:
                return text
        return None


# Where psycopg-binary's libpq (and Debian's) looks when PGSYSCONFDIR is unset.
LIBPQ_SYSCONFDIR = "/etc/postgresql-common"
SERVICE_FILE_NAME = ".pg_service.conf"
SYSTEM_FILE_NAME = "pg_service.conf"
MAX_SERVICE_FILE = 1 << 20  # bytes read per file: a work bound on hostile input


@dataclass(frozen=True)
class Environment:
    """The outside inputs a driver consults: PG* variables and the home root cert."""

    variables: tuple[tuple[str, str], ...] = ()  # PG* names and values, secrets excluded
    secrets: tuple[tuple[str, Secret], ...] = ()  # PGPASSWORD, PGSSLPASSWORD
    home_root_cert: bool = False  # ~/.postgresql/root.crt exists
    home_client_cert: bool = False  # ~/.postgresql/postgresql.crt exists
    described_as: str = "an empty environment"
    # The service files; None: they are the deployment's and not known here,
    # so a service reference leaves the connection to be decided at deploy.
    services: ServiceFiles | None = None

    @classmethod
    def empty(cls) -> Environment:
        return cls()

    @classmethod
    def of(
        cls,
        variables: Mapping[str, str],
        *,
        home_root_cert: bool = False,
        home_client_cert: bool = False,
        described_as: str = "the given environment",
        services: ServiceFiles | None = None,
    ) -> Environment:
        plain: list[tuple[str, str]] = []
        secret: list[tuple[str, Secret]] = []
        for name in PG_VARIABLES:
            if name in variables:
                if name in _SECRET_VARIABLES:
                    secret.append((name, Secret(variables[name])))
                else:
                    plain.append((name, variables[name]))
        return cls(
            tuple(plain), tuple(secret), home_root_cert, home_client_cert, described_as, services
        )

    @classmethod
    def current(cls) -> Environment:
        """The process environment; call it explicitly (the model never does)."""
        pg_home = Path(os.environ.get("APPDATA", "")) / "postgresql" if os.name == "nt" else None
        try:
            home: Path | None = Path.home()
        except (RuntimeError, KeyError):  # no home directory
            home = None
        if pg_home is None:
            pg_home = home / ".postgresql" if home is not None else Path("/nonexistent")
        return cls.of(
            os.environ,
            home_root_cert=(pg_home / "root.crt").is_file(),
            home_client_cert=(pg_home / "postgresql.crt").is_file(),
            described_as="the current PG* environment",
            services=ServiceFiles.read(os.environ, home),
        )

    def get(self, name: str) -> str | None:
        for key, value in self.variables:
            if key == name:
                return value
        return None

    def secret(self, name: str) -> Secret | None:
        for key, value in self.secrets:
            if key == name:
                return value
        return None

    def describe(self) -> str:
        shown = [f"{k}={v}" for k, v in self.variables] + [f"{k}={MASK}" for k, _ in self.secrets]
        if self.home_root_cert:
            shown.append("~/.postgresql/root.crt present")
        if self.services is not None:
            present = [path for path, text in self.services.files if text is not None]
            shown.append(f"service files: {', '.join(present) or 'none'}")
        return f"{self.described_as} ({', '.join(shown) or 'no PG* variables'})"


@dataclass(frozen=True)
class ConnInfo:
    """A connection as written. Neutral: conninfo.drivers says what a driver makes of it."""

    source: Source
    scheme: str | None = None  # postgresql, postgres, cockroachdb, asyncpg, psycopg …
    dialect: str | None = None  # the '+asyncpg' part of a SQLAlchemy URL, without '+'
    hosts: tuple[HostPort, ...] = ()
    user: str | None = None
    password: Secret | None = field(default=None, repr=True)
    database: str | None = None
    # Other options from the query string or keyword string, decoded, in the
    # order written (the last of a repeated key wins). Secret ones are held in
    # secret_params instead.
    params: tuple[tuple[str, str], ...] = ()
    secret_params: tuple[tuple[str, Secret], ...] = ()
    # Keyword arguments to the driver call other than ssl and the connection
    # fields above: name and a rendering of the value (secrets masked).
    kwargs: tuple[tuple[str, str], ...] = ()
    ssl: SSLArg = _NO_SSL_ARG
    engine: str | None = None  # Tortoise engine module, when named
    # Whether the values were written literally (code, config, command line):
    # a literal password is VF401. The guard builds from settings: False.
    literal: bool = True
    # What the driver's own reading changes in meaning (asyncpg: '+' in a TLS
    # path is a space): each one is a VF105 for that driver.
    reading_notes: tuple[str, ...] = ()
    # libpq's host, hostaddr and port written, even when empty: a written value
    # (host='', port=',') hides PGHOST/PGPORT/PGHOSTADDR and a service's value.
    written: tuple[str, ...] = ()

    # --- reading -----------------------------------------------------------
    def param(self, key: str) -> str | None:
        """The option's value as the last occurrence gives it, or None."""
        found = None
        for name, value in self.params:
            if name == key:
                found = value
        return found

    def has_param(self, key: str) -> bool:
        return any(name == key for name, _ in self.params) or any(
            name == key for name, _ in self.secret_params
        )

    def kwarg(self, key: str) -> str | None:
        found = None
        for name, value in self.kwargs:
            if name == key:
                found = value
        return found

    def has_kwarg(self, key: str) -> bool:
        return any(name == key for name, _ in self.kwargs)

    @property
    def param_keys(self) -> tuple[str, ...]:
        keys = [k for k, _ in self.params] + [k for k, _ in self.secret_params]
        return tuple(dict.fromkeys(keys))

    def written_text(self, key: str) -> str | None:
        """host, hostaddr or port as libpq received it (the comma-joined list), or None
        when it was not written."""
        if key == "host":
            values = [h.host for h in self.hosts]
            present = any(values)
        elif key == "hostaddr":
            present = any(h.hostaddr is not None for h in self.hosts)
            # hostaddr='' written: one empty text (libpq then counts the hosts from host
            # or PGHOST), not one empty entry per host.
            values = [h.hostaddr or "" for h in self.hosts] if present else [""]
        else:
            values = ["" if h.port is None else str(h.port) for h in self.hosts]
            present = any(h.port is not None for h in self.hosts)
        return ",".join(values) if present or key in self.written else None

    @property
    def tcp_hosts(self) -> tuple[HostPort, ...]:
        return tuple(h for h in self.hosts if not h.is_unix_socket)

    @property
    def only_unix_sockets(self) -> bool:
        return bool(self.hosts) and not self.tcp_hosts

    # --- deriving ----------------------------------------------------------
    def with_params(self, **changes: str | None) -> ConnInfo:
        """A copy with options set (None removes them), order kept, new ones appended."""
        params = [(k, v) for k, v in self.params if k not in changes]
        params += [(k, v) for k, v in changes.items() if v is not None]
        return replace(self, params=tuple(params))

    def without_params(self, *keys: str) -> ConnInfo:
        return replace(self, params=tuple((k, v) for k, v in self.params if k not in keys))

    # --- rendering (always redacted) ----------------------------------------
    def to_url(self, *, scheme: str | None = None, libpq: bool = False) -> str:
        """A URL with the password shown as ***. libpq: for libpq alone, which writes
        port=',' for a host list in the netloc (5432 each, PGPORT hidden): a list
        without ports then goes to ?host=, which leaves the port unwritten."""
        return self._url(reveal=False, scheme=scheme, libpq=libpq)

    def to_keywords(self) -> str:
        """A libpq keyword string with secrets shown as ***."""
        return self._keywords(reveal=False)

    def connect_string_with_secret(self, *, form: str = "url", scheme: str | None = None) -> str:
        """The one raw rendering, password included: only for handing to a driver."""
        if form == "keywords":
            return self._keywords(reveal=True)
        return self._url(reveal=True, scheme=scheme)

    def __str__(self) -> str:
        if self.source is Source.KEYWORDS:
            return self.to_keywords()
        return self.to_url()

    def _url(self, *, reveal: bool, scheme: str | None, libpq: bool = False) -> str:
        if scheme is None:
            scheme = self.scheme or "postgresql"
            if self.dialect:
                scheme = f"{scheme}+{self.dialect}"
        userinfo = ""
        if self.user is not None or self.password is not None:
            userinfo = quote(self.user or "", safe="")
            if self.password is not None:
                secret = quote(self.password.reveal(), safe="") if reveal else MASK
                userinfo += f":{secret}"
            userinfo += "@"
        tcp = [h for h in self.hosts if not h.is_unix_socket]
        unix = [h for h in self.hosts if h.is_unix_socket]
        unwritten_port = "port" not in self.written and all(h.port is None for h in self.hosts)
        if libpq and len(self.hosts) > 1 and unwritten_port:
            tcp, unix = [], list(self.hosts)  # every host in ?host=, no port written
        nameless = "host" not in self.written and all(
            h.host == "" and not h.hostaddr for h in self.hosts
        )
        if len(self.hosts) > 1 and nameless:
            # A port list written without hosts (paired with PGHOST): ?port= alone, since
            # a netloc ':p1,:p2' writes host=',' and hides PGHOST.
            tcp = unix = []
        # A mixed list keeps its order in the netloc (sockets percent-encoded, as
        # libpq reads them); sockets alone go to ?host=, which every reader takes.
        netloc = ",".join(h.render(reveal=reveal, libpq=libpq) for h in (self.hosts if tcp else ()))
        query: list[tuple[str, str]] = []
        if (hostaddr := self.written_text("hostaddr")) is not None:
            query.append(("hostaddr", hostaddr))
        if unix and not tcp:
            query.append(("host", ",".join(h.shown_host(reveal=reveal) for h in unix)))
            ports = {h.port for h in unix if h.port is not None}
            if ports or "port" in self.written:
                query.append(("port", ",".join(str(h.port or "") for h in unix)))
        elif not tcp and "host" in self.written:
            # host='' written: libpq's socket, not PGHOST; keep it written.
            query.append(("host", ",".join(h.host for h in self.hosts)))
            if "port" in self.written or any(h.port is not None for h in self.hosts):
                query.append(("port", ",".join(str(h.port or "") for h in self.hosts)))
        elif "port" in self.written and all(h.port is None for h in self.hosts):
            query.append(("port", ",".join("" for _ in self.hosts)))
        elif len(self.hosts) > 1 and nameless:
            query.append(("port", ",".join(str(h.port or "") for h in self.hosts)))
        path = "/" + quote(self.database, safe="") if self.database is not None else ""
        query += list(self.params)
        query += [(k, v.reveal() if reveal else MASK) for k, v in self.secret_params]
        text = f"{scheme}://{userinfo}{netloc}{path or ('/' if query else '')}"
        if query:
            text += "?" + "&".join(f"{quote(k, safe='')}={_quote_value(v)}" for k, v in query)
        return text

    def _keywords(self, *, reveal: bool) -> str:
        items: list[tuple[str, str]] = []
        if self.hosts:
            # host='' is not "no host": it makes libpq ignore PGHOST. Leave an
            # unwritten host unwritten, and a written empty one written.
            if self.written_text("host") is not None:
                items.append(("host", ",".join(h.shown_host(reveal=reveal) for h in self.hosts)))
            if (hostaddr := self.written_text("hostaddr")) is not None:
                items.append(("hostaddr", hostaddr))
            if self.written_text("port") is not None:
                items.append(("port", ",".join(str(h.port or "") for h in self.hosts)))
        if self.user is not None:
            items.append(("user", self.user))
        if self.password is not None:
            items.append(("password", self.password.reveal() if reveal else MASK))
        if self.database is not None:
            items.append(("dbname", self.database))
        items += list(self.params)
        items += [(k, v.reveal() if reveal else MASK) for k, v in self.secret_params]
        return " ".join(f"{k}={_keyword_value(v)}" for k, v in items)


def _quote_value(value: str) -> str:
    # Keep paths readable (certs/ca.crt); encode what would break the URL. An '@' too:
    # make_url's pattern reads `[v6]/db?k=a@` as user '[2001', the rest up to '@' a password.
    return quote(value, safe="/:,~")


def _keyword_value(value: str) -> str:
    if value and not any(c.isspace() or c in "'\\" for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def split_secret_pairs(
    pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]],
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, Secret], ...]]:
    """Separate secret options (sslpassword …) from plain ones."""
    plain = tuple((k, v) for k, v in pairs if not is_secret_key(k))
    secret = tuple((k, Secret(v)) for k, v in pairs if is_secret_key(k))
    return plain, secret
