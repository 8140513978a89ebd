"""Read a certificate, key or password file without ever blocking for good.

A path the user gives may name a FIFO (open and read wait for a writer), a
device, or a file on a hung network mount (every system call on it waits).
So the file is opened with O_NONBLOCK (a FIFO opens at once), refused unless
`fstat` on the open descriptor says it is a regular file (no window between
the check and the read), and the whole open/stat/read runs in a daemon
thread that the caller waits for at most `timeout` seconds: a hung mount
costs that long and a one-line error, never the event loop or start-up.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

READ_TIMEOUT = 5.0  # seconds for one file; a healthy local file takes microseconds
MAX_BYTES = 1 << 20  # a certificate bundle, key or password is far smaller


class NotRegularFileError(OSError):
    """The path is a FIFO, device, socket or directory, not a file to read."""


def file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _read(path: Path, limit: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(
                errno.EINVAL, f"{file_kind(mode)}, not a regular file", str(path)
            )
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 65536):
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_regular_file(path: Path, *, timeout: float | None = None, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file; OSError (with strerror) for anything else or a timeout."""
    outcome: list[bytes | BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(_read(path, limit))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)
        finally:
            done.set()

    # A daemon thread: one stuck on a hung mount must not keep the process alive.
    threading.Thread(target=work, name="verifyfull-read", daemon=True).start()
    wait = READ_TIMEOUT if timeout is None else timeout
    if not done.wait(wait):
        raise TimeoutError(
            errno.ETIMEDOUT, f"no answer within {wait:g} s (a hung mount?)", str(path)
        )
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def require_regular_file(path: Path) -> None:
    """Refuse a path that is not a regular file, by stat (for APIs that take a file name)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # the caller's own open reports a missing file in its words
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(errno.EINVAL, f"{file_kind(mode)}, not a regular file", str(path))
