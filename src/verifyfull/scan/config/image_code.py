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

The commands are the ones the shell reader gives (dockerfile.start_commands: the
exec form's argv and its `sh -c` script, the shell form read as shell): this
module only reads their words. A command is followed past wrappers and leading
assignments (`exec`, `env X=1`, shell/argv.run_program_at), project runners
(`poetry run`, `uv run`, `pipenv run`, `pdm run`, `hatch run`), `python -m SERVER`,
and a server's options, the ones that take a value included (`gunicorn -w 2 -b :80
app:app`); in a chain (`sh -c "alembic upgrade head && exec uvicorn app:app"`) the
last command that runs a module of the tree decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from verifyfull.scan.config.model import Command
from verifyfull.scan.shell.argv import program, run_program_at

_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
# Servers and workers that import the module given as their first positional argument
# (celery: only the one given by -A/--app; its positionals are sub-commands).
_SERVERS = frozenset(
    {"uvicorn", "gunicorn", "hypercorn", "daphne", "granian", "waitress-serve", "celery"}
)
# Project runners whose `run` sub-command runs the rest as a command.
_RUNNERS = frozenset({"poetry", "pipenv", "uv", "pdm", "hatch", "rye"})
# Options that take the next word as their value: the servers' (gunicorn, uvicorn,
# hypercorn, daphne, granian, waitress-serve, celery), the runners' `run` options and
# python's (three sets: `-u` is gunicorn's user but python's unbuffered flag).
_SERVER_VALUE = frozenset(
    {
        # gunicorn / hypercorn
        *("-b", "--bind", "-w", "--workers", "-k", "--worker-class", "-t", "--timeout"),
        *("-c", "--config", "-n", "--name", "--threads", "--log-level", "--chdir"),
        *("--access-logfile", "--error-logfile", "--log-file", "--log-config"),
        *("-e", "--env", "--pythonpath", "-u", "--user", "-g", "--group", "-p", "--pid"),
        *("--max-requests", "--max-requests-jitter", "--graceful-timeout", "--keep-alive"),
        *("--worker-connections", "--forwarded-allow-ips", "--certfile", "--keyfile"),
        *("--access-logformat", "--statsd-host", "--umask", "--worker-tmp-dir"),
        *("--limit-request-line", "--limit-request-fields", "--backlog", "--root-path"),
        # uvicorn
        *("--host", "--port", "--uds", "--fd", "--loop", "--http", "--ws", "--lifespan"),
        *("--env-file", "--app-dir", "--reload-dir", "--reload-include", "--reload-exclude"),
        *("--reload-delay", "--timeout-keep-alive", "--limit-concurrency", "--interface"),
        *("--ssl-keyfile", "--ssl-certfile", "--ssl-ca-certs", "--header", "--ws-max-size"),
        *("--limit-max-requests", "--timeout-graceful-shutdown", "--h11-max-incomplete-event-size"),
        # daphne / granian / waitress-serve
        *("-v", "--verbosity", "--access-log", "--unix-socket", "--endpoint", "--listen"),
        *("--blocking-threads", "--runtime-threads", "--url-prefix", "--ident"),
        # celery
        *("-l", "--loglevel", "-Q", "--queues", "--concurrency", "--pool", "-P"),
    }
)
_RUNNER_VALUE = frozenset(  # uv / poetry / pdm / hatch run
    {"--with", "--python", "-p", "--directory", "--project", "--package", "--extra"}
    | {"--group", "--with-requirements", "--env-file", "-C", "-P", "-e", "--env"}
)
_PYTHON_VALUE = frozenset({"-W", "-X"})
# `pkg.module:attr` or `pkg.module:factory()`: what an ASGI/WSGI server imports.
_APP_SHAPE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\(.*\))?$")


def runs_project_code(start: Sequence[Command], context: Path, root: Path) -> str | None:
    """The module or file of the tree (the Dockerfile's directory `context`, or the
    project root) that the image's start commands run (the last that runs one), else
    None. start: dockerfile.start_commands of the file."""
    for command in reversed(start):
        for target in _targets([w.text for w in command.words]):
            if any(_in_tree(base, target) for base in (context, root)):
                return target
    return None


def _targets(argv: Sequence[str]) -> list[str]:
    """What the command line would import or run, most likely first."""
    at = run_program_at(argv)
    while at is not None and at < len(argv):
        name, rest = program(argv[at]), argv[at + 1 :]
        if name in _RUNNERS and rest[:1] == ["run"]:
            at = _past_options(argv, at + 2, _RUNNER_VALUE)
        elif _PYTHON.match(name):
            return _python_targets(rest)
        elif name in _SERVERS:
            return _server_targets(name, rest)
        else:
            return []
    return []


def _past_options(argv: Sequence[str], index: int, values: frozenset[str]) -> int | None:
    """Index of the first word at or after index that is no option nor option value."""
    while index < len(argv):
        word = argv[index]
        if word == "--":
            return index + 1
        if not word.startswith("-"):
            return index
        index += 2 if word in values else 1
    return None


def _python_targets(rest: Sequence[str]) -> list[str]:
    index = 0
    while index < len(rest):
        word = rest[index]
        if word == "-m":
            module = rest[index + 1] if index + 1 < len(rest) else ""
            if module in _SERVERS:
                return _server_targets(module, rest[index + 2 :])
            return [module] if module else []
        if word == "-c" or word.startswith("-c"):
            return []  # a program written inline
        if word.startswith("-m"):
            return [word[2:]]
        if not word.startswith("-"):
            return [word]  # the script file
        index += 2 if word in _PYTHON_VALUE else 1
    return []


def _server_targets(name: str, rest: Sequence[str]) -> list[str]:
    positional: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in ("-A", "--app"):
            return [rest[index + 1]] if index + 1 < len(rest) else []
        if word.startswith("--app="):
            return [word.removeprefix("--app=")]
        if word.startswith("-A") and len(word) > 2:
            return [word[2:]]
        if word.startswith("-"):
            index += 2 if word in _SERVER_VALUE else 1
            continue
        positional.append(word)
        index += 1
    if name == "celery":
        return []
    return positional[:1] + [w for w in positional[1:] if _APP_SHAPE.match(w)]


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
