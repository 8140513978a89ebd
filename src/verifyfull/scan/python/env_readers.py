"""Functions that read an environment variable, with the literal default the code
runs with when the variable is unset.

The standard library's spellings, and libraries whose reader takes the variable's
name first and the default as a later argument or `default=` (the form
resolve._env and credentials.on_call read through `env_read`):

- python-decouple `config(name, default=..., cast=...)` (decouple.AutoConfig.__call__
  -> Config.get: os.environ first, then settings.ini/.env, then `default`).
- starlette `config = Config(".env")` then `config(name, cast=..., default=...)`
  (starlette/config.py Config.__call__(key, cast=None, default=undefined) -> get():
  the environment first, then the env file, then `default`). The reader is an
  instance, so the name called is followed to its module-level binding, here or in
  the module it is imported from (`from app.settings import config`, `g.config(...)`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from verifyfull.scan.python.module import ParsedModule

STDLIB_ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "getenv"})

LIBRARY_ENV_GETTERS = frozenset({"decouple.config"})

ENV_GETTERS = STDLIB_ENV_GETTERS | LIBRARY_ENV_GETTERS

# Classes whose instances are readers, and the position of `default` in their call.
READER_CLASSES = {"starlette.config.Config": 2}

# Words one of which a file must hold for a library reader to be called (the
# prefilter's test: `from decouple import config`, `from starlette.config import
# Config`, and the name such a reader is called by in the modules that import it:
# `config(...)`, `settings.config(...)`).
LIBRARY_ENV_WORDS = tuple(
    sorted(
        {qual.split(".", 1)[0] for qual in (*LIBRARY_ENV_GETTERS, *READER_CLASSES)}
        | {"config", "Config"}
    )
)


@dataclass(frozen=True)
class EnvRead:
    """An environment read: the variable's name and the default, as written."""

    reader: str  # "os.getenv", "starlette.config.Config" (for the evidence's notes)
    variable: ast.expr | None
    default: ast.expr | None


def env_read(module: ParsedModule, node: ast.Call) -> EnvRead | None:
    """The call as an environment read, or None when it is not one."""
    qual = module.qualname(node.func) or ""
    if qual in ENV_GETTERS or qual.endswith("environ.get"):
        return _read(qual, node, 1)
    reader = _reader_instance(module, node.func)
    return None if reader is None else _read(reader, node, READER_CLASSES[reader])


def _read(reader: str, node: ast.Call, default_at: int) -> EnvRead:
    variable = node.args[0] if node.args else None
    default = node.args[default_at] if len(node.args) > default_at else None
    for keyword in node.keywords:
        if keyword.arg in ("default", "value"):  # value: os.environ.setdefault(key, value)
            default = keyword.value
    return EnvRead(reader, variable, default)


def _reader_instance(module: ParsedModule, func: ast.expr) -> str | None:
    """The reader class a called name is an instance of: a module-level binding here,
    or the one of the project module it is imported from (one hop: no following)."""
    if isinstance(func, ast.Name):
        ref = module.aliases.get(func.id)
        if ref is None:
            return _bound_instance(module, func.id)
        found = module.find_import(ref)
        return _bound_instance(found[0], found[1]) if found and found[1] else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        ref = module.aliases.get(func.value.id)
        found = module.find_import(ref) if ref is not None else None
        return _bound_instance(found[0], func.attr) if found and found[1] is None else None
    return None


def _bound_instance(module: ParsedModule, name: str) -> str | None:
    for binding in module.scope.assigns.get(name, []):
        value = binding.value
        if isinstance(value, ast.Call):
            qual = module.qualname(value.func) or ""
            if qual in READER_CLASSES:
                return qual
    return None
