"""Flask-SQLAlchemy: SQLALCHEMY_DATABASE_URI, with SQLALCHEMY_ENGINE_OPTIONS (its
connect_args), is what the extension passes to create_engine."""

from __future__ import annotations

import ast

from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import (
    Judged,
    as_call,
    binding,
    libpq_url,
    site,
    subscript_writes,
    value_of,
    written_at,
)
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import (
    _sqlalchemy,
)
from verifyfull.scan.python.values import DictValue, Text, Unknown, Value


def flask_scope(target: ast.expr, scope: Scope) -> bool:
    """A Flask config: `app.config[...]`, a module constant, or a config class
    attribute; a pydantic Settings field named so is read by code whose engine call
    is judged itself."""
    if isinstance(target, ast.Subscript):
        return True
    node = scope.node
    if isinstance(node, ast.ClassDef):
        bases = [getattr(b, "attr", getattr(b, "id", "")) for b in node.bases]
        return not any(base.endswith(("BaseSettings", "BaseModel", "Settings")) for base in bases)
    return isinstance(node, ast.Module)


def sibling(a: Analysis, scope: Scope, key: str, target: ast.expr) -> ast.expr | None:
    """The value written under `key` next to the URI: same-scope name (class
    attribute, module constant) or subscript `….config[key] = …` in the same body."""
    if isinstance(target, ast.Name):
        return binding(scope, key) if key in scope.assigns else None
    written = subscript_writes(scope.node).get(key)
    return written[0][1].value if written else None


def flask_uri(a: Analysis, value: ast.expr, options: ast.expr | None, scope: Scope) -> None:
    anchor = written_at(a, value, scope)

    def judge() -> Judged:
        url = value_of(a, value, scope, value)
        if isinstance(url, Text) and url.known is not None:
            libpq_url(url.known)  # sqlite, mysql: not a site
        kwargs: dict[str, Value] = {}
        if options is not None:
            engine_options = value_of(a, options, scope, options)
            if isinstance(engine_options, DictValue):
                kwargs = dict(engine_options.items)
            else:
                kwargs = {"connect_args": Unknown("SQLALCHEMY_ENGINE_OPTIONS built elsewhere")}
        return _sqlalchemy(as_call(a, value, scope), url, kwargs)

    site(a, anchor, "Flask-SQLAlchemy SQLALCHEMY_DATABASE_URI", judge)
