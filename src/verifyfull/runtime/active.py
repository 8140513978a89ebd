"""The process's one active enforcement, read by every driver wrapper on every call.

The wrappers see it through `Enforcer`, the four calls they make, so they
depend on this module and not on enforce.py (which imports them to install
them): no import cycle between the handle and the driver modules it wraps.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from verifyfull.runtime.judge import Attempt, Facts, Key, Reader

C = TypeVar("C")


class Enforcer(Protocol):
    """What a driver wrapper asks of the active enforcement (enforce.Enforcement)."""

    def begin(
        self, driver: str, engine: str, read: Reader, *, key: Key = None, ssl_context: bool = False
    ) -> Attempt: ...

    def judged_only(self, attempt: Attempt, why: str) -> None: ...

    def guarded(
        self, attempt: Attempt, connect: Callable[[], C], facts: Facts, close: Callable[[C], Any]
    ) -> C: ...

    async def guarded_async(
        self,
        attempt: Attempt,
        connect: Callable[[], Awaitable[C]],
        facts: Facts,
        close: Callable[[C], Any],
    ) -> C: ...


lock = threading.RLock()  # held while enforcement starts, stops or patches a driver
_current: Enforcer | None = None


def current() -> Enforcer | None:
    return _current


def set_current(enforcement: Enforcer | None) -> None:
    global _current
    _current = enforcement
