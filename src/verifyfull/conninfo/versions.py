"""Which driver versions the model describes: one value, passed in, never guessed.

Where a driver's behaviour changed between versions, conninfo reads a
connection the way the version in `DriverVersions` does. The defaults are the
pins of requirements/constraints.txt: psycopg-binary 3.3.9 bundles libpq 18
(psycopg.pq.version() == 180006), psycopg2-binary 2.9.13 bundles libpq 17
(psycopg2.__libpq_version__ == 170011), SQLAlchemy 2.0.58. The scanner passes
the versions a project pins (scan/project_versions.py); explain names the
versions it describes.

libpq, per major version (PQconndefaults of libpq 15, 16, 17 and 18 as the
system, psycopg2-binary 2.9.9's wheel and the two pinned wheels ship them):
  16  require_auth, sslcertmode, load_balance_hosts, gssdelegation;
      sslrootcert=system is the OS trust store and forces verify-full
      (before 16 "system" is a file name like any other)
  17  sslnegotiation
  18  min_protocol_version, max_protocol_version, sslkeylogfile, oauth_*,
      scram_client_key, scram_server_key; URL parts are trimmed of blanks
      and a blank inside one is refused (17 and older keep them as written)
A keyword the version does not have is refused before connecting
("invalid connection option"), so it is a predicted failure (VF105).
"""

from __future__ import annotations

from dataclasses import dataclass

_LIBPQ_15 = frozenset(
    {
        "application_name",
        "channel_binding",
        "client_encoding",
        "connect_timeout",
        "dbname",
        "fallback_application_name",
        "gssencmode",
        "gsslib",
        "host",
        "hostaddr",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "krbsrvname",
        "options",
        "passfile",
        "password",
        "port",
        "replication",
        "requirepeer",
        "service",
        "ssl_max_protocol_version",
        "ssl_min_protocol_version",
        "sslcert",
        "sslcompression",
        "sslcrl",
        "sslcrldir",
        "sslkey",
        "sslmode",
        "sslpassword",
        "sslrootcert",
        "sslsni",
        "target_session_attrs",
        "tcp_user_timeout",
        "user",
    }
)
# The keywords each major version added (one table: `keywords` and `since` read it).
_ADDED: dict[int, frozenset[str]] = {
    16: frozenset({"require_auth", "sslcertmode", "load_balance_hosts", "gssdelegation"}),
    17: frozenset({"sslnegotiation"}),
    18: frozenset(
        {
            "min_protocol_version",
            "max_protocol_version",
            "sslkeylogfile",
            "oauth_client_id",
            "oauth_client_secret",
            "oauth_issuer",
            "oauth_scope",
            "scram_client_key",
            "scram_server_key",
        }
    ),
}
OLDEST_LIBPQ = 15
NEWEST_LIBPQ = max(_ADDED)


@dataclass(frozen=True)
class LibpqVersion:
    """One libpq major version and what it accepts."""

    major: int = NEWEST_LIBPQ

    def __post_init__(self) -> None:
        if not OLDEST_LIBPQ <= self.major <= NEWEST_LIBPQ:
            raise ValueError(
                f"libpq {self.major} is not modelled (libpq {OLDEST_LIBPQ} to {NEWEST_LIBPQ})"
            )

    @property
    def keywords(self) -> frozenset[str]:
        added = (names for major, names in _ADDED.items() if major <= self.major)
        return _LIBPQ_15.union(*added)

    @property
    def trims_url_blanks(self) -> bool:
        """libpq 18 trims blanks around each URL part and refuses one inside."""
        return self.major >= 18

    @property
    def system_root(self) -> bool:
        """sslrootcert=system means the OS trust store (and verify-full), libpq 16+."""
        return self.major >= 16

    def __str__(self) -> str:
        return f"libpq {self.major}"


def libpq_since(keyword: str) -> int | None:
    """The libpq major version that added `keyword` (None: it is older than 15 or unknown)."""
    return next((major for major, names in _ADDED.items() if keyword in names), None)


ALL_LIBPQ_KEYWORDS = LibpqVersion(NEWEST_LIBPQ).keywords

# Which libpq each binary wheel bundles, where verified (the wheel's own
# __libpq_version__ / pq.version(); 2.9.9's by PQlibVersion of the libpq in its wheel,
# the versions differential's libpq 16 oracle); an unlisted version keeps the default.
PSYCOPG_BINARY_LIBPQ: dict[tuple[int, ...], int] = {(3, 3, 9): 18}
PSYCOPG2_BINARY_LIBPQ: dict[tuple[int, ...], int] = {(2, 9, 9): 16, (2, 9, 13): 17}


@dataclass(frozen=True)
class DriverVersions:
    """The driver versions a reading describes (defaults: requirements/constraints.txt)."""

    psycopg_libpq: LibpqVersion = LibpqVersion(18)  # psycopg-binary 3.3.9
    psycopg2_libpq: LibpqVersion = LibpqVersion(17)  # psycopg2-binary 2.9.13
    sqlalchemy: tuple[int, ...] = (2, 0, 58)
    pg8000: tuple[int, ...] = (1, 31, 6)  # 1.31 changed what ssl_context None and True do

    def libpq_for(self, driver_module: str) -> LibpqVersion:
        """The libpq under 'psycopg' or 'psycopg2' (the module that raises)."""
        return self.psycopg2_libpq if driver_module == "psycopg2" else self.psycopg_libpq

    @property
    def sqlalchemy_has_postgres_alias(self) -> bool:
        """SQLAlchemy before 1.4 loads postgres:// as postgresql:// (1.4 removed it)."""
        return self.sqlalchemy < (1, 4)

    def describe(self) -> str:
        sqlalchemy = ".".join(str(p) for p in self.sqlalchemy)
        return (
            f"psycopg with {self.psycopg_libpq}, psycopg2 with {self.psycopg2_libpq}, "
            f"SQLAlchemy {sqlalchemy}, asyncpg 0.32, Tortoise 1.1, "
            f"pg8000 {'.'.join(str(p) for p in self.pg8000)}"
        )


PINNED = DriverVersions()
