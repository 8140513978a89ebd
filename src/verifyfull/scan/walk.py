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
import re
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

    return pathspec.GitIgnoreSpec.from_lines([_inside_only(line) for line in lines])


def _inside_only(line: str) -> str:
    """`dir/**` as git reads it: everything inside dir, not dir itself (so `!keep.py`
    can re-include dir/keep.py). pathspec also matches `dir/` with it, which pruned the
    whole directory; `dir/**/*` is git's meaning in pathspec's terms."""
    body = line.rstrip()
    return body + "/*" if body.endswith("/**") and not body.endswith("\\/**") else line


# Directory names skipped by default: VCS data, caches, dependency trees, build output.
# The build-output names (OUTPUT_DIRS) are skipped only when nothing says the project
# keeps its own files there (`_keeps_source`).
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


# Names a build writes its output under. Such a directory is the project's own when git
# tracks a file in it (nobody commits build output: zorik19/bankProject keeps its
# Dockerfile, compose files and scripts in `build/`) or when it is a Python package
# (`__init__.py`: pip's `operations/build/`); otherwise it is skipped as output.
OUTPUT_DIRS = frozenset({"build", "dist"})
# What build tools write directly inside such a directory, skipped even in one the
# project keeps: setuptools' `build/lib`, `build/lib.<platform>`, `build/bdist.<platform>`,
# `build/temp.<platform>`, `build/scripts-<version>` (copies of the tree's own files).
_OUTPUT_SHAPES = re.compile(r"lib|(?:lib|bdist|temp)\..+|scripts-.+")

GIT_TIMEOUT = 20.0
# What scan and fix say (on stderr) when the walk handed no file to any check.
NOTHING_EXAMINED = (
    "no file was examined: nothing under the paths is code or config a check reads, "
    "or it is all excluded or git-ignored and untracked; check the paths, the exclude "
    "list, or set respect-gitignore = false in [tool.verifyfull]"
)


class _Tracked:
    """What git calls the tree under one walked directory: the files it tracks and the
    untracked files no ignore rule hides (`git ls-files --cached --others
    --exclude-standard`), absolute and "/"-separated in the walk's own spelling, with
    every directory above them; read once on first use. Outside a work tree (or
    without git) `known` is False and the walk reads .gitignore itself (pathspec,
    which differs from git where a negation meets a directory rule)."""

    def __init__(self, top: Path, *, untracked: bool) -> None:
        self.top = top
        self.untracked = untracked  # list the untracked files git keeps too
        self._files: frozenset[str] | None = None
        self._dirs: frozenset[str] = frozenset()
        self._whole: tuple[str, ...] = ()  # untracked repositories inside: all of them
        self.known = False
        self._committed: frozenset[str] | None = None  # directories holding a tracked file

    def _load(self) -> frozenset[str]:
        if self._files is None:
            if self.untracked and git_ignores_dir(self.top):
                # The walked directory is itself ignored (a tree extracted into another
                # repository's ignored folder): git keeps nothing untracked in it, and
                # the user named it, so only its own .gitignore files apply.
                self.untracked = False
            listed = _git_tracked(self.top, untracked=self.untracked)
            self.known = listed is not None
            names = listed or ()
            prefix = self.top.as_posix().rstrip("/") + "/"
            self._files = frozenset(prefix + name for name in names if not name.endswith("/"))
            self._whole = tuple(prefix + name for name in names if name.endswith("/"))
            dirs: set[str] = set()
            for name in names:
                parts = name.rstrip("/").split("/")[:-1]
                for end in range(1, len(parts) + 1):
                    dirs.add(prefix + "/".join(parts[:end]))
            self._dirs = frozenset(dirs | {w.rstrip("/") for w in self._whole})
        return self._files

    def holds(self, path: str, is_dir: bool) -> bool:
        """Whether git keeps this file, or some file under this directory."""
        files = self._load()
        if self._whole and any(path.startswith(w) or path + "/" == w for w in self._whole):
            return True
        return path in self._dirs if is_dir else path in files

    def commits_under(self, path: str) -> bool:
        """Whether git tracks a file under the directory `path` (its index, not the
        untracked files it keeps); False without git or outside a work tree."""
        if self._committed is None:
            listed = _git_tracked(self.top, untracked=False) or ()
            prefix = self.top.as_posix().rstrip("/") + "/"
            dirs: set[str] = set()
            for name in listed:
                parts = name.split("/")[:-1]
                for end in range(1, len(parts) + 1):
                    dirs.add(prefix + "/".join(parts[:end]))
            self._committed = frozenset(dirs)
        return path in self._committed

    def decides(self) -> bool:
        """Whether git's own view is known here (a work tree, git on PATH)."""
        self._load()
        return self.known and self.untracked


def _git(top: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    """git with `args` in `top`: an argument list and a timeout; fsmonitor hooks are
    switched off (they are commands the scanned repository could name), and a checkout
    owned by another user (CI containers) is still read. None without git."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        return subprocess.run(  # noqa: S603 - git from PATH, fixed arguments
            [git, "-c", "core.fsmonitor=false", "-c", "safe.directory=*", "-C", str(top), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def git_ignores_dir(top: Path) -> bool:
    """Whether git ignores the directory `top` itself (`check-ignore` exits 0)."""
    done = _git(top, "check-ignore", "-q", ".")
    return done is not None and done.returncode == 0


def _git_tracked(top: Path, *, untracked: bool = False) -> tuple[str, ...] | None:
    """`git ls-files` under `top` (paths relative to it), with `untracked` also the
    untracked files no ignore rule hides (an untracked repository inside is listed as
    `dir/`); None without git or a work tree."""
    others = ["--others", "--exclude-standard"] if untracked else []
    listed = _git(top, "ls-files", "-z", "--cached", *others)
    if listed is None or listed.returncode != 0:
        return None
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

    def _git_ignores(
        self, ignores: Sequence[_Ignore], tracked: _Tracked, path: str, is_dir: bool
    ) -> bool:
        """Whether the walk leaves path out as git would: git's own answer in a work
        tree, else the .gitignore files read here (a tracked file is never left out)."""
        if not self.respect_gitignore or not ignores:
            return False  # no .gitignore in effect: nothing to ask git (a subprocess)
        if tracked.decides():
            return not tracked.holds(path, is_dir)
        return self._ignored(ignores, path, is_dir) and not tracked.holds(path, is_dir)

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
        named_though_ignored = self._ignored(inherited, top.as_posix(), is_dir=True)
        if named_though_ignored:
            inherited = []  # named explicitly: the user wants it, ignored or not
        # git's view of what it keeps decides, except in a directory git ignores that
        # the user named: there every file is walked.
        untracked = self.respect_gitignore and not named_though_ignored
        yield from self._walk_entries(
            top,
            relpath_of(top, self.root),
            inherited,
            seen,
            wanted,
            _Tracked(top, untracked=untracked),
            top_level=True,
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
        output: bool = False,
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
            # `ignores and`: _git_ignores says no without one, and the posix path it
            # would be given is not built (that path per file, and a Path per directory
            # below, were a sixth of the walk's CPU on a tree without a .gitignore).
            if self._excluded(prefix + entry.name, False) or (
                ignores and self._git_ignores(ignores, tracked, path.as_posix(), False)
            ):
                continue
            checked = self._checked_file(path, prefix + entry.name, entry)
            if checked is not None:
                yield checked
        for entry in subdirectories:
            name = entry.name
            if name.endswith(".egg-info") or entry.is_symlink():
                continue
            if output and _OUTPUT_SHAPES.fullmatch(name):
                continue  # setuptools' copies inside a build directory the project keeps
            kept = name in OUTPUT_DIRS and _keeps_source(entry, tracked)
            if name in DEFAULT_SKIP_DIRS and not kept:
                continue
            # The directory stays a string (os.scandir takes one): a Path per directory
            # was a tenth of the walk.
            if self._excluded(prefix + name, True):
                continue
            if ignores and self._git_ignores(ignores, tracked, Path(entry.path).as_posix(), True):
                continue
            yield from self._walk_entries(
                entry.path, prefix + name, ignores, seen, wanted, tracked, output=kept
            )


def _keeps_source(entry: os.DirEntry[str], tracked: _Tracked) -> bool:
    """Whether a directory under a build-output name (OUTPUT_DIRS) holds the project's own
    files: it is a Python package, or git tracks a file in it."""
    if os.path.isfile(os.path.join(entry.path, "__init__.py")):
        return True
    return tracked.commits_under(Path(entry.path).as_posix())


def gitignored(root: Path, path: Path) -> bool:
    """Whether the .gitignore files from the project root down to path's directory
    ignore path (which need not exist): a file the project keeps out of version control
    on purpose (`*.pem`), so its absence from a checkout says nothing of where it runs.
    As in git, a file under an ignored directory is ignored whatever a later `!` says."""
    walker = Walker(root)
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    ignores: list[_Ignore] = []
    here = root
    for index, part in enumerate(parts):
        own = walker._gitignore(here)
        if own is not None:
            ignores.append(own)
        here = here / part
        if Walker._ignored(ignores, here.as_posix(), index < len(parts) - 1):
            return True
    return False
