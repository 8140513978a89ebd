"""Whether aerich's settings can be in a module: aerich reads its configuration from
the folder it runs in (pyproject.toml's `[tool.aerich]`, aerich.ini), the scanned root
or a folder between it and the module (aerich.py), and a module attribute is aerich's
settings only where such a file names it. Without a file that could hold one in any of
those folders, aerich's words (`connections` and `apps`, in every Django module that
imports `django.db.connections` and `django.apps.apps`) make no module worth parsing.

A superset of aerich.configured, read the cheap way: any aerich.ini, and any
pyproject.toml that holds the word `aerich` or a TOML escape (a quoted key may spell
it `"\\u0061erich"`), of any size, in any encoding.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path, PurePosixPath


@lru_cache(maxsize=1024)
def _may_configure_here(folder: str) -> bool:
    base = Path(folder)
    if (base / "aerich.ini").exists():
        return True
    try:
        text = (base / "pyproject.toml").read_bytes()
    except OSError:
        return False
    return b"aerich" in text or b"\\u" in text or b"\\U" in text


def may_configure(root: Path, relpath: str) -> bool:
    """Whether an aerich configuration in the root or a folder between it and the
    module at `relpath` (posix, relative to root) could name an attribute of it. A
    file outside the root (an absolute relpath, or one that climbs) may be: True."""
    path = PurePosixPath(relpath)
    if path.is_absolute() or ".." in path.parts:
        return True
    folders = path.parts[:-1]
    return any(
        _may_configure_here(str(root.joinpath(*folders[:depth])))
        for depth in range(len(folders) + 1)
    )
