"""Celery's database result backend named as configuration, not as `Celery(backend=…)`
(sites.py judges that one): the `result_backend` setting wherever Celery reads it, with
the `database_engine_options` beside it.

Read in celery's source (app/defaults.py, app/utils.py, app/backends.py,
backends/database/__init__.py and session.py): `conf.result_backend` is
`result_backend`, or its old name `CELERY_RESULT_BACKEND` (also the name under
`config_from_object(..., namespace='CELERY')`, Django's settings); a `db+<URL>` value is
DatabaseBackend with the URL after `db+`, whose engine is
`create_engine(url, **conf.database_engine_options)` (old name
`CELERY_RESULT_ENGINE_OPTIONS`, namespaced `CELERY_DATABASE_ENGINE_OPTIONS`). The
settings are written as `app.conf.result_backend = …`, `app.conf["result_backend"] = …`,
`app.conf.update(result_backend=…)`, a mapping `{"result_backend": …}` wherever it
stands (`conf.update({…})`, a config dict), or as constants of a module or class that
`config_from_object` / `config_from_envvar` loads (celeryconfig.py, Django settings).
Each is judged as that create_engine call. Another backend (redis://, rpc://) is no
site; so is a module constant in a project whose code never loads configuration from
an object (nothing hands it to Celery).
"""

from __future__ import annotations

import ast
from functools import lru_cache

from verifyfull.scan.deployed_urls import DeployedUrl, deployed_postgres_url
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.env_readers import env_read
from verifyfull.scan.python.frameworks.common import (
    Judged,
    as_call,
    binding,
    dict_key,
    engine_keywords,
    framework_engine,
    nested_statements,
    project_holds,
    site,
    subscript_writes,
    value_of,
    written_at,
)
from verifyfull.scan.python.frameworks.flask import flask_scope
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import _sqlalchemy, celery_database_url
from verifyfull.scan.python.values import Unknown

BACKEND_KEYS = ("result_backend", "CELERY_RESULT_BACKEND")
# the first one written wins: the new name, its old name, its name under namespace CELERY
OPTIONS_KEYS = (
    "database_engine_options",
    "CELERY_RESULT_ENGINE_OPTIONS",
    "CELERY_DATABASE_ENGINE_OPTIONS",
)
# Words without one of which no handler here fires (the prefilter's test).
WORDS = ("result_backend", "RESULT_BACKEND")
# What loads a module's or class's constants into a Celery app's conf.
_LOADER_NEEDLES = (b"config_from_object", b"config_from_envvar")


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    """`result_backend = …` (a loaded module or class), `app.conf.result_backend = …`,
    `app.conf["result_backend"] = …`."""
    if isinstance(target, ast.Name):
        if target.id in BACKEND_KEYS and flask_scope(target, scope) and _loaded(a):
            options = next((binding(scope, k) for k in OPTIONS_KEYS if k in scope.assigns), None)
            backend(a, value, options, scope)
    elif isinstance(target, ast.Attribute):
        if target.attr in BACKEND_KEYS and _conf(target.value):
            writes = _attribute_writes(scope.node)
            options = next((writes[k] for k in OPTIONS_KEYS if k in writes), None)
            backend(a, value, options, scope)
    elif isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and key.value in BACKEND_KEYS:
            subscripts = subscript_writes(scope.node)
            written = next((subscripts[k] for k in OPTIONS_KEYS if k in subscripts), None)
            backend(a, value, written[-1][1].value if written else None, scope)


def on_call(a: Analysis, node: ast.Call, scope: Scope) -> None:
    """`app.conf.update(result_backend=…, database_engine_options=…)`."""
    given = {k.arg: k.value for k in node.keywords if k.arg}
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "update":
        for key in BACKEND_KEYS:
            if key in given:
                options = next((given[k] for k in OPTIONS_KEYS if k in given), None)
                backend(a, given[key], options, scope)


def on_dict(a: Analysis, node: ast.Dict, scope: Scope) -> None:
    """A Celery configuration written as a mapping wherever it stands."""
    for key in BACKEND_KEYS:
        value = dict_key(node, key)
        if value is not None:
            options = next((v for k in OPTIONS_KEYS if (v := dict_key(node, k)) is not None), None)
            backend(a, value, options, scope)


def backend(a: Analysis, value: ast.expr, options: ast.expr | None, scope: Scope) -> None:
    """Judge a result backend setting as create_engine(URL after db+, **options)."""
    anchor = written_at(a, value, scope)

    def judge() -> Judged:
        given = value_of(a, value, scope, value)
        deployed = _deployed_database(a, anchor)
        if deployed is not None and isinstance(given, Unknown):
            # the engine Celery makes from the deployed URL: its options may still decide
            unseen = Unknown(f"{given.why}, which {deployed.why}")
            return framework_engine(
                a, value, unseen, options, scope, "database_engine_options", options_at=options
            )
        url = celery_database_url(given)
        kwargs = engine_keywords(a, options, scope, options or value, "database_engine_options")
        return _sqlalchemy(as_call(a, value, scope), url, kwargs)

    site(a, anchor, "Celery result_backend", judge)


def _deployed_database(a: Analysis, anchor: ast.expr) -> DeployedUrl | None:
    """A backend read from an environment variable with no default that the project's
    deployment files set to a `db+postgresql://` URL (held-out-s15 CSSE6400: compose and
    ecs.tf): Celery's database backend, its URL decided at deploy (VF108). A variable
    they do not show so (a Redis backend, or nothing in the tree) stays no site."""
    read = env_read(a.module, anchor) if isinstance(anchor, ast.Call) else None
    if read is None or read.default is not None or read.variable is None:
        return None
    name = read.variable.value if isinstance(read.variable, ast.Constant) else None
    if not isinstance(name, str):
        return None
    found = deployed_postgres_url(a.module.root, name)
    return found if found is not None and found.celery_database else None


def _conf(owner: ast.expr) -> bool:
    """`app.conf`, `conf`: a Celery app's configuration object."""
    if isinstance(owner, ast.Attribute):
        return owner.attr == "conf"
    return isinstance(owner, ast.Name) and owner.id == "conf"


@lru_cache(maxsize=64)
def _attribute_writes(body_owner: ast.AST) -> dict[str, ast.expr]:
    """`….conf.<key> = value` statements of a body (and its nested blocks), the last
    value by key (built once per body, as common.subscript_writes)."""
    index: dict[str, ast.expr] = {}
    for statement in nested_statements(getattr(body_owner, "body", [])):
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Attribute) and _conf(target.value):
                    index[target.attr] = statement.value
    return index


def _loaded(a: Analysis) -> bool:
    """Whether some module of the project loads configuration constants into a Celery
    app (raw bytes, as a caller search: an incomplete search counts as loaded)."""
    return project_holds(a, _LOADER_NEEDLES)
