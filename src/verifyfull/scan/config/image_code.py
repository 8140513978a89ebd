"""Whether a Dockerfile's image runs the project's own Python code (session 12).

    COPY . /app
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
    ENV POSTGRES_HOST=db POSTGRES_USER=app ...

The final stage's ENTRYPOINT / CMD starts a Python program of the tree (`python -m
pkg`, `python manage.py`, `python app/main.py`, an ASGI/WSGI server or worker given
`pkg.module:app`, `-A pkg`): what connects is the project's code, whose connection
sites the Python side judges (a literal URL where it is written, VF108 where its value
comes from the environment or code outside the tree). Components in that image's
environment that no `.py` reads (project_vars.code_reads) reach no connection of its
own, so they are not judged as a connection of a service outside the tree
(mugubr/FastAPI-Postgres-ormar-Docker: `ENV POSTGRES_*` beside `uvicorn app.main:app`,
whose URL is a literal in app/db.py).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from pathlib import Path

_INSTRUCTION = re.compile(r"^\s*(?P<op>[A-Za-z]+)\s+(?P<args>.*)$", re.DOTALL)
_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
# Servers and workers that import the module given as their first positional argument.
_SERVERS = frozenset(
    {"uvicorn", "gunicorn", "hypercorn", "daphne", "granian", "waitress-serve", "celery"}
)
_RUNNERS = frozenset({"exec", "poetry", "pipenv", "uv", "run", "pdm", "hatch", "-m"})
_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash"})


def runs_project_code(
    instructions: Iterable[tuple[int, str]], context: Path, root: Path
) -> str | None:
    """The module or file of the tree (the Dockerfile's directory `context`, or the
    project root) that the final stage's ENTRYPOINT/CMD runs, else None. instructions:
    dockerfile.raw_instructions of the file."""
    entrypoint: list[str] = []
    cmd: list[str] = []
    for _, written in instructions:
        match = _INSTRUCTION.match(written)
        if match is None:
            continue
        op = match.group("op").upper()
        if op == "FROM":  # a new stage: only the last one's is the image's
            entrypoint, cmd = [], []
        elif op == "ENTRYPOINT":
            entrypoint = _words(match.group("args"))
        elif op == "CMD":
            cmd = _words(match.group("args"))
    target = _target([*entrypoint, *cmd])  # Docker runs ENTRYPOINT with CMD as arguments
    if target is None:
        return None
    for base in (context, root):
        if _in_tree(base, target):
            return target
    return None


def _words(args: str) -> list[str]:
    stripped = " ".join(part.rstrip().removesuffix("\\") for part in args.split("\n")).strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            return []
        words = [w for w in parsed if isinstance(w, str)] if isinstance(parsed, list) else []
    else:
        try:
            words = shlex.split(stripped)
        except ValueError:
            return []
    if len(words) >= 3 and words[0] in _SHELLS and words[1].startswith("-"):
        return _words(words[2])  # sh -c "…": the script's first command
    return words


def _target(argv: list[str]) -> str | None:
    words = [w for w in argv if w not in _RUNNERS]
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    if _PYTHON.match(program):
        if "-m" in argv:
            index = argv.index("-m")
            return argv[index + 1] if index + 1 < len(argv) else None
        return next((w for w in rest if not w.startswith("-")), None)
    if program in _SERVERS:
        if "-A" in rest or "--app" in rest:
            flag = "-A" if "-A" in rest else "--app"
            index = rest.index(flag)
            return rest[index + 1] if index + 1 < len(rest) else None
        return next((w for w in rest if not w.startswith("-") and w not in ("worker",)), None)
    return None


def _in_tree(base: Path, target: str) -> bool:
    """A module (`app.main:app`, `pkg`) or a file (`manage.py`, `/app/main.py` after
    `COPY . /app`: any tail of its path) of the tree."""
    name = target.split(":", 1)[0].strip()
    if not name or name[0] in "$~{":
        return False
    try:
        if name.endswith(".py"):
            parts = [p for p in name.split("/") if p not in ("", ".")]
            return any((base.joinpath(*parts[i:])).is_file() for i in range(len(parts)))
        first = name.split(".", 1)[0]
        return bool(first) and ((base / first).is_dir() or (base / f"{first}.py").is_file())
    except (OSError, ValueError):
        return False
