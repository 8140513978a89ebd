"""Connection sites: calls that open database connections, judged by conninfo.

This module only recognises the call, resolves its arguments statically and
hands them to verifyfull.conninfo in the form that API takes (a DSN, asyncpg
keyword arguments, a SQLAlchemy URL with connect_args, a Tortoise config).
conninfo.evaluate says what the driver will really do and which rules apply;
the scanner never re-decides driver semantics, so what it flags is what the
guard refuses and what `verifyfull explain` says.

When the whole connection string cannot be seen (an environment variable without
default, a caller's parameter), conninfo is asked with stand-ins for it: if the
call's own TLS arguments decide whatever the string says, the site is judged;
otherwise, and for every other site that cannot be judged, it is a VF108 naming
what decides it (issue 12, classes 1 and 10): never guessed, never dropped.
Where a finding is placed is decided in placement.py, a named root certificate
that is not in the tree in rootfiles.py. VF401 is left to credentials.py, which reports
it where the literal is written.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from verifyfull.conninfo import (
    ConnInfo,
    ConnStringError,
    ContextFacts,
    Driver,
    Environment,
    SSLArg,
    Verdict,
    VerifyMode,
    evaluate,
    from_asyncpg_kwargs,
    from_pg8000_kwargs,
    from_sqlalchemy_url,
    from_tortoise_config,
    from_tortoise_db_url,
    parse_dsn,
    redact_text,
    unreadable,
)
from verifyfull.conninfo.drivers import ASYNCPG_CONNECT_KWARGS, ASYNCPG_POOL_KWARGS
from verifyfull.conninfo.parse import KNOWN_SCHEMES
from verifyfull.conninfo.semantics import is_tls_key
from verifyfull.errors import VerifyfullError
from verifyfull.scan.project_versions import driver_versions
from verifyfull.scan.python import (
    config_files,
    credentials,
    guards,
    origins,
    placement,
    receiver_sites,
    rootfiles,
    urls,
)
from verifyfull.scan.python.context import Analysis, Site
from verifyfull.scan.python.module import Scope, register_library_names
from verifyfull.scan.python.query_values import (
    INERT_QUERY_KEYS,
    inert_query_value,
    query_capable,
    queryless,
    tortoise_postgres,
)
from verifyfull.scan.python.values import (
    Const,
    ContextValue,
    DictValue,
    ListValue,
    Symbol,
    Text,
    Unknown,
    Value,
    WrittenAt,
    notes_of,
)
from verifyfull.scan.python.wrapper_sites import (
    ADVANCED_ALCHEMY,
    AIOPG,
    AIOPG_OWN,
    ASYNCPGSA,
    ASYNCPGSA_OWN,
    CELERY,
    CELERY_DATABASE_PREFIX,
    FASTAPI_ASYNCPG,
    FASTAPI_ASYNCPG_OWN,
    HAYSTACK_PGVECTOR,
    HAYSTACK_PGVECTOR_DEFAULT_VARIABLE,
    LANGCHAIN_PGENGINE,
    LANGCHAIN_PGVECTOR,
    LANGCHAIN_PGVECTOR_URL,
    LITESTAR_ASYNCPG,
    LITESTAR_ASYNCPG_SPREAD,
    PEEWEE_ASYNC,
    PEEWEE_ASYNC_OWN,
    PEEWEE_ASYNC_PSYCOPG,
    PONY,
    PONY_POSTGRES_PROVIDERS,
    PYPGSTAC_LOAD,
    SESSION_MIDDLEWARE,
    SESSION_MIDDLEWARES,
    SQLALCHEMY_UTILS,
)

ASYNCPG = frozenset(
    {
        "asyncpg.connect",
        "asyncpg.create_pool",
        "asyncpg.pool.create_pool",
        "asyncpg.connection.connect",
    }
)
SQLALCHEMY = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
        "sqlmodel.create_engine",
    }
)
SQLALCHEMY_CONFIG = frozenset(
    {
        "sqlalchemy.engine_from_config",
        "sqlalchemy.engine.engine_from_config",
        "sqlalchemy.ext.asyncio.async_engine_from_config",
    }
)
PSYCOPG = frozenset(
    {
        "psycopg.connect",
        "psycopg.Connection.connect",
        "psycopg.AsyncConnection.connect",
        "psycopg_pool.ConnectionPool",
        "psycopg_pool.AsyncConnectionPool",
        "psycopg_pool.NullConnectionPool",
        "psycopg_pool.AsyncNullConnectionPool",
    }
)
PSYCOPG2 = frozenset(
    {
        "psycopg2.connect",
        "psycopg2.pool.SimpleConnectionPool",
        "psycopg2.pool.ThreadedConnectionPool",
    }
)
# pg8000 (conninfo/pg8000_rules.py): keyword arguments only, its TLS is ssl_context.
PG8000 = frozenset(
    {
        "pg8000.connect",
        "pg8000.dbapi.connect",
        "pg8000.Connection",
        "pg8000.dbapi.Connection",
        "pg8000.native.Connection",
        "pg8000.legacy.Connection",
    }
)
PG8000_POSITIONAL = ("user", "host", "database", "port", "password")
PG8000_SSL_CONTEXT_INDEX = (
    7  # connect(user, host, database, port, password, source_address, unix_sock, ssl_context)
)
TORTOISE = frozenset(
    {
        "tortoise.Tortoise.init",
        "tortoise.contrib.fastapi.register_tortoise",
        "tortoise.contrib.fastapi.RegisterTortoise",
        "tortoise.contrib.starlette.register_tortoise",
    }
)
# tortoise.contrib.test: initializer(modules, db_url=None, ...) (0.x) and
# tortoise_test_context(modules, db_url="sqlite://:memory:", ...) (1.x) hand db_url to
# generate_config(db_url, ...) and init Tortoise with it, as Tortoise.init(db_url=...)
# does; without a db_url the test database is in-memory SQLite (no site).
TORTOISE_TEST = frozenset(
    {"tortoise.contrib.test.initializer", "tortoise.contrib.test.tortoise_test_context"}
)
DATABASES = frozenset({"databases.Database"})
# peewee's PostgreSQL databases: `_connect()` calls psycopg2.connect(database=<the first
# argument>, **connect_params), connect_params being the keywords its init() does not
# take itself (peewee.py PostgresqlDatabase.init/_connect; 3.17+ passes a first argument
# that starts with postgresql:// as dsn= instead). playhouse.psycopg3_ext hands the same
# to psycopg.connect.
PEEWEE = frozenset(
    {
        "peewee.PostgresqlDatabase",
        "playhouse.pool.PooledPostgresqlDatabase",
        "playhouse.pool.PooledPostgresqlExtDatabase",
        "playhouse.postgres_ext.PostgresqlExtDatabase",
        "playhouse.cockroachdb.CockroachDatabase",
        "playhouse.cockroachdb.PooledCockroachDatabase",
    }
)
PEEWEE_PSYCOPG = frozenset(
    {"playhouse.psycopg3_ext.Psycopg3Database", "playhouse.pool.PooledPsycopg3Database"}
)
# playhouse.db_url.connect(url, **params): the URL's parts and query become the same
# keywords (parseresult_to_dict), so a libpq URL read by psycopg2 says what it does.
PEEWEE_URL = frozenset({"playhouse.db_url.connect"})
# pandas' SQL readers and DataFrame.to_sql: a `con` that is a string is handed to
# sqlalchemy.create_engine(con) (pandas/io/sql.py pandasSQL_builder -> SQLDatabase); an
# engine or a DBAPI connection is judged where it is made, not here.
PANDAS = frozenset(
    {
        "pandas.read_sql",
        "pandas.read_sql_query",
        "pandas.read_sql_table",
        "pandas.io.sql.read_sql",
        "pandas.io.sql.read_sql_query",
        "pandas.io.sql.read_sql_table",
        "pandas.DataFrame.to_sql",
    }
)
ALL_SITES = (
    ASYNCPG
    | PG8000
    | SQLALCHEMY
    | SQLALCHEMY_CONFIG
    | PSYCOPG
    | PSYCOPG2
    | TORTOISE
    | TORTOISE_TEST
    | DATABASES
    | PEEWEE
    | PEEWEE_PSYCOPG
    | PEEWEE_URL
    | PANDAS
    | AIOPG
    | FASTAPI_ASYNCPG
    | PYPGSTAC_LOAD
    | PEEWEE_ASYNC
    | PEEWEE_ASYNC_PSYCOPG
    | SQLALCHEMY_UTILS
    | CELERY
    | ADVANCED_ALCHEMY
    | SESSION_MIDDLEWARE
    | ASYNCPGSA
    | LITESTAR_ASYNCPG
    | PONY
    | LANGCHAIN_PGENGINE
    | LANGCHAIN_PGVECTOR
    | HAYSTACK_PGVECTOR
)

# `from peewee import *` brings these names too (module._star_aliases)
register_library_names(ALL_SITES)

_PLACEHOLDER = rootfiles.PLACEHOLDER  # one spelling of an unknown part
_PORT_PLACEHOLDER = "26257"
_UNKNOWN_PARTS = "unknown parts: "


class NotASite(Exception):
    """The call is not a PostgreSQL connection after all (another backend's URL)."""


class Undetermined(Exception):
    """What decides the transport cannot be seen statically (the reason is the message).

    url: the unseen part is the whole connection string (URL or DSN), which the
    site may still be judged without when its arguments decide (_judge_unseen_url).
    queryless: the unseen string is a template that cannot carry a query (its scheme
    is unknown, the rest has no query slot: query_values.queryless), so only the
    stand-ins without a TLS setting are what it may say."""

    def __init__(self, why: str, *, url: bool = False, queryless: bool = False) -> None:
        super().__init__(why)
        self.url = url
        self.queryless = queryless


# --- values to the shapes conninfo takes --------------------------------------------


def ssl_arg(value: Value) -> SSLArg:
    if isinstance(value, Const):
        if value.value is None:
            return SSLArg.absent()
        if isinstance(value.value, bool):
            return SSLArg.of_bool(value.value)
        return SSLArg.unknown(f"the number {value.value}")
    if isinstance(value, Text):
        known = value.known
        if known is None:
            return SSLArg.unknown("a string with unknown parts")
        return SSLArg.of_mode(known)
    if isinstance(value, ContextValue):
        return SSLArg.of_context(
            ContextFacts(
                verify_mode=VerifyMode(value.verify_mode) if value.verify_mode else None,
                check_hostname=value.check_hostname,
                minimum_version=value.minimum_version,
                ciphers=value.ciphers,
                own_ca=value.own_ca,
                system_roots=value.system_roots,
                has_client_cert=value.has_client_cert,
                origin=value.origin,
            )
        )
    if isinstance(value, DictValue):
        return SSLArg.of_mapping(empty=not value.items and value.complete)
    if isinstance(value, Unknown):
        return SSLArg.unknown(value.why)
    return SSLArg.unknown(f"{value}")


def plain(value: Value, key: str = "") -> object:
    """A resolved value as the Python object conninfo reads (Unknown stays Unknown)."""
    if key == "ssl":
        return ssl_arg(value)
    if isinstance(value, Text):
        return value.known if value.known is not None else value
    if isinstance(value, Const):
        return value.value
    if isinstance(value, DictValue):
        return {k: plain(v, k) for k, v in value.items}
    if isinstance(value, ListValue):
        return [plain(v) for v in value.items]
    if isinstance(value, ContextValue):
        return ssl_arg(value)
    return value


# libpq keywords whose value alone decides the transport: unseen, the site is decided
# where it runs (VF108), never read as absent (which would be libpq's prefer, VF102).
_MODE_KEYWORDS = frozenset({"sslmode", "requiressl"})
_FILE_KEYWORDS = frozenset({"sslrootcert", "sslcert", "sslkey", "sslcrl"})


def known_kwargs(
    mapping: Mapping[str, object], notes: list[str], *, libpq: bool = False
) -> dict[str, object]:
    """Drop what is unknown (noting it); partial strings get placeholders. An unseen
    sslmode is Undetermined: dropping it would judge libpq's default instead. libpq: the
    mapping is libpq's keywords, where an unseen file (`sslrootcert=os.environ["X"]`) is
    a file named, only its name unseen: a placeholder (dropped, it was libpq's default
    root, missing, and an unseen URL's libpq dialects all "broke")."""
    kept: dict[str, object] = {}
    for key, item in mapping.items():
        if key in _MODE_KEYWORDS:
            require_seen(key, item)
        if isinstance(item, Unknown | Symbol):
            notes.append(f"{key}: {item.why if isinstance(item, Unknown) else item.dotted}")
            if key == "host" or (libpq and key in _FILE_KEYWORDS):
                # A host is given, only its name is unseen: a network host to the
                # driver (a socket directory from the environment is the rare case).
                kept[key] = _PLACEHOLDER
            continue
        if isinstance(item, Text):
            notes.append(f"{key}: partly unknown ({_unknown_words(item)})")
            kept[key] = item.with_placeholders(_PLACEHOLDER)
            continue
        kept[key] = item
    return kept


def require_seen(key: str, item: object) -> None:
    """The one check for a TLS setting the code does not show (`sslmode=os.environ[…]`,
    an f-string with a hole): it decides TLS, so the site is Undetermined (VF108),
    never judged as if the setting were absent (libpq's prefer)."""
    if isinstance(item, Unknown | Symbol) or (isinstance(item, Text) and item.known is None):
        raise Undetermined(f"{key} is {_unseen_why(item)}")


def _unseen_why(item: object) -> str:
    if isinstance(item, Unknown):
        return item.why
    if isinstance(item, Symbol):
        return item.dotted
    return f"partly unknown ({_unknown_words(item)})" if isinstance(item, Text) else str(item)


def _unknown_words(text: Text) -> str:
    return ", ".join(dict.fromkeys(u.why for u in text.unknowns))


def _sentence(text: str) -> bool:
    """Words apart and nothing a connection string holds (no `://`, `=`, `@`, `/`): a
    message where a URL's default would be."""
    words = text.split()
    return len(words) >= 3 and not any(c in text for c in "=:@/?")


def dsn_text(value: Value, what: str) -> tuple[str, tuple[str, ...]]:
    """A connection string with placeholders where parts are unknown, or Undetermined.
    NotASite when it is another database's URL: a branch `"sqlite://:memory:" if
    TEST else f"postgres://…"` is the SQLite test database in that world, not a
    PostgreSQL connection that cannot be read (every driver, every site)."""
    if isinstance(value, Unknown):
        raise Undetermined(f"{what} is {value.why}")
    if not isinstance(value, Text):
        raise Undetermined(f"{what} is not a string")
    head = value.known if value.known is not None else value.parts[0] if value.parts else ""
    other = guards.other_database_url(head) if isinstance(head, str) else None
    if other is not None:
        raise NotASite(f"{what} is a {other} URL")
    notes = list(value.notes)
    if value.known is not None and any(": default of " in note for note in notes):
        # os.getenv("DATABASE_URL", ""): the empty default only stands for "unset", as
        # a sentence does (`config("MIGRATION_URL", default="You forgot the migration
        # url")`: held-out-s23 Starlette-Ariadne-Gino-Starter): no connection string
        variables = ", ".join(n.split(":", 1)[0] for n in notes if ": default of " in n)
        if value.known == "":
            raise Undetermined(f"{what} is environment variable {variables} (empty default)")
        if _sentence(value.known):
            raise Undetermined(f"{what} is environment variable {variables} (its default is prose)")
    if value.known is not None:
        return value.known, tuple(notes)
    first = value.parts[0] if value.parts else ""
    if isinstance(first, str) and "://" not in first and _KEYWORD_START.match(first):
        return _keyword_template(value, what, notes)
    if _hostless_template(value):
        # `f"{DB_TYPE}:///{DB_NAME}"` (held-out-s22 Zerohertz/fastapi-cookbook's sqlite
        # branch): no host and no query to give one, whatever the scheme: a file
        # database, or libpq's local socket. No TCP connection to judge.
        raise NotASite(f"{what} names no host (a local socket or a file database)")
    pieces: list[str] = []
    capable = query_capable(value)
    for index, part in enumerate(value.parts):
        if isinstance(part, str):
            pieces.append(part)
            continue
        before = "".join(pieces)
        if index == 0 and not before:
            raise Undetermined(f"{what} starts with {part.why}", queryless=queryless(value))
        if "?" in before and not inert_query_value(before):
            raise Undetermined(f"{what} has query options from {part.why}")
        if "://" not in before:
            raise Undetermined(f"{what} has its scheme from {part.why}", queryless=queryless(value))
        if index == capable:
            raise Undetermined(f"{what} may carry query options in {part.why} (after its path)")
        netloc = before.split("://", 1)[1]
        in_netloc = "/" not in netloc
        is_port = in_netloc and netloc.endswith(":") and netloc.rfind(":") > netloc.rfind("@")
        pieces.append(_PORT_PLACEHOLDER if is_port else _PLACEHOLDER)
    notes.append(f"{_UNKNOWN_PARTS}{_unknown_words(value)}")
    text = "".join(pieces)
    return text, tuple(notes)


def _hostless_template(value: Text) -> bool:
    """A URL template whose scheme is filled in and whose written text goes on with an
    empty authority (`:///`), no query anywhere."""
    if not value.parts or isinstance(value.parts[0], str):
        return False
    literal = "".join(p for p in value.parts if isinstance(p, str))
    written = next((p for p in value.parts if isinstance(p, str)), "")
    return written.startswith(":///") and "?" not in literal


# A libpq keyword string template (`f"dbname={s.DB} host={s.HOST} port={s.PORT}"`, held-out-s8:
# SethGreco/vg-pokedex's multi-line build_connection_string()): each hole is one keyword's
# value, so the string is judged with a stand-in there, unless the keyword is one that
# decides TLS (or names a service file that may): then the deployment decides.
_PASSWORD_STAND_IN = "unknown-password"  # noqa: S105 (a stand-in, never sent)
_KEYWORD_START = re.compile(r"\s*[A-Za-z_]\w*\s*=")
_KEYWORD_SLOT = re.compile(r"(?:^|\s)([A-Za-z_]\w*)\s*=\s*'?$")
_TLS_KEYWORDS = frozenset(
    {
        "sslmode",
        "requiressl",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslcrldir",
        "sslnegotiation",
        "sslpassword",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "service",
        "servicefile",
    }
)


def _keyword_template(value: Text, what: str, notes: list[str]) -> tuple[str, tuple[str, ...]]:
    pieces: list[str] = []
    for part in value.parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        slot = _KEYWORD_SLOT.search("".join(pieces))
        if slot is None:
            raise Undetermined(f"{what} has a keyword from {part.why}", queryless=True)
        key = slot.group(1).lower()
        if key in _TLS_KEYWORDS:
            raise Undetermined(f"{what} has its {key} from {part.why}")
        # a password's stand-in is registered as a secret (conninfo.Secret): its own word,
        # so the other stand-ins ("unknown") stay readable in the evidence
        stand_in = _PASSWORD_STAND_IN if key == "password" else _PLACEHOLDER
        pieces.append(_PORT_PLACEHOLDER if key == "port" else stand_in)
    notes.append(f"unknown parts: {_unknown_words(value)}")
    return "".join(pieces), tuple(notes)


def _written_query(value: Value) -> dict[str, str]:
    """The TLS pairs an unseen URL's rebuilt query is known to hold (resolve.py puts
    them after the unseen part and a '?')."""
    if not (isinstance(value, Text) and value.parts and isinstance(value.parts[0], Unknown)):
        return {}
    if len(value.parts) < 2 or value.parts[1] != "?":
        return {}
    return urls.known_tls_pairs(Text(value.parts[2:]))


# --- call shapes ---------------------------------------------------------------------


@dataclass
class _Call:
    a: Analysis
    node: ast.Call
    scope: Scope
    # Which of its possible values each argument takes in this judgement (the n-th, or
    # its last when it has fewer), and the most any argument has: the site is judged
    # once per n, so every branch, return and caller's value is judged.
    world: int = 0
    widest: int = 1
    # What an unseen connection string reads as while _judge_unseen_url asks conninfo
    # whether it matters (None: an unseen string leaves the site undetermined).
    unseen_url: str | None = None
    # Where the values this judgement read were written when not at the call (class 8):
    # "" the connection string, else each TLS keyword given (None: written at the call).
    written: dict[str, WrittenAt | None] = field(default_factory=dict)
    # The names of the Tortoise config's connections judged, in their order (another
    # database's left out): where each is written (placement.missing_key_places).
    connections: tuple[str, ...] = ()
    # The connection string read in this world has stand-ins for unknown parts.
    stand_ins: bool = False

    def __post_init__(self) -> None:
        made = _CALLS_MADE.get()
        if made is not None:
            made.append(self)

    def value(self, expr: ast.expr | None, *, none_decides: bool = False) -> Value:
        """The value of expr in this world. none_decides: None is a setting of its own
        (pg8000's ssl_context=None is a TLS mode), not a crash path to pass over."""
        options = self.a.resolver.alternatives(expr, self.a.place(self.node, self.scope))
        if len(options) > 1 and not none_decides:
            # `dsn or ""`, a None branch: a crash path, not a setting
            options = tuple(o for o in options if not _nothing(o)) or options
        self.widest = max(self.widest, len(options))
        return options[min(self.world, len(options) - 1)]

    def dsn(self, value: Value, what: str) -> tuple[str, tuple[str, ...]]:
        """The whole connection string (dsn_text), or the stand-in for an unseen one."""
        self.written[""] = value.written if isinstance(value, Text) else None
        try:
            text, notes = dsn_text(value, what)
            self.stand_ins = any(note.startswith(_UNKNOWN_PARTS) for note in notes)
            return text, notes
        except Undetermined as why:
            # a URL not seen here whose query the code writes a TLS key into
            # (`_replace(query=urlencode(params))`, resolve._unseen_with_query): the
            # stand-ins for the unseen part, with that key over theirs
            forced = _written_query(value)
            if self.unseen_url is None:
                queryless = why.queryless and not forced
                raise Undetermined(str(why), url=True, queryless=queryless) from None
            if forced:
                return urls.over_query(self.unseen_url, forced), (str(why),)
            return self.unseen_url, (str(why),)

    def keywords(self) -> dict[str, Value]:
        """Keyword arguments, `**mapping` spread in when it resolves."""
        result: dict[str, Value] = {}
        for keyword in self.node.keywords:
            value = self.value(keyword.value)
            if keyword.arg is not None:
                result[keyword.arg] = value
            elif isinstance(value, DictValue):
                result.update(dict(value.items))
                if not value.complete:
                    result.setdefault("ssl", Unknown("**options built elsewhere"))
            else:
                result.setdefault("ssl", Unknown("keyword arguments passed through **"))
        for key, item in result.items():
            given = item.items if key == "connect_args" and isinstance(item, DictValue) else ()
            for name, inner in ((key, item), *given):
                if is_tls_key(name) or (name == "connect_args" and not isinstance(item, DictValue)):
                    self.written[name] = inner.written if isinstance(inner, Text) else None
        return result

    def arg(self, index: int, name: str) -> ast.expr | None:
        for keyword in self.node.keywords:
            if keyword.arg == name:
                return keyword.value
        return self.node.args[index] if len(self.node.args) > index else None


# The call readings made while a framework site is judged (collect_written): where the
# values they read were written, for the shared placement (placement.written_place).
_CALLS_MADE: ContextVar[list[_Call | _Read] | None] = ContextVar("calls_made", default=None)


@dataclass
class _Read:
    """What a framework handler read without a `_Call` (GINO's set_bind URL): its
    `written` map, as a `_Call`'s."""

    written: dict[str, WrittenAt | None]


def note_connection_string(value: Value) -> None:
    """A framework handler's connection string, read by itself (not through `_Call.dsn`):
    where it is written, for collect_written (held-out-s22 QuisEgoSum: GINO's set_bind
    of a settings property's URL is placed at the property, as a call's is)."""
    made = _CALLS_MADE.get()
    if made is not None:
        made.append(_Read({"": value.written if isinstance(value, Text) else None}))


@contextmanager
def collect_written() -> Iterator[list[dict[str, WrittenAt | None]]]:
    """While a framework site is judged through `_Call` readings (Alembic's engine call,
    Flask's and Celery's create_engine), the `written` maps those readings filled: a
    framework site whose URL is an environment reader's default is then placed where
    that default is written, exactly as a direct `create_engine(os.getenv(X, default))`
    is (held-out-s15 poramondo/fm: set_main_option("sqlalchemy.url", getenv default))."""
    made: list[_Call | _Read] = []
    token = _CALLS_MADE.set(made)
    found: list[dict[str, WrittenAt | None]] = []
    try:
        yield found
    finally:
        _CALLS_MADE.reset(token)
        found.extend(call.written for call in made if call.written)


def _nothing(value: Value) -> bool:
    return (isinstance(value, Const) and value.value is None) or (
        isinstance(value, Text) and value.known == ""
    )


def _asyncpg(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    pool = "pool" in (call.a.module.qualname(call.node.func) or "")
    return _asyncpg_call(call, call.arg(0, "dsn"), call.keywords(), pool=pool)


def _pg8000(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """pg8000.connect(user, host, database, port, password, …, ssl_context=…) and its
    Connection classes: keyword arguments (the first five also by position)."""
    notes: list[str] = []
    kwargs = call.keywords()
    ssl_expr = call.arg(PG8000_SSL_CONTEXT_INDEX, "ssl_context")
    if ssl_expr is not None:
        kwargs["ssl_context"] = call.value(ssl_expr, none_decides=True)
    for index, name in enumerate(PG8000_POSITIONAL):
        expr = call.arg(index, name)
        if expr is not None and name not in kwargs:
            kwargs[name] = call.value(expr)
    mapping: dict[str, object] = {
        k: (ssl_arg(v) if k == "ssl_context" else plain(v, k)) for k, v in kwargs.items()
    }
    for key, item in kwargs.items():
        if key != "ssl_context":
            notes += notes_of(item)
    info = from_pg8000_kwargs(known_kwargs(mapping, notes))
    return [(Driver.PG8000, info, None, tuple(notes))]


def _fastapi_asyncpg(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """configure_asyncpg(app, dsn, **options): asyncpg.create_pool(dsn=dsn, **options)."""
    kwargs = {k: v for k, v in call.keywords().items() if k not in FASTAPI_ASYNCPG_OWN}
    return _asyncpg_call(call, call.arg(1, "dsn"), kwargs, pool=True)


def _pypgstac_load(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """pypgstac's load_ndjson(file, table, method, dsn): asyncpg.connect(dsn=dsn)."""
    return _asyncpg_call(call, call.arg(3, "dsn"), {}, pool=False)


def _asyncpg_call(
    call: _Call, dsn_expr: ast.expr | None, kwargs: dict[str, Value], *, pool: bool
) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    notes: list[str] = []
    if pool:
        # create_pool's own arguments never reach asyncpg.connect
        kwargs = {k: v for k, v in kwargs.items() if k not in ASYNCPG_POOL_KWARGS}
    dsn: str | None = None
    mapping: dict[str, object] = {k: plain(v, k) for k, v in kwargs.items() if k != "dsn"}
    if dsn_expr is not None:
        dsn, dsn_notes = call.dsn(call.value(dsn_expr), "the DSN")
        notes += dsn_notes
    for key, item in kwargs.items():
        if key != "dsn" and key != "ssl":
            notes += notes_of(item)
    mapping = known_kwargs(mapping, notes)
    if dsn is not None:
        mapping["dsn"] = dsn
    info = from_asyncpg_kwargs(mapping)
    # the DSN is the whole connection string when nothing else is given (dsn= itself
    # by keyword is the DSN, as it is by position)
    alone = all(key == "dsn" for key in kwargs)
    return [(Driver.ASYNCPG, info, dsn if alone else None, tuple(notes))]


def _sqlalchemy(
    call: _Call, url_value: Value, kwargs: dict[str, Value]
) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    if "creator" in kwargs or "async_creator" in kwargs:
        raise Undetermined("the connection is made by the creator function")
    url, notes_tuple = call.dsn(url_value, "the URL")
    scheme, sep, _ = url.partition("://")
    if sep and scheme.split("+", 1)[0].lower() not in KNOWN_SCHEMES:
        raise NotASite(f"a {scheme} engine")  # sqlite:///app.db, mysql+pymysql://…
    notes = list(notes_tuple)
    connect_args = kwargs.get("connect_args")
    args: dict[str, object] | None = None
    if isinstance(connect_args, DictValue):
        args = known_kwargs({k: plain(v, k) for k, v in connect_args.items}, notes, libpq=True)
        for _, item in connect_args.items:
            notes += notes_of(item)
        if not connect_args.complete:
            args.setdefault("ssl", SSLArg.unknown("connect_args built elsewhere"))
    elif connect_args is not None:
        args = {"ssl": SSLArg.unknown("connect_args built elsewhere")}
    # An unseen URL's stand-in is read from its parts (_StandInURL), not its text.
    stand_in = _STAND_INS.get(url) if url == call.unseen_url else None
    info = from_sqlalchemy_url(url if stand_in is None else stand_in, args)
    return [(Driver.SQLALCHEMY, info, url if args is None else None, tuple(notes))]


def _sqlalchemy_call(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    for keyword in call.node.keywords:
        if keyword.arg in ("creator", "async_creator"):
            made = creator_connection(call.a, keyword.value)
            if made is not None:
                raise NotASite(f"every connection is made by the creator function: {made}")
    return _sqlalchemy(call, call.value(call.arg(0, "url")), call.keywords())


# Google's Cloud SQL Python Connector makes the connection itself: TLS 1.3 (1.2 as the
# fallback) to the instance's server-side proxy with an ephemeral client certificate,
# the instance's own server CA the only root (connection_info.create_ssl_context; the
# held-out-s14c labeller read it so: buaindra/gcp_utility).
CLOUD_SQL_CONNECTORS = frozenset(
    {
        "google.cloud.sql.connector.Connector",
        "google.cloud.sql.connector.connector.Connector",
        "google.cloud.sql.connector.create_async_connector",
    }
)


_CLOUD_SQL_TLS = "the Cloud SQL Python Connector (its own verified TLS, a client certificate)"


def creator_connection(a: Analysis, expr: ast.expr) -> str | None:
    """What makes the connections of a `creator=` function of this module, when that is
    judged elsewhere or needs no judging: a connection site of its own (judged where it
    is called) or the Cloud SQL connector; None when it is not known (then the engine is
    a VF108: the creator decides)."""
    function = a.module.functions.get(expr.id) if isinstance(expr, ast.Name) else None
    scope = a.module.scope_of(function) if function is not None else None
    if function is None or scope is None or not scope.returns:
        return None
    made: list[str] = []
    for returned in scope.returns:
        if isinstance(returned, ast.Name) and returned.id in scope.assigns:
            returned = scope.assigns[returned.id][-1].value  # conn = connector.connect(…)
        if isinstance(returned, ast.Await):
            returned = returned.value
        if not isinstance(returned, ast.Call):
            return None
        qualname = a.module.qualname(returned.func)
        if qualname in ALL_SITES:
            made.append(f"{qualname}() at line {returned.lineno}, judged there")
        elif _cloud_sql_connect(a, scope, returned.func):
            made.append(_CLOUD_SQL_TLS)
        else:
            return None
    return "; ".join(dict.fromkeys(made))


def _cloud_sql_connect(a: Analysis, scope: Scope, func: ast.expr) -> bool:
    """`connector.connect(…)` / `connect_async` on a name bound to a Cloud SQL Connector."""
    if not (isinstance(func, ast.Attribute) and func.attr in ("connect", "connect_async")):
        return False
    owner = func.value
    if not isinstance(owner, ast.Name):
        return False
    where: Scope | None = scope
    while where is not None and owner.id not in where.assigns:
        where = where.parent
    if where is None:
        return False
    value = where.assigns[owner.id][-1].value
    if isinstance(value, ast.Await):
        value = value.value
    return isinstance(value, ast.Call) and a.module.qualname(value.func) in CLOUD_SQL_CONNECTORS


def _sqlalchemy_utils(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """database_exists(url) / create_database(url) / drop_database(url): an engine made
    from the URL alone (no engine options), connected at once."""
    return _sqlalchemy(call, call.value(call.arg(0, "url")), {})


def celery_database_url(value: Value | None) -> Text:
    """The SQLAlchemy URL of a Celery result backend `db+<URL>` (backends.by_url splits
    the scheme at its first `+`: DatabaseBackend gets the rest); NotASite for any other
    backend (redis://, rpc://, a value whose start is not written here)."""
    first = value.parts[0] if isinstance(value, Text) and value.parts else None
    if not (isinstance(first, str) and first[:3].lower() == CELERY_DATABASE_PREFIX):
        raise NotASite("a Celery app without a database result backend")
    assert isinstance(value, Text)
    return replace(value, parts=(first[3:], *value.parts[1:]), written=None)


def _advanced_alchemy(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """advanced-alchemy's SQLAlchemy{Async,Sync}Config(connection_string=…,
    engine_config=EngineConfig(…)): the engine its create_engine() makes, judged as
    create_(async_)engine(connection_string, **engine_config) (wrapper_sites.py)."""
    if call.arg(_KEYWORD_ONLY, "engine_instance") is not None:
        raise NotASite("an engine made elsewhere (engine_instance): judged where it is made")
    url = call.arg(_KEYWORD_ONLY, "connection_string")
    if url is None:
        raise NotASite("no connection_string")
    config = call.arg(_KEYWORD_ONLY, "engine_config")
    kwargs: dict[str, Value] = {}
    if isinstance(config, ast.Call):  # EngineConfig(connect_args=…, …): its fields
        for keyword in config.keywords:
            if keyword.arg is None:
                kwargs["connect_args"] = Unknown("EngineConfig(**options) built elsewhere")
            else:
                kwargs[keyword.arg] = call.value(keyword.value)
    elif config is not None:
        kwargs["connect_args"] = Unknown("engine_config built elsewhere")
    return _sqlalchemy(call, call.value(url), kwargs)


# An index no positional argument reaches: the argument is taken by keyword only.
_KEYWORD_ONLY = 1_000


def _a_url(value: Value) -> bool:
    """A value that is a connection string, not an engine or connection object: text,
    or a read of the environment (a parameter or a name bound elsewhere may be an
    engine made and judged there)."""
    return isinstance(value, Text) or (isinstance(value, Unknown) and "environment" in value.why)


def _langchain_pgvector(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """langchain's PGVector store and its classmethods (wrapper_sites.py): a string
    connection is the URL of the engine it makes, `engine_args` that engine's keywords."""
    api = call.a.module.qualname(call.node.func) or ""
    positional = 0 if api.startswith("langchain_community") and api.endswith(".PGVector") else None
    url = None
    for name in LANGCHAIN_PGVECTOR_URL:
        url = url or call.arg(_KEYWORD_ONLY, name)
    if url is None and positional is not None:
        url = call.arg(positional, "connection_string")
    if url is None:
        raise NotASite("no connection string (an engine, or the connection given later)")
    value = call.value(url)
    if not _a_url(value):
        raise NotASite("PGVector is given an engine made elsewhere: judged where it is made")
    return _sqlalchemy(call, value, _engine_args(call, call.arg(_KEYWORD_ONLY, "engine_args")))


def _haystack_pgvector(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """pgvector-haystack's PgvectorDocumentStore (wrapper_sites.py): psycopg 3 connects
    with the Secret's value, by default environment variable PG_CONN_STR."""
    secret = call.arg(_KEYWORD_ONLY, "connection_string")
    if secret is None:
        variable = HAYSTACK_PGVECTOR_DEFAULT_VARIABLE
        raise Undetermined(f"the conninfo is environment variable {variable} (the default)")
    text, notes = call.dsn(call.value(secret), "the conninfo")
    return _libpq_options(call, Driver.PSYCOPG, text, list(notes), {})


def _celery(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """Celery(..., backend='db+postgresql://...'): the database result backend's engine,
    create_engine(the URL after 'db+'), judged as that call with no engine options."""
    expr = call.arg(2, "backend")
    return _sqlalchemy(call, celery_database_url(call.value(expr) if expr else None), {})


def _session_middleware(call: _Call) -> Judged:
    """fastapi-sqlalchemy's DBSessionMiddleware (and fastapi-async-sqlalchemy's
    SQLAlchemyMiddleware), called as `cls(app, db_url, custom_engine, engine_args)` or
    registered as `add_middleware(cls, db_url, …)` / `Middleware(cls, db_url, …)`: the
    URL is the second argument either way. create_(async_)engine(db_url,
    **engine_args), unless custom_engine gives the engine (judged where it is made)."""
    custom = call.arg(2, "custom_engine")
    if custom is not None and not (isinstance(custom, ast.Constant) and custom.value is None):
        raise NotASite("the engine is made elsewhere (custom_engine): judged where it is made")
    url = call.arg(1, "db_url")
    if url is None:
        raise NotASite("no db_url")
    return _sqlalchemy(call, call.value(url), _engine_args(call, call.arg(3, "engine_args")))


def _engine_args(call: _Call, expr: ast.expr | None) -> dict[str, Value]:
    """A wrapper's `engine_args` mapping, the keywords of the engine it makes: those
    written, and connect_args undecided when it is built (in part) elsewhere."""
    if expr is None:
        return {}
    given = call.value(expr)
    if isinstance(given, DictValue):
        kwargs = dict(given.items)
        if not given.complete:
            kwargs.setdefault("connect_args", Unknown("engine_args built elsewhere"))
        return kwargs
    return {} if _nothing(given) else {"connect_args": Unknown("engine_args built elsewhere")}


def _asyncpgsa(call: _Call) -> Judged:
    """asyncpgsa's create_pool(*args, dialect=…, connection_class=…, **kwargs) and the
    pg singleton's init(…): asyncpg.create_pool(*args, **kwargs)."""
    kwargs = {k: v for k, v in call.keywords().items() if k not in ASYNCPGSA_OWN}
    return _asyncpg_call(call, call.arg(0, "dsn"), kwargs, pool=True)


def _litestar_asyncpg(call: _Call) -> Judged:
    """litestar-asyncpg's PoolConfig(dsn, connect_kwargs=…, pool fields…):
    asyncpg.create_pool(dsn=dsn, **pool fields, **connect_kwargs) (wrapper_sites.py)."""
    kwargs = call.keywords()
    spread = kwargs.pop(LITESTAR_ASYNCPG_SPREAD, None)
    if isinstance(spread, DictValue):
        kwargs.update(dict(spread.items))
        for name, inner in spread.items:
            if is_tls_key(name):
                call.written[name] = inner.written if isinstance(inner, Text) else None
        if not spread.complete:
            kwargs.setdefault("ssl", Unknown("connect_kwargs built elsewhere"))
    elif spread is not None and not _nothing(spread):
        kwargs.setdefault("ssl", Unknown("connect_kwargs built elsewhere"))
    return _asyncpg_call(call, call.arg(0, "dsn"), kwargs, pool=True)


def _pony(call: _Call) -> Judged:
    """Pony's Database(provider, *args, **kwargs) / db.bind(…): the postgres and
    cockroach providers run psycopg2.connect(*args, **kwargs) less Pony's pony_*
    keywords; one positional mapping is the keywords (Database._bind)."""
    args = list(call.node.args)
    if any(isinstance(arg, ast.Starred) for arg in args):
        raise Undetermined("the arguments are passed through *args")
    kwargs = call.keywords()
    if len(args) == 1 and not call.node.keywords:
        given = call.value(args[0])
        if isinstance(given, DictValue):
            args, kwargs = [], dict(given.items)
            if not given.complete:
                kwargs.setdefault("ssl", Unknown("the settings mapping is built elsewhere"))
    if not args and not kwargs:
        raise NotASite("a Database() bound later (db.bind gives its settings)")
    provider = call.value(args[0]) if args else kwargs.pop("provider", None)
    known = provider.known if isinstance(provider, Text) else None
    if known not in PONY_POSTGRES_PROVIDERS:
        raise NotASite(f"Pony's {known or 'unknown'} provider")
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("pony_")}
    notes: list[str] = []
    text = ""
    dsn = args[1] if len(args) > 1 else None
    if dsn is None and "dsn" in kwargs:
        dsn_value: Value | None = kwargs.pop("dsn")
    else:
        dsn_value = call.value(dsn) if dsn is not None else None
    if dsn_value is not None:
        text, dsn_notes = call.dsn(dsn_value, "the DSN")
        notes += dsn_notes
    options = {k: v for k, v in kwargs.items() if k not in _LIBPQ_NON_OPTIONS}
    return _libpq_options(call, Driver.PSYCOPG2, text, notes, options)


def _sqlalchemy_config(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    keywords = call.keywords()
    if "url" in keywords:
        # engine_from_config's own keywords override the mapping's (options.update(kwargs)
        # before options.pop("url")): the mapping's URL never reaches the engine
        return _sqlalchemy(call, keywords["url"], keywords)
    config = call.value(call.arg(0, "configuration"))
    prefix_value = call.value(call.arg(1, "prefix")) if call.arg(1, "prefix") else None
    prefix = "sqlalchemy."
    if isinstance(prefix_value, Text) and prefix_value.known is not None:
        prefix = prefix_value.known
    if not isinstance(config, DictValue):
        raise Undetermined("the configuration mapping is built elsewhere")
    url = config.get(prefix + "url")
    if url is None:
        raise Undetermined(f"no {prefix}url key in the configuration")
    return _sqlalchemy(call, url, call.keywords())


def _aiopg(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """aiopg's connect, pools and aiopg.sa engines: psycopg2.connect(dsn, **the keywords
    aiopg does not keep)."""
    notes: list[str] = []
    text = ""
    dsn_expr = call.arg(0, "dsn")
    if dsn_expr is not None:
        text, dsn_notes = call.dsn(call.value(dsn_expr), "the DSN")
        notes += dsn_notes
    options = {
        k: v
        for k, v in call.keywords().items()
        if k not in AIOPG_OWN and k not in _LIBPQ_NON_OPTIONS
    }
    return _libpq_options(call, Driver.PSYCOPG2, text, notes, options)


def _libpq(
    call: _Call, driver: Driver
) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    api = call.a.module.qualname(call.node.func) or ""
    pool = api.startswith("psycopg2.pool.")
    dsn_name = "conninfo" if driver is Driver.PSYCOPG else "dsn"
    dsn_expr = call.arg(2 if pool else 0, dsn_name)
    # the connection string, and psycopg2.pool's minconn/maxconn, are read once: never
    # again as libpq keyword options
    not_options = {dsn_name, "minconn", "maxconn"} if pool else {dsn_name}
    kwargs = {k: v for k, v in call.keywords().items() if k not in not_options}
    if api.startswith("psycopg_pool."):
        inner = kwargs.get("kwargs")
        kwargs = dict(inner.items) if isinstance(inner, DictValue) else {}
        if inner is not None and not isinstance(inner, DictValue):
            raise Undetermined("the pool's kwargs are built elsewhere")
    notes: list[str] = []
    text = ""
    if dsn_expr is not None:
        text, dsn_notes = call.dsn(call.value(dsn_expr), "the conninfo")
        notes += dsn_notes
    options = {k: v for k, v in kwargs.items() if k not in _LIBPQ_NON_OPTIONS}
    return _libpq_options(call, driver, text, notes, options)


def _libpq_options(
    call: _Call, driver: Driver, text: str, notes: list[str], options: dict[str, Value]
) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """A libpq connection: the connection string `text` with keyword options over it."""
    ssl_option = options.get("ssl")
    if isinstance(ssl_option, Unknown) and "sslmode" not in options:
        raise Undetermined(ssl_option.why)
    options.pop("ssl", None)
    for key, item in options.items():
        # a libpq keyword overrides the string's: an unseen TLS one (sslmode=os.environ
        # ["PGSSLMODE"]) decides this site; an unseen file name (sslrootcert) is a file
        # named, given a placeholder below
        if is_tls_key(key) and key not in INERT_QUERY_KEYS:
            require_seen(key, item)
    for item in options.values():
        notes += notes_of(item)
    plain_options = known_kwargs({k: plain(v) for k, v in options.items()}, notes, libpq=True)
    # The string as this driver's own libpq reads it (psycopg2's 17 keeps blanks in a
    # URL that psycopg's 18 refuses), at the project's pinned versions.
    libpq = driver_versions(call.a.ctx.root).libpq_for(driver.value)
    if not plain_options:
        info = parse_dsn(text, libpq_version=libpq) if text else parse_dsn("host=" + _PLACEHOLDER)
        if not text:
            info = replace(info, hosts=())
        return [(driver, info, text or None, tuple(notes))]
    base = parse_dsn(text, libpq_version=libpq) if text else None
    pairs = base.connect_string_with_secret(form="keywords") if base else ""
    extra = " ".join(f"{k}={_keyword_quote(str(v))}" for k, v in plain_options.items())
    info = parse_dsn(f"{pairs} {extra}".strip(), libpq_version=libpq)
    return [(driver, info, None, tuple(notes))]


_LIBPQ_NON_OPTIONS = frozenset(
    {
        "autocommit",
        "prepare_threshold",
        "row_factory",
        "cursor_factory",
        "context",
        "connection_factory",
        "async_",
        "min_size",
        "max_size",
        "open",
        "name",
        "timeout",
        "configure",
        "reset",
        "check",
        "max_waiting",
        "max_lifetime",
        "max_idle",
        "reconnect_timeout",
        "num_workers",
        "connection_class",
        "kwargs",
    }
)


# peewee's own keywords (Database.__init__, PostgresqlDatabase.init, the pools' and the
# extensions'): never passed to psycopg2.
_PEEWEE_NON_OPTIONS = frozenset(
    {
        "thread_safe",
        "autorollback",
        "field_types",
        "operations",
        "autocommit",
        "autoconnect",
        "register_unicode",
        "encoding",
        "isolation_level",
        "prefer_psycopg3",
        "max_connections",
        "stale_timeout",
        "timeout",
        "register_hstore",
        "server_side_cursors",
        "pool",
    }
)
# The db_url schemes that open a PostgreSQL database (playhouse.db_url.schemes and the
# registrations it makes for the extensions and CockroachDB).
PEEWEE_POSTGRES_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "postgres+pool",
        "postgresql+pool",
        "postgresext",
        "postgresqlext",
        "postgresext+pool",
        "postgresqlext+pool",
        "psycopg3",
        "psycopg3+pool",
        "cockroachdb",
        "cockroachdb+pool",
        "crdb",
        "crdb+pool",
    }
)


def _peewee(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """`PostgresqlDatabase(database, **kwargs)`: psycopg2.connect(dbname=database,
    **kwargs less peewee's own); `PostgresqlDatabase(None)` is configured later by
    `db.init(...)`, which is not a site here."""
    api = call.a.module.qualname(call.node.func) or ""
    psycopg3 = api in PEEWEE_PSYCOPG or api in PEEWEE_ASYNC_PSYCOPG
    driver = Driver.PSYCOPG if psycopg3 else Driver.PSYCOPG2
    database = call.value(call.arg(0, "database"))
    if _nothing(database) and isinstance(database, Const):
        raise NotASite("a deferred peewee database (init() gives it its settings)")
    own = _PEEWEE_NON_OPTIONS | PEEWEE_ASYNC_OWN
    kwargs = {k: v for k, v in call.keywords().items() if k not in own}
    kwargs.pop("database", None)
    notes: list[str] = []
    text = ""
    if isinstance(database, Text) and (database.known or "").startswith("postgresql://"):
        text, notes_tuple = call.dsn(database, "the database URL")
        notes += notes_tuple
    else:
        kwargs["dbname"] = database
    return _libpq_options(call, driver, text, notes, kwargs)


def _peewee_url(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """`playhouse.db_url.connect(url, **params)`: the URL's scheme picks the database
    class; its parts and query become psycopg2 keywords, as in a libpq URL."""
    url, notes_tuple = call.dsn(call.value(call.arg(0, "url")), "the database URL")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in PEEWEE_POSTGRES_SCHEMES:
        raise NotASite(f"peewee's {scheme or 'unknown'} database")
    driver = Driver.PSYCOPG if scheme.lower().startswith("psycopg3") else Driver.PSYCOPG2
    options = {
        k: v for k, v in call.keywords().items() if k not in _PEEWEE_NON_OPTIONS and k != "url"
    }
    return _libpq_options(call, driver, f"postgresql://{rest}", list(notes_tuple), options)


def _pandas(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """`read_sql(sql, con)`, `df.to_sql(name, con)`: a string `con` is a URL pandas makes
    an engine of. Only a value known to be a string is one: text, or a value read from
    the environment (a parameter or a name bound elsewhere may be an engine)."""
    con = call.value(call.arg(1, "con"))
    if not _a_url(con):
        raise NotASite("pandas is given a connection or engine made elsewhere")
    return _sqlalchemy(call, con, {})


def _keyword_quote(value: str) -> str:
    if value and not any(c.isspace() or c in "'\\" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _tortoise_test(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """initializer(modules, db_url) / tortoise_test_context(modules, db_url): the db_url
    (second positional or keyword) read as Tortoise.init(db_url=...) reads it."""
    expr = call.arg(1, "db_url")
    if expr is None:
        raise NotASite("Tortoise's test database defaults to in-memory SQLite")
    return _tortoise_db_url(call.value(expr))


def _tortoise_db_url(value: Value) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    url, notes = dsn_text(value, "db_url")
    return [(Driver.TORTOISE, from_tortoise_db_url(url), url, notes)]


def _tortoise(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    kwargs = call.keywords()
    results: list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]] = []
    if "db_url" in kwargs:
        results += _tortoise_db_url(kwargs["db_url"])
    config = kwargs.get("config")
    if config is not None:
        if not isinstance(config, DictValue):
            raise Undetermined("the Tortoise config is built elsewhere")
        notes_list = list(notes_of(config))
        opened = _opened_credentials(config)
        config_expr = call.arg(99, "config")
        connections_value = config.get("connections") or config
        single = isinstance(connections_value, DictValue) and len(connections_value.keys()) == 1
        if config_expr is not None and single:
            # the entry's ssl written by a change after it was built: reported there
            where = call.a.resolver.written_item(
                config_expr, "ssl", call.a.place(call.node, call.scope)
            )
            if where is not None:
                call.written["ssl"] = where
        mapping = plain(config)
        if not isinstance(mapping, dict):
            raise Undetermined("the Tortoise config is not a mapping")
        connections = mapping.get("connections", mapping)
        if isinstance(connections, dict):
            for name, entry in list(connections.items()):
                if isinstance(entry, Unknown):  # the whole URL from the environment
                    raise Undetermined(f"connection {name!r} is {entry.why}")
                if isinstance(entry, Text | str) and not tortoise_postgres(entry):
                    del connections[name]  # sqlite://, mysql://: not a PostgreSQL site
                    continue
                if isinstance(entry, Text):
                    url, url_notes = dsn_text(entry, f"connection {name!r}")
                    connections[name] = url
                    notes_list += url_notes
                elif not isinstance(entry, dict | str):
                    # one of several URLs (a validator's build or the field as given):
                    # the settings' value where the service runs (held-out-s23 AntonZN's
                    # aerich config), not a config the driver refuses
                    raise Undetermined(f"connection {name!r} is one of several values")
                elif isinstance(entry, dict) and isinstance(entry.get("credentials"), dict):
                    credentials = entry["credentials"]
                    if name in opened:
                        if "ssl" not in credentials:
                            raise Undetermined(f"connection {name!r} is {opened[name]}")
                        if isinstance(entry.get("engine"), Unknown):
                            # ssl written into it: a PostgreSQL backend, asyncpg's for the
                            # postgres:// scheme (the psycopg backend reads ssl the same)
                            entry["engine"] = "tortoise.backends.asyncpg"
                            notes_list.append(f"connection {name!r}: {opened[name]}")
                    if entry.get("engine") == "tortoise.backends.psycopg":
                        _libpq_server_settings(credentials, notes_list)
                    entry["credentials"] = known_kwargs(credentials, notes_list)
        if isinstance(connections, dict) and not connections:
            raise NotASite("no PostgreSQL connection in the Tortoise config")
        judged = from_tortoise_config(mapping)
        call.connections = tuple(judged)
        for info in judged.values():
            results.append((Driver.TORTOISE, info, None, tuple(notes_list)))
    if not results:
        raise Undetermined("neither db_url nor config is given")
    return results


def _opened_credentials(config: DictValue) -> dict[str, str]:
    """Connections whose credentials may hold keys not seen here (an entry built by
    expand_db_url() from a URL not seen here): a TLS key only a later change writes
    decides them; without one their TLS is the URL's, decided where it is deployed."""
    connections = config.get("connections") or config
    opened: dict[str, str] = {}
    if isinstance(connections, DictValue):
        for name, entry in connections.items:
            credentials = entry.get("credentials") if isinstance(entry, DictValue) else None
            if isinstance(credentials, DictValue) and not credentials.complete:
                opened[name] = "expand_db_url() of a URL not seen here"
    return opened


def _libpq_server_settings(credentials: dict[str, object], notes: list[str]) -> None:
    """Tortoise's psycopg backend: server_settings are libpq options (sslrootcert …).

    A file path read at run time (os.environ["DB_CA_PATH"]) is still a file
    named: it gets a placeholder. An sslmode or a whole mapping not known
    here leaves the site undetermined.
    """
    if "server_settings" not in credentials:
        return
    settings = credentials["server_settings"]
    if not isinstance(settings, dict):
        raise Undetermined("Tortoise's psycopg server_settings are built elsewhere")
    known: dict[str, object] = {}
    for key, item in settings.items():
        if isinstance(item, Unknown | Symbol | Text):
            if key == "sslmode":
                raise Undetermined("Tortoise's psycopg server_settings sslmode is not known")
            why = item.why if isinstance(item, Unknown) else "partly unknown"
            notes.append(
                f"server_settings {key}: {why if not isinstance(item, Symbol) else item.dotted}"
            )
            known[key] = _PLACEHOLDER
        else:
            known[key] = item
    credentials["server_settings"] = known


_DATABASES_TLS_KEYS = re.compile(r"[?&](sslmode|sslrootcert|sslcert|sslkey)=")
# encode/databases 0.9, backends/asyncpg.py: AsyncpgBackend.connect() calls
# asyncpg.create_pool(host=, port=, user=, password=, database=, **kwargs) where
# kwargs are min_size/max_size/ssl from the URL query and the Database(**options).


def _databases(call: _Call) -> list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]:
    """encode/databases: its asyncpg backend passes host, port, user, password, database
    and `ssl` (from ?ssl=true|false or the ssl= option) to asyncpg.create_pool, never
    the DSN, so libpq ssl* query keys are dropped (conninfo has no databases driver;
    this is the minimal translation to asyncpg keyword arguments)."""
    url, notes_tuple = call.dsn(call.value(call.arg(0, "url")), "the URL")
    notes = list(notes_tuple)
    if not re.match(r"^(postgres(ql)?)(\+asyncpg)?://", url):
        raise NotASite("not the asyncpg backend")
    parsed = parse_dsn(url.replace("+asyncpg", "", 1))
    kwargs = call.keywords()
    mapping: dict[str, object] = {}
    if parsed.hosts:
        mapping["host"] = parsed.hosts[0].host
        if parsed.hosts[0].port:
            mapping["port"] = parsed.hosts[0].port
    if parsed.user:
        mapping["user"] = parsed.user
    if parsed.database:
        mapping["database"] = parsed.database
    flag = parsed.param("ssl")
    if flag is not None:  # databases: "true"/"false" become bools, other text stays a mode
        lowered = flag.lower()
        mapping["ssl"] = (
            SSLArg.of_bool(lowered == "true")
            if lowered in ("true", "false")
            else SSLArg.of_mode(lowered)
        )
    if "ssl" in kwargs:
        mapping["ssl"] = ssl_arg(kwargs["ssl"])
    dropped = sorted(set(_DATABASES_TLS_KEYS.findall(url)))
    if dropped and call.unseen_url is None:
        call.a.report(
            "VF105",
            call.node,
            f"Database(): databases' asyncpg backend never passes the URL to asyncpg, so "
            f"{', '.join(dropped)} in it are silently dropped",
            evidence=redact_text(url),
            fix="Pass ssl=<SSLContext> to Database(...) (ssl.create_default_context("
            "cafile='certs/ca.crt')); URL TLS keys have no effect with databases.",
        )
    info = from_asyncpg_kwargs(mapping)
    if parsed.password is not None:
        info = replace(info, password=parsed.password)
    return [(Driver.ASYNCPG, info, None, tuple(notes))]


_HANDLERS = (
    (ASYNCPG, _asyncpg),
    (PG8000, _pg8000),
    (SQLALCHEMY, _sqlalchemy_call),
    (SQLALCHEMY_CONFIG, _sqlalchemy_config),
    (PSYCOPG, lambda call: _libpq(call, Driver.PSYCOPG)),
    (PSYCOPG2, lambda call: _libpq(call, Driver.PSYCOPG2)),
    (TORTOISE, _tortoise),
    (TORTOISE_TEST, _tortoise_test),
    (DATABASES, _databases),
    (PEEWEE | PEEWEE_PSYCOPG | PEEWEE_ASYNC | PEEWEE_ASYNC_PSYCOPG, _peewee),
    (PEEWEE_URL, _peewee_url),
    (PANDAS, _pandas),
    (AIOPG, _aiopg),
    (FASTAPI_ASYNCPG, _fastapi_asyncpg),
    (PYPGSTAC_LOAD, _pypgstac_load),
    (SQLALCHEMY_UTILS, _sqlalchemy_utils),
    (CELERY, _celery),
    (ADVANCED_ALCHEMY, _advanced_alchemy),
    (SESSION_MIDDLEWARE, _session_middleware),
    (ASYNCPGSA, _asyncpgsa),
    (LITESTAR_ASYNCPG, _litestar_asyncpg),
    (PONY, _pony),
    (LANGCHAIN_PGENGINE, _sqlalchemy_call),
    (LANGCHAIN_PGVECTOR, _langchain_pgvector),
    (HAYSTACK_PGVECTOR, _haystack_pgvector),
)


# Sites that are methods of an object whose type is not followed (a DataFrame): the
# method's name called in a module that imports the library (the prefilter's test too).
METHOD_SITES = {"to_sql": ("pandas", "pandas.DataFrame.to_sql")}


def site_api(a: Analysis, node: ast.Call, scope: Scope | None = None) -> str | None:
    qual = a.module.qualname(node.func)
    if qual in ALL_SITES:
        return qual
    received = receiver_sites.receiver_api(a, node, scope)
    if received is not None:
        return received
    method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
    if method in METHOD_SITES and _imports(a, METHOD_SITES[method][0]):
        return METHOD_SITES[method][1]
    return None


def _imports(a: Analysis, library: str) -> bool:
    return any(ref.module.split(".")[0] == library for ref in a.module.aliases.values())


Judged = list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]
Handler = Callable[[_Call], Judged]

# An unseen connection string, as conninfo is asked about it: the scheme each API may
# be given (SQLAlchemy: the dialects its sync or async engine takes; the others read
# the scheme-less part only) and what TLS such a string may carry, in the key the
# driver reads from it (SQLAlchemy's asyncpg dialect passes its query keys to
# asyncpg.connect as keyword arguments: ssl=; libpq and asyncpg DSNs: sslmode=).
_SYNC_DIALECTS = (("postgresql", "sslmode"), ("postgresql+psycopg", "sslmode"))
_ASYNC_DIALECTS = (("postgresql+asyncpg", "ssl"), ("postgresql+psycopg", "sslmode"))
_UNSEEN_SCHEMES: Mapping[str, tuple[tuple[str, str], ...]] = {
    **dict.fromkeys(SQLALCHEMY | SQLALCHEMY_CONFIG, _SYNC_DIALECTS),
    "sqlalchemy.ext.asyncio.create_async_engine": _ASYNC_DIALECTS,
    "sqlalchemy.ext.asyncio.engine.create_async_engine": _ASYNC_DIALECTS,
    "sqlalchemy.ext.asyncio.async_engine_from_config": _ASYNC_DIALECTS,
    **dict.fromkeys(LANGCHAIN_PGENGINE, _ASYNC_DIALECTS),
    # PGVector makes either engine, by its async_mode
    **dict.fromkeys(LANGCHAIN_PGVECTOR, (*_SYNC_DIALECTS, ("postgresql+asyncpg", "ssl"))),
    **dict.fromkeys(PANDAS, _SYNC_DIALECTS),
    # advanced-alchemy: an async config makes create_async_engine, a sync one create_engine
    **{
        name: _ASYNC_DIALECTS if name.endswith("AsyncConfig") else _SYNC_DIALECTS
        for name in ADVANCED_ALCHEMY
    },
    # the session middlewares make a create_engine or a create_async_engine
    **{
        name: _ASYNC_DIALECTS if engine.endswith("async_engine") else _SYNC_DIALECTS
        for name, engine in SESSION_MIDDLEWARES.items()
    },
    # encode/databases reads only ?ssl=true|false from its URL
    **dict.fromkeys(DATABASES, (("postgresql", "ssl"),)),
}
_UNSEEN_TLS: Mapping[str, tuple[tuple[tuple[str, str], ...], ...]] = {
    key: ((), ((key, "disable"),), ((key, "verify-full"), ("sslrootcert", "certs/ca.crt")))
    for key in ("sslmode", "ssl")
}


@dataclass(frozen=True)
class _StandInURL:
    """A stand-in in the shape of SQLAlchemy's URL object (the attributes
    conninfo.from_sqlalchemy_url reads from one), built from the parts its text is
    written from: reading the text would import SQLAlchemy for make_url, 0.13-0.2 CPU
    s in each worker of a large scan, where these stand-ins were most of its uses.
    tests/test_scan_speed_equivalence.py checks that make_url reads each text so."""

    drivername: str
    query: Mapping[str, str]
    host: str = _PLACEHOLDER
    database: str = _PLACEHOLDER
    username: None = None
    password: None = None
    port: None = None


def _stand_in_text(scheme: str, query: tuple[tuple[str, str], ...]) -> str:
    pairs = "&".join(f"{key}={value}" for key, value in query)
    return f"{scheme}://{_PLACEHOLDER}/{_PLACEHOLDER}" + (f"?{pairs}" if pairs else "")


# Each stand-in text -> its parts, for every scheme an SQLAlchemy API may be given.
_STAND_INS: Mapping[str, _StandInURL] = {
    _stand_in_text(scheme, query): _StandInURL(scheme, dict(query))
    for schemes in _UNSEEN_SCHEMES.values()
    for scheme, key in schemes
    for query in _UNSEEN_TLS[key]
}
_TRANSPORT = rootfiles.TRANSPORT


def _unseen_variants(api: str, queryless: bool = False) -> list[list[str]]:
    """Per scheme, the stand-ins for an unseen connection string: with no TLS setting,
    with TLS off, with verify-full and a root certificate (queryless: only the first,
    for a template that cannot carry a query)."""
    return [
        [_stand_in_text(scheme, query) for query in _UNSEEN_TLS[key][: 1 if queryless else None]]
        for scheme, key in _UNSEEN_SCHEMES.get(api, (("postgresql", "sslmode"),))
    ]


def _verdicts(a: Analysis, judged: Judged) -> list[Verdict | None]:
    found: list[Verdict | None] = []
    for driver, info, _, _ in judged:
        try:
            # conninfo reads it as the project's own pinned driver versions do.
            versions = driver_versions(a.ctx.root)
            found.append(evaluate(info, driver, Environment.empty(), a.ctx.policy, versions))
        except (ConnStringError, VerifyfullError):
            found.append(None)
    return found


def _decided(verdicts: list[Verdict | None]) -> bool:
    """Whether the unseen string cannot change the outcome: weak whatever it says, or
    safe whatever it says (asyncpg ignores the DSN's sslmode once ssl= is given; libpq
    keyword arguments override the string's). Only the transport rules count: what
    conninfo says about the stand-in's own TLS keys (VF105 "ignored") is about the
    stand-in, not the code."""
    if not verdicts or any(v is None or not v.determined for v in verdicts):
        return False
    weak = [bool(set(v.rule_ids) & _TRANSPORT) for v in verdicts if v is not None]
    return all(weak) or not any(weak)


def _judge_unseen_url(
    call: _Call, handler: Handler, api: str, queryless: bool = False
) -> Judged | None:
    """The site judged with its connection string unseen, when its arguments decide TLS
    alone (or the string is a template that cannot carry a TLS setting: queryless);
    None when the string could change the outcome (then it is a VF108)."""
    runs: list[tuple[Judged, list[Verdict | None]]] = []  # per scheme: the first stand-in
    pooled: list[list[Verdict | None]] = []  # per scheme: the verdicts of every stand-in
    for variants in _unseen_variants(api, queryless):
        first: Judged | None = None
        verdicts: list[Verdict | None] = []
        for stand_in in variants:
            call.unseen_url = stand_in
            try:
                judged = handler(call)
            except Undetermined:
                return None
            finally:
                call.unseen_url = None
            first = judged if first is None else first
            verdicts += _verdicts(call.a, judged)
        assert first is not None
        runs.append((first, _verdicts(call.a, first)))
        pooled.append(verdicts)
    # A scheme the arguments do not work with (connect_args={"ssl": ...} for libpq)
    # is not the one this code is deployed with, unless none works.
    working = [i for i, (_, vs) in enumerate(runs) if all(v and not v.breaks for v in vs)]
    keep = working or list(range(len(runs)))
    if not _decided([v for i in keep for v in pooled[i]]):
        return None
    note = (
        "the URL's scheme and parts are filled in at deploy time, and its template has no "
        "query for a TLS setting"
        if queryless
        else "the connection string is not seen here, and what it may say does not change this"
    )
    return [(d, info, None, (*notes, note)) for d, info, _, notes in runs[keep[0]][0]]


def _scheme_guarded(a: Analysis, scope: Scope, node: ast.Call) -> bool:
    """The site runs only when a value names another backend (guards.backend_subjects),
    and every URL it may be given has its scheme from that very value: `if
    configs.DB_TYPE == "sqlite": create_async_engine(url=configs.DATABASE_URI)` where
    the URI is `f"{DB_TYPE}+{DB_DRIVER}://..."` (held-out-s22 fastapi-cookbook)."""
    subjects = guards.backend_subjects(scope.node, node)
    url = _url_argument(node)
    if not subjects or url is None:
        return False
    place = a.place(node, scope)
    whys: set[str] = set()
    for subject in subjects:
        for value in a.resolver.alternatives(subject, place):
            if not isinstance(value, Unknown):
                return False  # a value the code gives: the test is decided elsewhere
            whys.add(value.why)
    options = a.resolver.alternatives(url, place)
    return bool(options) and all(
        isinstance(option, Text)
        and bool(option.parts)
        and isinstance(option.parts[0], Unknown)
        and option.parts[0].why in whys
        for option in options
    )


def on_call(a: Analysis, node: ast.Call, scope: Scope, *, deferred: bool = False) -> None:
    """deferred: a framework handler judges this call too (frameworks.claims), so
    what cannot be seen here is its to judge, not a VF108 here."""
    api = site_api(a, node, scope)
    if api is None:
        return
    if guards.other_backend(scope.node, node, _url_argument(node)):
        return  # `if "sqlite" in url: create_engine(url)`: another backend's connection
    if _scheme_guarded(a, scope, node):
        return  # `if settings.DB_TYPE == "sqlite": create_engine(settings.URL)`
    handler = next(h for names, h in _HANDLERS if api in names)
    world, widest = 0, 1
    with one_verdict(a):
        while world < widest:  # once per alternative "world" of its arguments (values.py)
            call = _Call(a, node, scope, world)
            world += 1
            try:
                _judge_call(a, call, handler, api, deferred)
            finally:
                widest = max(widest, call.widest)


# The VF108s of the site being judged (where, and how to report it), held back until
# every world of it is judged.
_Pending = list[tuple[ast.AST, Callable[[], None]]]
_PENDING: ContextVar[_Pending | None] = ContextVar("vf108", default=None)


@contextmanager
def one_verdict(a: Analysis) -> Iterator[None]:
    """One verdict per place (issue 12, held-out class 7): a site judged in several
    worlds whose values are partly the deployment's (a validator returns the env URL
    or builds one without a query) is not also VF108 where another world's transport
    finding already stands: that weak world is certain, and "decided at deploy" in
    the same place would contradict it. A finding placed elsewhere (a connect_args
    sslmode where it is written) leaves the VF108 at the call: they say different
    things about different branches."""
    if _PENDING.get() is not None:  # a framework site judging through sites.judge
        yield
        return
    pending: _Pending = []
    start = len(a.findings)
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
    weak = {(f.line, f.column) for f in a.findings[start:] if f.rule_id in _TRANSPORT}
    # a call whose weak world is reported where its URL is written (the URL had no TLS
    # setting: resolve._written_connection_string) is weak at the call too, as when that
    # finding stood at the call
    weak |= a.at_written_string
    for node, report in pending:
        if (getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1) not in weak:
            report()


def deploy_decided(node: ast.AST, report: Callable[[], None]) -> None:
    """A VF108 at node: made now, or held by one_verdict until the site is judged."""
    pending = _PENDING.get()
    if pending is None:
        report()
    else:
        pending.append((node, report))


_URL_KEYWORDS = ("url", "dsn", "conninfo", "db_url", "database")


def _url_argument(node: ast.Call) -> ast.expr | None:
    """The expression a site is given its connection string in."""
    if node.args:
        return node.args[0]
    return next((k.value for k in node.keywords if k.arg in _URL_KEYWORDS), None)


def _judge_call(a: Analysis, call: _Call, handler: Handler, api: str, deferred: bool) -> None:
    """One world of a call site: judged with what it shows, or with its connection
    string unseen when its arguments decide TLS alone, else a VF108 naming why."""
    node, scope = call.node, call.scope
    try:
        try:
            judged = handler(call)
        except Undetermined as why:
            unseen = _judge_unseen_url(call, handler, api, why.queryless) if why.url else None
            if unseen is None:
                raise
            judged = unseen
    except ConnStringError as exc:  # never drop a site silently: say it cannot be read
        if call.stand_ins and call.widest > 1:
            # one of several readings, unreadable only with stand-ins where its parts
            # are unknown: `'{a}{at}{host}'.format(at='@' if auth else '')` combines
            # arms the code never takes together (held-out-s21 phlasch). Undecided, not
            # broken; the site's other readings are judged.
            if not deferred:
                _report_deploy_decided(a, node, api, f"one reading cannot be read ({exc.problem})")
            return
        found = unreadable(exc, redact_text(a.segment(node)))
        a.report(found.rule_id, node, found.message, evidence=found.evidence, fix=found.fix)
        return
    except Undetermined as why:
        if not deferred and not _written_in_tree_only(node, str(why)):
            # a config=f() site says so where f writes the config
            settings = _returned_dict(a, call.arg(99, "config")) if api in TORTOISE else None
            _report_deploy_decided(a, settings or node, api, str(why))
        return
    except NotASite:
        return
    except VerifyfullError as exc:  # not modelled: named, never dropped
        if "not a PostgreSQL" not in str(exc) and not deferred:
            _report_deploy_decided(a, node, api, f"verifyfull cannot judge it ({exc})")
        return
    except RecursionError:
        raise  # the engine reports the file as not checked
    places: Mapping[int, placement.Place] = {}
    if api in TORTOISE and call.arg(99, "db_url") is None:
        config = call.arg(99, "config")
        # a config written apart from the call (a name, an import, another module's
        # function): each connection where its entry is written, unless a later change
        # writes its ssl; a function of this module keeps a URL entry's finding at the
        # dict it returns, where a deploy-decided world's VF108 goes too (one verdict)
        returned = _returned_dict(a, config)
        named = not isinstance(config, ast.Dict) and "ssl" not in call.written
        named = named and returned is None
        names = call.connections if len(call.connections) == len(judged) else ()
        places = placement.missing_key_places(a, scope, config, len(judged), names, named=named)
        if not places and returned is not None:
            # config=get_tortoise_config(): the dict that function returns is where the
            # settings are written (and what aerich's TORTOISE_ORM = … reads too)
            where = placement.Place.at(
                a.source.relpath, returned, "the Tortoise config written here"
            )
            places = dict.fromkeys(range(len(judged)), where)
    if not places and len(judged) == 1:
        written = placement.written_place(a, node, call.written)
        places = {0: written} if written is not None else {}
    judge(a, node, api, judged, scope, places)


def _returned_dict(a: Analysis, expr: ast.expr | None) -> ast.Dict | None:
    """The one dict literal a function of this module returns, for `f()`."""
    if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Name):
        return None
    function = a.module.functions.get(expr.func.id)
    scope = a.module.scope_of(function) if function is not None else None
    if scope is None or len(scope.returns) != 1 or not isinstance(scope.returns[0], ast.Dict):
        return None
    return scope.returns[0]


def judge(
    a: Analysis,
    node: ast.expr,
    api: str,
    judged: Judged,
    scope: Scope | None = None,
    places: Mapping[int, placement.Place] | None = None,
) -> None:
    """Each reading of a site evaluated by conninfo, kept and reported at `node`
    (also for framework sites, frameworks/: `api` is then their label, and no scope:
    what needs the call's names, a password formatted in or a weakened context's
    own place, is then not looked for). `places`: where a reading's transport
    finding is reported instead (the dict that lacks the key), by its index."""
    for index, ((driver, info, dsn, notes), verdict) in enumerate(
        zip(judged, _verdicts(a, judged), strict=True)
    ):
        if verdict is None:
            _unmodelled(a, node, api, driver, info)
            continue
        absent = rootfiles.absent_root(a, driver, info, verdict)
        if absent is not None:
            info, verdict, notes, dsn = (*absent, (*notes, rootfiles.absent_note(info)), None)
        elif (kept := rootfiles.kept_out_of_git(a, driver, info)) is not None:
            notes = (*notes, kept)
        a.sites.append(
            Site(node.lineno, node.col_offset + 1, api, driver, info, verdict, dsn, notes)
        )
        if not verdict.determined and not _written_in_tree(verdict.notes):
            _report_deploy_decided(a, node, api, "; ".join(verdict.notes) or "unknown")
        where = places.get(index) if places else None
        if where is not None and where.missing == "ssl" and not info.ssl.is_absent:
            where = None  # the key was added after the dict was written
        if where is None and scope is not None and isinstance(node, ast.Call):
            where = placement.settings_default_place(a, scope, node, dsn)
            where = where or origins.maker_place(a, scope, node, info)
        _report(a, node, scope, api, verdict, notes, info, where)


def _unmodelled(a: Analysis, node: ast.expr, api: str, driver: Driver, info: ConnInfo) -> None:
    """A site conninfo cannot judge (a SQLAlchemy dialect it does not model, such as
    +pg8000): a VF108 saying so, unless it is not PostgreSQL at all."""
    try:
        evaluate(info, driver, Environment.empty(), a.ctx.policy)
    except ConnStringError as exc:
        found = unreadable(exc, redact_text(a.segment(node)))
        a.report(found.rule_id, node, found.message, evidence=found.evidence, fix=found.fix)
    except VerifyfullError as exc:
        if "not a PostgreSQL" not in str(exc):
            _report_deploy_decided(a, node, api, f"verifyfull cannot judge it ({exc})")


_ENV_VARIABLE = re.compile(r"environment variable (\w+)")


# Arguments that carry driver options beside the URL: with one of them, a TLS argument
# (conninfo's is_tls_key) or **kwargs, the site stays a VF108 even when its URL is
# written in a config file of the tree.
_OPTION_CARRIERS = frozenset({"connect_args", "options"})


def _written_in_tree_only(node: ast.expr, why: str) -> bool:
    """The site's URL is a value a config file of the tree holds (config_files.py),
    judged where it is written, and nothing else of the call may decide TLS."""
    if config_files.IN_TREE_FILE not in why or not isinstance(node, ast.Call):
        return False
    return all(
        k.arg is not None and k.arg not in _OPTION_CARRIERS and not is_tls_key(k.arg)
        for k in node.keywords
    )


def _written_in_tree(notes: tuple[str, ...]) -> bool:
    """Every undecided part of a site is a value a config file of the tree holds,
    judged where it is written (config_files.py): no VF108 of its own."""
    return bool(notes) and all(config_files.IN_TREE_FILE in note for note in notes)


def _report_deploy_decided(a: Analysis, node: ast.expr, api: str, why: str) -> None:
    """VF108: what decides this site's TLS is only known where it runs; name it."""
    deploy_decided(node, lambda: _deploy_decided_now(a, node, api, why))


def _deploy_decided_now(a: Analysis, node: ast.expr, api: str, why: str) -> None:
    variables = list(dict.fromkeys(_ENV_VARIABLE.findall(why)))
    check = (
        f'`verifyfull explain "${variables[0]}"` where it is set'
        if variables
        else "`verifyfull explain` with the deployed value"
    )
    a.report(
        "VF108",
        node,
        f"{_label(api)}: TLS is decided at deploy time, not in the code: {why}",
        evidence=a.segment(node),
        fix=f"Check it: {check}, `verifyfull probe` against the server, or run the service "
        "under `verifyfull run --` (runtime enforcement). Or decide TLS in code: pass the "
        "TLS argument explicitly (an SSLContext from verifyfull.guard), which the drivers "
        "honour whatever the URL says.",
    )


def resolution_summary(notes: tuple[str, ...]) -> str:
    """How the value was resolved, in one line: getenv defaults grouped by variable."""
    defaults: dict[str, list[str]] = {}
    others: list[str] = []
    for note in notes:
        variable, _, rest = note.partition(": default of ")
        if rest and " " not in variable:
            defaults.setdefault(rest, []).append(variable)
        else:
            others.append(note)
    parts = [f"defaults of {getter} for {', '.join(names)}" for getter, names in defaults.items()]
    return "; ".join(parts + others)


def non_tls_breakage(verdict: Verdict, info: ConnInfo) -> bool:
    """The connection breaks only because asyncpg gets keywords it does not take, and
    none of them is a TLS setting (VF105 is for TLS arguments, issue 12 class 9)."""
    if not (verdict.breaks or "").startswith("TypeError:") or "keyword argument" not in (
        verdict.breaks or ""
    ):
        return False
    misplaced = [k for k, _ in info.kwargs if k not in ASYNCPG_CONNECT_KWARGS]
    return bool(misplaced) and not any(is_tls_key(k) for k in misplaced)


def _label(api: str) -> str:
    """`connect()` for a call's qualified name; a framework site's label as it is."""
    return api if " " in api else f"{api.rsplit('.', 1)[-1]}()"


def _report(
    a: Analysis,
    node: ast.expr,
    scope: Scope | None,
    api: str,
    verdict: Verdict,
    notes: tuple[str, ...],
    info: ConnInfo,
    where: placement.Place | None = None,
) -> None:
    summary = resolution_summary(notes)
    how = f" (resolved with {summary})" if summary else ""
    ssl_part = "" if info.ssl.is_absent else f" with {info.ssl.describe()}"
    does = f" The driver: {verdict.notes[0]}" if verdict.notes else ""
    if where is None and scope is not None and isinstance(node, ast.Call):
        where = placement.changed_key_place(a, scope, node, info)
        where = where or placement.connect_args_place(a, scope, node, info)
        where = where or placement.inline_place(a, node, info)
    for item in verdict.findings:
        if item.rule_id == "VF401":
            # reported by credentials.py where the literal is written; a literal that
            # reaches the string through a name (`password = "…"` formatted in) is
            # found here, by its value, among the names the call's scope can see
            # (at module level for a framework site, which has no call scope); a
            # Settings field default the call reads is found by placement
            if info.password is not None:
                password = info.password.reveal()
                credentials.passed_into_string(a, scope or a.module.scope, password)
                if scope is not None and isinstance(node, ast.Call):
                    fix = (item.fix or item.rule.fix).rstrip(".") + "."
                    message = f"{_label(api)}: {item.message}"
                    placement.settings_password(a, scope, node, password, message, fix)
            continue
        if item.rule_id == "VF105" and non_tls_breakage(verdict, info):
            continue  # a TypeError for an unknown non-TLS keyword is not a TLS finding
        message = f"{_label(api)}: {item.message}.{does}"
        fix = (item.fix or item.rule.fix).rstrip(".") + "."
        if verdict.corrected:
            fix = f"{fix}\nCorrected for {verdict.driver}:\n{verdict.corrected}"
        if scope is not None and placement.reported_at_context(
            a, node, scope, item.rule_id, message, f"{item.evidence}{ssl_part}{how}", fix
        ):
            continue
        if where is not None and item.rule_id in _TRANSPORT:
            placement.report_at(
                a, where, item.rule_id, node, message, f"{item.evidence}{ssl_part}{how}", fix
            )
            continue
        a.report(
            item.rule_id,
            node,
            message,
            evidence=f"{item.evidence}{ssl_part}{how}",
            fix=fix,
        )
