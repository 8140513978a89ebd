"""Secrets that cannot be printed by accident (redaction of free text: verifyfull.scrub).

A `Secret` renders as `***` through str, repr and format, so a ConnInfo, a
Finding or an exception built from one never carries the value. The raw value
is reachable only through `reveal()`, a name that stands out in review.
"""

from __future__ import annotations

from verifyfull.scrub import MASK, SECRET_KEYS, redact_text, register_secret

__all__ = ["MASK", "SECRET_KEYS", "Secret", "is_secret_key", "redact_text"]


class Secret:
    """A value that prints as `***`; `reveal()` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)  # so no writer can print it, whatever shape it takes

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
