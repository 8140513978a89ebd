"""Session 13 leftovers of issue 13 (docs/scan.md, "Session 13").

- image_code reads the start commands the shell reader gives (dockerfile.start_commands,
  no second parser) and follows servers past their value-taking options, `python -m
  SERVER`, wrappers and runners, and the last command of a `sh -c` chain.
"""

from __future__ import annotations

import json
import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_scan_accuracy_s12 import bounded, scan_one

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
