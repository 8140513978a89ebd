"""Env files rendered at deploy time, as the source of a variable the code reads.

`etc/env.tpl` (Terraform `templatefile`), `.env.j2` (Ansible), `prod.env.template`
are env files by kind (issue 13 class 3): what they set is what the deployed
service's environment holds, the `${…}` / `{{ … }}` holes filled at render. When
a Django settings module reads a variable (`env.db()` reads DATABASE_URL) that no
code gives a default, and the project's only source of that variable is one such
template, the site is judged with the template's value (its holes as stand-ins,
interpolation.neutral_dsn) instead of being left to the deployment (VF108).

A template that sets DJANGO_SETTINGS_MODULE is rendered for that settings module:
it is the source for sites in that module (and not for `local.py`). Any other env
file that sets the variable (`.env`, `.env.example`) makes the source ambiguous:
nothing is claimed.

A committed env file that a compose service's `env_file:` names is what that
service's environment holds too (`deployed_value`): when it is the project's
only source of a variable, a settings field read from that variable (a Django
entry's `ENGINE` / `HOST` from `os.environ.get("SQL_ENGINE")`) is judged with
its value. Only component values are taken so: a whole connection URL in such a
file is judged where it is written (the config check), its code sites VF108.

Built once per scan root and process, by a walk of the tree (the walk's default
skip directories and dot-directories skipped) reading only files whose name is an
env file's or a template's; bounded by MAX_FILES files of MAX_FILE_BYTES.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from verifyfull.scan.envlines import env_lines
from verifyfull.scan.walk import DEFAULT_SKIP_DIRS

MAX_FILES = 2_000
MAX_FILE_BYTES = 256_000
# env.tpl, prod.env.tpl, .env.j2, app_env.template, .env.jinja2, env.tmpl
TEMPLATE_NAME = re.compile(r"^(?:.*[._])?env\.(?:tpl|tmpl|template|j2|jinja2?)$")
# Names of env files that also give a variable a value (their presence makes a
# template not the only source): .env, .env.*, .env_*, .env-*, *.env, *.env.*
# (examples included).
_ENV_NAME = re.compile(r"^(?:\.env(?:[._-].+)?|.+\.env(?:\..+)?|\.envrc|env\.list)$")


@dataclass(frozen=True)
class Rendered:
    value: str
    path: str  # relative to the root
    line: int
    settings_module: str | None  # DJANGO_SETTINGS_MODULE the template sets
    template: bool = True  # False: a plain env file (.env, .env.example, ...)

    @property
    def why(self) -> str:
        if not self.template:
            return f"{self.path}:{self.line}, the env file compose's env_file: names"
        return f"{self.path}:{self.line}, an env template rendered at deploy"


@lru_cache(maxsize=8)
def _sources(root: Path) -> dict[str, tuple[Rendered, ...]]:
    """variable -> every value the tree's env files and templates give it."""
    found: dict[str, list[Rendered]] = {}
    read = 0
    for directory, dirs, names in os.walk(str(root)):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            template = TEMPLATE_NAME.match(name) is not None
            if not template and _ENV_NAME.match(name) is None:
                continue
            if read >= MAX_FILES:
                return {k: tuple(v) for k, v in found.items()}
            read += 1
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as handle:
                    text = handle.read(MAX_FILE_BYTES).decode("utf-8", errors="replace")
            except OSError:
                continue
            lines = env_lines(text)
            module = next(
                (v.strip("'\" ") for k, v, _, _ in lines if k.upper() == "DJANGO_SETTINGS_MODULE"),
                None,
            )
            relpath = os.path.relpath(path, str(root)).replace(os.sep, "/")
            for key, value, line, _ in lines:
                value = value.strip().strip("'\"")
                entry = Rendered(value, relpath, line, module, template)
                found.setdefault(key.strip().upper(), []).append(entry)
    return {k: tuple(v) for k, v in found.items()}


def rendered_value(root: Path, variable: str, module_relpath: str) -> Rendered | None:
    """The value of `variable` for code in `module_relpath`, when one env template is
    the project's only source of it (and is rendered for that settings module)."""
    sources = _sources(root).get(variable.strip().upper(), ())
    if len(sources) != 1 or not sources[0].template:
        return None
    return _for_module(sources[0], module_relpath)


def _for_module(rendered: Rendered, module_relpath: str) -> Rendered | None:
    """The value, unless its file sets DJANGO_SETTINGS_MODULE to another module."""
    if rendered.settings_module is not None:
        dotted = module_relpath.removesuffix(".py").replace("/", ".")
        if not (
            dotted == rendered.settings_module or dotted.endswith("." + rendered.settings_module)
        ):
            return None
    return rendered


# docker-compose.yml, compose.yaml, docker-compose.prod.yml, compose.override.yaml
_COMPOSE_NAME = re.compile(r"^(?:docker-)?compose(?:\.[^/]+)?\.ya?ml$")


@lru_cache(maxsize=8)
def _compose_env_files(root: Path) -> frozenset[str]:
    """The env files (relative to the root) that a compose file's `env_file:` names."""
    # the config package imports the Python frameworks: read lazily, never at import
    from verifyfull.scan.config.composefiles import env_file_paths, services_in
    from verifyfull.scan.config.yamlnodes import effective_items

    named: set[str] = set()
    seen = 0
    for directory, dirs, names in os.walk(str(root)):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if _COMPOSE_NAME.match(name) is None:
                continue
            seen += 1
            if seen > MAX_FILES:
                return frozenset(named)
            path = Path(directory) / name
            for node in services_in(path).values():
                for env_path in env_file_paths(dict(effective_items(node)), path.parent):
                    relpath = os.path.relpath(env_path, str(root)).replace(os.sep, "/")
                    if not relpath.startswith("../"):
                        named.add(relpath)
    return frozenset(named)


def deployed_value(root: Path, variable: str, module_relpath: str) -> Rendered | None:
    """The value of `variable` where the service runs, when the project's only source of
    it is an env template rendered for this module (rendered_value) or a committed env
    file that a compose service's `env_file:` names."""
    rendered = rendered_value(root, variable, module_relpath)
    if rendered is not None:
        return rendered
    sources = _sources(root).get(variable.strip().upper(), ())
    if len(sources) != 1 or sources[0].template:
        return None
    if sources[0].path not in _compose_env_files(root):
        return None
    return _for_module(sources[0], module_relpath)
