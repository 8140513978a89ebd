"""Secrets that cannot be printed by accident, and redaction of free text.

A `Secret` renders as `***` through str, repr and format, so a ConnInfo, a
Finding or an exception built from one never carries the value. The raw value
is reachable only through `reveal()`, a name that stands out in review.
"""

from __future__ import annotations

import re
from typing import Final

MASK: Final = "***"

# libpq keywords whose values are secrets (libpq 18's list, plus the asyncpg
# and Tortoise spellings that carry the same values).
SECRET_KEYS: Final = frozenset(
    {
        "password",
        "sslpassword",
        "oauth_client_secret",
        "scram_client_key",
        "scram_server_key",
        "pgpassword",
    }
)


class Secret:
    """A value that prints as `***`; `reveal()` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The raw value, for handing to a driver; never print the result."""
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would copy the raw value into a byte string; refuse it.
        raise TypeError("a Secret cannot be pickled")


def is_secret_key(key: str) -> bool:
    return key.strip().lower() in SECRET_KEYS


# user:password@ in any URL-like text (the userinfo part, up to the last '@'
# before the host part).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)(?P<pw>[^@\s/]*)@")
# password=... in a query string or a libpq keyword string (quoted or not).
_KEY_VALUE = re.compile(
    r"(?P<head>(?:^|[?&\s;,(])(?:"
    + "|".join(sorted(SECRET_KEYS))
    + r")\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^&\s;,)]*)",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """Mask passwords in URLs and key=value text that did not go through the model.

    For evidence and error messages built from raw input (for instance a line
    the parser could not read): the model itself never needs this.
    """
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group('head')}{MASK}", text)
