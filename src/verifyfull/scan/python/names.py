"""What identifiers say about the values they hold (password, secret, database)."""

from __future__ import annotations

import ast
import re
from functools import lru_cache

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "pw"})
_DB_WORDS = frozenset(
    {
        "db",
        "pg",
        "postgres",
        "postgresql",
        "database",
        "cockroach",
        "cockroachdb",
        "crdb",
        "sql",
        "dsn",
        "psql",
        "asyncpg",
        "psycopg",
        "tortoise",
        "sqlalchemy",
    }
)
_SECRET_WORDS = (
    frozenset(
        {
            "token",
            "secret",
            "nonce",
            "salt",
            "otp",
            "csrf",
            "pin",
            "apikey",
            "credential",
            "credentials",
            "sessionid",
            "sid",
            "xsrf",
            "totp",
            "hotp",
        }
    )
    | _PASSWORD_WORDS
)
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "secret",
        "private",
        "signing",
        "encryption",
        "crypto",
        "session",
        "auth",
        "access",
        "hmac",
        "jwt",
        "aes",
        "fernet",
        "master",
    }
)
_SECURITY_WORDS = _SECRET_WORDS | frozenset(
    {
        "signature",
        "sig",
        "sign",
        "auth",
        "authenticate",
        "verify",
        "hmac",
        "session",
        "login",
        "credential",
        "digest_auth",
    }
)


# A "code" is a secret when it proves something (a confirmation or reset code sent by
# mail or SMS, an OTP, an OAuth authorization code), not when it names a thing.
_CODE_WORDS = frozenset({"code", "codes", "passcode", "passcodes"})
_NOT_SECRET_CODE = frozenset(
    {
        *("status", "http", "exit", "error", "err", "return", "response", "resp", "result"),
        *("country", "currency", "color", "colour", "zip", "postal", "lang", "language"),
        *("locale", "area", "phone", "dial", "product", "item", "sku", "bar", "qr", "source"),
        *("src", "byte", "op", "char", "ascii", "unicode", "html", "region", "state", "city"),
        *("airport", "iata", "course", "class", "event", "type", "mode", "level", "format"),
        *("unit", "kind", "category", "group", "reason", "exception", "signal", "key"),
        *("keyboard", "emoji", "morse", "machine", "python", "js", "sample", "test", "dummy"),
        *("fake", "mock", "hex", "ansi", "escape", "shortcode"),
    }
)
_SECRET_CODE_QUALIFIERS = frozenset(
    {
        *("confirm", "confirmation", "verification", "verify", "activation", "activate"),
        *("reset", "recovery", "recover", "auth", "authentication", "authorization"),
        *("authorisation", "security", "secure", "login", "signin", "signup", "invite"),
        *("invitation", "access", "sms", "email", "mail", "mfa", "twofa", "2fa", "tfa"),
        *("magic", "backup", "unlock", "register", "registration", "onetime", "pairing"),
        *("challenge", "approval", "grant", "secret", "device", "pass"),
    }
)

# Every name is_security_name accepts holds one of these in lower case (for a
# prefilter); "code" for the code names of is_code_name (VF404 sinks).
SECURITY_HINTS = tuple(sorted(_SECURITY_WORDS | {"password", "key", "code"}))


def words(name: str) -> tuple[str, ...]:
    """snake_case, CamelCase and dotted names split into lower-case words."""
    spaced = _CAMEL.sub("_", name.replace(".", "_").replace("-", "_"))
    return tuple(w for w in spaced.lower().split("_") if w)


@lru_cache(maxsize=8192)  # the prefilter asks it of every pass/pw word of a large tree
def is_password_name(name: str) -> bool:
    parts = words(name)
    return any(w in _PASSWORD_WORDS or w.endswith("password") for w in parts)


def has_db_context(*names: str) -> bool:
    return any(w in _DB_WORDS or _glued_db_password(w) for name in names for w in words(name))


def _glued_db_password(word: str) -> bool:
    """A database word glued to a password word, `pgpassword` (libpq's own PGPASSWORD),
    `dbpassword`, `postgrespasswd`: the config check reads these names as a database's
    password (config/judge.py's _DB_CONTEXT), so the Python side does too."""
    return any(
        word.startswith(db) and word[len(db) :] in ("password", "passwd") for db in _DB_WORDS
    )


def is_secret_name(name: str) -> bool:
    """Names of values that must be unpredictable: tokens, passwords, keys, nonces…"""
    parts = words(name)
    if any(w in _SECRET_WORDS or w.endswith("password") for w in parts):
        return True
    if parts and parts[-1] in ("key", "keys") and any(w in _KEY_QUALIFIERS for w in parts[:-1]):
        return True
    return len(parts) == 2 and parts == ("session", "id")


def is_code_name(name: str) -> bool:
    """A name of a code that may be a secret (`code`, `new_code`, `sms_codes`), not
    one that names a thing (`status_code`, `country_code`, `exit_code`). Whether it
    is one is for the caller to say (is_secret_code_name, or the module it is in)."""
    parts = words(name)
    return any(w in _CODE_WORDS for w in parts) and not any(w in _NOT_SECRET_CODE for w in parts)


def is_secret_code_name(name: str) -> bool:
    """A code name that says what it proves: `confirmation_code`, `reset_code`,
    `sms_code`, `auth_code`, `verification_codes`."""
    return is_code_name(name) and any(w in _SECRET_CODE_QUALIFIERS for w in words(name))


def may_be_secret_sink(name: str) -> bool:
    """The names a VF404 sink can have (a superset, for a prefilter): secret names and
    code names (weak_crypto decides from the module whether a bare code is a secret)."""
    return is_secret_name(name) or is_code_name(name)


def is_security_name(name: str) -> bool:
    """Names that say a hash serves security (password hashes, tokens, signatures)."""
    parts = words(name)
    return is_secret_name(name) or any(w in _SECURITY_WORDS for w in parts)


def target_name(target: ast.expr) -> str | None:
    """The name a value is stored under: `x =`, `obj.x =`, `d["x"] =`."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


# Where a project keeps its tests: a tests/ or testing/ directory, test_*.py, *_test.py,
# *_tests.py, conftest.py (pytest's and unittest's discovery).
_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing)(/|$)|(^|/)(test_[^/]*|[^/]*_tests?\.py|conftest\.py)$"
)


def is_test_path(relpath: str) -> bool:
    """Whether a project-relative path is test code (a stand-in there is test data)."""
    return _TEST_PATH.search(relpath) is not None
