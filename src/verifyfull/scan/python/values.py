"""What static resolution knows about a value: fully, partly, or not at all.

Strings are sequences of known text and `Unknown` holes, so a DSN built from a
parameter still shows its known sslmode, and evidence can say what is unknown
instead of guessing. Every value carries notes on where it came from
("DB_HOST: default of os.getenv").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Unknown:
    why: str  # "environment variable DATABASE_URL (no default)", "parameter 'dsn'"

    def render(self) -> str:
        return "{" + self.why + "}"


@dataclass(frozen=True)
class Text:
    parts: tuple[str | Unknown, ...]
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str, notes: Iterable[str] = ()) -> Text:
        return cls((text,), tuple(notes))

    @property
    def known(self) -> str | None:
        """The full string when no part is unknown."""
        if any(isinstance(p, Unknown) for p in self.parts):
            return None
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def unknowns(self) -> tuple[Unknown, ...]:
        return tuple(p for p in self.parts if isinstance(p, Unknown))

    def render(self) -> str:
        return "".join(p if isinstance(p, str) else p.render() for p in self.parts)

    def with_placeholders(self, placeholder: str) -> str:
        return "".join(p if isinstance(p, str) else placeholder for p in self.parts)

    def __add__(self, other: Text) -> Text:
        parts: list[str | Unknown] = list(self.parts)
        for part in other.parts:
            if parts and isinstance(part, str) and isinstance(parts[-1], str):
                parts[-1] = parts[-1] + part
            else:
                parts.append(part)
        return Text(tuple(parts), _merge(self.notes, other.notes))

    def replace(self, old: str, new: str) -> Text:
        parts = tuple(p.replace(old, new) if isinstance(p, str) else p for p in self.parts)
        return Text(parts, self.notes)


@dataclass(frozen=True)
class Const:
    """bool, int, float or None."""

    value: bool | int | float | None


@dataclass(frozen=True)
class Symbol:
    """A dotted name of a library constant: ssl.CERT_NONE, ssl.TLSVersion.TLSv1."""

    dotted: str

    @property
    def last(self) -> str:
        return self.dotted.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class DictValue:
    items: tuple[tuple[str, Value], ...]
    complete: bool = True  # False when some keys could not be resolved (**spread)

    def get(self, key: str) -> Value | None:
        found: Value | None = None
        for name, value in self.items:
            if name == key:
                found = value
        return found

    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for name, _ in self.items))


@dataclass(frozen=True)
class ListValue:
    items: tuple[Value, ...]


@dataclass(frozen=True)
class ContextValue:
    """An ssl.SSLContext built in the code, with what was done to it."""

    origin: str  # "ssl.create_default_context()", "ssl.SSLContext(PROTOCOL_TLS_CLIENT)"
    verify_mode: str | None  # CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED, None if unknown
    check_hostname: bool | None
    minimum_version: str | None  # "TLSv1.2" or None when unknown
    ciphers: str | None = None
    own_ca: bool | None = None  # roots named by the code (cafile=, load_verify_locations)
    system_roots: bool | None = None  # the OS trust store (create_default_context, no cafile)
    has_client_cert: bool | None = None
    line: int = 0  # where it was created
    notes: tuple[str, ...] = field(default=(), compare=False)


Value = Text | Const | Symbol | DictValue | ListValue | ContextValue | Unknown


def _merge(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(first + second))


def notes_of(value: Value) -> tuple[str, ...]:
    if isinstance(value, Text | ContextValue):
        return value.notes
    if isinstance(value, DictValue):
        merged: tuple[str, ...] = ()
        for _, item in value.items:
            merged = _merge(merged, notes_of(item))
        return merged
    return ()


def as_text(value: Value) -> Text | None:
    if isinstance(value, Text):
        return value
    if isinstance(value, Unknown):
        return Text((value,))
    if isinstance(value, Const) and value.value is not None and not isinstance(value.value, bool):
        return Text.of(str(value.value))
    return None
