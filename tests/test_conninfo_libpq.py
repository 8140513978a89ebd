"""The pure-Python libpq parser agrees with libpq itself (psycopg's conninfo_to_dict)."""

from __future__ import annotations

import random

import pytest

from verifyfull.conninfo import libpq
from verifyfull.conninfo.libpq import ConnStringError

psycopg_conninfo = pytest.importorskip("psycopg.conninfo")
psycopg = pytest.importorskip("psycopg")

AGREE = [
    "postgresql://u@h/db?ssl=true",
    "postgresql://a+b:c+d@h/d?application_name=a+b",
    "postgresql://u:p:q@h/db",
    "postgresql://u@p@h/db",
    "postgresql://h:5432,:5433/db",
    "postgresql://h/db?sslmode=require&sslmode=disable",
    "host = h  port=5",
    "dbname='a\\\\b'",
    "postgresql://[::1]/db",
    "postgresql://u@h/?sslmode=require",
    "postgresql://h/d?password=x",
    "postgresql://h1,h2/db",
    "postgresql://h1:1,h2/db",
    "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
    "postgresql:///db?host=/tmp",
    "postgres://",
    "postgresql://h/db?sslmode=",
    "postgresql://u:@h",
    "postgresql://:p@h",
    "password='a b\\' c' host=h",
    "host=h\\ x",
    "postgresql://[::1]:26257,[fe80::1]/db",
    "postgresql://h?sslmode=require",
    "postgresql://h/db/x",
    "postgresql://root@db1:26257,db2:26257,db3:26257/defaultdb?sslmode=verify-full"
    "&sslrootcert=certs/ca.crt&sslcert=certs/client.root.crt&sslkey=certs/client.root.key",
    "host=db1,db2 port=26257,26258 sslmode=verify-full sslrootcert=/certs/ca.crt",
    "postgresql://us%40er:p%26ss@h%2Dx:1/d%20b?application_name=x%3Dy",
    "postgresql://h/db?options=-c%20search_path%3Dfoo",
    "   host=h   ",
    "",
    "postgresql://h/db?sslrootcert=system&sslmode=verify-full",
    "postgresql://h:notaport/db",
]

DISAGREE_NEVER_ON_ERRORS = [
    "postgresql://u@h/db?ssl=false",
    "sslmode=require foo=bar",
    "host=h sslmode=require ssl=true",
    "postgresql:",
    "postgresql://h/db?x",
    "postgresql://h/%zz",
    "postgresql://[::1/db",
    "a b",
    "postgresql://h/db?a=b=c",
    "host='unterminated",
    "postgresql://[]/db",
    "postgresql://[::1]x/db",
    "postgresql://h/db?%00=x",
]


def _ours(text: str) -> dict[str, str]:
    return libpq.libpq_reading(text)


@pytest.mark.parametrize("text", AGREE)
def test_same_dict_as_libpq(text: str) -> None:
    assert _ours(text) == psycopg_conninfo.conninfo_to_dict(text)


@pytest.mark.parametrize("text", DISAGREE_NEVER_ON_ERRORS)
def test_refuses_what_libpq_refuses(text: str) -> None:
    with pytest.raises(psycopg.ProgrammingError) as real:
        psycopg_conninfo.conninfo_to_dict(text)
    with pytest.raises(ConnStringError) as ours:
        _ours(text)
    # The same problem is named (first words of libpq's message).
    real_words = str(real.value).split(":")[0].split('"')[0].strip()
    assert real_words.split()[0] in str(ours.value)


def test_keeps_unknown_keys_before_libpq_rules() -> None:
    parts = libpq.split("postgresql://h/db?ssl=require&sslmode=verify-ca")
    assert parts.pairs == (
        ("host", "h"),
        ("dbname", "db"),
        ("ssl", "require"),
        ("sslmode", "verify-ca"),
    )


def test_dialect_suffix_is_read() -> None:
    parts = libpq.split("postgresql+asyncpg://u@h/db")
    assert (parts.scheme, parts.dialect) == ("postgresql", "asyncpg")
    assert libpq.split("cockroachdb://h").scheme == "cockroachdb"


def test_keyword_list_matches_installed_libpq() -> None:
    pq = pytest.importorskip("psycopg.pq")
    installed = {d.keyword.decode() for d in pq.Conninfo.get_defaults()}
    # Every keyword we accept exists in the installed libpq (older libpq
    # versions accept fewer; this one is 18).
    assert installed <= libpq.LIBPQ_KEYWORDS | installed
    assert libpq.LIBPQ_KEYWORDS - installed == set()


# Fragments that exercise every branch of libpq's grammar: prefixes, user info,
# IPv6 brackets, host lists, paths, queries, %XX, quoting, escapes, spaces.
_FRAGMENTS = (
    "postgresql://", "postgres://", "u", ":", "@", "h", "[", "]", "::1", ",", "/", "?", "&",
    "=", "%2F", "%41", "%", "%0", "host", "port", "5432", "sslmode", "require", "dbname", "db",
    " ", "'", "\\", "x", "ssl", "true", "password", "p w", "+", "user",
)  # fmt: skip


def test_random_strings_read_exactly_as_libpq() -> None:
    """4000 seeded random strings: the same dict, or an error on both sides."""
    rng = random.Random(20261128)
    compared = 0
    for _ in range(4000):
        text = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 12)))
        try:
            real: dict[str, str] | None = psycopg_conninfo.conninfo_to_dict(text)
        except psycopg.Error:
            real = None
        except UnicodeDecodeError:
            continue  # psycopg cannot decode libpq's (non-UTF-8) answer: nothing to compare
        try:
            ours: dict[str, str] | None = libpq.libpq_reading(text)
        except ConnStringError:
            ours = None
        assert ours == real, text
        compared += 1
    assert compared > 3900
