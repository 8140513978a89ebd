"""Copy-me templates of a configuration module (session 15, held-out-s15 erp_lavita).

    app/config/example.py   SQLALCHEMY_URI = "postgresql+psycopg2://user:pw@localhost/db"
    app/base.py             from app.config.main import SQLALCHEMY_URI   (main.py gitignored)

The code reads a module the tree does not hold (the deployer copies the template to
it): its call site is VF108, the deployment's. The template is what the copy starts
from, so its connection URLs are judged where written, as filled in (env_settings
judges them with its other DSN literals written for somewhere else). A template is
named so: its stem's first or last part (split at `.`, `_`, `-`) is example, sample or
template, and another part, or for a bare `example.py` its folder, is a configuration
word (config, settings, conf, ...). A template that some module of the project
imports is read there like any module, and judged at that site: not here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from verifyfull.scan.python import callers
from verifyfull.scan.python.module import ImportRef, ParsedModule

_TEMPLATE_WORDS = frozenset({"example", "sample", "template"})
_CONFIG_WORDS = frozenset(
    {"config", "configs", "conf", "settings", "setting", "secrets", "credentials"}
    | {"local", "env", "environment", "database", "db", "instance", "production", "dev"}
)
_PARTS = re.compile(r"[._-]")


def is_template(relpath: str) -> bool:
    """Whether a module's path names it a copy-me template of a configuration module."""
    path = Path(relpath)
    parts = [p for p in _PARTS.split(path.stem.lower()) if p]
    if not parts or not ({parts[0], parts[-1]} & _TEMPLATE_WORDS):
        return False
    others = [p for p in parts if p not in _TEMPLATE_WORDS]
    if others:
        return any(p in _CONFIG_WORDS for p in others)
    return path.parent.name.lower() in _CONFIG_WORDS


def imported_elsewhere(module: ParsedModule) -> bool:
    """Whether some other project module imports this one (by its stem, a caller
    search's bounds; an incomplete search counts as imported)."""
    stem = module.path.stem
    found, complete = callers.modules_holding(module.root, module.root, stem.encode())
    if not complete:
        return True
    target = module.path.resolve()
    for other in found:
        if other.path.resolve() == target:
            continue
        for ref in _refs(other, stem):
            hit = other.find_import(ref)
            if hit is not None and hit[0].path.resolve() == target:
                return True
    return False


def _refs(module: ParsedModule, stem: str) -> set[ImportRef]:
    """The imports of a module that may name `stem`: its aliases, and each dotted
    `import a.b.stem` (whose alias is `a` alone)."""
    found = {ref for ref in module.aliases.values() if stem in ref.dotted}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found |= {ImportRef(a.name, None, 0) for a in node.names if stem in a.name}
    return found
