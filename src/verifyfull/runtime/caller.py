"""The caller's code location: the first frame outside the drivers and the libraries on them.

A connect reaches the driver through SQLAlchemy, a pool, Tortoise or the
guard; the location worth naming is the application's line that asked for
it. Frames are skipped by their module's name, not their file, so it works
the same for installed and vendored copies.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache

# Module name prefixes that are plumbing between the application and the wire.
_PLUMBING = (
    "asyncpg",
    "psycopg",  # psycopg, psycopg_pool, psycopg2
    "sqlalchemy",
    "sqlmodel",
    "tortoise",
    "databases",
    "asyncio",
    "concurrent",
    "threading",
    "contextlib",
    "functools",
    "anyio",
    "verifyfull.runtime",
    "verifyfull.guard",
)


@lru_cache(maxsize=1024)
def _plumbing(module: str) -> bool:
    return any(module == p or module.startswith((p + ".", p + "_")) for p in _PLUMBING)


# Where a background task or thread starts: frames beyond are the event loop's
# or the thread's runner, not whoever asked for the connection.
_TASK_STARTS = frozenset({("asyncio.events", "_run"), ("threading", "run")})
UNKNOWN = "unknown (opened by a pool's or driver's background task)"


def caller_location(skip: int = 1, cwd: str | None = None) -> str:
    """file:line of the innermost frame outside the plumbing, or UNKNOWN.

    The file is relative to cwd when inside it (default: the working directory
    now; enforcement passes the one it started in, which saves a getcwd system
    call per connect, tens of microseconds with cold caches).
    """
    frame = sys._getframe(skip)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not _plumbing(module):
            where = _relative(frame.f_code.co_filename, os.getcwd() if cwd is None else cwd)
            return f"{where}:{frame.f_lineno}"
        if (module, frame.f_code.co_name) in _TASK_STARTS:
            break
        frame = frame.f_back  # type: ignore[assignment]
    return UNKNOWN


@lru_cache(maxsize=1024)
def _relative(path: str, cwd: str) -> str:
    """Relative to the working directory when inside it (reports stay readable)."""
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative
