"""Atomic writes: a temporary file next to the target, then rename.

The file keeps its permission bits (and owner, where we may set it); the bytes
written are exactly the planned ones, so line endings are whatever the fixer
kept (every fixer edits decoded text without translating newlines).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from verifyfull.errors import VerifyfullError


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename; on failure the old file is untouched.

    A symlink is followed: the file it points to is replaced and the link kept.
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
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise VerifyfullError(
            f"cannot write {path}: {exc.strerror or type(exc).__name__}",
            "nothing was changed in it",
        ) from None
