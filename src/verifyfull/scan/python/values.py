"""What static resolution knows about a value: fully, partly, or not at all.

Strings are sequences of known text and `Unknown` holes, so a DSN built from a
parameter still shows its known sslmode, and evidence can say what is unknown
instead of guessing. Every value carries notes on where it came from
("DB_HOST: default of os.getenv").

Values are bounded: a string that `b = a + a` doubles at every line, or a dict
that `{**d, **d}` does, would grow exponentially with the file, so building one
past the limits below raises ValueTooLarge and the resolver makes it an Unknown.
No connection string comes near them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MAX_TEXT_CHARS = 100_000
MAX_TEXT_PARTS = 256  # known runs and unknown holes
MAX_ITEMS = 4_096  # dict and list entries, counted through nested dicts and lists
MAX_NOTES = 32
# Values one expression may have (branches, several returns, callers, conditional
# changes). Past it the rest are dropped and the value says so (Choice.capped):
# many callers times many returns must not multiply without end.
MAX_ALTERNATIVES = 8


class ValueTooLarge(Exception):
    """Building a value would pass the size limits."""

    def __init__(self, what: str, limit: str) -> None:
        super().__init__(f"{what} too large to follow (over {limit})")
        self.why = str(self)


@dataclass(frozen=True)
class Unknown:
    why: str  # "environment variable DATABASE_URL (no default)", "parameter 'dsn'"

    def render(self) -> str:
        return "{" + self.why + "}"


# The start of a WrittenAt.what for a connection URL written with no TLS setting (a
# binding or a helper's return): its finding stands for the calls that read it.
CONNECTION_STRING_WRITTEN = "the connection string written here"
# The start of a WrittenAt.what for a settings field's default URL with no TLS setting:
# its finding stands for the readers in other modules (one in the settings' own module
# stays at its call). A mode word's default (`sslmode: str = "disable"`) is placed for all.
SETTINGS_URL_WRITTEN = "the URL default of settings field"


@dataclass(frozen=True)
class WrittenAt:
    """Where the literal a value is was written, when that is not where it is used: an
    environment reader's default (`os.getenv("SSLMODE", "require")`), a dict joined
    into a conninfo string. A finding the value decides is reported here, the calls
    that use it related (issue 12, class 8; placement.py)."""

    path: Path  # the module's file
    line: int
    column: int  # 1-based, as findings count
    what: str  # "the default of os.getenv('PG_SSLMODE'), used when it is unset"


@dataclass(frozen=True)
class Text:
    parts: tuple[str | Unknown, ...]
    notes: tuple[str, ...] = ()
    # Set only on the value exactly as written there (passed on through names,
    # attributes, imports and returns unchanged); whatever builds a new string from
    # it (`+`, f-strings, .replace) is written where it is built, and drops it.
    written: WrittenAt | None = field(default=None, compare=False)

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
        return _bounded(Text(tuple(parts), _merge(self.notes, other.notes)))

    def replace(self, old: str, new: str) -> Text:
        parts = tuple(p.replace(old, new) if isinstance(p, str) else p for p in self.parts)
        return _bounded(Text(parts, self.notes))


def _bounded(text: Text) -> Text:
    if len(text.parts) > MAX_TEXT_PARTS:
        raise ValueTooLarge("a string", f"{MAX_TEXT_PARTS} known and unknown parts")
    if sum(len(p) for p in text.parts if isinstance(p, str)) > MAX_TEXT_CHARS:
        raise ValueTooLarge("a string", f"{MAX_TEXT_CHARS:,} characters")
    return text


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
    # the dict display it is, as Text.written (a change or merge makes a new value)
    written: WrittenAt | None = field(default=None, compare=False)
    # entries counted through nested dicts and lists (what reading it all costs)
    size: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _size_of(value for _, value in self.items))

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
    size: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _size_of(self.items))


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
    # Where what leaves the certificate unchecked is written (the unverified factory, the
    # last `verify_mode = CERT_NONE`), and the last `check_hostname = False`: (module
    # path, line, column). A connection weak only through the context is reported there
    # once, whichever module and helper the context went through (issue 12, class 8).
    unverified_at: tuple[tuple[str, int, int], ...] = field(default=(), compare=False)
    hostname_off_at: tuple[tuple[str, int, int], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Choice:
    """One of several values, each possible at run time: the arms of a conditional,
    the returns of a helper, the values its callers pass, a dict with or without a
    change made in a branch. The first is the one a single answer gives (the last
    binding, the last return). Only ever the whole value: the resolver distributes
    what is built from a Choice over its options (resolve.py), so no other value
    holds one and a consumer meets it only at the top."""

    options: tuple[Value, ...]
    capped: bool = False  # more values were possible than MAX_ALTERNATIVES


Value = Text | Const | Symbol | DictValue | ListValue | ContextValue | Unknown | Choice


def choice(options: Iterable[Value], capped: bool = False) -> Value:
    """The options as one value: nested choices flattened, equal options once, at
    most MAX_ALTERNATIVES (capped says more were dropped); a single option is itself."""
    flat: list[Value] = []
    for option in options:
        inner = option.options if isinstance(option, Choice) else (option,)
        capped = capped or (isinstance(option, Choice) and option.capped)
        for item in inner:
            if any(_same(item, seen) for seen in flat):
                continue
            if len(flat) == MAX_ALTERNATIVES:
                capped = True
                break
            flat.append(item)
    if len(flat) == 1 and not capped:
        return flat[0]
    return Choice(tuple(flat), capped)


def _same(first: Value, second: Value) -> bool:
    # Only this module's values compare by content (a subclass elsewhere may hold a
    # parsed module, whose comparison walks whole trees).
    if first is second:
        return True
    kind = type(first)
    return kind is type(second) and kind.__module__ == __name__ and first == second


def alternatives(value: Value) -> tuple[Value, ...]:
    return value.options if isinstance(value, Choice) else (value,)


def primary(value: Value) -> Value:
    """The single value a one-answer consumer reads (the last binding or return)."""
    return value.options[0] if isinstance(value, Choice) else value


def _size_of(items: Iterable[Value]) -> int:
    size = 0
    for item in items:
        size += 1 + (item.size if isinstance(item, DictValue | ListValue) else 0)
    if size > MAX_ITEMS:
        raise ValueTooLarge("a dict or list", f"{MAX_ITEMS:,} entries")
    return size


def _merge(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """Notes of both, each once; at most MAX_NOTES (they describe, they do not judge)."""
    if not second or first == second:
        return first
    return tuple(dict.fromkeys(first + second))[:MAX_NOTES]


def notes_of(value: Value) -> tuple[str, ...]:
    if isinstance(value, Choice):
        return notes_of(primary(value))
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
