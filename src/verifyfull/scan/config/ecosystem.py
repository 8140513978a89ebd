"""Which ecosystem a consumer of connection settings belongs to (issue 13, class 7).

A compose service built from a directory of the tree (`build: ./svc`), or a Dockerfile
in it, runs that directory's code. When the directory is a sub-project of another
ecosystem (a `pom.xml`, `build.gradle`, `package.json`, `go.mod`, `Cargo.toml`, ...,
and no Python anywhere under it), its database client is that ecosystem's driver (a
JDBC liquibase image, node-postgres, Go's lib/pq). Settings only such a reader could
take for PostgreSQL (a host named `postgres` beside `DATABASE_HOST`) are not judged as
libpq's: opslaba/docker-compose-lib's liquibase service (`SQL_HOST: 'cockroachdb'`,
built from a Maven sub-project) is the case. A group that is PostgreSQL's by its own
names (a PG/POSTGRES family, a backend, the port) is judged with that ecosystem's
driver default (`driver_default`, session 13) and the message names the sub-project and
the driver: the code of that sub-project is not read, so what is judged is the driver
given no TLS option, as libpq's default is for a reader outside the tree.

Bounded: at most 2,000 directory entries are looked at per directory, once per
directory and process; past the bound the directory counts as holding Python (judged).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from verifyfull.conninfo.foreign_drivers import DEFAULTS, DriverDefault

# The manifest that names each ecosystem's project.
MANIFESTS = {
    "pom.xml": "Java (Maven)",
    "build.gradle": "Java (Gradle)",
    "build.gradle.kts": "Java (Gradle)",
    "package.json": "JavaScript (npm)",
    "go.mod": "Go",
    "Cargo.toml": "Rust",
    "Gemfile": "Ruby",
    "composer.json": "PHP",
    "mix.exs": "Elixir",
}


def driver_default(ecosystem: str) -> DriverDefault | None:
    """The driver default (conninfo.foreign_drivers) of an ecosystem named as
    other_ecosystem names it ("Java (Maven)")."""
    return DEFAULTS.get(ecosystem.split(" ", 1)[0])


_PYTHON_FILES = frozenset(
    {"pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "requirements.txt", "manage.py"}
)
MAX_ENTRIES = 2_000
_SKIP = frozenset({".git", "node_modules", "target", "vendor", ".gradle", "build", "dist"})


def other_ecosystem(directory: Path) -> str | None:
    """The ecosystem of the sub-project at directory when it is not Python (its manifest
    there, no Python file under it), else None."""
    try:
        resolved = directory.resolve()
    except OSError:
        return None
    return _other(str(resolved))


@lru_cache(maxsize=256)
def _other(directory: str) -> str | None:
    try:
        names = set(os.listdir(directory))
    except OSError:
        return None
    found = next((MANIFESTS[n] for n in sorted(names) if n in MANIFESTS), None)
    if found is None or _holds_python(directory):
        return None
    return found


def _holds_python(directory: str) -> bool:
    seen = 0
    for here, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in _SKIP and not d.startswith(".")]
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            return True  # past the bound: not shown to be another ecosystem's
        if any(f.endswith(".py") or f in _PYTHON_FILES for f in files):
            return True
        del here
    return False
