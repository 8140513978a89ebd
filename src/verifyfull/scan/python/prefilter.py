"""What a Python file's text says about the rules that can fire in it, before parsing.

Parsing is most of a scan's cost and most files of a large tree need none, so each
test here is a cheap necessary condition: a rule family left out cannot fire in the
file, a word left out of `trigger_words` cannot occur in a body that raises a rule.
Soundness, not precision, is the contract: tests/test_scan_python_prefilter.py runs
the full analysis beside the filtered one and requires the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from verifyfull.scan.python.credentials import CONNECTION_CALL_WORDS, DECODER_WORDS
from verifyfull.scan.python.names import has_db_context, is_password_name
from verifyfull.scan.python.sites import ALL_SITES

# Stage one, in the check's registration: a file with none of these cannot raise a
# Python rule. Password names hold "pass" or "pw" in one of the spellings that
# names.words leaves whole (capitals, then lower case: "PAss" is one word).
# The most frequent first: the test stops at the first word found.
KEYWORDS: tuple[str, ...] = (
    *("pass", "connect", "ssl", "random", "Pass", "PASS", "pw", "PW", "Pw", "PAss", "PASs"),
    *("Database", "postgres", "cockroach", "hashlib", "create_engine", "ConnectionPool"),
    "Tortoise",
)

DRIVERS = ("asyncpg", "psycopg", "sqlalchemy", "sqlmodel", "tortoise", "databases")
# A connection site is a call whose qualified name is in sites.ALL_SITES: the text
# holds the function's own name called (`create_engine(`, `Tortoise.init (`) or
# given another at import (`create_engine as make`). Method owners aliased at
# import (`Tortoise as T`) leave the method's name in the call.
SITE_FUNCTIONS = tuple(sorted({qualname.rsplit(".", 1)[-1] for qualname in ALL_SITES}))
_SITE_CALL_TEXT = tuple(f"{name}(" for name in SITE_FUNCTIONS)


def sites_possible(text: str) -> bool:
    if not any(driver in text for driver in DRIVERS):
        return False
    if any(call in text for call in _SITE_CALL_TEXT):
        return True
    return any(_called_or_renamed(text, name) for name in SITE_FUNCTIONS if name in text)


def _called_or_renamed(text: str, name: str) -> bool:
    """`name` as a whole word followed (past spaces, line breaks, backslashes) by "(" or
    by "as ", found with str.find (a regex alternation over a large file cost a
    third of the prefilter's time)."""
    size = len(text)
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        whole = (at == 0 or not _is_word_char(text[at - 1])) and (
            end == size or not _is_word_char(text[end])
        )
        if whole:
            while end < size and (text[end].isspace() or text[end] == "\\"):
                end += 1
            if text.startswith("(", end) or (
                text.startswith("as", end) and end + 2 < size and text[end + 2].isspace()
            ):
                return True
        at = text.find(name, at + 1)
    return False


# What the ssl rules key on: attribute names assigned or called, constants read.
SSL_WORDS = (
    "verify_mode",
    "CERT_NONE",
    "check_hostname",
    "minimum_version",
    "set_ciphers",
    "_create_unverified_context",
    "PROTOCOL_TLSv1",
    "PROTOCOL_SSL",
    "wrap_socket",
)
CRYPTO_WORDS = ("md5", "sha1", "random", "hashlib")
# Libraries whose imported names make a function worth walking (aliases included).
TRIGGER_MODULES = frozenset(
    {
        *("asyncpg", "psycopg", "psycopg2", "psycopg_pool", "sqlalchemy", "sqlmodel"),
        *("tortoise", "databases", "ssl", "random", "hashlib", "base64", "binascii", "codecs"),
    }
)
ALL_FAMILIES = frozenset({"sites", "ssl", "credentials", "crypto"})

# Where a password name can be found: every name names.is_password_name accepts holds
# "pass" or "pw" in some case. (For ASCII text, str.find over a lower-cased copy is
# six times faster than this pattern; the pattern serves the rest.)
_PASSWORD_HINT = re.compile("[pP](?:[aA][sS][sS]|[wW])")
# After the name (or its closing quote, for dict keys and variable names in strings):
# bound or passed (`=`, `:` annotation or dict key, `,` after a getenv name).
_BOUND = re.compile(r"['\"]?\s*[=:,]")
_BOUND_TO_LITERAL = re.compile(r"['\"]?\s*(?::\s*[\w\[\]|. ]+?\s*=|[=:,])\s*[rbuf]{0,2}['\"][^'\"]")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _hint_offsets(text: str) -> Iterator[int]:
    if not text.isascii():  # lower() may change the length of non-ASCII text
        yield from (hint.start() for hint in _PASSWORD_HINT.finditer(text))
        return
    lowered = text.lower()
    for hint in ("pass", "pw"):
        at = lowered.find(hint)
        while at >= 0:
            yield at
            at = lowered.find(hint, at + 1)


@lru_cache(maxsize=4)  # asked by families() and again by the walker's trigger words
def _password_words(text: str) -> tuple[tuple[str, int], ...]:
    """Each word of the text (identifier, or the same inside a string) that
    names.is_password_name accepts, with the offset just after it."""
    found: list[tuple[str, int]] = []
    starts: set[int] = set()
    size = len(text)
    for start in _hint_offsets(text):
        while start > 0 and _is_word_char(text[start - 1]):
            start -= 1
        if start in starts:
            continue
        starts.add(start)
        end = start
        while end < size and _is_word_char(text[end]):
            end += 1
        name = text[start:end]
        if name == "pass" and (start == 0 or text[start - 1] not in "'\""):
            continue  # the `pass` statement: as a name, "pass" can only be a string
        if is_password_name(name):
            found.append((name, end))
    return tuple(found)


def password_names(text: str) -> frozenset[str]:
    """The password names that are bound or passed somewhere in the text: the words a
    body must hold to raise VF401/VF402 from an assignment, keyword, dict or getenv."""
    return frozenset(name for name, end in _password_words(text) if _BOUND.match(text, end))


def credentials_possible(text: str, stem: str) -> bool:
    if ("ostgres" in text or "ockroach" in text) and "://" in text and "@" in text:
        return True  # a DSN literal may carry a password
    if _keyword_assigned(text, "password") and any(
        _keyword_assigned(text, hint) for hint in _KEYWORD_HINTS
    ):
        return True  # so may a libpq keyword string ("host=db password=…"), as
        # credentials.on_constant reads one
    words = _password_words(text)
    if not words:
        return False
    if any(w in text for w in DECODER_WORDS) and password_names(text):
        return True  # VF402 needs no database context
    bound = {name for name, end in words if _BOUND_TO_LITERAL.match(text, end)}
    return bool(bound) and _database_context_possible(text, stem, bound)


# What credentials.KEYWORD_DSN_HINT looks for (KEYWORD_PASSWORD: "password").
_KEYWORD_HINTS = ("host", "dbname", "user", "port")


def _keyword_assigned(text: str, word: str) -> bool:
    """`word` at the start of the text or after white space, then `\\s*=`: a superset
    of credentials.KEYWORD_PASSWORD / KEYWORD_DSN_HINT, found with str.find."""
    size = len(text)
    at = text.find(word)
    while at >= 0:
        if at == 0 or text[at - 1].isspace():
            end = at + len(word)
            while end < size and text[end].isspace():
                end += 1
            if text.startswith("=", end):
                return True
        at = text.find(word, at + 1)
    return False


# credentials.py reports a literal password (VF401) only with database context: a
# password name, enclosing class or file name holding a database word, a connection
# call (credentials.CONNECTION_CALL_WORDS), or a dict shaped like connection parameters.
_CONNECTION_DICT_KEYS = tuple(
    f"{left}{key}{right}"
    for key in ("host", "user", "username", "database", "dbname", "port", "dsn")
    for left in "'\""
    for right in "'\""
)
_CLASS_NAME = re.compile(r"\bclass\s+(\w+)")


def _database_context_possible(text: str, stem: str, names: set[str]) -> bool:
    if has_db_context(stem) or any(has_db_context(name) for name in names):
        return True
    if any(key in text for key in _CONNECTION_DICT_KEYS):
        return True
    lowered = text.lower()
    if any(word in lowered for word in CONNECTION_CALL_WORDS):
        return True
    return any(has_db_context(name) for name in _CLASS_NAME.findall(text))


def families(text: str, stem: str) -> frozenset[str]:
    """The rule families that can fire in this text (empty: nothing to parse for)."""
    found = set()
    if sites_possible(text):
        found.add("sites")
    if "ssl" in text and any(w in text for w in SSL_WORDS):
        found.add("ssl")
    if credentials_possible(text, stem):
        found.add("credentials")
    if "hashlib" in text and ("md5" in text or "sha1" in text):
        found.add("crypto")
    if "random" in text and ("import random" in text or "from random" in text):
        found.add("crypto")
    return frozenset(found)


def trigger_words(wanted: frozenset[str], text: str, imported: dict[str, str]) -> tuple[str, ...]:
    """Words without which a function or class body cannot raise a wanted rule.

    imported: alias -> first part of the dotted name it stands for; names imported
    from the libraries count (`from ssl import CERT_NONE as NONE`)."""
    words: set[str] = set()
    if "sites" in wanted:
        # A site's qualified name starts with a driver: its root is a driver name
        # written out (asyncpg.connect) or a name imported from a driver (below).
        words.update(DRIVERS)
    if "ssl" in wanted:
        words.update(SSL_WORDS)
    if "credentials" in wanted or "sites" in wanted:
        # "://" and not "@": a DSN literal reported by credentials.on_constant holds
        # both, and "@" alone would pass every decorated function.
        words.update((*password_names(text), *DECODER_WORDS, "://"))
    if "crypto" in wanted:
        words.update(CRYPTO_WORDS)
    words.update(alias for alias, module in imported.items() if module in TRIGGER_MODULES)
    return tuple(words)
