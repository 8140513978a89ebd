"""Session 13 leftovers of issue 13 (docs/scan.md, "Session 13").

- image_code reads the start commands the shell reader gives (dockerfile.start_commands,
  no second parser) and follows servers past their value-taking options, `python -m
  SERVER`, wrappers and runners, and the last command of a `sh -c` chain.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_scan_accuracy_s12 import _SOURCE_SPELLINGS as SCRIPT_SOURCE_FORMS
from test_scan_accuracy_s12 import _SOURCED_LINES as SCRIPT_SOURCED_LINES
from test_scan_accuracy_s12 import bounded, scan_one
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

# --- item 1: the image's start command, read by the shell reader ----------------------
# Per server: options before the target (none; flags; options with a value, spaced and
# `--opt=value`), and how the target is given.
_OPTIONS: dict[str, dict[str, list[str]]] = {
    "uvicorn": {
        "flags": ["--reload", "--proxy-headers"],
        "values": ["--host", "0.0.0.0", "--port", "80", "--workers", "2"],
        "equals": ["--host=0.0.0.0", "--log-level=info"],
    },
    "gunicorn": {
        "flags": ["--preload"],
        "values": ["-w", "2", "-b", ":80", "-k", "uvicorn.workers.UvicornWorker"],
        "equals": ["--bind=0.0.0.0:80", "--workers=4"],
    },
    "hypercorn": {
        "flags": ["--reload"],
        "values": ["--bind", "0.0.0.0:80", "-w", "2"],
        "equals": ["--bind=0.0.0.0:80"],
    },
    "daphne": {
        "flags": ["--proxy-headers"],
        "values": ["-b", "0.0.0.0", "-p", "8000"],
        "equals": ["--port=8000"],
    },
    "granian": {
        "flags": ["--reload"],
        "values": ["--interface", "asgi", "--host", "0.0.0.0"],
        "equals": ["--port=80"],
    },
    "celery": {
        "flags": ["--quiet"],
        "values": ["-l", "info", "--concurrency", "2"],
        "equals": ["--loglevel=info"],
    },
}
_WRAPPERS: dict[str, list[str]] = {
    "none": [],
    "exec": ["exec"],
    "env": ["env", "PORT=80"],
    "poetry": ["poetry", "run"],
    "uv": ["uv", "run", "--with", "httpx"],
    "pipenv": ["pipenv", "run"],
}
_FORMS = ("exec", "shell", "sh-c", "sh-c-chain", "entrypoint-cmd", "shell-chain")


def _server_argv(server: str, via_python: bool, options: str, module: str) -> list[str]:
    head = ["python", "-m", server] if via_python else [server]
    chosen = _OPTIONS[server].get(options, [])
    target = ["-A", module, "worker"] if server == "celery" else [f"{module}.main:app"]
    return [*head, *chosen, *target]


def image_start(argv: list[str], form: str) -> list[str]:
    """Dockerfile lines starting argv in the given form."""
    text = shlex.join(argv)
    chain = f"alembic upgrade head && {text}"
    if form == "exec":
        return [f"CMD {json.dumps(argv)}"]
    if form == "shell":
        return [f"CMD {text}"]
    if form == "shell-chain":
        return [f"CMD {chain}"]
    if form == "sh-c":
        return [f"CMD {json.dumps(['sh', '-c', text])}"]
    if form == "sh-c-chain":
        return [f"CMD {json.dumps(['/bin/bash', '-ec', chain])}"]
    split = next(i for i, w in enumerate(argv) if w.startswith("-") or ":" in w)
    return [f"ENTRYPOINT {json.dumps(argv[:split])}", f"CMD {json.dumps(argv[split:])}"]


@bounded(60)
@given(
    server=st.sampled_from(sorted(_OPTIONS)),
    via_python=st.booleans(),
    options=st.sampled_from(("none", "flags", "values", "equals")),
    wrapper=st.sampled_from(sorted(_WRAPPERS)),
    form=st.sampled_from(_FORMS),
    in_tree=st.booleans(),
)
def test_an_image_starting_a_server_of_the_tree_runs_the_projects_code(
    tmp_path_factory: pytest.TempPathFactory,
    server: str,
    via_python: bool,
    options: str,
    wrapper: str,
    form: str,
    in_tree: bool,
) -> None:
    root = tmp_path_factory.mktemp("image")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text("app = None\n")
    module = "app" if in_tree else "elsewhere"
    argv = [*_WRAPPERS[wrapper], *_server_argv(server, via_python, options, module)]
    env = ["ENV POSTGRES_HOST=db", "ENV POSTGRES_USER=app", "ENV POSTGRES_DB=app"]
    lines = ["FROM python:3.12", "COPY . /srv/app", "WORKDIR /srv/app", *env]
    lines += image_start(argv, form)
    path = root / "Dockerfile"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = scan_one(path, root)
    assert ((4, "VF102") in found) == (not in_tree), (found, lines)


# --- item 2: `source FILE` / `. FILE` / `dotenv -f FILE` from every carrier of shell ---
# (issue 13 class 3). The file a Makefile recipe, a CI block, a Dockerfile RUN or a compose
# command sources is judged as the same text under a name the walk reads (twin.sh for a
# sourced file, twin.env for a dotenv one), its findings placed in that file.

# The contents and spellings of the session-12 script test, for every carrier.
_SOURCED_LINES = SCRIPT_SOURCED_LINES
_SOURCE_FORMS = SCRIPT_SOURCE_FORMS


def _carrier(kind: str, line: str) -> tuple[str, str]:
    """(path of the carrier, its text) running the shell line."""
    if kind == "script":
        return "svc/run.sh", f"#!/bin/sh\n{line}\n"
    if kind == "makefile":
        return "svc/Makefile", f"migrate:\n\t{line}\n"
    if kind == "github":
        steps = f"    steps:\n      - run: |\n          {line}\n"
        return ".github/workflows/ci.yml", f"on: push\njobs:\n  t:\n    runs-on: x\n{steps}"
    if kind == "gitlab":
        return "svc/.gitlab-ci.yml", f"migrate:\n  script:\n    - |\n      {line}\n"
    if kind == "dockerfile":
        return "svc/Dockerfile", f"FROM python:3.12\nRUN {line}\n"
    argv = json.dumps(["sh", "-c", f"{line} && exec gunicorn app:app"])
    return (
        "svc/docker-compose.yml",
        f"services:\n  web:\n    image: example/app\n    command: {argv}\n",
    )


def scan_placed(path: Path, root: Path) -> set[tuple[str, int, str]]:
    walked = WalkedFile(path, path.relative_to(root).as_posix())
    outcome = scan_file(walked, ScanContext(root=root, policy=DEFAULT_POLICY), 1_000_000)
    assert not outcome.errors, outcome.errors
    return {(f.path or "", f.line or 0, f.rule_id) for f in outcome.findings}


@bounded(60)
@given(
    carrier=st.sampled_from(("script", "makefile", "github", "gitlab", "dockerfile", "compose")),
    content=st.lists(st.sampled_from(sorted(_SOURCED_LINES)), min_size=1, max_size=3),
    form=st.sampled_from(_SOURCE_FORMS),
    name=st.sampled_from(("deploy/vars", "config/app.settings", "etc/production")),
    from_root=st.booleans(),
)
def test_a_file_any_shell_carrier_sources_is_judged_as_under_a_known_name(
    tmp_path_factory: pytest.TempPathFactory,
    carrier: str,
    content: list[str],
    form: str,
    name: str,
    from_root: bool,
) -> None:
    root = tmp_path_factory.mktemp("sourced")
    where, text = _carrier(carrier, form.format(path=name))
    carrier_path = root / where
    carrier_path.parent.mkdir(parents=True)
    carrier_path.write_text(text, encoding="utf-8")
    # relative to the carrier's directory (where a recipe runs) or the project root
    target = (root if from_root else carrier_path.parent) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(_SOURCED_LINES[c] for c in content) + "\n"
    target.write_text(body, encoding="utf-8")
    twin = root / ("twin.env" if form.startswith("dotenv") else "twin.sh")
    twin.write_text(body, encoding="utf-8")
    expected = {(line, rule) for _, line, rule in scan_placed(twin, root)}
    found = scan_placed(carrier_path, root)
    placed = target.relative_to(root).as_posix()
    assert {(line, rule) for path, line, rule in found if path == placed} == expected, text
    assert all(path in (placed, where) for path, _, _ in found), found


# --- item 3: a PostgreSQL-named components group read by another ecosystem (class 7) ---
# Judged with that ecosystem's driver default (pgjdbc prefer, node-postgres no TLS, ...),
# the message naming the sub-project and the driver; a Python or unknown reader keeps
# libpq's default and text.

_SUBPROJECTS = {  # manifest files, and (rule, words the message must hold)
    "java-maven": (("pom.xml",), ("VF102", "Java (Maven) sub-project svc", "pgjdbc")),
    "java-gradle": (("build.gradle",), ("VF102", "Java (Gradle) sub-project svc", "pgjdbc")),
    "node": (("package.json", "index.js"), ("VF101", "JavaScript (npm)", "node-postgres")),
    "go": (("go.mod", "main.go"), ("VF102", "Go sub-project svc", "pgx or lib/pq")),
    "elixir": (("mix.exs",), ("VF101", "Elixir sub-project svc", "Postgrex")),
    "python": (("package.json", "requirements.txt", "app.py"), ("VF102", "")),
}
_GROUPS = {  # settings a group is PostgreSQL's by, without a host named for the server
    "postgres-family": ["POSTGRES_HOST: db", "POSTGRES_USER: app", "POSTGRES_DB: app"],
    "pg-port": ["DB_HOST: db", "DB_PORT: 5432", "DB_NAME: app"],
    "backend": ["DATABASE_HOST: db", "DATABASE_ENGINE: postgresql", "DATABASE_USER: app"],
    "cockroach-port": ["SQL_HOST: db.internal", "SQL_PORT: 26257"],
}


def _messages(path: Path, root: Path) -> dict[tuple[int, str], str]:
    walked = WalkedFile(path, path.relative_to(root).as_posix())
    outcome = scan_file(walked, ScanContext(root=root, policy=DEFAULT_POLICY), 1_000_000)
    assert not outcome.errors, outcome.errors
    return {(f.line or 0, f.rule_id): f.message for f in outcome.findings}


@bounded(40)
@given(
    subproject=st.sampled_from(sorted(_SUBPROJECTS)),
    group=st.sampled_from(sorted(_GROUPS)),
    carrier=st.sampled_from(("compose-build", "compose-context", "env")),
)
def test_a_postgres_group_read_by_another_ecosystem_gets_its_driver_default(
    tmp_path_factory: pytest.TempPathFactory, subproject: str, group: str, carrier: str
) -> None:
    root = tmp_path_factory.mktemp("ecosystem")
    service = root / "svc"
    service.mkdir()
    manifests, (rule, *words) = _SUBPROJECTS[subproject]
    for name in manifests:
        (service / name).write_text("print('hi')\n" if name.endswith(".py") else "{}\n")
    parts = _GROUPS[group]
    if carrier == "env":
        path, host_line = service / ".env", 1
        lines = [p.replace(": ", "=") for p in parts]
    else:
        build = ["    build: ./svc"] if carrier == "compose-build" else []
        build = build or ["    build:", "      context: ./svc"]
        lines = ["services:", "  app:", *build, "    environment:", *(f"      {p}" for p in parts)]
        path, host_line = root / "docker-compose.yml", len(build) + 4
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = _messages(path, root)
    transport = {r for line, r in found if line == host_line and r in ("VF101", "VF102")}
    assert transport == {rule}, (found, lines)
    message = found[(host_line, rule)]
    assert all(word in message for word in words), message
    if subproject == "python":
        assert "sub-project" not in message, message
