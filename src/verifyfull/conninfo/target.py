"""Which API receives a connection, and the driver underneath it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from verifyfull.conninfo.model import ConnInfo, Source
from verifyfull.conninfo.parse import TORTOISE_ENGINES
from verifyfull.errors import UsageError


class Driver(str, enum.Enum):
    ASYNCPG = "asyncpg"
    PSYCOPG = "psycopg"
    PSYCOPG2 = "psycopg2"
    SQLALCHEMY = "sqlalchemy"
    TORTOISE = "tortoise"
    PG8000 = "pg8000"  # keyword arguments only (pg8000_rules.py)


@dataclass(frozen=True)
class Target:
    """The API that receives the connection, and the driver underneath it."""

    driver: Driver
    backend: str | None = None  # SQLAlchemy dialect / Tortoise backend: asyncpg, psycopg, psycopg2

    @property
    def name(self) -> str:
        return f"{self.driver.value}+{self.backend}" if self.backend else self.driver.value

    @property
    def engine(self) -> str:
        """'libpq', 'asyncpg' or 'pg8000': whose connection rules apply."""
        underlying = self.backend or self.driver.value
        return underlying if underlying in ("asyncpg", "pg8000") else "libpq"

    @property
    def libpq_module(self) -> str:
        """'psycopg2' or 'psycopg': whose libpq (each wheel bundles its own) and errors."""
        return "psycopg2" if "psycopg2" in (self.backend, self.driver.value) else "psycopg"


_SQLALCHEMY_DIALECTS = {
    None: "psycopg2",  # postgresql:// and cockroachdb:// default to psycopg2
    "psycopg2": "psycopg2",
    "psycopg2cffi": "psycopg2",
    "psycopg": "psycopg",
    "psycopg_async": "psycopg",
    "asyncpg": "asyncpg",
    "pg8000": "pg8000",
}
# SQLAlchemy 1.4 removed the `postgres` dialect name (2.0.58 still has none):
# create_engine("postgres://...") raises NoSuchModuleError before any connection.
# Heroku-style DATABASE_URLs are written so; the dialect is `postgresql`.
SQLALCHEMY_REMOVED_SCHEMES = frozenset({"postgres"})


def sqlalchemy_scheme(scheme: str | None) -> str:
    """The scheme SQLAlchemy loads a dialect for: `postgres` is written `postgresql`."""
    written = (scheme or "postgresql").lower()
    return "postgresql" if written in SQLALCHEMY_REMOVED_SCHEMES else written


_TORTOISE_BACKENDS = {
    "tortoise.backends.asyncpg": "asyncpg",
    "tortoise.backends.psycopg": "psycopg",
}


def resolve_target(info: ConnInfo, driver: Driver | str | None = None) -> Target:
    """Which API receives `info`: the given driver, or the one its form implies."""
    chosen = Driver(driver) if driver is not None else _infer_driver(info)
    if chosen is Driver.SQLALCHEMY:
        dialect = info.dialect.lower() if info.dialect else None
        if dialect not in _SQLALCHEMY_DIALECTS:
            raise UsageError(
                f"SQLAlchemy dialect +{dialect} is not modelled",
                "use +asyncpg, +psycopg, +psycopg2 or +pg8000",
            )
        return Target(chosen, _SQLALCHEMY_DIALECTS[dialect])
    if chosen is Driver.TORTOISE:
        engine = info.engine or TORTOISE_ENGINES.get(info.scheme or "", TORTOISE_ENGINES["asyncpg"])
        if engine not in _TORTOISE_BACKENDS:
            raise UsageError(
                f"Tortoise engine {engine!r} is not a PostgreSQL backend",
                "use tortoise.backends.asyncpg or tortoise.backends.psycopg",
            )
        return Target(chosen, _TORTOISE_BACKENDS[engine])
    return Target(chosen)


def _infer_driver(info: ConnInfo) -> Driver:
    if info.source is Source.TORTOISE_CONFIG or info.engine:
        return Driver.TORTOISE
    if info.dialect or info.scheme == "cockroachdb":
        return Driver.SQLALCHEMY
    if info.scheme in ("asyncpg", "psycopg"):
        return Driver.TORTOISE
    return Driver.PSYCOPG
