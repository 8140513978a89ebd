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
from types import CodeType

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

# Per code object, what its frames are (a function's code belongs to the module it
# was defined in: its module name is read once): the application's, plumbing, or
# where a task starts. Per (code, instruction offset, cwd), the location's text:
# f_lineno decodes the line table and the path is made relative once per call
# site, not per connect (each costs microseconds with the CPU caches cold after a
# handshake). Both bounded: emptied when full.
_APP, _PLUMB, _TASK_START = 0, 1, 2
_MAX_ENTRIES = 1024
_KINDS: dict[CodeType, int] = {}
_LOCATIONS: dict[tuple[CodeType, int, str], str] = {}


def _kind(code: CodeType, module: str) -> int:
    if not _plumbing(module):
        kind = _APP
    else:
        kind = _TASK_START if (module, code.co_name) in _TASK_STARTS else _PLUMB
    if len(_KINDS) >= _MAX_ENTRIES:
        _KINDS.clear()
    _KINDS[code] = kind
    return kind


def caller_location(skip: int = 1, cwd: str | None = None) -> str:
    """file:line of the innermost frame outside the plumbing, or UNKNOWN.

    The file is relative to cwd when inside it (default: the working directory
    now; enforcement passes the one it started in, which saves a getcwd system
    call per connect, tens of microseconds with cold caches).
    """
    frame = sys._getframe(skip)
    here = os.getcwd() if cwd is None else cwd
    while frame is not None:
        code = frame.f_code
        kind = _KINDS.get(code)
        if kind is None:
            kind = _kind(code, str(frame.f_globals.get("__name__", "")))
        if kind == _APP:
            site = (code, frame.f_lasti, here)
            where = _LOCATIONS.get(site)
            if where is None:
                where = f"{_relative(code.co_filename, here)}:{frame.f_lineno}"
                if len(_LOCATIONS) >= _MAX_ENTRIES:
                    _LOCATIONS.clear()
                _LOCATIONS[site] = where
            return where
        if kind == _TASK_START:
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
