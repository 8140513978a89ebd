"""Whether the project installs a server config file (postgresql.conf, pg_hba.conf).

A `pg_hba.conf` in a repository is the server's configuration only if something
puts it where PostgreSQL reads it. In a container project that is a Dockerfile
`COPY`/`ADD`, a compose bind mount (`./pg_hba.conf:/etc/postgresql/pg_hba.conf`,
long `source:` syntax, `configs: file:`), a `-c hba_file=...` / `config_file=`
argument, or a script that copies it. The project index, built once per scanned
root and process when the first server config file is judged, holds:

- the non-comment lines of the project's Dockerfiles, YAML files and shell
  scripts that mention `.conf` (a file named there by its base name is installed:
  a COPY line, a volume, `hba_file=`, a `cp` in an entrypoint script);
- the sources of COPY/ADD (globs and directories, against the Dockerfile's
  directory and each directory above it up to the root, the usual build
  contexts; `.` the whole context is not an install of a config file) and of
  compose bind mounts (relative to the compose file).

A file nothing installs while the project does deploy with containers (it has
a Dockerfile or compose file) is not live: its findings become info notes that
say so. Without any container file the question is open (configuration
management, a server set up by hand) and the findings stay as they are.

Bounded: at most _MAX_DIRS directories, _MAX_FILES files read of at most
_MAX_BYTES each, hidden, vendored and virtualenv directories skipped; an index
that hits a bound is incomplete, and an incomplete index installs everything
(nothing is downgraded on a guess).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from verifyfull.findings import Finding
from verifyfull.rules import Severity
from verifyfull.scan.api import ScanContext, SourceFile

_MAX_DIRS = 5_000
_MAX_FILES = 400
_MAX_BYTES = 1_000_000
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages", "vendor"})
_SHELL_SUFFIXES = (".sh", ".bash", ".yml", ".yaml", ".ps1")
_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(?P<args>.+)$", re.IGNORECASE)
# Compose bind mounts: `- ./src:/dst[:ro]`, `source: ./src`, configs `file: ./src`.
_MOUNT = re.compile(r"""^\s*-?\s*["']?(?P<src>[.~/][^:"'\s]*):/""")
_SOURCE = re.compile(r"""^\s*(?:source|file):\s*["']?(?P<src>[.~/][^"'\s]*)""")


@dataclass
class ProjectIndex:
    containers: bool = False  # a Dockerfile or compose file exists
    complete: bool = True
    text: list[str] = field(default_factory=list)  # non-comment lines naming a .conf
    patterns: list[str] = field(default_factory=list)  # absolute paths or globs installed

    def installs(self, path: Path) -> bool:
        if not self.complete or not self.containers:
            return True
        name = path.name
        if any(name in line for line in self.text):
            return True
        target = os.path.abspath(path)
        for pattern in self.patterns:
            if fnmatch.fnmatchcase(target, pattern) or target.startswith(pattern + os.sep):
                return True
        return False


def _is_dockerfile(name: str) -> bool:
    return (
        name in ("Dockerfile", "Containerfile")
        or name.startswith("Dockerfile.")
        or (name.endswith(".dockerfile"))
    )


def _is_compose(name: str) -> bool:
    return "compose" in name and name.endswith((".yml", ".yaml"))


def _logical_lines(text: str) -> list[str]:
    """Non-comment lines, Dockerfile `\\` continuations joined."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        out.append(pending + raw)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _copy_sources(line: str) -> list[str]:
    match = _COPY.match(line)
    if match is None:
        return []
    args = match.group("args").strip()
    json_form = args.startswith("[")
    words = re.findall(r'"((?:[^"\\]|\\.)*)"', args) if json_form else args.split()
    words = [w for w in words if not w.startswith("--")]
    return [w for w in words[:-1] if w.strip("./") and w not in (".", "./", "*")]


def _contexts(directory: Path, root: Path) -> list[Path]:
    out = [directory]
    current = directory
    while current != root and root in current.parents and len(out) < 12:
        current = current.parent
        out.append(current)
    return out


def _add_file(index: ProjectIndex, path: Path, root: Path) -> None:
    try:
        if path.stat().st_size > _MAX_BYTES:
            index.complete = False
            return
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    dockerfile = _is_dockerfile(path.name)
    for line in _logical_lines(text):
        if ".conf" in line:
            index.text.append(line)
        if dockerfile:
            for source in _copy_sources(line):
                for context in _contexts(path.parent, root):
                    index.patterns.append(os.path.normpath(context / source))
            continue
        for regex in (_MOUNT, _SOURCE):
            mount = regex.match(line)
            if mount is not None and mount.group("src").strip("./"):
                source = os.path.expanduser(mount.group("src"))
                index.patterns.append(os.path.normpath(path.parent / source))


@lru_cache(maxsize=8)
def project_index(root: str) -> ProjectIndex:
    """The install index of the project at `root` (see the module doc)."""
    index = ProjectIndex()
    top = Path(os.path.abspath(root))
    dirs = files = 0
    for current, subdirs, names in os.walk(top):
        dirs += 1
        if dirs > _MAX_DIRS:
            index.complete = False
            break
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in _SKIP_DIRS]
        for name in names:
            dockerfile, compose = _is_dockerfile(name), _is_compose(name)
            index.containers = index.containers or dockerfile or compose
            if not (dockerfile or compose or name.endswith(_SHELL_SUFFIXES)):
                continue
            files += 1
            if files > _MAX_FILES:
                index.complete = False
                return index
            _add_file(index, Path(current) / name, top)
    return index


def installed(path: Path, root: Path) -> bool:
    """Whether a server config file at `path` is put in place by the project."""
    return project_index(str(root)).installs(path)


_NOT_INSTALLED = (
    " (nothing in this project installs this file: no Dockerfile COPY/ADD, compose volume "
    "or script names it, so it is not known to be the server's configuration)"
)


def as_deployed(found: list[Finding], src: SourceFile, ctx: ScanContext) -> list[Finding]:
    """The findings of a server config file, as info notes when nothing installs it."""
    if not found or installed(src.path, ctx.root):
        return found
    return [
        dataclasses.replace(f, message=f.message + _NOT_INSTALLED, severity_override=Severity.INFO)
        for f in found
    ]
