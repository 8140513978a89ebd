"""The process's one active Enforcement, read by every driver wrapper on every call.

Kept apart from enforce.py so the wrappers depend on this reference only
(no import cycle between the handle and the driver modules it wraps).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verifyfull.runtime.enforce import Enforcement

lock = threading.RLock()  # held while enforcement starts, stops or patches a driver
_current: Enforcement | None = None


def current() -> Enforcement | None:
    return _current


def set_current(enforcement: Enforcement | None) -> None:
    global _current
    _current = enforcement
