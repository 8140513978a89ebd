"""Reading a file to fix and writing it back: atomic, and never over an edit made meanwhile.

A file is read once (`read_stamped`), with its identity and size; just before the
rename that replaces it, `write_atomic` reads it again and refuses (FileChanged) if a
byte or the identity differs: an edit saved while fix ran is never lost. The window
left is the rename itself, a few microseconds (POSIX has no compare-and-swap rename).

The file keeps its permission bits (and owner, where we may set it); the bytes
written are exactly the planned ones, so line endings are whatever the fixer
kept (every fixer edits decoded text without translating newlines).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from verifyfull.errors import VerifyfullError


@dataclass(frozen=True)
class Stamp:
    """Which file was read, and in what state (what a concurrent edit changes)."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    links: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_nlink)

    def same_file(self, other: Stamp) -> bool:
        return (self.device, self.inode, self.size, self.mtime_ns) == (
            other.device,
            other.inode,
            other.size,
            other.mtime_ns,
        )


class FileChanged(VerifyfullError):
    """The file is no longer what was read: someone edited, replaced or linked it."""


def read_stamped(path: Path) -> tuple[bytes, Stamp]:
    """The file's bytes and its stamp, taken from one open file (a file swapped or
    written while it is read raises FileChanged)."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    try:
        before = Stamp.of(os.fstat(descriptor))
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise FileChanged(f"{path} is not a regular file", "fix it by hand")
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
        after = Stamp.of(os.fstat(descriptor))
    finally:
        os.close(descriptor)
    if not before.same_file(after):
        raise FileChanged(f"{path} changed while it was read", "run fix again")
    return b"".join(chunks), after


def _unchanged(path: Path, expected: bytes, stamp: Stamp) -> str | None:
    """Why `path` is no longer the file that was read (None when it still is)."""
    try:
        data, now = read_stamped(path)
    except FileChanged as exc:
        return exc.problem
    except OSError as exc:
        return f"cannot read it again ({exc.strerror or type(exc).__name__})"
    if data != expected or not stamp.same_file(now):
        return "it changed while fix ran (an edit was saved meanwhile)"
    if now.links > 1:
        return f"it now has {now.links} hard links"
    return None


def write_atomic(
    path: Path, data: bytes, *, expected: bytes | None = None, stamp: Stamp | None = None
) -> None:
    """Replace `path` with `data` in one rename; on failure the old file is untouched.

    A symlink is followed: the file it points to is replaced and the link kept (the
    planner refuses links that leave the scanned tree). With `expected` and `stamp`
    (what was read), the file is compared again just before the rename and FileChanged
    is raised, writing nothing, when it differs.
    """
    path = path.resolve()
    try:
        info = path.stat()
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".vf", dir=path.parent)
    except OSError as exc:
        raise VerifyfullError(
            f"cannot write {path}: {exc.strerror or type(exc).__name__}",
            "check the directory's permissions",
        ) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        with contextlib.suppress(PermissionError):
            os.chown(temporary, info.st_uid, info.st_gid)
        if expected is not None and stamp is not None:
            problem = _unchanged(path, expected, stamp)
            if problem is not None:
                os.unlink(temporary)
                raise FileChanged(f"not written: {path}: {problem}", "look at it and run fix again")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise VerifyfullError(
            f"cannot write {path}: {exc.strerror or type(exc).__name__}",
            "nothing was changed in it",
        ) from None
