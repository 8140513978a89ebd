"""Connection settings written into the environment (issue 12, class 5).

A DSN literal that reaches a connection only through the environment or a child
process is judged where it is written: `os.environ["DATABASE_URL"] = "..."`,
`os.environ.setdefault("DATABASE_URL", "...")`, `monkeypatch.setenv(...)` /
`os.putenv(...)`, and the `env={...}` of a subprocess call. Only a value whose
scheme makes it a PostgreSQL/CockroachDB URL, built from a literal written in this
file (the literal is where the fix goes), counts.

A URL constant of a copy-me configuration template (`app/config/example.py` for the
gitignored `app/config/main.py` the code imports; config_templates.py) is judged here
too: the code reads the copy, outside the tree, and the template is what it is made
from (held-out-s15 erp_lavita).

Not here: the default of `os.getenv("X", "...")` and a Settings field's default.
Code reads them through a name or an attribute, and the connection sites that do
(in any file of the tree: imports are followed) judge them already; judging them
here too gave the same finding twice, and a wrong one when the site adds
`connect_args`. What no site of the tree uses needs a project-wide index of uses
(not built).

The value is judged by conninfo as the driver its scheme names (SQLAlchemy's dialect
for `postgresql+asyncpg://`, libpq for a plain URL, which psycopg and most tools give
it to). When a connection site of the same file already judged the value (its
resolution notes name the variable), the site's finding says it and this one is
not repeated.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from verifyfull.conninfo import (
    ConnStringError,
    Driver,
    Environment,
    evaluate,
    from_sqlalchemy_url,
    parse_dsn,
    redact_text,
)
from verifyfull.errors import VerifyfullError
from verifyfull.scan.python import config_templates
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import NotASite, Undetermined, dsn_text
from verifyfull.scan.python.values import Text

_SCHEME = re.compile(r"^(postgres|postgresql|cockroachdb)(\+\w+)?://", re.IGNORECASE)
_SETENV = frozenset({"setenv", "putenv"})  # monkeypatch.setenv, os.putenv
_SUBPROCESS = frozenset(
    {
        "subprocess.run",
        "subprocess.Popen",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "asyncio.create_subprocess_exec",
    }
)


@dataclass(frozen=True)
class Written:
    """A DSN written for the environment, waiting for the end of the walk (a site of
    the file may have judged it already)."""

    node: ast.expr  # the expression holding the literal: where it is reported
    value_node: ast.expr
    scope: Scope
    name: str  # the variable ("DATABASE_URL")
    how: str  # "set in os.environ", "set by setenv()", ...
    template: bool = False  # a copy-me template's constant, not an environment value


def on_call(a: Analysis, node: ast.Call, scope: Scope, pending: list[Written]) -> None:
    qual = a.module.qualname(node.func) or ""
    method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
    if qual.endswith("environ.setdefault") and len(node.args) > 1:
        name = _literal(node.args[0]) or "?"
        pending.append(Written(node.args[1], node.args[1], scope, name, f"set by {qual}()"))
    elif method in _SETENV and len(node.args) > 1:
        name = _literal(node.args[0]) or "?"
        pending.append(Written(node.args[1], node.args[1], scope, name, f"set by {method}()"))
    elif qual in _SUBPROCESS:
        for keyword in node.keywords:
            if keyword.arg == "env" and isinstance(keyword.value, ast.Dict):
                for key, item in zip(keyword.value.keys, keyword.value.values, strict=True):
                    variable = _literal(key) if key is not None else None
                    if variable is not None:
                        how = "given to a child process's environment"
                        pending.append(Written(item, item, scope, variable, how))


def on_assign(
    a: Analysis, target: ast.expr, value: ast.expr, scope: Scope, pending: list[Written]
) -> None:
    if isinstance(target, ast.Subscript) and a.module.qualname(target.value) == "os.environ":
        name = _literal(target.slice) or "?"
        pending.append(Written(value, value, scope, name, "set in os.environ"))
    elif (
        isinstance(target, ast.Name)
        and isinstance(scope.node, ast.Module | ast.ClassDef)
        and target.id not in _FRAMEWORK_URIS
        and config_templates.is_template(a.source.relpath)
    ):
        how = f"in the copy-me template {a.source.relpath}"
        pending.append(Written(value, value, scope, target.id, how, template=True))


# Constants the framework handlers judge wherever they are written (Flask-SQLAlchemy's)
_FRAMEWORK_URIS = frozenset({"SQLALCHEMY_DATABASE_URI"})


def finish(a: Analysis, pending: list[Written]) -> None:
    """Judge what no site of the file judged."""
    judged_notes = " ".join(note for site in a.sites for note in site.notes)
    copied: bool | None = None  # a template no module imports (asked once, if needed)
    for written in pending:
        if not _holds_scheme_literal(written.value_node):
            continue
        if written.template:
            if copied is None:
                copied = not config_templates.imported_elsewhere(a.module)
            if not copied:
                continue
        variable = written.name.rsplit(".", 1)[-1]
        if f"{variable}: " in judged_notes:
            continue  # a site of this file judged it with this value
        place = a.place(written.value_node, written.scope)
        for value in a.resolver.alternatives(written.value_node, place):
            if isinstance(value, Text):
                _judge(a, written, value)


def _judge(a: Analysis, written: Written, value: Text) -> None:
    try:
        url, _ = dsn_text(value, "the value")
    except (Undetermined, NotASite):  # NotASite: another database's URL
        return
    if not _SCHEME.match(url):
        return
    try:
        if "+" in url.split("://", 1)[0] or url.lower().startswith("cockroachdb"):
            info, driver = from_sqlalchemy_url(url), Driver.SQLALCHEMY
        else:
            info, driver = parse_dsn(url), Driver.PSYCOPG
        verdict = evaluate(info, driver, Environment.empty(), a.ctx.policy)
    except (ConnStringError, VerifyfullError):
        return  # an unreadable value here is the site's to report, where it is used
    what = f"{written.name} ({written.how})"
    reads = "a libpq connection" if driver is Driver.PSYCOPG else "the engine its scheme names"
    purpose = (
        "the connection URL of the config module made from this template"
        if written.template
        else "a connection setting written here for the environment"
    )
    for item in verdict.findings:
        if item.rule_id == "VF401":
            continue  # credentials.py reports the literal password
        fix = (item.fix or item.rule.fix).rstrip(".") + "."
        a.report(
            item.rule_id,
            written.node,
            f"{what}: {purpose}; used by {reads} with no TLS argument added: {item.message}",
            evidence=redact_text(url),
            fix=fix,
        )


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _holds_scheme_literal(node: ast.expr) -> bool:
    """Whether the expression itself writes a PostgreSQL/CockroachDB URL's scheme (a
    literal in this file, not a name imported from elsewhere)."""
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.Constant)
            and isinstance(inner.value, str)
            and _SCHEME.match(inner.value)
        ):
            return True
    return False


__all__ = ["Written", "finish", "on_assign", "on_call"]
