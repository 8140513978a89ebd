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

A connection URL such a sub-project reads is read by its driver (`url_reader`,
session 14): a JavaScript sub-project's by Prisma when its package.json depends on
Prisma without the pg adapter, else by node-postgres when it depends on pg or a
library built on it (its major version from the dependency's range: pg 9 reads
sslmode as libpq does); other ecosystems' drivers read URLs as libpq does. A
JavaScript sub-project whose driver the manifest does not name keeps libpq's
reading, and the message says so.

Bounded: at most 2,000 directory entries are looked at per directory, once per
directory and process; past the bound the directory counts as holding Python (judged).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

from verifyfull.conninfo.foreign_drivers import (
    DEFAULTS,
    LIBPQ_LIKE,
    NODE_POSTGRES,
    PRISMA,
    DriverDefault,
    UrlReader,
)
from verifyfull.scan import project_vars
from verifyfull.scan.api import SourceFile

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


MAX_MANIFEST_BYTES = 1_000_000
# Libraries that hand a connection string to node-postgres (pg-connection-string).
_ON_PG = ("pg", "knex", "typeorm", "pg-promise", "slonik", "@prisma/adapter-pg", "kysely")
_MAJOR = re.compile(r"(\d+)")


def shown(directory: Path, src: SourceFile) -> str:
    """A sub-project's directory as the report shows it: from the scan root."""
    try:
        relative = directory.resolve().relative_to(project_vars.root_of(src).resolve())
    except (OSError, ValueError):
        return directory.name or str(directory)
    return relative.as_posix() if relative.parts else "."


def url_reader(directory: Path | None, src: SourceFile) -> UrlReader | None:
    """The driver that reads a connection URL in the sub-project at directory (the
    code that reads src's settings), when it is another ecosystem's (None: Python's
    drivers or a reader outside the tree, judged as written)."""
    ecosystem = other_ecosystem(directory) if directory is not None else None
    if directory is None or ecosystem is None:
        return None
    where = f"the {ecosystem} sub-project {shown(directory, src)}"
    if not ecosystem.startswith("JavaScript"):
        default = driver_default(ecosystem)
        driver = default.driver if default is not None else ecosystem
        return UrlReader(LIBPQ_LIKE, f"{driver}, which reads a URL as libpq does", where)
    deps = _dependencies(str(directory.resolve()))
    if ("@prisma/client" in deps or "prisma" in deps) and "@prisma/adapter-pg" not in deps:
        return UrlReader(PRISMA, "Prisma", where)
    on_pg = next((name for name in _ON_PG if name in deps), None)
    if on_pg is None:
        return UrlReader(
            LIBPQ_LIKE, "a driver its package.json does not name (read here as libpq)", where
        )
    major = _MAJOR.search(deps.get("pg", ""))
    if major is not None and int(major.group(1)) >= 9:
        return UrlReader(LIBPQ_LIKE, f"node-postgres {major.group(1)}, libpq's sslmode", where)
    through = "" if on_pg == "pg" else f" (through {on_pg})"
    return UrlReader(NODE_POSTGRES, f"node-postgres 8{through}", where)


@lru_cache(maxsize=256)
def _dependencies(directory: str) -> dict[str, str]:
    """The package.json dependencies at directory (name -> version range), bounded."""
    path = os.path.join(directory, "package.json")
    try:
        if os.path.getsize(path) > MAX_MANIFEST_BYTES:
            return {}
        with open(path, encoding="utf-8", errors="replace") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return {}
    found: dict[str, str] = {}
    if not isinstance(manifest, dict):
        return found
    for key in ("dependencies", "devDependencies", "peerDependencies"):
        section = manifest.get(key)
        if isinstance(section, dict):
            found.update({k: v for k, v in section.items() if isinstance(v, str)})
    return found
