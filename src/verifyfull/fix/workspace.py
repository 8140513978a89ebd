"""A private copy of what the scanner reads, with planned bytes written in.

fix never judges its own edits on the real tree: the re-scan (plan.py) and the
before/after census of every connection site (safety.py) run on such a copy, so
nothing is written to the project before every check has passed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings
from verifyfull.scan.walk import Walker


def copy_scanned(settings: ScanSettings, copy: Path) -> tuple[str, ...]:
    """Copy what the scanner reads (the files its checks want, and the settings file);
    the relative paths copied."""
    root = settings.project_root.resolve()
    copy.mkdir(parents=True)
    walker = Walker(root, exclude=settings.exclude, respect_gitignore=settings.respect_gitignore)
    wanted = [
        (w.path, Path(w.relpath)) for w in walker.walk([root]) if engine.checks_for(w.path.name)
    ]
    if settings.source is not None:
        wanted.append((settings.source, Path(settings.source.name)))
    copied: list[str] = []
    for path, relative in wanted:
        if relative.is_absolute() or ".." in relative.parts:
            continue  # reached through a link from outside the project: not the project's
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(relative.as_posix())
    return tuple(copied)


def inside(relpath: str) -> str:
    """`relpath` when it names a place inside a copy (never an absolute path or `..`,
    which joined to the copy would name a real file); ValueError otherwise."""
    parts = Path(relpath)
    if parts.is_absolute() or ".." in parts.parts:
        raise ValueError(f"{relpath} is outside the project")
    return relpath


@contextmanager
def project_copy(
    settings: ScanSettings, written: Mapping[str, bytes]
) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """A temporary copy of the project (same directory name: imports resolve as in the
    real tree) with `written` (relative path -> bytes) in place; yields the copy's root
    and the relative paths it holds. Raises OSError or ValueError when it cannot be made."""
    root = settings.project_root.resolve()
    for relpath in written:
        inside(relpath)
    with tempfile.TemporaryDirectory(prefix="verifyfull-fix-") as tmp:
        copy = Path(tmp) / root.name
        copied = copy_scanned(settings, copy)
        for relpath, data in written.items():
            (copy / relpath).parent.mkdir(parents=True, exist_ok=True)
            (copy / relpath).write_bytes(data)
        yield copy, tuple(sorted({*copied, *written}))
