"""Where a framework's settings take the TLS parameters: Django DATABASES entries and
Flask-SQLAlchemy's config (read-only recognition on libcst nodes; python_fixes plans and
applies the edits).

- Django's postgresql backend passes an entry's OPTIONS to psycopg(2).connect as libpq
  keywords (django.db.backends.postgresql.base.get_connection_params), so verify-full
  and the files go there. dj-database-url and django-environ build the entry from a URL;
  their `ssl_require=True` is sslmode=require, not verify-full, so the entry's OPTIONS is
  updated after the call, keeping the URL's own options.
- Flask-SQLAlchemy hands SQLALCHEMY_ENGINE_OPTIONS to create_engine, so its
  `connect_args` carries the TLS as for an engine whose URL comes from elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from verifyfull.conninfo.django_url import is_postgres_engine
from verifyfull.fix import pystrings

# Django ENGINE values whose last component names a PostgreSQL backend (the scanner's).
DJ_DATABASE_URL = frozenset({"dj_database_url.config", "dj_database_url.parse"})
URI_KEY = "SQLALCHEMY_DATABASE_URI"
OPTIONS_KEY = "SQLALCHEMY_ENGINE_OPTIONS"
# A module-level setting that names the server's CA file: `DB_CA_PATH = env(...)`,
# `DATABASE_SSLROOTCERT`, `PG_ROOT_CERT`, `CA_CERT_FILE`.
_CA_SETTING = re.compile(
    r"(^|_)(SSLROOTCERT|ROOT_?CERT(_FILE|_PATH)?|CA_(CERT|FILE|PATH|BUNDLE)(_FILE|_PATH)?)$",
    re.IGNORECASE,
)
_code = cst.Module(body=[]).code_for_node


def dict_get(node: cst.BaseExpression | None, key: str) -> cst.BaseExpression | None:
    if not isinstance(node, cst.Dict):
        return None
    for element in node.elements:
        if isinstance(element, cst.DictElement) and pystrings.text_of(element.key) == key:
            return element.value
    return None


def is_django_entry(node: cst.Dict) -> bool:
    """A DATABASES entry written as a dict whose ENGINE is a PostgreSQL backend (written,
    or the default of an environment read, `os.getenv("DB_ENGINE", "django.db.…")`, which
    is what the scanner judges: the fix is for that backend; the scanner reported it)."""
    engine = dict_get(node, "ENGINE")
    if isinstance(engine, cst.Call) and _ENV_READ.fullmatch(_code(engine.func)):
        default = engine.args[1] if len(engine.args) == 2 else None
        engine = default.value if default is not None and default.keyword is None else None
    text = pystrings.text_of(engine) if engine is not None else None
    return text is not None and is_postgres_engine(text)


# the environment reads whose second argument is the default
_ENV_READ = re.compile(r"(os\.)?(getenv|environ\.get)")


def is_env_db(name: str) -> bool:
    """django-environ's `env.db()` / `env.db_url()` on a receiver (the scanner decided that
    the call is one; this only recognises the shape)."""
    head, _, attr = name.rpartition(".")
    return bool(head) and "." not in head and attr in ("db", "db_url")


def ca_setting(assigned: Iterable[str]) -> str | None:
    """The first module-level upper-case name that by its spelling holds the CA path."""
    return next((n for n in assigned if n.isupper() and _CA_SETTING.search(n)), None)


def entry_target(statement: cst.BaseSmallStatement, call: cst.Call) -> str | None:
    """The code of the DATABASES entry that the statement stores `call`'s result in:
    `DATABASES["x"] = call()` -> `DATABASES["x"]`, `db = call()` -> `db`,
    `DATABASES = {"default": call()}` -> `DATABASES["default"]`."""
    if not isinstance(statement, cst.Assign | cst.AnnAssign) or statement.value is None:
        return None
    targets = (
        [t.target for t in statement.targets]
        if isinstance(statement, cst.Assign)
        else [statement.target]
    )
    if len(targets) != 1 or not isinstance(targets[0], cst.Name | cst.Subscript):
        return None
    target = _code(targets[0])
    if statement.value is call:
        return target
    if isinstance(statement.value, cst.Dict):
        for element in statement.value.elements:
            if isinstance(element, cst.DictElement) and element.value is call:
                return f"{target}[{_code(element.key)}]"
    return None


def uri_target(statement: cst.BaseSmallStatement) -> cst.BaseAssignTargetExpression | None:
    """The target of `SQLALCHEMY_DATABASE_URI = …` or `….config["SQLALCHEMY_DATABASE_URI"]
    = …` (the scanner decided it is a Flask config)."""
    if not isinstance(statement, cst.Assign | cst.AnnAssign) or statement.value is None:
        return None
    target = statement.targets[0].target if isinstance(statement, cst.Assign) else statement.target
    if isinstance(target, cst.Name) and target.value == URI_KEY:
        return target
    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        if isinstance(index, cst.Index) and pystrings.text_of(index.value) == URI_KEY:
            return target
    return None


def options_target(uri: cst.BaseAssignTargetExpression) -> str:
    """Where the engine options sit beside the URI: the same scope's constant, or the
    same config mapping's key."""
    if isinstance(uri, cst.Subscript):
        return f'{_code(uri.value)}["{OPTIONS_KEY}"]'
    return OPTIONS_KEY


def written(body: Iterable[cst.CSTNode], wanted: str) -> cst.BaseExpression | None:
    """The value the block's statements last assign to the target spelled `wanted`
    (`SQLALCHEMY_ENGINE_OPTIONS`, `app.config["SQLALCHEMY_ENGINE_OPTIONS"]`)."""
    found: cst.BaseExpression | None = None
    wanted = wanted.replace("'", '"')  # `DATABASES['default']` is `DATABASES["default"]`
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign | cst.AnnAssign) and small.value is not None:
                target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
                if _code(target).replace("'", '"') == wanted:
                    found = small.value
    return found
