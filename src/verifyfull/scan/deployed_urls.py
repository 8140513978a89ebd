"""The environment variables the project's own deployment files set to a PostgreSQL URL.

A connection setting the code reads from the environment with no PostgreSQL value of
its own (Celery's `result_backend = os.environ.get("CELERY_RESULT_BACKEND")`, a Flask
`os.getenv("SQLALCHEMY_DATABASE_URI", "sqlite:///db.sqlite")`) is a PostgreSQL
connection exactly when the deployment gives the variable a PostgreSQL URL. The tree
often says so: a compose `environment:` entry, an env file line, a Dockerfile `ENV`, a
Kubernetes or ECS `name:`/`value:` pair, a Terraform map. Then the code's site is
decided at deploy (VF108), where before it was no site (held-out-s15
CSSE6400/2025-p7-callumreillyy: compose and ecs.tf set both variables to
`postgresql://` / `db+postgresql://` URLs). Without such a line the setting stays
what its code says (another backend, or no site): a Redis result backend from the
environment is not made a database connection by guess.

Read from the text, no parsing: two bounded patterns (`NAME: postgresql://…`,
`NAME=db+postgresql://…`, and `name: NAME` followed by `value: postgresql://…`) over
the files a deployment is written in. Built once per scan root and process, by a walk
of the tree (the walk's default skip directories and dot-directories skipped), at most
MAX_FILES files of at most MAX_FILE_BYTES each.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from verifyfull.scan.walk import DEFAULT_SKIP_DIRS

MAX_FILES = 2_000
MAX_FILE_BYTES = 256_000

# Files a deployment's environment is written in (by suffix, or by name).
_SUFFIXES = (".yml", ".yaml", ".tf", ".tfvars", ".json", ".toml", ".env", ".tpl", ".sh")
_NAME = re.compile(r"^(?:\.env(?:[._-].*)?|.*\.env(?:\..+)?|Dockerfile.*|.*\.Dockerfile)$")
# A PostgreSQL-family URL scheme, with Celery's `db+` and a SQLAlchemy driver suffix.
_SCHEME = r"(?:db\+)?(?:postgres(?:ql)?|cockroachdb|pgsql|postgis)(?:\+[A-Za-z0-9_]{1,20})?://"
# `NAME: postgresql://…`, `NAME=…`, `"NAME": "…"`, `- NAME=…`, `ENV NAME=…`
_ASSIGNED = re.compile(
    r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]{0,100})[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?" + _SCHEME
)
# `name: NAME` / `"name": "NAME",` then `value: …` (Kubernetes env, ECS task definitions)
_NAME_VALUE = re.compile(
    r"[\"']?name[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?([A-Za-z_][A-Za-z0-9_]{0,100})[\"']?"
    r"[ \t]{0,8},?\s{0,40}[\"']?value[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?" + _SCHEME
)

# keys of the name/value shapes, not variables (`"value": "postgresql://…"`)
_NOT_NAMES = frozenset({"VALUE", "DEFAULT", "URL", "NAME"})


@dataclass(frozen=True)
class DeployedUrl:
    """Where the tree sets a variable to a PostgreSQL URL (the first such line)."""

    variable: str
    path: str  # relative to the root
    line: int
    celery_database: bool = False  # a `db+postgresql://` URL: Celery's database backend

    @property
    def why(self) -> str:
        return f"{self.path}:{self.line} sets it to a PostgreSQL URL"


def _wanted(name: str) -> bool:
    return name.endswith(_SUFFIXES) or _NAME.match(name) is not None


@lru_cache(maxsize=8)
def _index(root: Path) -> dict[str, DeployedUrl]:
    found: dict[str, DeployedUrl] = {}
    read = 0
    for directory, dirs, names in os.walk(str(root)):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if not _wanted(name):
                continue
            if read >= MAX_FILES:
                return found
            read += 1
            path = os.path.join(directory, name)
            try:
                if os.path.getsize(path) > MAX_FILE_BYTES:
                    continue
                with open(path, "rb") as handle:
                    text = handle.read(MAX_FILE_BYTES).decode("utf-8", errors="replace")
            except OSError:
                continue
            relpath = os.path.relpath(path, str(root)).replace(os.sep, "/")
            for pattern in (_ASSIGNED, _NAME_VALUE):
                for match in pattern.finditer(text):
                    variable = match.group(1).upper()
                    if variable in _NOT_NAMES:
                        continue
                    celery = "db+" in match.group(0)[match.end(1) - match.start() :].lower()
                    known = found.get(variable)
                    if known is None or (celery and not known.celery_database):
                        line = text.count("\n", 0, match.start(1)) + 1
                        found[variable] = DeployedUrl(variable, relpath, line, celery)
    return found


def deployed_postgres_url(root: Path, variable: str) -> DeployedUrl | None:
    """Where the project's deployment files set `variable` to a PostgreSQL URL, if they do."""
    return _index(root).get(variable.upper())
