"""Which database engine a password-named setting belongs to, when its block says so.

VF401 is a PostgreSQL/CockroachDB credential (the catalogue's committed database
password). `judge._DB_CONTEXT` takes a database-sounding name (`SQL`, `DB`,
`DATABASE`, `DSN`), which another engine's settings have too:

    services:
      mariadb:
        image: mariadb:10.11
        environment:
          MYSQL_ROOT_PASSWORD: ...        # the MySQL server's own root password
    online-dsn:
        addr:     127.0.0.1:3306          # a MySQL client's configuration
        password: "..."

A password is another engine's when its own name or enclosing names name that engine
(`MYSQL_`, `MARIADB_`, `MONGO_INITDB_`, `REDIS_`, `RABBITMQ_`, a compose service or a
Helm block named `mysql`), or when its block says so: a sibling of the same family
(`DB_PASSWORD` beside `DB_PORT`, `DB_HOST`, `DB_CONNECTION`; `password` beside `addr`)
giving the engine's port (3306, 27017, 6379, 5672, ...), URL scheme (`mysql://`,
`mongodb://`, `redis://`, `amqp://`), backend (`mysql`, `django.db.backends.mysql`) or
a host named for it, or the image of the container whose environment it is (`mysql:8`).
A block (the settings of one mapping, or a flat file) with a PostgreSQL/CockroachDB
value or image (a `postgresql://` URL, 5432/26257, a PG backend or host, a postgres
image) keeps all its passwords, even one named for another engine; a PG name in the block
(`POSTGRES_DB`) keeps those whose own name says no engine; a password whose own name says
PostgreSQL is always kept. The name tests are word-start matches on the key and its
context; each block is read once (linear in the file's settings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from verifyfull.findings import Finding
from verifyfull.scan.config import components, dsn
from verifyfull.scan.config.model import Setting
from verifyfull.scan.config.password_names import family_of, password_name

# Engines that are not PostgreSQL's wire (Redshift, which is, is not here). Flight SQL's
# sqlflite (DuckDB behind Arrow Flight) and IBM Db2's `DB2INST1_PASSWORD` (held-out-s23
# sqlit's test compose) are other engines too.
_ENGINE_NAME = re.compile(
    r"(?:^|[_.\-/\s])(?P<engine>MYSQL|MARIADB|PERCONA|MONGO|REDIS|VALKEY|KEYDB|RABBITMQ|RABBIT"
    r"|AMQP|ELASTIC|OPENSEARCH|MINIO|MSSQL|SQLSERVER|ORACLE|CLICKHOUSE|INFLUX|CASSANDRA"
    r"|NEO4J|COUCH|MEMCACHE|KAFKA|ARANGO|RETHINK|SURREAL|SQLFLITE|DUCKDB|SNOWFLAKE|DB2INST)"
)
_ENGINE_START = re.compile(_ENGINE_NAME.pattern.replace("(?:^|[_.\\-/\\s])", "^", 1))
_PG_NAME = re.compile(r"(?:^|[_.\-/\s])PG|POSTGRES|COCKROACH|CRDB|PSQL|POSTGIS|TIMESCALE")
# A sibling's role and the prefix it shares with the password (DB_ of DB_PORT).
_ROLE = re.compile(
    r"^(?P<prefix>.*?)(?P<role>HOSTNAME|HOST|PORT|ADDRESS|ADDR|SERVER|URL|URI|DSN|ENGINE"
    r"|BACKEND|DRIVER|DIALECT|TYPE|CONNECTION|ADAPTER|SCHEME)(?P<qualifier>)$"
)
# The same roles followed by an instance qualifier (`DB_HOST_DWH` beside
# `DB_PASSWORD_DWH`, password_names.py), tried when no role ends the name.
_ROLE_QUALIFIED = re.compile(
    _ROLE.pattern.replace("(?P<qualifier>)", r"(?P<qualifier>(?:[_.\-][A-Z0-9]+){1,2})")
)
_BACKEND_ROLES = frozenset({"ENGINE", "BACKEND", "DRIVER", "DIALECT", "TYPE", "CONNECTION"})
_BACKEND_ROLES |= {"ADAPTER", "SCHEME"}
_ENGINE_PORTS = {
    *("3306", "33060", "27017", "6379", "6380", "5672", "5671", "9200", "1433", "1521"),
    *("8123", "9042", "7687", "11211", "9092"),
}
_PG_PORTS = frozenset({"5432", "26257"})
_SCHEME = re.compile(r"^\s*(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_ENGINE_SCHEMES = re.compile(
    r"^(mysql|mysqlx|mariadb|mongodb|mongo|redis|rediss|valkey|amqp|amqps|elasticsearch"
    r"|mssql|sqlserver|oracle|clickhouse|cassandra|neo4j|bolt|couchdb|memcached|kafka)"
    r"(\+[a-z0-9]+)?$",
    re.IGNORECASE,
)
_ENGINE_BACKEND = re.compile(
    r"mysql|mariadb|mongo|sqlite|oracle|mssql|sqlserver|redis|clickhouse", re.IGNORECASE
)
_ENGINE_IMAGES = frozenset(
    {"mysql", "mysql-server", "mariadb", "percona", "percona-server", "mongo", "mongodb"}
    | {"mongodb-community-server", "redis", "redis-stack", "redis-stack-server", "valkey"}
    | {"keydb", "rabbitmq", "elasticsearch", "opensearch", "minio", "mssql", "clickhouse"}
    | {"clickhouse-server", "cassandra", "neo4j", "couchdb", "influxdb", "memcached"}
)


def _image_segments(image: str) -> set[str]:
    """The path segments of an image's repository (`mcr.microsoft.com/mssql/server:2022`
    -> mcr.microsoft.com, mssql, server), tag and digest dropped."""
    repository = image.strip().split("@", 1)[0]
    last = repository.rsplit("/", 1)
    last[-1] = last[-1].split(":", 1)[0]
    return {part.lower() for part in "/".join(last).split("/")}


def _image_engine(images: Sequence[str]) -> str | None:
    """The engine all the block's container images are (none when they disagree)."""
    engines = {next(iter(_image_segments(i) & _ENGINE_IMAGES), None) for i in images}
    if len(engines) != 1:
        return None
    return next(iter(engines))


def _pg_image(images: Sequence[str]) -> bool:
    return any(components.server_image(image) for image in images)


def _role(name: str) -> re.Match[str] | None:
    return _ROLE.match(name) or _ROLE_QUALIFIED.match(name)


def _role_family(role: re.Match[str]) -> str:
    """The family of a sibling's name (`DB_PORT_DWH` -> "DBDWH"), as its password's."""
    return family_of(role.group("prefix") + role.group("qualifier"))


def _says_pg(setting: Setting) -> bool:
    """Whether a sibling's value says PostgreSQL/CockroachDB."""
    value = setting.value.strip().strip("'\"")
    if dsn.looks_like_dsn(value):
        return True
    role = _role(setting.name)
    if role is None:
        return False
    kind = role.group("role")
    if kind == "PORT":
        return value in _PG_PORTS
    if kind in _BACKEND_ROLES:
        return components._PG_BACKEND.search(value) is not None
    return components._PG_HOST.search(value) is not None or _port_of(value) in _PG_PORTS


def _port_of(value: str) -> str | None:
    """The port of `host:port`, `host:port/db` or a URL's authority."""
    match = re.search(r":(\d{2,5})(?:/|$)", value)
    return match.group(1) if match else None


def _sibling_engine(sibling: Setting) -> tuple[str, str] | None:
    """(family, engine) when a sibling names an engine by its port, URL scheme, backend
    or host (`DB_PORT=3306` -> ("DB", "3306"))."""
    role = _role(sibling.name)
    if role is None:
        return None
    value = sibling.value.strip().strip("'\"")
    kind, family = role.group("role"), _role_family(role)
    engine: str | None = None
    scheme = _SCHEME.match(value)
    if scheme is not None and _ENGINE_SCHEMES.match(scheme.group("scheme")):
        engine = scheme.group("scheme").lower()
    elif kind == "PORT":
        engine = value if value in _ENGINE_PORTS else None
    elif kind in _BACKEND_ROLES:
        match = _ENGINE_BACKEND.search(value)
        engine = match.group(0).lower() if match else None
    elif _port_of(value) in _ENGINE_PORTS:
        engine = _port_of(value)
    elif kind in ("HOST", "HOSTNAME"):
        name = _ENGINE_NAME.search(value.upper())
        engine = name.group("engine").lower() if name else None
    return None if engine is None else (family, engine)


def _named_engine(setting: Setting) -> str | None:
    """The engine the key names at a word start (`MYSQL_ROOT_PASSWORD`,
    `DB_MYSQL_PASS`, `mysqlRootPassword`), or an enclosing name starts with (a compose
    service `mariadb`, a Helm block `redis`, a Secret `mysql-credentials`; a Deployment
    `api-with-redis` names its app, not the engine)."""
    match = _ENGINE_NAME.search(setting.key.upper())
    if match is None:
        match = next(filter(None, (_ENGINE_START.match(c.upper()) for c in setting.context)), None)
    return match.group("engine").lower() if match else None


def _says_pg_by_name(setting: Setting) -> bool:
    return _PG_NAME.search(".".join((*setting.context, setting.key)).upper()) is not None


def foreign_passwords(
    settings: Sequence[Setting], images: Mapping[tuple[str, ...], Sequence[str]] | None = None
) -> dict[tuple[int, int], str]:
    """(line, column) -> engine of every password-named setting that is another engine's.

    `images`: the container images of a block's context beyond the `image:` settings
    of its parent mapping (a compose service's image merged from another file)."""
    blocks: dict[tuple[str, ...], list[Setting]] = {}
    for setting in settings:
        blocks.setdefault(setting.context, []).append(setting)
    foreign: dict[tuple[int, int], str] = {}
    for context, block in blocks.items():
        passwords = [s for s in block if password_name(s.name) is not None]
        if not passwords:
            continue
        parent = blocks.get(context[:-1], []) if context else []
        block_images = [s.value for s in parent if s.key == "image"]
        block_images += list((images or {}).get(context[:2], ()))
        if _pg_image(block_images):
            continue
        # The engine each family's siblings name, once per block (per password it was
        # quadratic in a command of 10,000 `-e DB_PASSWORD=…` options), and the
        # families whose siblings say PostgreSQL (a URL, 5432, a PG host or backend).
        families: dict[str, str] = {}
        pg_families: set[str] = set()
        for sibling in block:
            named = _sibling_engine(sibling)
            if named is not None:
                families.setdefault(*named)
            elif _says_pg(sibling):
                role = _role(sibling.name)
                pg_families.add(_role_family(role) if role else "")
        if pg_families:
            # A block that says PostgreSQL keeps its passwords, but for a qualified
            # family whose own siblings name another engine and none PostgreSQL (a flat
            # .env of many databases: DB_PORT_DWH=1521 beside DB_PORT_JIRA=5432).
            for password in passwords:
                named_as = password_name(password.name)
                if named_as is None or not named_as.qualifier or _says_pg_by_name(password):
                    continue
                own = named_as.family
                if own in families and own not in pg_families:
                    foreign[(password.line, password.column)] = families[own]
            continue
        pg_named = any(_says_pg_by_name(s) for s in block)
        image_engine = _image_engine(block_images) if block_images else None
        for password in passwords:
            if _says_pg_by_name(password) or dsn.looks_like_dsn(password.value):
                continue
            engine = _named_engine(password)
            if engine is None and not pg_named:  # an unnamed password: its block decides
                named_as = password_name(password.name)
                own = named_as.family if named_as is not None else ""
                engine = image_engine or families.get(own)
            if engine is not None:
                foreign[(password.line, password.column)] = engine
    return foreign


def without_foreign(
    found: Iterable[Finding],
    relpath: str,
    settings: Sequence[Setting],
    images: Mapping[tuple[str, ...], Sequence[str]] | None = None,
) -> list[Finding]:
    """The findings but the VF401s placed on another engine's password (in relpath)."""
    found = list(found)
    if not any(f.rule_id == "VF401" for f in found):
        return found
    foreign = foreign_passwords(settings, images)
    return [
        f
        for f in found
        if not (f.rule_id == "VF401" and f.path == relpath and (f.line, f.column) in foreign)
    ]
