"""Find the files to scan: .gitignore-aware, skipping tool and dependency directories.

Directory symlinks are never followed (no loops, no scanning outside the tree);
file symlinks are followed only to regular files. Paths named explicitly on
the command line are always walked, even when a default skip would hide them.

.gitignore rules apply to untracked files only, as in git and Semgrep: a file
git tracks is always walked, whatever .gitignore says (a `.gitignore` of `*`
with force-added files must not empty a CI gate). The tracked set comes from
`git ls-files`, asked only when an ignore rule first hides something; without
git, or outside a work tree, every ignore rule applies.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec


def _gitignore_spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    # Imported on the first .gitignore or exclude: a fiftieth of a second of start-up
    # that a tree without either never needs.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


# Directory names skipped by default: VCS data, caches, dependency trees, build output.
DEFAULT_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "build",
        "dist",
        ".eggs",
        "site-packages",
    }
)


GIT_TIMEOUT = 20.0
# What scan and fix say (on stderr) when the walk handed no file to any check.
NOTHING_EXAMINED = (
    "no file was examined: nothing under the paths is code or config a check reads, "
    "or it is all excluded or git-ignored and untracked; check the paths, the exclude "
    "list, or set respect-gitignore = false in [tool.verifyfull]"
)


class _Tracked:
    """The files git tracks under one walked directory (absolute, "/"-separated, in the
    walk's own spelling) and every directory above them, read once on first use."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self._files: frozenset[str] | None = None
        self._dirs: frozenset[str] = frozenset()

    def _load(self) -> frozenset[str]:
        if self._files is None:
            names = _git_tracked(self.top)
            prefix = self.top.as_posix().rstrip("/") + "/"
            self._files = frozenset(prefix + name for name in names)
            dirs: set[str] = set()
            for name in names:
                parts = name.split("/")[:-1]
                for end in range(1, len(parts) + 1):
                    dirs.add(prefix + "/".join(parts[:end]))
            self._dirs = frozenset(dirs)
        return self._files

    def holds(self, path: str, is_dir: bool) -> bool:
        """Whether git tracks this file, or some file under this directory."""
        files = self._load()
        return path in self._dirs if is_dir else path in files


def _git_tracked(top: Path) -> tuple[str, ...]:
    """`git ls-files` under `top` (paths relative to it); empty without git or a work
    tree. Run with an argument list and a timeout; fsmonitor hooks are switched off
    (they are commands the scanned repository could name), and a checkout owned by
    another user (CI containers) is still read."""
    git = shutil.which("git")
    if git is None:
        return ()
    try:
        listed = subprocess.run(  # noqa: S603 - git from PATH, fixed arguments
            [
                git,
                "-c",
                "core.fsmonitor=false",
                "-c",
                "safe.directory=*",
                "-C",
                str(top),
                "ls-files",
                "-z",
                "--cached",
            ],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if listed.returncode != 0:
        return ()
    return tuple(os.fsdecode(name) for name in listed.stdout.split(b"\0") if name)


@dataclass(frozen=True)
class WalkedFile:
    path: Path  # absolute
    relpath: str  # posix, relative to the project root when under it
    size: int = -1  # bytes when walked (-1: not known)


@dataclass(frozen=True)
class Skipped:
    """A path that looked like a candidate but cannot be read as a file."""

    relpath: str
    reason: str


@dataclass(frozen=True)
class _Ignore:
    base: Path
    spec: pathspec.GitIgnoreSpec

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        """path: absolute, with "/" separators (the walk's own spelling)."""
        prefix = self.base.as_posix().rstrip("/") + "/"
        if not path.startswith(prefix):
            return None
        rel = path[len(prefix) :]
        result = self.spec.check_file(rel + "/" if is_dir else rel)
        return result.include


def relpath_of(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


class Walker:
    """Yields candidate files under the given paths, in a stable order."""

    def __init__(
        self,
        root: Path,
        *,
        exclude: Sequence[str] = (),
        respect_gitignore: bool = True,
    ) -> None:
        self.root = root
        self.exclude = _gitignore_spec(exclude) if exclude else None
        self.respect_gitignore = respect_gitignore
        self.skipped: list[Skipped] = []

    def _excluded(self, rel: str, is_dir: bool) -> bool:
        """rel: relpath_of the path (relative to the project root when under it)."""
        if self.exclude is None:
            return False
        return self.exclude.match_file(rel + "/" if is_dir else rel)

    def _gitignore(self, directory: Path) -> _Ignore | None:
        if not self.respect_gitignore:
            return None
        candidate = directory / ".gitignore"
        try:
            lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None
        return _Ignore(directory, _gitignore_spec(lines))

    def _inherited_ignores(self, start: Path) -> list[_Ignore]:
        """The .gitignore files between the project root and a walked directory."""
        chain: list[_Ignore] = []
        if not self.respect_gitignore:
            return chain
        try:
            parts = start.relative_to(self.root).parts
        except ValueError:
            parts = ()
            directories = [start]
        else:
            directories = [self.root]
            for part in parts:
                directories.append(directories[-1] / part)
            directories.pop()  # `start` itself is read by the walk
        for directory in directories:
            ignore = self._gitignore(directory)
            if ignore is not None:
                chain.append(ignore)
        return chain

    @staticmethod
    def _ignored(ignores: Sequence[_Ignore], path: str, is_dir: bool) -> bool:
        # The deepest .gitignore with an opinion wins, as in git.
        for ignore in reversed(ignores):
            verdict = ignore.verdict(path, is_dir)
            if verdict is not None:
                return verdict
        return False

    def walk(
        self, paths: Sequence[Path], wanted: Callable[[str], bool] | None = None
    ) -> Iterator[WalkedFile]:
        """The files under `paths`; with `wanted`, only those whose base name it accepts
        (the others are not even stat'ed: most files of a large tree are not wanted)."""
        seen: set[Path] = set()
        for given in paths:
            path = given if given.is_absolute() else Path.cwd() / given
            path = Path(os.path.normpath(path))
            if path.is_dir() and not path.is_symlink():
                yield from self._walk_dir(path, seen, wanted)
            elif path in seen:
                continue
            else:
                seen.add(path)
                if not self._excluded(relpath_of(path, self.root), is_dir=False):
                    checked = self._checked_file(path)
                    if checked is not None:
                        yield checked

    def _checked_file(
        self, path: Path, relpath: str | None = None, entry: os.DirEntry[str] | None = None
    ) -> WalkedFile | None:
        if relpath is None:
            relpath = relpath_of(path, self.root)
        try:
            # Follows a symlink; loops raise ELOOP. A directory entry's stat is the same
            # call without building the path again.
            info = entry.stat() if entry is not None else path.stat()
        except OSError as exc:
            reason = "broken symbolic link" if path.is_symlink() else exc.strerror or str(exc)
            self.skipped.append(Skipped(relpath, reason))
            return None
        if not stat.S_ISREG(info.st_mode):
            # FIFOs, sockets, devices: reading them could block forever.
            self.skipped.append(Skipped(relpath, "not a regular file"))
            return None
        return WalkedFile(path, relpath, info.st_size)

    def _walk_dir(
        self, top: Path, seen: set[Path], wanted: Callable[[str], bool] | None
    ) -> Iterator[WalkedFile]:
        inherited = self._inherited_ignores(top)
        if self._ignored(inherited, top.as_posix(), is_dir=True):
            inherited = []  # named explicitly: the user wants it, ignored or not
        yield from self._walk_entries(
            top, relpath_of(top, self.root), inherited, seen, wanted, _Tracked(top), top_level=True
        )

    def _walk_entries(
        self,
        directory: str | Path,
        rel: str,
        ignores: list[_Ignore],
        seen: set[Path],
        wanted: Callable[[str], bool] | None,
        tracked: _Tracked,
        *,
        top_level: bool = False,
    ) -> Iterator[WalkedFile]:
        """One directory's files (sorted), then its subdirectories', depth first: the
        order os.walk gave. os.scandir's entries carry the file type, so only wanted
        files are stat'ed (a third of the walk's time went to per-path calls)."""
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return  # unreadable or vanished: as os.walk, nothing to walk
        names = {entry.name: entry for entry in entries}
        marker = names.get("pyvenv.cfg")
        if not top_level and marker is not None and _is_file(marker):
            return  # a virtualenv under any name (PEP 405); a named one is walked
        if ".gitignore" in names:
            own = self._gitignore(Path(directory))
            if own is not None:
                ignores = [*ignores, own]
        prefix = "" if rel in ("", ".") else rel + "/"
        subdirectories: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows a symlink, as os.walk sorts entries
            except OSError:
                is_dir = False
            if is_dir:
                subdirectories.append(entry)
                continue
            if wanted is not None and not wanted(entry.name):
                continue
            path = Path(entry.path)
            if path in seen:
                continue
            seen.add(path)
            if self._excluded(prefix + entry.name, False) or (
                ignores
                and self._ignored(ignores, path.as_posix(), False)
                and not tracked.holds(path.as_posix(), False)
            ):
                continue
            checked = self._checked_file(path, prefix + entry.name, entry)
            if checked is not None:
                yield checked
        for entry in subdirectories:
            name = entry.name
            if name in DEFAULT_SKIP_DIRS or name.endswith(".egg-info") or entry.is_symlink():
                continue
            # The directory stays a string (os.scandir takes one): a Path per directory
            # was a tenth of the walk.
            if self._excluded(prefix + name, True):
                continue
            if ignores:
                where = Path(entry.path).as_posix()
                if self._ignored(ignores, where, True) and not tracked.holds(where, True):
                    continue
            yield from self._walk_entries(entry.path, prefix + name, ignores, seen, wanted, tracked)
