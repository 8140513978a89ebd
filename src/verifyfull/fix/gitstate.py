"""Which files have uncommitted changes (fix refuses to write them without --force).

A file git does not track counts as uncommitted: there is no committed copy
to go back to. Outside a git work tree nothing can be told, and nothing is
refused (the report says so).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

GIT_TIMEOUT = 20.0


def uncommitted(files: Sequence[Path]) -> tuple[Path, ...] | None:
    """The files among `files` with uncommitted changes; None when git cannot tell."""
    git = shutil.which("git")
    if git is None or not files:
        return None if git is None else ()
    top = files[0].parent
    try:
        inside = subprocess.run(  # noqa: S603 - git from PATH, arguments are file names
            [git, "-C", str(top), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
        if inside.returncode != 0:
            return None
        root = Path(inside.stdout.strip())
        status = subprocess.run(  # noqa: S603 - git from PATH, arguments are file names
            [
                git,
                "-C",
                str(root),
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--",
                *(str(f.resolve()) for f in files),
            ],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if status.returncode != 0:
        return None
    dirty: set[Path] = set()
    entries = status.stdout.split(b"\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:].decode("utf-8", "surrogateescape")
        if code[:1] in (b"R", b"C"):
            index += 1  # the rename's source path follows
        dirty.add((root / name).resolve())
    return tuple(f for f in files if f.resolve() in dirty)
