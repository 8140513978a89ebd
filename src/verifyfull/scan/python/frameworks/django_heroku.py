"""django-heroku's `settings(locals())`: a DATABASES entry written by the library, not
by the settings module (session 15, held-out-s15 PatrickCmd/social-platform).

Read in heroku/django-heroku core.py: `settings(config, *, db_colors=False,
databases=True, ...)`; with `databases` true and DATABASE_URL in the environment it sets
`config["DATABASES"]["default"] = dj_database_url.config(conn_max_age=…,
ssl_require=True)` (and with db_colors every HEROKU_POSTGRESQL_* URL parsed the same
way), replacing whatever the module wrote there; without DATABASE_URL it leaves the
module's own entry. So the call is a connection of its own, the `dj_database_url.config
(ssl_require=True)` it makes: sslmode=require over whatever the URL says, no root
certificate (VF103), judged at the call; the module's own DATABASES entry keeps its own
verdict (the connection the service makes when DATABASE_URL is unset). Later changes to
`DATABASES["default"]` on every path after the call are the entry's (a written OPTIONS
sslmode wins over ssl_require); deleting its OPTIONS sslmode (`del
DATABASES["default"]["OPTIONS"]["sslmode"]`, or `.pop("sslmode")`) deletes the URL's
too (dj_database_url parses the query into the same OPTIONS): no sslmode, libpq's
prefer, reported at the deleting line (django.helper_places).
"""

from __future__ import annotations

import ast

from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import Judged, call_argument, value_of
from verifyfull.scan.python.frameworks.django import (
    _changes_by_path,
    _django_url,
    _rendered,
    _texts,
)
from verifyfull.scan.python.module import Scope, runs_whenever
from verifyfull.scan.python.sites import NotASite
from verifyfull.scan.python.values import Const, Unknown

DJANGO_HEROKU = frozenset({"django_heroku.settings", "django_heroku.core.settings"})
WORDS = ("django_heroku",)
_ALIAS = "default"
_VARIABLE = "DATABASE_URL"


def django_heroku_site(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    databases = call_argument(call, 99, "databases")
    if databases is not None:
        given = value_of(a, databases, scope, call)
        if isinstance(given, Const) and not given.value:
            raise NotASite("databases=False: django-heroku leaves DATABASES alone")
    always, _ = _changes_by_path(a, call, scope, _ALIAS)
    changes = _texts(a, scope, always)
    rendered = _rendered(a, _VARIABLE)
    url, note = rendered or (
        Unknown(f"environment variable {_VARIABLE}"),
        f"{_VARIABLE}: read by django_heroku.settings() (dj_database_url.config, ssl_require=True)",
    )
    return _django_url(url, note, not _sslmode_dropped(call, scope), changes)


def _sslmode_dropped(call: ast.Call, scope: Scope) -> bool:
    """Whether every path after the call deletes the OPTIONS sslmode ssl_require wrote."""
    here = scope.branch_at(call.lineno)
    for change in scope.mutations.get("DATABASES", []):
        if change.line <= call.lineno or not runs_whenever(change.branch, here):
            continue
        keys = [k.value if isinstance(k, ast.Constant) else None for k in change.keys]
        deleted = change.value is None and not change.method
        if deleted and keys in ([_ALIAS, "OPTIONS", "sslmode"], [_ALIAS, "OPTIONS"]):
            return True
        if change.method == "pop" and keys == [_ALIAS, "OPTIONS"] and change.call is not None:
            first = change.call.args[0] if change.call.args else None
            if isinstance(first, ast.Constant) and first.value == "sslmode":
                return True
    return False
