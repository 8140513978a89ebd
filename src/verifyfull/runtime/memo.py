"""A bounded map of pure results on the connect path, whose keys are never shown.

Enforcement judges the same connection over and over (a pool, a busy
service). What it caches is a pure function of its key: a connect call's
plain arguments (a DSN may hold a password), the PG* values (PGPASSWORD
among them), file stamps and the policy. So the keys stay inside: no repr,
no iteration, no method that returns one; and the map is bounded (the
oldest entry goes first), so a process dialling ever-new DSNs stays small.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    __slots__ = ("_entries", "_lock", "_size", "get")

    def __init__(self, size: int) -> None:
        self._entries: dict[K, V] = {}
        self._size = size
        self._lock = threading.Lock()  # for put's eviction; a get is one atomic dict lookup
        # The lookup is the dict's own (a C call, no Python frame on the connect path,
        # where each frame costs microseconds with the CPU caches cold); it returns a
        # value or None, never a key.
        self.get: Callable[[K], V | None] = self._entries.get

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if key not in self._entries and len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:  # the keys may hold secrets: the count only
        return f"Memo({len(self._entries)} of {self._size} entries)"
