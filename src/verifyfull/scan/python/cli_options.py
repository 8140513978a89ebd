"""A connection value a command-line framework gives a command's parameter (held-out-s22
pgworkload).

    class Param:
        DBUrl = typer.Option("postgres://root@localhost:26257/postgres?sslmode=disable", "--url")

    @app.command()
    def run(dburl: str = Param.DBUrl): psycopg.connect(dburl)

    @click.command()
    @click.option("--dsn", default="postgresql://app@db/app")
    def main(dsn): psycopg2.connect(dsn)

typer and click call the command with the option's value: the command line's, else the
option's environment variable's (`envvar=`), else its default. The default is a value the
code writes, judged where it is written, as argparse's is (argparse_options.py). typer's
`...` (required) and a click option with no default or `required=True` leave the command
line's value: unknown. typer's `Annotated[str, typer.Option("--url")] = "…"` needs nothing
here: the parameter's own default is the option's.
"""

from __future__ import annotations

import ast

from verifyfull.scan.python.argparse_options import default_of, option_strings
from verifyfull.scan.python.module import ParsedModule

# typer.Option(default, *param_decls, ...) / typer.Argument(default, ...) as a default
TYPER_PARAMETERS = frozenset(
    {"typer.Option", "typer.Argument", "typer.params.Option", "typer.params.Argument"}
)
# click's decorators, and the packages that re-export them unchanged
_CLICK_ROOTS = ("click", "asyncclick", "rich_click", "cloup")
CLICK_DECORATORS = frozenset(
    f"{root}.{kind}" for root in _CLICK_ROOTS for kind in ("option", "argument")
)


def typer_default(call: ast.Call) -> ast.expr | None:
    """The default a `typer.Option(...)` / `typer.Argument(...)` declares (its first
    positional argument or `default=`, else what a `default_factory=lambda: …` returns);
    None when it is required (`...`), None or not given."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    default = call.args[0] if call.args else keywords.get("default")
    if default is None:
        factory = keywords.get("default_factory")
        return factory.body if isinstance(factory, ast.Lambda) else None
    if isinstance(default, ast.Constant) and default.value in (Ellipsis, None):
        return None
    return default


def typer_option_name(call: ast.Call) -> str | None:
    """The first long option a typer declaration names (`--url`), None without one."""
    decls = [
        a.value for a in call.args[1:] if isinstance(a, ast.Constant) and isinstance(a.value, str)
    ]
    return next((d for d in decls if d.startswith("--")), decls[0] if decls else None)


def click_declaration(module: ParsedModule, function: ast.AST, name: str) -> ast.Call | None:
    """The `@click.option(...)` / `@click.argument(...)` decorator of `function` that
    declares its parameter `name` (click's naming: a declaration without dashes is the
    name, else the first long option, else the first short one, dashes made underscores,
    lower-cased); None when no decorator does."""
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        if module.qualname(decorator.func) not in CLICK_DECORATORS:
            continue
        if click_parameter_name(decorator) == name:
            return decorator
    return None


def click_parameter_name(call: ast.Call) -> str | None:
    """The Python parameter click gives a declaration's value to (see click_declaration)."""
    decls = option_strings(call)
    if not decls:
        return None
    named = next((d for d in decls if d.isidentifier()), None)
    if named is not None:
        return named
    chosen = next((d for d in decls if d.startswith("--")), decls[0])
    return chosen.lstrip("-").replace("-", "_").lower() or None


def click_default(call: ast.Call) -> ast.expr | None:
    """A click declaration's `default=` (argparse's reading: none when it is None or
    required), or what a `default=lambda: …` returns."""
    default = default_of(call)
    return default.body if isinstance(default, ast.Lambda) else default


def click_option_name(call: ast.Call) -> str:
    """The option a click declaration names on the command line, for the finding's text."""
    decls = option_strings(call)
    return next((d for d in decls if d.startswith("--")), decls[0] if decls else "an option")
