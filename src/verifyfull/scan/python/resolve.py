"""Resolve an expression to what it is at run time, as far as the source tells.

Follows what real services do to build a DSN: string constants, f-strings and
`+`, `.format`, `.replace("postgresql://", "cockroachdb://")`, `os.getenv` /
`os.environ.get` defaults (the value the code runs with when the variable is
unset, noted as such), module constants, names imported from a settings module
of the same project, pydantic Settings fields with defaults, `URL.create(...)`
and `make_url(...)`, dicts, and ssl contexts with what is done to them. What
cannot be known becomes an `Unknown` with the reason, never a guess.

Every (expression, place) is resolved once per file, definitions met again while
being resolved are cycles, and a file has a budget of steps (effort.py): time and
memory are linear in the file whatever its call graph.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeGuard, TypeVar
from urllib.parse import urlencode

from verifyfull.conninfo.parse import KNOWN_SCHEMES, known_scheme
from verifyfull.scan.deployed_urls import deployed_postgres_url
from verifyfull.scan.project_versions import declared_postgres_driver
from verifyfull.scan.python import (
    argparse_options,
    callers,
    cli_options,
    config_files,
    data_files,
    pytest_fixtures,
    pytest_options,
    returns,
    urls,
    yarl_urls,
)
from verifyfull.scan.python.changes import Change, Default, Removal, State, at_path
from verifyfull.scan.python.effort import BASE_STEPS, BUDGET_EXCEEDED, Effort
from verifyfull.scan.python.env_readers import (
    HAYSTACK_SECRET_MODULES,
    EnvRead,
    env_read,
    stands_in_for_deployed,
)
from verifyfull.scan.python.guards import OTHER_BACKENDS
from verifyfull.scan.python.module import (
    Binding,
    ImportRef,
    Mutation,
    ParsedModule,
    Scope,
    excludes,
    runs_whenever,
)
from verifyfull.scan.python.names import is_test_path
from verifyfull.scan.python.values import (
    CONNECTION_STRING_WRITTEN,
    MAX_ALTERNATIVES,
    SETTINGS_URL_WRITTEN,
    Choice,
    Const,
    ContextValue,
    DictValue,
    ListValue,
    Symbol,
    Text,
    Unknown,
    Value,
    ValueTooLarge,
    WrittenAt,
    alternatives,
    as_text,
    choice,
    notes_of,
    primary,
)

MAX_DEPTH = 40

_PASSTHROUGH = frozenset(
    {
        "str",
        "int",
        "sqlalchemy.engine.make_url",
        "sqlalchemy.make_url",
        "sqlalchemy.engine.url.make_url",
        "pydantic.PostgresDsn",
        "PostgresDsn",
        # Haystack's Secret.from_token(value): resolve_value() is the value itself
        *(f"{module}.Secret.from_token" for module in HAYSTACK_SECRET_MODULES),
    }
)
URL_CREATE = frozenset(
    {
        "sqlalchemy.URL.create",
        "sqlalchemy.engine.URL.create",
        "sqlalchemy.engine.url.URL.create",
    }
)
# The URL class called directly, SQLAlchemy 1.3's public constructor (1.4 deprecates it and
# hands its arguments to URL.create; 2.0's NamedTuple takes the same seven fields in the
# same order): the same URL as URL.create (held-out-s15 kzagorulko/sqlalchemy-example).
URL_CONSTRUCTOR = frozenset(
    {"sqlalchemy.URL", "sqlalchemy.engine.URL", "sqlalchemy.engine.url.URL"}
)
# psycopg's make_conninfo(conninfo="", **kwargs) and psycopg2's make_dsn(dsn=None,
# **kwargs): a libpq keyword string from a base conninfo and keywords.
MAKE_CONNINFO = frozenset(
    {"psycopg.conninfo.make_conninfo", "psycopg2.extensions.make_dsn", "psycopg2.extras.make_dsn"}
)
_CONNINFO_BASE = ("conninfo", "dsn")
# Tortoise's expand_db_url(db_url): the config entry {"engine": ..., "credentials": {...}}
# the URL stands for (held-out-s13: Rishiraj0100/kaeya changes the entry's
# credentials["ssl"] after building it from the environment's URL).
_EXPAND_DB_URL = frozenset(
    {"tortoise.backends.base.config_generator.expand_db_url", "tortoise.expand_db_url"}
)
# A URL's query taken apart and put back (held-out-s8: josuekla/Practice-with-React's
# `params = parse_qs(urlparse(url).query)`, `params["sslmode"] = ["require"]` when it has
# none, `urlunparse(parsed._replace(query=urlencode(params, doseq=True)))`).
_QUERY_PARSE = "urllib.parse.parse_qs"
_QUERY_ENCODE = "urllib.parse.urlencode"
_SETTINGS_BASES = ("BaseSettings", "BaseModel", "Settings")
# urlsplit(url) / make_url(url) and back: the same URL text (edits are _URL_EDITS)
_URL_PASSTHROUGH = frozenset(
    {"urllib.parse.urlsplit", "urllib.parse.urlparse", "urllib.parse.urlunsplit"}
)
_URL_PASSTHROUGH_ENDS = ("urlunparse", "urlunsplit")
# A split URL's parts by place, and the functions that put them back
_SPLIT_FIELDS = {
    "urllib.parse.urlsplit": urls.SPLIT_FIELDS,
    "urllib.parse.urlparse": urls.PARSE_FIELDS,
}
_UNSPLIT_FIELDS = {
    "urllib.parse.urlunsplit": urls.SPLIT_FIELDS,
    "urllib.parse.urlunparse": urls.PARSE_FIELDS,
}
_URL_EDITS = frozenset(
    {"_replace", "set", "difference_update_query", "geturl", "render_as_string", "unicode_string"}
)
_DSN_TYPES = ("Dsn", "MultiHostUrl", "AnyUrl", "Url")
# The text before a formatted value that makes it a connection string's mode
_MODE_SLOT = re.compile(r"(?:^|[?&\s])(?:sslmode|ssl)=$")
_LIBRARY_CONSTANT_ROOTS = ("ssl.",)
_LIBRARY_MODULES = frozenset({"ssl", "os", "hashlib", "random", "base64", "binascii", "codecs"})


def ssl_origin(qual: str | None) -> str | None:
    """Canonical name of an ssl-module context factory, or None."""
    if qual in ("ssl.create_default_context", "ssl._create_unverified_context", "ssl.SSLContext"):
        return qual
    return None


@dataclass(frozen=True)
class Place:
    """Where an expression is evaluated: module and innermost scope, and the line."""

    module: ParsedModule
    scope: Scope
    line: int
    # read in the value of a binding written at `line` (`url = url.replace(...)`): the
    # bindings at that line are not made yet
    before: bool = False


_TOO_DEEP = "expression nested too deeply"
_REEXPORT_HOPS = 3  # a package __init__ importing the name from its module, and so on
_MAX_BASES = 8  # classes looked through for a method: the class and its project bases


class _Fork(Exception):
    """A part of the expression being built is a Choice: build it once per option."""

    def __init__(self, key: Hashable, options: Choice) -> None:
        super().__init__()
        self.key = key
        self.options = options


class Resolver:
    def __init__(self, budget: int = BASE_STEPS) -> None:
        self.effort = Effort(budget)
        # method scopes being resolved for a class attribute: `self.x` reads the class
        self._methods_of: dict[int, tuple[ast.ClassDef, ParsedModule]] = {}
        self._frames_left = _MAX_FRAMES  # calls a call-in-context search may still follow
        # a project function's returns read for one call: its scope -> that call's frame
        # (a parameter holds what this call passes), and the memo key part they make
        self._active: dict[int, tuple[_Frame, dict[str, Value]]] = {}
        self._frame_key: tuple[Hashable, ...] = ()
        self._too_large: str | None = None
        # while an expression is built once per option of a part: part -> the option
        self._overrides: dict[Hashable, Value] = {}
        self._computing = 0  # expressions being resolved (a fork needs one to catch it)
        # validator method scopes -> the value of the field they are given, and the
        # class whose other fields `values.get("X")` / `info.data["X"]` read
        self._validator_input: dict[int, Value] = {}
        self._validator_class: dict[int, tuple[ast.ClassDef, ParsedModule]] = {}

    @property
    def incomplete(self) -> str | None:
        """Why some values of the file were left unknown by a limit (the step budget, a
        value too large to follow), or None: what they decide is not judged, and the
        check says so for the file."""
        if self.effort.exceeded:
            return f"{BUDGET_EXCEEDED} ({self.effort.budget:,} value-resolution steps)"
        return self._too_large

    # --- entry points ----------------------------------------------------------
    def value(self, expr: ast.expr | None, place: Place, depth: int = 0) -> Value:
        """The one value an expression has when one answer is wanted: of several
        possible, the last binding's or the last return's (see `alternatives`)."""
        return primary(self.any(expr, place, depth))

    def alternatives(self, expr: ast.expr | None, place: Place) -> tuple[Value, ...]:
        """Every value the expression may have, at most MAX_ALTERNATIVES of them, the
        one `value` gives first; when more were possible the last one's notes say so."""
        found = self.any(expr, place)
        options = alternatives(found)
        if isinstance(found, Choice) and found.capped:
            most = MAX_ALTERNATIVES
            note = f"one of more than {most} possible values: only {most} followed"
            options = tuple(_noted(option, note) for option in options)
        return options

    def any(self, expr: ast.expr | None, place: Place, depth: int = 0) -> Value:
        """The expression's value, a Choice when it may be one of several."""
        if expr is None:
            return Const(None)
        if depth > MAX_DEPTH:
            self.effort.cut_by_depth()
            return Unknown(_TOO_DEEP)
        key = self._key(expr, place)
        known = self.effort.recall(key, depth)
        if known is not None:
            return known
        if not self.effort.spend():
            return Unknown(BUDGET_EXCEEDED)
        method = getattr(self, f"_{type(expr).__name__}", None)
        if method is None:
            return Unknown(f"a {type(expr).__name__} expression")
        mark = self.effort.begin()
        result: Value
        self._computing += 1
        try:
            result = self._distribute(method, expr, place, depth + 1)
        except ValueTooLarge as exc:
            self._too_large = self._too_large or exc.why
            result = Unknown(exc.why)
        finally:
            self._computing -= 1
        self.effort.end(mark, key, result, depth, (expr, place))
        return result

    def _key(self, expr: ast.expr, place: Place) -> Hashable:
        scope_key = id(place.scope)
        methods = scope_key in self._methods_of
        return (
            id(expr),
            id(place.module),
            scope_key,
            place.line,
            place.before,
            methods,
            self._frame_key,
        )

    def _distribute(
        self,
        method: Callable[[ast.expr, Place, int], Value],
        expr: ast.expr,
        place: Place,
        depth: int,
    ) -> Value:
        """Build the expression; when a part of it is a Choice, build it once per option
        of that part (each part's value is memoised, so a rebuild is cheap) and give the
        Choice of the results, at most MAX_ALTERNATIVES of them."""
        try:
            return method(expr, place, depth)
        except _Fork as fork:
            results: list[Value] = []
            capped = fork.options.capped
            for option in fork.options.options:
                if len(results) >= MAX_ALTERNATIVES or not self.effort.spend():
                    capped = True
                    break
                self._overrides[fork.key] = option
                try:
                    results.extend(alternatives(self._distribute(method, expr, place, depth)))
                finally:
                    del self._overrides[fork.key]
            return choice(results, capped)

    def _sub(self, expr: ast.expr | None, place: Place, depth: int) -> Value:
        """A part of an expression being built: one value (the expression is built once
        per option when the part may be one of several)."""
        if expr is None:
            return Const(None)
        key = self._key(expr, place)
        if key in self._overrides:
            return self._overrides[key]
        found = self.any(expr, place, depth)
        if isinstance(found, Choice):
            if self._computing:
                raise _Fork(key, found)
            return primary(found)
        return found

    # --- literals ----------------------------------------------------------------
    def _Constant(self, node: ast.Constant, place: Place, depth: int) -> Value:
        if isinstance(node.value, str):
            return Text.of(node.value)
        if isinstance(node.value, bool | int | float) or node.value is None:
            return Const(node.value)
        if isinstance(node.value, bytes):
            return Text.of(node.value.decode("latin-1"))
        return Unknown("a constant")

    def _JoinedStr(self, node: ast.JoinedStr, place: Place, depth: int) -> Value:
        result = Text(())
        defaulted: WrittenAt | None = None
        slot_literal: WrittenAt | None = None
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                result = result + Text.of(part.value)
            elif isinstance(part, ast.FormattedValue):
                inner = self._sub(part.value, place, depth)
                text = as_text(inner)
                if isinstance(inner, Const) and isinstance(inner.value, bool):
                    text = Text.of(str(inner.value))
                mode_slot = _MODE_SLOT.search(result.render()) is not None
                result = result + (text or Text((Unknown(_describe(part.value)),)))
                if mode_slot and isinstance(inner, Text):
                    defaulted = defaulted or inner.written
                    literal = None if defaulted else self._mode_literal(part.value, inner, place)
                    if literal is not None:
                        # `sslmode = "require"` in a branch, formatted in (held-out-s8:
                        # Shahaf-Yagoda's get_connection): the literal decides this reading
                        what = f"the sslmode written here, formatted in at line {node.lineno}"
                        at = WrittenAt(
                            place.module.path, literal.lineno, literal.col_offset + 1, what
                        )
                        slot_literal = slot_literal or at
        if slot_literal is not None and defaulted is None:
            return _rescheme(replace(result, written=slot_literal))
        if defaulted is not None:
            # the mode formatted in is a written default (`f"…sslmode={getenv('M', 'require')}"`):
            # the string is written here, where the template and that default meet (class 8);
            # a default elsewhere in it (a host) decides nothing, the template does
            what = f"the string written here from {defaulted.what}"
            written = WrittenAt(place.module.path, node.lineno, node.col_offset + 1, what)
            result = replace(result, written=written)
        return _rescheme(result)

    def _mode_literal(self, expr: ast.expr, value: Text, place: Place) -> ast.Constant | None:
        """The string literal a name formatted into a mode slot holds in this reading: its
        binding in the scope (or an enclosing one) whose literal is this value."""
        if not isinstance(expr, ast.Name) or value.known is None:
            return None
        scope: Scope | None = place.scope
        while scope is not None:
            bindings = scope.assigns.get(expr.id)
            if bindings:
                for binding in bindings:
                    literal = binding.value
                    if isinstance(literal, ast.Constant) and literal.value == value.known:
                        return literal
                return None
            scope = scope.parent
        return None

    def _BinOp(self, node: ast.BinOp, place: Place, depth: int) -> Value:
        if isinstance(node.op, ast.Add):
            left = self._sub(node.left, place, depth)
            right = self._sub(node.right, place, depth)
            left_text, right_text = as_text(left), as_text(right)
            textual = isinstance(left, Text | Unknown) or isinstance(right, Text | Unknown)
            if textual and left_text is not None and right_text is not None:
                return _rescheme(left_text + right_text)
        if isinstance(node.op, ast.Mod):  # "postgresql://%s@%s/%s" % (user, host, db)
            template = self._sub(node.left, place, depth)
            if isinstance(template, Text):
                text = self._percent(template, node.right, place, depth)
                if text is not None:
                    return _rescheme(text)
        if isinstance(node.op, ast.Div):  # yarl: url / "segment" clears the query
            left = self._sub(node.left, place, depth)
            if yarl_urls.is_url(left):
                assert isinstance(left, Text)
                return urls.strip_query(left, node.lineno)
        if isinstance(node.op, ast.BitOr):  # dict | dict, merged as {**left, **right}
            left = self._sub(node.left, place, depth)
            right = self._sub(node.right, place, depth)
            if isinstance(left, DictValue) or isinstance(right, DictValue):
                # an operand not read (an ini section, a caller's mapping) keeps the
                # other's keys, as a `**spread` not read does in a display
                return DictValue(_dict_items(left) + _dict_items(right), _complete(left, right))
        return Unknown(_describe(node))

    def _percent(self, template: Text, right: ast.expr, place: Place, depth: int) -> Text | None:
        """`template % args`: a tuple written there or named (its items), a mapping for
        `%(name)s` fields, else the one argument."""
        if isinstance(right, ast.Tuple):
            return urls.percent(template, [self._sub(e, place, depth) for e in right.elts])
        given = self._sub(right, place, depth)
        if isinstance(given, DictValue):
            return urls.percent_mapping(template, given)
        if isinstance(given, ListValue) and not isinstance(right, ast.List):
            return urls.percent(template, list(given.items))  # a tuple bound to a name
        return urls.percent(template, [given])

    def _Dict(self, node: ast.Dict, place: Place, depth: int) -> Value:
        items: list[tuple[str, Value]] = []
        complete = True
        for key, item in zip(node.keys, node.values, strict=True):
            if key is None:  # **spread
                spread = self._sub(item, place, depth)
                if isinstance(spread, DictValue):
                    items += spread.items
                    complete = complete and spread.complete
                else:
                    complete = False
                continue
            key_value = self._sub(key, place, depth)
            if isinstance(key_value, Text) and key_value.known is not None:
                value = self._sub(item, place, depth)
                if key_value.known in urls.TLS_KEYS:
                    # `"sslmode": "allow"` read later as `conf["sslmode"]` (held-out-s23
                    # intelmq's test sysconfig): the setting is written here
                    what = f"the {key_value.known} of the dict written here"
                    at = WrittenAt(place.module.path, item.lineno, item.col_offset + 1, what)
                    value = _placed_mode(value, at)
                items.append((key_value.known, value))
            else:
                complete = False
        written = None
        if hasattr(node, "lineno"):  # a display in the source (dict(...) builds one without)
            written = WrittenAt(place.module.path, node.lineno, node.col_offset + 1, "")
        return DictValue(tuple(items), complete, written)

    def _List(self, node: ast.List | ast.Tuple, place: Place, depth: int) -> Value:
        return ListValue(tuple(self._sub(e, place, depth) for e in node.elts))

    _Tuple = _List

    def _DictComp(self, node: ast.DictComp, place: Place, depth: int) -> Value:
        """`{k: f(v) for k, v in d.items()}`: d's keys (what decides TLS is which keys
        there are), each value kept when written as `v`, else unknown."""
        unknown = Unknown("a dict built by a comprehension")
        generator = node.generators[0] if len(node.generators) == 1 else None
        if generator is None or generator.ifs or not isinstance(generator.target, ast.Tuple):
            return unknown
        names = [e.id for e in generator.target.elts if isinstance(e, ast.Name)]
        source = generator.iter
        if (
            len(names) != 2
            or len(generator.target.elts) != 2
            or not isinstance(source, ast.Call)
            or not isinstance(source.func, ast.Attribute)
            or source.func.attr != "items"
            or not (isinstance(node.key, ast.Name) and node.key.id == names[0])
        ):
            return unknown
        mapping = self._sub(source.func.value, place, depth)
        if not isinstance(mapping, DictValue):
            return unknown
        kept = isinstance(node.value, ast.Name) and node.value.id == names[1]
        items = tuple(
            (key, value if kept else Unknown(f"key {key!r} rewritten by a comprehension"))
            for key, value in mapping.items
        )
        return DictValue(items, mapping.complete)

    def _IfExp(self, node: ast.IfExp, place: Place, depth: int) -> Value:
        # Either arm may run: both are values the expression may have.
        return choice((self.any(node.body, place, depth), self.any(node.orelse, place, depth)))

    def _BoolOp(self, node: ast.BoolOp, place: Place, depth: int) -> Value:
        # `os.getenv("X") or "fallback"`: the fallback is what runs when X is unset; a
        # falsy value (`None or "..."`, `"" or "..."`) gives way to what follows it,
        # option by option when the operand may be one of several.
        if isinstance(node.op, ast.Or):
            return self._either(node.values, place, depth, 0)
        return Unknown(_describe(node))

    def _either(self, operands: list[ast.expr], place: Place, depth: int, index: int) -> Value:
        value = self.any(operands[index], place, depth)
        if index == len(operands) - 1:
            return (
                _noted(value, "fallback after `or`")
                if index and not isinstance(value, Unknown)
                else value
            )
        results: list[Value] = []
        rest: Value | None = None
        for option in alternatives(value):
            if isinstance(option, Unknown) or _falsy(option):
                if rest is None:
                    rest = self._either(operands, place, depth, index + 1)
                if isinstance(rest, Unknown) and isinstance(option, Unknown):
                    rest = Unknown(_describe(operands[index]))
                results.append(rest)
                if isinstance(option, Unknown):
                    # `os.getenv("DATABASE_URL") or "sqlite:///…"`: when the deployment
                    # sets the URL, it is what runs (as for a reader's own default)
                    deployed = _deployed_instead(rest, _env_name(operands[index], place), place)
                    if deployed is not None:
                        results.append(deployed)
            else:
                results.append(_noted(option, "fallback after `or`") if index else option)
        return choice(results, _capped(value) or (rest is not None and _capped(rest)))

    def _Subscript(self, node: ast.Subscript, place: Place, depth: int) -> Value:
        qual = place.module.qualname(node.value)
        key = self._sub(node.slice, place, depth)
        key_text = key.known if isinstance(key, Text) else None
        if qual == "os.environ":
            return Unknown(f"environment variable {key_text or '?'}")
        cut = node.value
        if (
            isinstance(cut, ast.Call)
            and isinstance(cut.func, ast.Attribute)
            and cut.func.attr in ("split", "partition", "rsplit", "rpartition")
            and cut.args
            and isinstance(cut.args[0], ast.Constant)
            and cut.args[0].value == "?"
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == 0
        ):  # url.split("?")[0]: the URL without its query (and its TLS settings)
            receiver = self._sub(cut.func.value, place, depth)
            if isinstance(receiver, Text):
                return urls.strip_query(receiver, node.lineno)
        rest = _after_scheme(cut, node.slice)
        if rest is not None:  # url.split("://")[1]: all of the URL but its scheme
            receiver = self._sub(rest[0], place, depth)
            return _url_rest(receiver, rest, _describe(rest[0]))
        part = self._url_component(node, place, depth)
        if part is not None:
            return part
        field = self._validated_field(node.value, node.slice, place, depth)
        if field is not None:
            return field
        container = self._sub(node.value, place, depth)
        index = key.value if isinstance(key, Const) else None
        if (
            isinstance(container, ListValue)
            and isinstance(index, int)
            and not isinstance(index, bool)
            and -len(container.items) <= index < len(container.items)
        ):
            return container.items[index]  # `host, port = settings()` of a tuple
        if isinstance(container, DictValue) and key_text is not None:
            found = container.get(key_text)
            if found is not None:
                return found
            if not container.complete:
                return Unknown(f"key {key_text!r} of a dict built elsewhere")
            return Unknown(f"missing key {key_text!r}")
        return Unknown(_describe(node))

    def _url_component(self, node: ast.Subscript, place: Place, depth: int) -> Value | None:
        """`urlsplit(url)[3]` (what `scheme, netloc, path, query, fragment = urlsplit(url)`
        binds each name to, module.py): that part of the URL, holes kept; None when the
        subscript is not of such a call."""
        call, index = node.value, node.slice
        if not (isinstance(call, ast.Call) and call.args and isinstance(index, ast.Constant)):
            return None
        qual = place.module.qualname(call.func)
        fields = _SPLIT_FIELDS.get(qual or "")
        if fields is None or not isinstance(index.value, int) or isinstance(index.value, bool):
            return None
        if not 0 <= index.value < len(fields):
            return Unknown(f"item {index.value} of {qual}()")
        url = as_text(self.any(call.args[0], place, depth))
        found = urls.components(url, fields) if url is not None else None
        if found is None:
            return Unknown(f"the {fields[index.value]} of a URL not known")
        return found[fields[index.value]]

    # --- names -----------------------------------------------------------------
    def _Name(self, node: ast.Name, place: Place, depth: int) -> Value:
        return self.name(node.id, place, depth)

    def name(self, name: str, place: Place, depth: int) -> Value:
        if depth > MAX_DEPTH:  # imports are followed without an expression in between
            self.effort.cut_by_depth()
            return Unknown(_TOO_DEEP)
        scope: Scope | None = place.scope
        innermost = True
        while scope is not None:
            if isinstance(scope.node, ast.ClassDef) and not innermost:
                scope = scope.parent  # class bodies do not enclose their methods
                continue
            if name in scope.assigns:
                bindings = scope.assigns[name]
                line = place.line if innermost else None
                if name in scope.params and not _bound_before(bindings, line, place.before):
                    # `dburl = set_query_parameter(dburl, …)`: the parameter, read before
                    # the function binds the name (held-out-s22 pgworkload)
                    return self._parameter(name, scope, place, depth)
                at = Place(place.module, scope, place.line, place.before and innermost)
                return self._bound(name, bindings, at, line, depth)
            if name in scope.params:
                return self._parameter(name, scope, place, depth)
            scope = scope.parent
            innermost = False
        ref = place.module.aliases.get(name)
        if ref is not None:
            return self._imported(name, place, depth)
        return Unknown(f"name '{name}'")

    def _parameter(self, name: str, scope: Scope, place: Place, depth: int) -> Value:
        """A parameter holds its default or what a caller passes: each caller in the
        module is judged with its own value; a module function no call here passes it
        to, by its callers in the project's other modules (callers.py)."""
        options: list[Value] = []
        incoming = self._validator_input.get(id(scope))
        node = scope.node
        if incoming is not None and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            given = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            if len(given) > 1 and given[1] == name:  # (cls, value, ...): the field's value
                return incoming
        default = scope.params[name]
        active = self._active.get(id(scope))
        frame = active[0] if active is not None else None
        if active is not None and name in active[1]:
            # read for one call of the function: what that call passes (held-out-s20
            # clinicafisina: `_need("DB_HOST")` read every caller's key, eight options
            # that crowded out the environment's own world)
            return active[1][name]
        declared = (
            cli_options.click_declaration(place.module, node, name) if default is None else None
        )
        if declared is not None:  # `@click.option("--dsn", default=…)` over the command
            flag = cli_options.click_option_name(declared)
            declared_default = cli_options.click_default(declared)
            at = Place(place.module, scope.parent or place.module.scope, declared.lineno)
            if declared_default is None:
                options.append(Unknown(f"command-line option {flag}"))
            else:
                options.append(self._cli_default(declared_default, flag, at, depth))
        if default is not None and scope.parent is not None and _typer_annotated(node, name, place):
            # `dburl: Annotated[str, typer.Option("--url")] = "postgres://…"`: the option's
            # default, as `typer.Option("postgres://…", "--url")` would be
            at = Place(place.module, scope.parent, default.lineno)
            options.append(self._cli_default(default, f"parameter {name}", at, depth))
        elif default is not None and scope.parent is not None:
            value = self.any(default, Place(place.module, scope.parent, place.line), depth)
            what = (
                f"the default of parameter '{name}' of {scope.name}(), used when a caller "
                "passes none"
            )
            written = _written_default(place.module.path, default, what)
            if written is None:  # a URL with no TLS setting as the default: placed there
                value = _written_connection_string(value, default, default.lineno, place.module)
            note = f"{name}: default of parameter of {scope.name}()"
            options.append(_noted(value, note, written))
        key = (id(scope), "<parameter>", name)
        if frame is not None and frame.complete and options:
            return choice(options)  # this call passes none: the default
        if scope.is_function and self.effort.enter(key):
            try:
                options += self._passed(name, scope, place.module, depth)
                if default is None and not options:
                    options += self._fixture(name, scope, place.module, depth)
            finally:
                self.effort.leave(key)
        if not options:
            return Unknown(f"parameter '{name}' of {scope.name}()")
        return choice(options, len(options) > MAX_ALTERNATIVES)

    def _fixture(self, name: str, scope: Scope, module: ParsedModule, depth: int) -> list[Value]:
        """A test's (or a fixture's) parameter: what the pytest fixture of that name
        returns or yields (pytest_fixtures.py); nothing when none is in the tree."""
        if not pytest_fixtures.receives_fixtures(module, scope):
            return []
        found = pytest_fixtures.find(module, name, scope.node)
        if found is None:
            return []
        fixture_module, function = found
        fixture_scope = fixture_module.scope_of(function)
        if fixture_scope is None:
            return []
        made = pytest_fixtures.produced(function)[-MAX_ALTERNATIVES - 1 :]
        where = "" if fixture_module is module else f" ({_where(fixture_module, function)})"
        return [
            _noted(
                self.any(expr, Place(fixture_module, fixture_scope, line), depth),
                f"{name}: the pytest fixture {function.name}(){where}",
            )
            for expr, line in made
        ]

    def _passed(self, name: str, scope: Scope, module: ParsedModule, depth: int) -> list[Value]:
        node = scope.node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return []
        positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        owner = scope.parent.node if scope.parent else None
        if isinstance(owner, ast.ClassDef):
            # a method: `self.name(...)` (self not passed); __init__: `Owner(...)`
            positional = positional[1:]
            wanted = ast.Name if node.name == "__init__" else ast.Attribute
            calls = module.calls_of(owner.name if node.name == "__init__" else node.name)
        else:
            wanted, calls = ast.Name, module.calls_of(node.name)
        sites = [(module, call, caller) for call, caller in calls if isinstance(call.func, wanted)]
        found: list[Value] = []
        keyword_only = {a.arg for a in node.args.kwonlyargs}
        collects = node.args.kwarg is not None and node.args.kwarg.arg == name
        # a module's class built by no call here: its constructor's callers elsewhere
        # (`DatabaseEngine(host=url)` in lifespan.py for db.py's __init__(self, host))
        constructed = (
            node.name == "__init__"
            and isinstance(owner, ast.ClassDef)
            and scope.parent is not None
            and scope.parent.parent is module.scope
        )
        # a function only calling itself here (recursion, a thread of itself) is still
        # called from elsewhere (held-out-s22 pgworkload's worker)
        only_itself = all(caller is scope for _, _, caller in sites)
        if only_itself and (scope.parent is module.scope or constructed):
            # a module's function no call here passes the parameter to: its callers in the
            # project's other modules (callers.py; bounded, cached per function)
            searched = owner.name if constructed and isinstance(owner, ast.ClassDef) else node.name
            others = callers.elsewhere(module, searched)
            sites += others.calls
            if not others.complete:
                found.append(Unknown(f"parameter '{name}' of {node.name}() ({others.why})"))
        for in_module, call, caller in sites:
            if len(found) > MAX_ALTERNATIVES:
                break
            if not isinstance(call.func, wanted):
                continue
            if collects:  # `**kwargs`: the keywords no other parameter takes, as a dict
                named = keyword_only | set(positional)
                value = self._collected(call, named, Place(in_module, caller, call.lineno), depth)
                where = f"line {call.lineno}" if in_module is module else _where(in_module, call)
                found.append(_noted(value, f"{name}: the keywords of the call at {where}"))
                continue
            argument: ast.expr | None = None
            spread = any(isinstance(a, ast.Starred) for a in call.args)
            if name in positional and not spread:
                index = positional.index(name)
                if 0 <= index < len(call.args):
                    argument = call.args[index]
            for keyword in call.keywords:
                if keyword.arg == name:
                    argument = keyword.value
                elif keyword.arg is None:
                    spread = True
            if argument is None:
                if spread:
                    found.append(Unknown(f"parameter '{name}' of {node.name}() (passed by *)"))
                continue  # the default (or nothing) for this caller
            if (
                caller is scope
                and isinstance(argument, ast.Name)
                and argument.id == name
                and not any(b.line <= call.lineno for b in scope.assigns.get(name, []))
            ):
                # the function calling itself (or starting itself on a thread) with the
                # value it was given: no value its other callers do not pass (held-out-s22
                # pgworkload's worker threads), where following it only meets itself
                continue
            value = self.any(argument, Place(in_module, caller, call.lineno), depth)
            if _test_stand_in(in_module, value):
                continue  # `process_job("db-url", job)` under a mock: test data, no connection
            where = f"line {call.lineno}" if in_module is module else _where(in_module, call)
            found.append(_noted(value, f"{name}: passed by the call at {where}"))
        return found

    def _collected(self, call: ast.Call, named: set[str], place: Place, depth: int) -> Value:
        """What a `**kwargs` parameter holds for one call: its keywords that name no other
        parameter, `**mapping` spreads merged in order (held-out-s13: crintus'
        `pg_isready(**config)` into `psycopg2.connect(**kwargs)`)."""
        # each world of the keywords (a spread dict may be one of several, values.Choice)
        worlds: list[tuple[tuple[tuple[str, Value], ...], bool]] = [((), True)]
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg in named:
                continue
            value = self.any(keyword.value, place, depth)
            options = value.options if isinstance(value, Choice) else (value,)
            if keyword.arg is not None:
                dicts = [DictValue(((keyword.arg, option),)) for option in options]
            elif all(isinstance(option, DictValue) for option in options):
                dicts = [option for option in options if isinstance(option, DictValue)]
            else:
                return Unknown("keyword arguments passed through **")
            worlds = [
                (items + tuple((k, v) for k, v in d.items if k not in named), done and d.complete)
                for items, done in worlds
                for d in dicts
            ][: MAX_ALTERNATIVES + 1]
        values: list[Value] = [DictValue(items, done) for items, done in worlds]
        return choice(values, len(values) > MAX_ALTERNATIVES)

    def _bound(
        self, name: str, bindings: list[Binding], place: Place, line: int | None, depth: int
    ) -> Value:
        """Every binding of the name that may hold where it is read: a later binding
        replaces an earlier one only when it runs whenever that one did, and a binding
        in another arm of the same if/match as the read cannot reach it. Dicts get the
        changes made to them after their binding (conditional ones: with and without)."""
        # a read at an earlier line is another definition: `url = url.replace(...)`
        key = (id(place.scope), name, line, place.before)
        if not self.effort.enter(key):
            return Unknown(f"'{name}' defined in terms of itself")
        try:
            here = place.scope.branch_at(line) if line is not None and len(bindings) > 1 else ()
            visible = [
                b
                for b in bindings
                if line is None or b.line < line or (b.line == line and not place.before)
            ]
            if not visible:  # read before any binding: a later one (a loop, a global)
                visible = bindings
            live: list[Binding] = []
            for binding in visible:
                if binding.augmented or excludes(binding.branch, here):
                    continue
                if line is not None and here[: len(binding.branch)] == binding.branch:
                    # on the read's own path (its arms hold the read): whatever was bound
                    # before it is replaced before the read runs (`if prod: url = A` ...
                    # `if prod: url = B; connect(url)` reads B only)
                    live = []
                live = [b for b in live if not runs_whenever(binding.branch, b.branch)]
                live.append(binding)
            if 1 < len(live) <= _COVER_CHECK:
                live = [b for b in live if not _covered(b, live)]
            if not live:
                live = [b for b in visible if not b.augmented][-1:] or visible[:1]
            options: list[Value] = []
            mutations = place.scope.mutations.get(name, [])
            extras = [b for b in visible if b.augmented]
            for binding in reversed(live):  # the last binding first
                if len(options) >= MAX_ALTERNATIVES:
                    break
                at = Place(place.module, place.scope, binding.line, before=True)
                value = self.any(binding.value, at, depth)
                value = _written_connection_string(value, binding.value, binding.line, place.module)
                changes: list[Mutation | Binding] = [*mutations, *extras]
                if changes:
                    changes.sort(key=lambda change: change.line)
                    value = self._changed(value, binding, changes, place, line, depth)
                options.append(value)
            value = choice(_one_written_string(options), len(live) > MAX_ALTERNATIVES)
            return choice(
                (
                    self._mutated(name, item, place, depth)
                    if isinstance(item, ContextValue)
                    else item
                    for item in alternatives(value)
                ),
                _capped(value),
            )
        finally:
            self.effort.leave(key)

    def _augmented(self, value: Value, extra: Binding, place: Place, depth: int) -> Value:
        at = Place(place.module, place.scope, extra.line, before=True)
        added = self.any(extra.value, at, depth)
        results: list[Value] = []
        for base in alternatives(value):
            for more in alternatives(added):
                text, tail = as_text(base), as_text(more)
                results.append(text + tail if text is not None and tail is not None else base)
        return choice(results, _capped(value) or _capped(added))

    def _changed(
        self,
        value: Value,
        binding: Binding,
        mutations: list[Mutation | Binding],
        place: Place,
        line: int | None,
        depth: int,
    ) -> Value:
        """The states the bound value may be in at the read: the changes written after
        the binding and before the read (a dict's items, `x += ...`), each certain when
        it runs whenever the binding did, and otherwise made in some states and not in
        others. The states remember
        the if/else arms they took, so the arms of one `if` are never combined, and an
        `if`/`else` that changes the dict in both arms leaves no unchanged state."""
        here = place.scope.branch_at(line) if line is not None else ()
        states = [State(option) for option in alternatives(value)]
        capped = _capped(value)
        relevant = [
            m
            for m in mutations
            if m.line > binding.line
            and (line is None or m.line <= line)
            and not excludes(m.branch, here)
            and not excludes(m.branch, binding.branch)
        ]
        if len(relevant) > MAX_CHANGES:
            # more changes than any real code makes: the rest are not followed, and the
            # dicts say they are incomplete (their TLS keys stay undecided)
            relevant, capped = relevant[:MAX_CHANGES], True
            states = [
                replace(s, value=replace(s.value, complete=False))
                if isinstance(s.value, DictValue)
                else s
                for s in states
            ]
        last_use: dict[int, int] = {}
        for index, mutation in enumerate(relevant):
            for arm in mutation.branch:
                last_use[arm[0]] = index
        for index, mutation in enumerate(relevant):
            conditions = [a for a in mutation.branch if a not in here and a not in binding.branch]
            following: list[State] = []
            for state in states:
                dict_change = isinstance(mutation, Mutation)
                if dict_change and _builds_on_unread(state.value, mutation):
                    # a mapping read elsewhere (an ini section, a helper's dict) that this
                    # code then sets keys in: those keys are known, the rest are not
                    state = replace(state, value=DictValue((), complete=False))
                if (dict_change and not isinstance(state.value, DictValue)) or state.conflicts(
                    conditions
                ):
                    following.append(state)
                    continue
                taken = state.taking(conditions)
                if isinstance(mutation, Mutation):
                    assert isinstance(state.value, DictValue)
                    applied = self._apply(state.value, mutation, place, depth)
                else:
                    applied = self._augmented(state.value, mutation, place, depth)
                following += [replace(taken, value=item) for item in alternatives(applied)]
                capped = capped or _capped(applied)
                if not state.takes(conditions):
                    skipped = state.skipping(conditions)
                    if skipped is not None:
                        following.append(skipped)
            # an if/else no later change is in is forgotten: the states stay small
            done = {arm[0] for arm in mutation.branch if last_use.get(arm[0]) == index}
            if done:
                following = [state.forgetting(done) for state in following]
            states = []
            for state in following:  # equal states once
                if not any(state == kept for kept in states):
                    states.append(state)
            if len(states) > 2 * MAX_ALTERNATIVES:
                states, capped = states[: 2 * MAX_ALTERNATIVES], True
        return choice((state.value for state in states), capped)

    def _apply(self, target: DictValue, mutation: Mutation, place: Place, depth: int) -> Value:
        at = Place(place.module, place.scope, mutation.line)
        keys: list[str] = []
        for key_expr in mutation.keys:
            key = primary(self.any(key_expr, at, depth))
            if not (isinstance(key, Text) and key.known is not None):
                return replace(target, complete=False)
            keys.append(key.known)
        if mutation.method:
            changes = self._method_changes(mutation, at, depth)
            if changes is None:  # an update with what cannot be seen
                return target if mutation.method == "pop" else replace(target, complete=False)
            return choice(at_path(target, keys, change) for change in changes)
        if mutation.value is None:  # del d["k"]
            return at_path(target, keys[:-1], Removal(keys[-1])) if keys else target
        new = self.any(mutation.value, at, depth)
        if keys and keys[-1] in urls.TLS_KEYS:
            # `connect_args["sslmode"] = TLS_MODE_DISABLE` (held-out-s23 sqlit): a setting
            # word is written here, whatever the dict's display said
            what = f"the {keys[-1]} written here"
            column = mutation.value.col_offset + 1
            new = _placed_mode(new, WrittenAt(place.module.path, mutation.line, column, what))
        return choice(
            (
                at_path(target, keys[:-1], DictValue(((keys[-1], item),)))
                for item in alternatives(new)
            ),
            _capped(new),
        )

    def _method_changes(self, mutation: Mutation, at: Place, depth: int) -> list[Change] | None:
        """What d.update(...) / d.setdefault(k, v) / d.pop(k) / d |= {...} does to the
        dict: the changes it may make, None when they cannot be known."""
        call, method = mutation.call, mutation.method
        if method == "update":
            if mutation.value is not None:  # d |= {...}
                merged = self.any(mutation.value, at, depth)
            elif call is not None:
                merged = self._dict_call(call, at, depth)
            else:
                return None
            options = alternatives(merged)
            if not all(isinstance(m, DictValue) for m in options):
                return None
            return [m for m in options if isinstance(m, DictValue)]
        if call is None or not call.args:
            return None
        key = primary(self.any(call.args[0], at, depth))
        if not (isinstance(key, Text) and key.known is not None):
            return None
        if method == "pop":
            return [Removal(key.known)]
        item = self.any(call.args[1], at, depth) if len(call.args) > 1 else Const(None)
        return [Default(key.known, option) for option in alternatives(item)]

    def _imported(self, name: str, place: Place, depth: int) -> Value:
        ref = place.module.aliases[name]
        found = place.module.find_import(ref)
        if found is None:
            return Symbol(ref.dotted.lstrip("."))
        module, attr = found
        if attr is None:
            return ModuleValue(f"module {module.path.stem}", module)
        inner = Place(module, module.scope, 10**9)
        return self.name(attr, inner, depth + 1)

    # --- attributes ----------------------------------------------------------------
    def _Attribute(self, node: ast.Attribute, place: Place, depth: int) -> Value:
        qual = place.module.qualname(node)
        if qual and qual.startswith(_LIBRARY_CONSTANT_ROOTS) and _is_library(node, place):
            return Symbol(qual)
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            owner_of_self = self._methods_of.get(id(place.scope)) or _enclosing_class(place)
            if owner_of_self is not None:
                return self.class_attribute(owner_of_self[0], owner_of_self[1], node.attr, depth)
        if node.attr == "url":
            carried = self._carried_url(node.value, place, depth)
            if carried is not None:
                return carried
        if isinstance(node.value, ast.Name):
            option = self._argparse_option(node.value.id, node.attr, place, depth)
            if option is not None:
                return option
        base = self._sub(node.value, place, depth)
        if isinstance(base, ModuleValue) and base.module is not None:
            return self.name(node.attr, Place(base.module, base.module.scope, 10**9), depth)
        owner = self.settings_class(node.value, place, depth)
        if owner is not None:
            return self.class_attribute(owner[0], owner[1], node.attr, depth)
        if isinstance(base, Symbol):
            return Symbol(f"{base.dotted}.{node.attr}")
        return Unknown(_describe(node))

    def _argparse_option(self, name: str, attr: str, place: Place, depth: int) -> Value | None:
        """`args.database_url` with `args = parser.parse_args()`: the option's default,
        judged where it is written, or the command line's (unknown) without one
        (argparse_options.py); None when `name` is not such a namespace."""
        # the namespace is bound in this module (looked up without following imports:
        # every `x.attr` read asks, so this stays a few dict lookups)
        scope: Scope | None = place.scope
        while scope is not None and name not in scope.assigns:
            scope = scope.parent
        if scope is None:
            return None
        binding = scope.assigns[name][-1]
        expr, at = binding.value, Place(place.module, scope, binding.line)
        parser = argparse_options.parser_of(expr)
        if parser is None:
            return None
        call = argparse_options.option(at.module, parser, attr)
        if call is None:
            return None
        default = argparse_options.default_of(call)
        if default is None:
            return Unknown(f"command-line option {attr}")
        return self._cli_default(
            default, attr, Place(at.module, at.module.scope, call.lineno), depth
        )

    def _dict_get(self, node: ast.Call, place: Place, depth: int) -> Value | None:
        """`d.get("k")` / `d.get("k", default)` of a dict known here (held-out-s23
        abondar's `config.get("database")` of a loaded YAML file): the item, else the
        default (None without one) when the dict is complete; None when the receiver
        is no dict known here (another `.get`: a settings object, a mapping elsewhere)."""
        assert isinstance(node.func, ast.Attribute)
        receiver = self._sub(node.func.value, place, depth)
        if not isinstance(receiver, DictValue) or len(node.args) > 2:
            return None
        key = as_text(self._sub(node.args[0], place, depth))
        if key is None or key.known is None:
            return Unknown("an item of a dict by a key not known")
        found = receiver.get(key.known)
        if found is not None:
            return found
        if not receiver.complete:
            return Unknown(f"key {key.known!r} of a dict built elsewhere")
        fallback = node.args[1] if len(node.args) == 2 else None
        fallback = next((k.value for k in node.keywords if k.arg == "default"), fallback)
        return self._sub(fallback, place, depth) if fallback is not None else Const(None)

    def _opened_name(self, expr: ast.expr, wants: str, place: Place, depth: int) -> str | None:
        """The tree file a loader's argument reads (data_files.opened_file), through the
        name a `with open("F") as stream` or an assignment binds."""
        if isinstance(expr, ast.Name):
            bound = self._binding_expr(expr.id, place, depth)
            if bound is None:
                return None
            expr = bound[0]
        return data_files.opened_file(expr, wants)

    def _cli_default(self, default: ast.expr, option: str, place: Place, depth: int) -> Value:
        """A command-line option's default (argparse, typer, click: argparse_options.py,
        cli_options.py), the value a command runs with when the option is not given. It
        is one decision for every connection the command opens: a setting word or a URL
        written there (with its TLS setting or without) is reported there, the calls
        related (held-out-s22 pgworkload's `--url` default reaches six connects)."""
        value = self.any(default, place, depth)
        value = _written_connection_string(value, default, default.lineno, place.module)
        what = f"the default of command-line option {option}, used when it is not given"
        written = _written_default(place.module.path, default, what)
        if written is None and _connection_url_literal(default):
            written = WrittenAt(place.module.path, default.lineno, default.col_offset + 1, what)
        return _noted(value, f"{option}: {what}", written)

    def _carried_url(self, expr: ast.expr, place: Place, depth: int) -> Value | None:
        """The URL a connection object was made with, for its `.url` attribute:
        `database = databases.Database(URL)` then `create_engine(str(database.url))`
        (held-out-s9), `engine.url` of `create_engine(URL)`. None when expr is not such
        an object (or its URL argument is not written)."""
        bound = (expr, place)
        if isinstance(expr, ast.Name):
            bound = self._binding_expr(expr.id, place, depth) or bound
        call, at = bound
        if not isinstance(call, ast.Call) or at.module.qualname(call.func) not in _URL_CARRIERS:
            return None
        argument = call.args[0] if call.args and not isinstance(call.args[0], ast.Starred) else None
        argument = next((k.value for k in call.keywords if k.arg == "url"), argument)
        if argument is None:
            return None
        return self.any(argument, Place(at.module, at.scope, call.lineno), depth + 1)

    def settings_class(
        self, expr: ast.expr, place: Place, depth: int
    ) -> tuple[ast.ClassDef, ParsedModule] | None:
        """The class an object expression is an instance (or the class) of, when defined
        in the project: `Settings()`, `settings` bound to it, `get_settings()`."""
        if depth > MAX_DEPTH:
            self.effort.cut_by_depth()
            return None
        if isinstance(expr, ast.Call):
            found = self.class_named(expr.func, place)
            if found is not None:
                return found
            function = self.function_named(expr.func, place)
            if function is not None:
                fn_module, fn_node = function
                fn_scope = fn_module.scope_of(fn_node)
                if fn_scope is not None and fn_scope.returns:
                    inner = Place(fn_module, fn_scope, 10**9)
                    return self.settings_class(fn_scope.returns[-1], inner, depth + 1)
            func = expr.func
            if isinstance(func, ast.Attribute):  # Config.from_env(): a factory classmethod
                owner = self.class_named(func.value, place)
                if owner is not None:
                    return owner
            return None
        if isinstance(expr, ast.BoolOp):  # `settings or Settings()`
            for operand in expr.values:
                found = self.settings_class(operand, place, depth + 1)
                if found is not None:
                    return found
            return None
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            # `settings.db` of a project module `settings` holding `db = DatabaseSettings
            # .parse_obj({})` (held-out-s23 v3ss0n/copier-litestar-pg-redis-docker)
            base = self._sub(expr.value, place, depth + 1)
            if isinstance(base, ModuleValue) and base.module is not None:
                name = ast.copy_location(ast.Name(id=expr.attr, ctx=ast.Load()), expr)
                inner = Place(base.module, base.module.scope, 10**9)
                return self.settings_class(name, inner, depth + 1)
        if isinstance(expr, ast.Attribute) and not (
            isinstance(expr.value, ast.Name) and expr.value.id == "self"
        ):
            # a nested settings model: `settings.db` where Settings declares
            # `db: DatabaseSettings` (held-out-s8: Lems0n/aiogram_template's
            # `settings.db.postgres_connection()`), looked up in the class and its bases
            # The class comes from the annotation, else from the value: an instance
            # (`pg = PGSettings()`, pydantic v1 infers the field from it: held-out-s19,
            # proper-FastAPI-startup) or `Field(default_factory=PGSettings)`.
            outer = self.settings_class(expr.value, place, depth + 1)
            for cls, module in self.lineage(outer):
                for statement in cls.body:
                    member = _class_member(statement, expr.attr)
                    if member is None:
                        continue
                    annotation, value = member
                    inner = Place(module, module.scope, 10**9)
                    if annotation is not None:
                        found = self.class_named(_optional_inner(annotation), inner)
                        if found is not None:
                            return found
                    if value is not None:
                        factory = _default_factory(value)
                        if factory is not None:
                            return self.class_named(factory, inner)
                        return self.settings_class(value, inner, depth + 1)
            return None
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            owner = _enclosing_class(place)
            if owner is None:
                return None
            for assigned, at in _self_assignments(owner[0], owner[1], expr.attr):
                found = self.settings_class(assigned, at, depth + 1)
                if found is not None:
                    return found
            return None
        if isinstance(expr, ast.Name):
            found = self.class_named(expr, place)
            if found is not None:
                return found
            binding = self._binding_expr(expr.id, place, depth + 1)
            if binding is not None:
                return self.settings_class(binding[0], binding[1], depth + 1)
            annotation = _parameter_annotation(expr.id, place)
            if annotation is not None:  # `def f(settings: Settings)`
                return self.class_named(annotation, place)
        return None

    def _binding_expr(self, name: str, place: Place, depth: int) -> tuple[ast.expr, Place] | None:
        if depth > MAX_DEPTH:  # `from a import x` in b.py and `from b import x` in a.py
            self.effort.cut_by_depth()
            return None
        scope: Scope | None = place.scope
        while scope is not None:
            if name in scope.assigns:
                binding = scope.assigns[name][-1]
                return binding.value, Place(place.module, scope, binding.line)
            scope = scope.parent
        ref = place.module.aliases.get(name)
        if ref is not None:
            found = place.module.find_import(ref)
            if found is not None:
                module, attr = found
                if attr is not None:
                    return self._binding_expr(attr, Place(module, module.scope, 10**9), depth + 1)
        return None

    def class_named(self, expr: ast.expr, place: Place) -> tuple[ast.ClassDef, ParsedModule] | None:
        found = _definition(expr, place, lambda module: module.classes)
        return (found[1], found[0]) if found else None

    def function_named(
        self, expr: ast.expr, place: Place
    ) -> tuple[ParsedModule, ast.FunctionDef | ast.AsyncFunctionDef] | None:
        return _definition(expr, place, lambda module: module.functions)

    def method_named(
        self, expr: ast.expr, place: Place, depth: int
    ) -> tuple[ParsedModule, ast.FunctionDef | ast.AsyncFunctionDef] | None:
        """The project method `obj.m` names (issue 12 class 3): on `self`/`cls`, a
        project class, an instance of one (`Config(…).uri()`, a name bound to it, a
        factory's return), looked up in the class and then its project bases."""
        if not isinstance(expr, ast.Attribute):
            return None
        receiver = expr.value
        if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
            owner = self._methods_of.get(id(place.scope)) or _enclosing_class(place)
        else:
            owner = self.settings_class(receiver, place, depth + 1)
        for cls, module in self.lineage(owner):
            for statement in cls.body:
                methods = ast.FunctionDef | ast.AsyncFunctionDef
                if isinstance(statement, methods) and statement.name == expr.attr:
                    return module, statement
        return None

    def lineage(
        self, owner: tuple[ast.ClassDef, ParsedModule] | None
    ) -> list[tuple[ast.ClassDef, ParsedModule]]:
        """A project class and its project bases, nearest first (at most _MAX_BASES)."""
        found: list[tuple[ast.ClassDef, ParsedModule]] = []
        pending = [owner] if owner is not None else []
        while pending and len(found) < _MAX_BASES:
            cls, module = pending.pop(0)
            found.append((cls, module))
            inner = Place(module, module.scope, 10**9)
            pending += [b for b in (self.class_named(base, inner) for base in cls.bases) if b]
        return found

    def class_attribute(
        self, owner: ast.ClassDef, module: ParsedModule, attr: str, depth: int
    ) -> Value:
        """What `obj.attr` may be for an instance of a project class: the field's default
        (pydantic: unless the environment sets it), what a validator for the field
        returns (it replaces the value), a property's returns, what the class's methods
        assign to `self.attr`, and for a dataclass or model what its constructions
        pass for the field."""
        scope = module.scope_of(owner)
        if scope is None:
            return Unknown(f"attribute {owner.name}.{attr}")
        key = (id(owner), "<attribute>", attr)
        if not self.effort.enter(key):
            return Unknown(f"attribute {owner.name}.{attr} defined in terms of itself")
        try:
            options = self._attribute_options(owner, module, scope, attr, depth)
            if not options:  # a field or property of a base class (Settings(DbSettings))
                options = self._inherited_options(owner, module, attr, depth)
        finally:
            self.effort.leave(key)
        if not options:
            if _is_settings_class(owner):
                return Unknown(f"settings field {owner.name}.{attr} (environment, no default)")
            return Unknown(f"attribute {owner.name}.{attr}")
        return choice(options, len(options) > MAX_ALTERNATIVES)

    def _inherited_options(
        self, owner: ast.ClassDef, module: ParsedModule, attr: str, depth: int
    ) -> list[Value]:
        """`attr` as the project base classes define it, nearest first (a few levels:
        each base is entered once per attribute, as class_attribute's own key)."""
        for base in owner.bases:
            found = _definition(base, Place(module, module.scope, 10**9), lambda m: m.classes)
            if found is None or not isinstance(found[1], ast.ClassDef) or found[1] is owner:
                continue
            base_module, base_class = found
            base_scope = base_module.scope_of(base_class)
            key = (id(base_class), "<attribute>", attr)
            if base_scope is None or not self.effort.enter(key):
                continue
            try:
                options = self._attribute_options(base_class, base_module, base_scope, attr, depth)
                options = options or self._inherited_options(base_class, base_module, attr, depth)
            finally:
                self.effort.leave(key)
            if options:
                return options
        return []

    def _attribute_options(
        self, owner: ast.ClassDef, module: ParsedModule, scope: Scope, attr: str, depth: int
    ) -> list[Value]:
        settings = _is_settings_class(owner)
        options: list[Value] = []
        bindings = scope.assigns.get(attr)
        default: Value | None = None
        if bindings:
            expr = field_default(bindings[-1].value)
            if expr is None:  # Field(description=...): set by the environment only
                default = Unknown(f"settings field {owner.name}.{attr} (environment, no default)")
            else:
                default = self.any(expr, Place(module, scope, 10**9), depth)
            if settings:
                what = (
                    f"the default of settings field {owner.name}.{attr}, used when the "
                    "environment sets none"
                )
                written = _written_default(module.path, expr, what)
                literal = dsn_literal(expr)
                if written is None and literal is not None:
                    # a URL with no TLS setting as the default: placed there, for every
                    # reader in another module (a call's argument, an Alembic section's
                    # sqlalchemy.url; placement.written_place keeps a reader in the same
                    # module at its call, as settings_default_place does)
                    marked = _written_connection_string(default, literal, literal.lineno, module)
                    url_what = f"{SETTINGS_URL_WRITTEN} {owner.name}.{attr}, used when unset"
                    default = _restamped(marked, default, url_what)
                note = f"{attr}: default of settings field {owner.name}.{attr}"
                default = _noted(default, note, written)
        methods = [n for n in owner.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        validators = [m for m in methods if _validates(m, attr)]
        for method in methods:
            method_scope = module.scope_of(method)
            if method_scope is None:
                continue
            self._methods_of[id(method_scope)] = (owner, module)
            if method in validators or (method.name == attr and not bindings):
                # a validator's returns replace the field's value; a @property or
                # @computed_field builds it from the other fields
                if method in validators:
                    self._validator_input[id(method_scope)] = default or Unknown(
                        f"settings field {owner.name}.{attr} as given"
                    )
                    self._validator_class[id(method_scope)] = (owner, module)
                why = "validator" if method in validators else "property"
                built: list[Value] = []
                for line, expr in zip(method_scope.return_lines, method_scope.returns, strict=True):
                    value = self.any(expr, Place(module, method_scope, line), depth)
                    # a URL with no TLS setting returned here is placed here, as a
                    # helper's return is (held-out-s21 pixAV's Settings.dsn property)
                    value = _written_connection_string(value, expr, line, module)
                    built.append(_noted(value, f"{attr}: {why} {method.name}() of {owner.name}"))
                options += _one_written_string(built)
                continue
            for name, binding in _object_assignments(method_scope):
                if name == attr:
                    at = Place(module, method_scope, binding.line)
                    value = self.any(binding.value, at, depth)
                    value = _written_connection_string(value, binding.value, binding.line, module)
                    options.append(_noted(value, f"{attr}: set by {owner.name}.{method.name}()"))
        if default is not None and not validators:
            options.insert(0, default)
        if _is_record_class(owner):
            options += self._constructed(owner, module, attr, depth)
        return options

    def _constructed(
        self, owner: ast.ClassDef, module: ParsedModule, attr: str, depth: int
    ) -> list[Value]:
        """What `Owner(attr=...)` and, in its classmethods, `cls(attr=...)` pass."""
        fields = [
            n.target.id
            for n in owner.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
        ]
        found: list[Value] = []
        calls = list(module.calls_of(owner.name))
        calls += [
            (call, caller)
            for call, caller in module.calls_of("cls")
            if caller.parent is not None and caller.parent.node is owner
        ]
        for call, caller in calls:
            if len(found) > MAX_ALTERNATIVES:
                break
            argument = next((k.value for k in call.keywords if k.arg == attr), None)
            if (
                argument is None
                and attr in fields
                and not any(isinstance(a, ast.Starred) for a in call.args)
            ):
                index = fields.index(attr)
                argument = call.args[index] if index < len(call.args) else None
            if argument is None:
                continue
            value = self.any(argument, Place(module, caller, call.lineno), depth)
            found.append(_noted(value, f"{attr}: given to {owner.name}() at line {call.lineno}"))
        return found

    # --- calls -------------------------------------------------------------------
    def _Call(self, node: ast.Call, place: Place, depth: int) -> Value:
        qual = place.module.qualname(node.func)
        read = env_read(place.module, node)
        if read is not None:
            return self._env(node, read, place, depth)
        if qual in _PASSTHROUGH and node.args:
            return self.any(node.args[0], place, depth)
        if qual in MAKE_CONNINFO:
            return self._make_conninfo(node, place, depth)
        reader = data_files.LOADERS.get(qual or "")
        if reader is not None:
            named = self._opened_name(node.args[0], reader[0], place, depth) if node.args else None
            if named is not None:  # `yaml.safe_load(open("config.yml"))`: the file's data
                return data_files.loaded(place.module, qual or "", named)
            # a stream not named here: the loader's data is not known (and a copy of the
            # library in the tree is not followed into)
            return Unknown(f"{qual}() of a stream not named here")
        if qual in cli_options.TYPER_PARAMETERS:
            flag = cli_options.typer_option_name(node) or "of the command"
            declared_default = cli_options.typer_default(node)
            if declared_default is None:
                return Unknown(f"command-line option {flag}")
            return self._cli_default(declared_default, flag, place, depth)
        if qual in _EXPAND_DB_URL and node.args:
            return _expanded_db_url(self.any(node.args[0], place, depth))
        if qual == _QUERY_PARSE and node.args:
            return self._parsed_query(node.args[0], place, depth)
        if qual == _QUERY_ENCODE and node.args:
            return self._encoded_query(node.args[0], place, depth)
        if qual in URL_CONSTRUCTOR:
            return self.url_create(node, place, depth, "URL()")
        if qual in URL_CREATE or (qual or "").endswith("URL.create"):
            return self.url_create(node, place, depth)
        if qual == "dict":
            return self._dict_call(node, place, depth)
        if qual == yarl_urls.BUILD:
            return self._yarl_build(node, place, depth)
        if qual == yarl_urls.CONSTRUCTOR and len(node.args) == 1 and not node.keywords:
            return self.any(node.args[0], place, depth)  # URL(text): the same URL
        origin = ssl_origin(qual)
        if origin is not None:
            return self.new_context(origin, node, place, depth)
        joins = _UNSPLIT_FIELDS.get(qual or "")
        if joins is not None and node.args and isinstance(node.args[0], ast.Tuple | ast.List):
            # urlunsplit((scheme, netloc, path, query, fragment)): the URL from its parts
            parts = [self._sub(e, place, depth) for e in node.args[0].elts]
            if len(parts) == len(joins):
                return urls.unsplit(parts, joins)
        if qual in _URL_PASSTHROUGH or (qual or "").endswith(_URL_PASSTHROUGH_ENDS):
            return self.any(node.args[0], place, depth) if node.args else Unknown("a URL")
        if isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in ("substitute", "safe_substitute"):
                template = self._template_text(node.func.value, place, depth)
                if template is not None:
                    return self._substituted(template, method, node, place, depth)
            if method in ("replace", "format", "format_map", "strip", "rstrip", "lstrip"):
                receiver = self._sub(node.func.value, place, depth)
                if isinstance(receiver, Text):
                    return self._string_method(receiver, method, node, place, depth)
            if method == "get" and node.args:
                field = self._validated_field(node.func.value, node.args[0], place, depth)
                if field is not None:
                    return field
                written = config_files.config_value(place.module, node)
                if written is not None:
                    return written
                item = self._dict_get(node, place, depth)
                if item is not None:
                    return item
            if method == "getoption":
                option = self._pytest_option(node, place, depth)
                if option is not None:
                    return option
            if method == "join" and len(node.args) == 1:
                separator = self._sub(node.func.value, place, depth)
                if isinstance(separator, Text) and separator.known is not None:
                    return self._joined(separator.known, node.args[0], place, depth)
            if method == "build" and (qual or "").rsplit(".", 1)[0].endswith(_DSN_TYPES):
                return self._dsn_build(node, place, depth)
            if method in yarl_urls.EDITS:
                receiver = self._sub(node.func.value, place, depth)
                if yarl_urls.is_url(receiver):
                    assert isinstance(receiver, Text)
                    return self._yarl_edit(receiver, method, node, place, depth)
            if method in _URL_EDITS:
                receiver = self._sub(node.func.value, place, depth)
                if isinstance(receiver, Text):
                    return self._url_edit(receiver, method, node, place, depth)
                if method == "_replace" and isinstance(receiver, Unknown):
                    query = next((k.value for k in node.keywords if k.arg == "query"), None)
                    if query is not None:
                        return self._unseen_with_query(receiver, query, place, depth)
        function = self.function_named(node.func, place) or self.method_named(
            node.func, place, depth
        )
        if function is not None:
            fn_module, fn_node = function
            fn_scope = fn_module.scope_of(fn_node)
            if fn_scope is not None and fn_scope.returns:
                key = (id(fn_scope), "<return>")
                # the arguments are read first, in the caller, as Python runs them: one
                # that calls the same helper (`get_env("URL", default=f"{get_env(...)}")`,
                # held-out-s21 phlasch) is its own call, not a cycle through the helper
                bound = self._bound_values(node, place, depth)
                if self.effort.enter(key):
                    outer_frame, outer_key = self._active.get(id(fn_scope)), self._frame_key
                    if bound is not None:  # its parameters hold what this call passes
                        frame, values, values_key = bound
                        self._active[id(fn_scope)] = (frame, values)
                        # keyed by the values, so calls passing the same share one reading
                        self._frame_key = (*outer_key, (id(fn_scope), values_key))
                    try:
                        returned = self._returns_of_call(node, place, depth)
                        if returned is None:
                            returned = self._returns(fn_scope, fn_module, depth)
                    finally:
                        self.effort.leave(key)
                        self._frame_key = outer_key
                        if outer_frame is None:
                            self._active.pop(id(fn_scope), None)
                        else:
                            self._active[id(fn_scope)] = outer_frame
                    return _noted(returned, f"returned by {fn_node.name}()")
        return Unknown(f"result of {qual or 'a call'}()")

    def _bound_values(
        self, node: ast.Call, place: Place, depth: int
    ) -> tuple[_Frame, dict[str, Value], Hashable] | None:
        """The callee's frame for this call and the values its parameters are given, with
        a key of those values (None when the callee is not followed, or a value cannot be
        a key: the function is then read as before, every caller's argument)."""
        frame = self._frame(node, place, None)
        if frame is None or not frame.bound:
            return None  # nothing passed: its parameters read as before (defaults, callers)
        # an argument that writes a connection URL with no TLS setting is where its
        # finding goes (`get_env("URL", default="{d}://{auth}@{host}".format(...))`:
        # held-out-s21 MartinThoma/phlasch), as a binding's or a default's is
        raw = {
            name: _written_connection_string(
                self.any(expr, at, depth), expr, expr.lineno, at.module
            )
            for name, (expr, at, _) in frame.bound.items()
        }
        values = {
            name: _noted(value, f"{name}: passed at line {frame.bound[name][1].line}")
            for name, value in raw.items()
        }
        values_key = (frame.complete, tuple(sorted(raw.items(), key=lambda item: item[0])))
        try:
            hash(values_key)
        except TypeError:
            return None
        return frame, values, values_key

    def _pytest_option(self, node: ast.Call, place: Place, depth: int) -> Value | None:
        """`request.config.getoption("--opt")`: the addoption default (resolved where it
        is written) or a value the tree's runner files pass (pytest_options); None when
        no conftest of the tree declares the option."""
        name = pytest_options.getoption_name(node)
        declared = pytest_options.declared(place.module.root, name) if name else None
        if declared is None:
            return None
        module, call, scope, strings = declared
        default = next((k.value for k in call.keywords if k.arg == "default"), None)
        options: list[Value] = list(pytest_options.passed_values(module.root, strings))
        if default is not None and not (
            isinstance(default, ast.Constant) and default.value is None
        ):
            found = self.any(default, Place(module, scope, call.lineno), depth + 1)
            options.insert(0, _noted(found, f"default of pytest option {strings[0]}"))
        if not options:
            return Unknown(f"pytest option {strings[0]} (no default, none passed in the tree)")
        return choice(options)

    def _validated_field(
        self, mapping: ast.expr, key: ast.expr, place: Place, depth: int
    ) -> Value | None:
        """In a pydantic validator, `values.get("X")` / `values["X"]` (v1) and
        `info.data.get("X")` (v2) read the model's field X; None elsewhere."""
        owner = self._validator_class.get(id(place.scope))
        node = place.scope.node
        if owner is None or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return None
        given = [a.arg for a in (*node.args.posonlyargs, *node.args.args)][2:]
        if isinstance(mapping, ast.Attribute) and mapping.attr == "data":
            mapping = mapping.value
        if not (isinstance(mapping, ast.Name) and mapping.id in given):
            return None
        name = primary(self.any(key, place, depth))
        if not (isinstance(name, Text) and name.known is not None):
            return None
        return self.class_attribute(owner[0], owner[1], name.known, depth)

    def _joined(self, separator: str, items: ast.expr, place: Place, depth: int) -> Value:
        """`" ".join(f"{k}={v}" for k, v in params.items())` (a libpq conninfo built from
        a dict) and `sep.join([...])` of strings."""
        pieces: list[Text] | None = None
        if isinstance(items, ast.List | ast.Tuple):
            texts = [as_text(self._sub(e, place, depth)) for e in items.elts]
            pieces = [t or Text((Unknown("a joined item"),)) for t in texts]
        elif isinstance(items, ast.GeneratorExp | ast.ListComp) and len(items.generators) == 1:
            pieces = self._joined_items(items.elt, items.generators[0], place, depth)
        if pieces is None:
            return Unknown("a joined string")
        result = Text(())
        for index, piece in enumerate(pieces):
            result = result + (Text.of(separator) + piece if index else piece)
        if isinstance(items, ast.GeneratorExp | ast.ListComp):
            # a dict's entries joined (the shape _joined_items read): every key of the
            # string is written in the dict, where a finding about one is reported
            # (class 8), not at the join
            source = items.generators[0].iter
            assert isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute)
            mapping = self._sub(source.func.value, place, depth)
            if isinstance(mapping, DictValue) and mapping.written is not None:
                what = (
                    f"the dict written here, joined into a connection string at line {items.lineno}"
                )
                result = replace(result, written=replace(mapping.written, what=what))
        return result

    def _joined_items(
        self, element: ast.expr, loop: ast.comprehension, place: Place, depth: int
    ) -> list[Text] | None:
        source = loop.iter
        target = loop.target
        if loop.ifs or not (
            isinstance(source, ast.Call)
            and isinstance(source.func, ast.Attribute)
            and source.func.attr == "items"
            and isinstance(target, ast.Tuple)
            and len(target.elts) == 2
            and all(isinstance(e, ast.Name) for e in target.elts)
            and isinstance(element, ast.JoinedStr)
        ):
            return None
        mapping = self._sub(source.func.value, place, depth)
        if not isinstance(mapping, DictValue) or not mapping.complete:
            return None
        key_name, value_name = (e.id for e in target.elts if isinstance(e, ast.Name))
        pieces: list[Text] = []
        for key, item in mapping.items:
            text = Text(())
            for part in element.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    text = text + Text.of(part.value)
                    continue
                inner = part.value if isinstance(part, ast.FormattedValue) else None
                if isinstance(inner, ast.Name) and inner.id == key_name:
                    text = text + Text.of(key)
                elif isinstance(inner, ast.Name) and inner.id == value_name:
                    text = text + (as_text(item) or Text((Unknown(f"the value of {key!r}"),)))
                else:
                    text = text + Text((Unknown("a joined part"),))
            pieces.append(text)
        return pieces

    def _make_conninfo(self, node: ast.Call, place: Place, depth: int) -> Value:
        """make_conninfo(base, host="localhost", password=...) (held-out-s8:
        johschmidt42/fastapi-postgresql's pools): the base's keyword string, then each
        keyword as `key=value` (libpq takes a key's last value, as make_conninfo lets a
        keyword win); None values are left out, as it does. A URL base merged with
        keywords is rewritten by libpq's parser: not followed."""
        base_expr = node.args[0] if node.args else None
        keywords = []
        for keyword in node.keywords:
            if keyword.arg is None:
                return Unknown("make_conninfo() with ** arguments")
            if keyword.arg in _CONNINFO_BASE and base_expr is None:
                base_expr = keyword.value
            else:
                keywords.append(keyword)
        result = Text(())
        if base_expr is not None:
            base = self._sub(base_expr, place, depth)
            if not (isinstance(base, Const) and base.value is None):
                text = as_text(base)
                if text is None or (keywords and "://" in text.render()):
                    return Unknown("a conninfo make_conninfo() merges keywords into")
                result = text
        for keyword in keywords:
            value = self._sub(keyword.value, place, depth)
            if isinstance(value, Const) and value.value is None:
                continue
            if isinstance(value, Const):
                text = Text.of(str(value.value))
            else:
                text = as_text(value) or Text((Unknown(f"the {keyword.arg} of make_conninfo()"),))
            if text.known is not None:
                text = Text.of(_keyword_quoted(text.known))
            lead = " " if result.render().strip() else ""
            result = result + Text.of(f"{lead}{keyword.arg}=") + text
        return _noted(result, "built by make_conninfo()")

    def _parsed_query(self, expr: ast.expr, place: Place, depth: int) -> Value:
        """parse_qs(url.query) / parse_qs(query): the query's keys, each a list of its
        values (a value may keep holes: `application_name={unknown}`); of a URL or a
        query not seen here, a dict whose keys are not known (a change written to it
        still is)."""
        query: Text | None
        if isinstance(expr, ast.Attribute) and expr.attr == "query":
            url = as_text(self._sub(expr.value, place, depth))
            found = urls.components(url, urls.SPLIT_FIELDS) if url is not None else None
            query = found["query"] if found is not None else None
        else:  # the query's own text (`query` of `…, query, fragment = urlsplit(url)`)
            query = as_text(self._sub(expr, place, depth))
            if query is not None and any(isinstance(p, str) and "://" in p for p in query.parts):
                return Unknown("parse_qs() of a string that is not a URL's query")
        if query is None:
            return DictValue((), complete=False)
        read, complete = urls.query_pairs(query)
        pairs: dict[str, list[Value]] = {}
        for key, item in read:
            if key in urls.TLS_KEYS and query.written is not None:
                item = replace(item, written=query.written)  # still the setting written there
            pairs.setdefault(key, []).append(item)
        return DictValue(tuple((k, ListValue(tuple(v))) for k, v in pairs.items()), complete)

    def _encoded_query(self, expr: ast.expr, place: Place, depth: int) -> Value:
        """urlencode(params, doseq=True): `key=value` pairs (each value of a list); the
        keys a dict does not know are an unknown rest. A TLS pair written into the dict
        after it was built (`params["sslmode"] = ["require"]`) carries where it was
        written (values.WrittenAt), as the mode of the URL put back together."""
        mapping = self._sub(expr, place, depth)
        if not isinstance(mapping, DictValue):
            return Unknown("urlencode() of a mapping not known")
        pieces: list[Text] = []
        for key, item in mapping.items:
            values = item.items if isinstance(item, ListValue) else (item,)
            for value in values:
                text = as_text(value)
                if text is None or text.known is None:
                    pieces.append(Text.of(f"{key}=") + Text((Unknown(f"the query's {key}"),)))
                else:
                    pieces.append(Text.of(urlencode({key: text.known})))
        if not mapping.complete:
            pieces.append(Text((Unknown("the query's other keys"),)))
        result = Text(())
        for index, piece in enumerate(pieces):
            result = result + (Text.of("&") if index else Text(())) + piece
        written = self._written_tls_key(expr, mapping, place) or _carried_tls_place(mapping)
        return replace(result, written=written) if written is not None else result

    def _written_tls_key(
        self, expr: ast.expr, mapping: DictValue, place: Place
    ) -> WrittenAt | None:
        """Where `name["sslmode"] = …` wrote the TLS key this reading of the dict holds."""
        if not isinstance(expr, ast.Name):
            return None
        scope: Scope | None = place.scope
        while scope is not None and expr.id not in scope.mutations:
            scope = scope.parent
        for mutation in scope.mutations.get(expr.id, []) if scope is not None else []:
            key = mutation.keys[0] if len(mutation.keys) == 1 else None
            if not (isinstance(key, ast.Constant) and key.value in urls.TLS_KEYS):
                continue
            if mapping.get(str(key.value)) is None or mutation.value is None:
                continue
            what = f"the query's {key.value} written here"
            return WrittenAt(place.module.path, mutation.line, mutation.value.col_offset + 1, what)
        return None

    def written_item(self, expr: ast.expr, key: str, place: Place) -> WrittenAt | None:
        """Where the last `name[...][key] = …` at any depth wrote key into the dict the name
        holds (held-out-s13: a Tortoise entry's `["credentials"]["ssl"] = "disable"`)."""
        if not isinstance(expr, ast.Name):
            return None
        scope: Scope | None = place.scope
        while scope is not None and expr.id not in scope.mutations:
            scope = scope.parent
        found: WrittenAt | None = None
        for mutation in scope.mutations.get(expr.id, []) if scope is not None else []:
            last = mutation.keys[-1] if mutation.keys else None
            if isinstance(last, ast.Constant) and last.value == key and mutation.value is not None:
                what = f"the {key} written here"
                column = mutation.value.col_offset + 1
                found = WrittenAt(place.module.path, mutation.line, column, what)
        return found

    def _unseen_with_query(
        self, receiver: Unknown, query: ast.expr, place: Place, depth: int
    ) -> Value:
        """`urlparse(url)._replace(query=q)` of a URL not seen here: still unseen, but
        with a query that says its TLS setting when the code writes it (sites.py judges
        the unseen part with stand-ins and this query over them)."""
        value = self._sub(query, place, depth)
        text = as_text(value)
        if text is None or not urls.known_tls_pairs(text):
            return Unknown(f"{receiver.why}, its query rebuilt")
        return Text((receiver, "?", *text.parts), text.notes, text.written)

    def _dsn_build(self, node: ast.Call, place: Place, depth: int) -> Value:
        parts: dict[str, Text | None] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                return Unknown("PostgresDsn.build() with ** arguments")
            value = self._sub(keyword.value, place, depth)
            text = as_text(value)
            if isinstance(value, Const) and value.value is None:
                text = None
            elif text is None:
                text = Text((Unknown(f"the {keyword.arg} of PostgresDsn.build()"),))
            parts[keyword.arg] = text
        return urls.build(parts)

    def _yarl_build(self, node: ast.Call, place: Place, depth: int) -> Value:
        if node.args or any(k.arg is None for k in node.keywords):
            return Unknown("yarl URL.build() with arguments not written as keywords")
        parts = {k.arg: self._sub(k.value, place, depth) for k in node.keywords if k.arg}
        return yarl_urls.build(parts)

    def _yarl_edit(
        self, receiver: Text, method: str, node: ast.Call, place: Place, depth: int
    ) -> Value:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            return Unknown(f"URL.{method}() with arguments passed through * or **")
        given = [self._sub(a, place, depth) for a in node.args]
        keywords = {k.arg: self._sub(k.value, place, depth) for k in node.keywords if k.arg}
        return yarl_urls.edit(receiver, method, given, keywords, node.lineno)

    def _url_edit(
        self, receiver: Text, method: str, node: ast.Call, place: Place, depth: int
    ) -> Value:
        """What an edit of a URL object leaves of the URL's text (urls.py)."""
        line = node.lineno
        if method in ("geturl", "render_as_string", "unicode_string"):
            return receiver
        if method == "_replace" or method == "set":
            result: Value = receiver
            for keyword in node.keywords:
                value = self._sub(keyword.value, place, depth)
                if keyword.arg == "query":
                    query = value.known if isinstance(value, Text) else None
                    if isinstance(value, DictValue):
                        pairs = {k: as_text(v) for k, v in value.items}
                        if not value.complete or any(
                            t is None or t.known is None for t in pairs.values()
                        ):
                            return Unknown("a URL query set to values not known")
                        query_map = {
                            k: t.known for k, t in pairs.items() if t and t.known is not None
                        }
                        result = (
                            urls.with_query(result, query_map, line)
                            if isinstance(result, Text)
                            else result
                        )
                    elif query == "":
                        result = (
                            urls.strip_query(result, line) if isinstance(result, Text) else result
                        )
                    elif query is not None and isinstance(result, Text):
                        result = urls.replace_query(result, query)  # urlencode(params) known
                    else:
                        return Unknown("a URL whose query is replaced by one not known")
                elif keyword.arg in ("drivername", "scheme"):
                    scheme = value.known if isinstance(value, Text) else None
                    if scheme is None:
                        return Unknown("a URL whose scheme is replaced by one not known")
                    result = (
                        urls.with_scheme(result, scheme) if isinstance(result, Text) else result
                    )
                elif keyword.arg is not None:
                    return Unknown(f"a URL whose {keyword.arg} is replaced")
            return result
        if method == "difference_update_query" and node.args:
            keys = self._sub(node.args[0], place, depth)
            names = [as_text(k) for k in keys.items] if isinstance(keys, ListValue) else []
            known = [n.known for n in names if n is not None and n.known is not None]
            if len(known) != len(names) or not names:
                return Unknown("a URL with query keys removed that are not known")
            return urls.without_keys(receiver, known, line)
        return Unknown(f"result of URL.{method}()")

    # --- calls followed in their context (issue 12 class 3) -----------------------
    def _returns_of_call(self, node: ast.Call, place: Place, depth: int) -> Value | None:
        """The returns this very call can reach: its arguments (and, through helper
        calls and a method of an object constructed in the chain, theirs) decide the
        `if` tests around each return, so a dispatcher (`get()` returning a URL, a
        name or a dict by its constructor's flags) gives what this call asked for.
        None when no test could be decided (every return, as _returns)."""
        found = self._search(node, place)
        if found is None:
            return None
        makers, pruned = found
        if not pruned:
            return None
        options = _one_written_string(
            [
                _written_connection_string(self.any(expr, at, depth), expr, at.line, at.module)
                for expr, at in makers[: MAX_ALTERNATIVES + 1]
            ]
        )
        return choice(options, len(makers) > MAX_ALTERNATIVES)

    def makers(self, call: ast.Call, place: Place) -> list[tuple[ast.expr, Place]] | None:
        """The return expressions a project call may produce in its own context, through
        returns that are calls (origins.py: where a helper's value is written)."""
        found = self._search(call, place)
        return found[0] if found is not None else None

    def _search(
        self, call: ast.Call, place: Place
    ) -> tuple[list[tuple[ast.expr, Place]], bool] | None:
        """_makers within its bound (a search met inside another keeps its own count);
        None past it: every return, as before."""
        outer, self._frames_left = self._frames_left, _MAX_FRAMES
        try:
            found = self._makers(call, place, None, 0)
            return found if self._frames_left >= 0 else None
        finally:
            self._frames_left = outer

    def _makers(
        self, call: ast.Call, place: Place, caller: _Frame | None, hops: int
    ) -> tuple[list[tuple[ast.expr, Place]], bool] | None:
        """The return expressions (and where they are read) this call may produce, through
        returns that are themselves calls of project functions, and whether a test
        was decided on the way; None when the callee is not a project function."""
        self._frames_left -= 1
        if self._frames_left < 0 or not self.effort.spend():
            self._frames_left = -1
            return None
        frame = self._frame(call, place, caller)
        if frame is None:
            return None
        scope = frame.module.scope_of(frame.function)
        if scope is None:
            return None
        makers: list[tuple[ast.expr, Place]] = []
        pruned = False
        for line, expr, guards in returns.guarded_returns(frame.function):
            if any(self._truth(test, frame, depth=0) is (not holds) for test, holds in guards):
                pruned = True
                continue
            at = Place(frame.module, scope, line)
            if isinstance(expr, ast.Call) and hops < _MAX_HOPS:
                inner = self._makers(expr, at, frame, hops + 1)
                if inner is not None and inner[0]:
                    makers += inner[0]
                    pruned = pruned or inner[1]
                    continue
            makers.append((expr, at))
        return (makers, pruned) if makers else None

    def _frame(self, call: ast.Call, place: Place, caller: _Frame | None) -> _Frame | None:
        """The callee of a call with its parameters bound to the call's arguments."""
        func = call.func
        instance: _Frame | None = None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            made = self.class_named(func.value.func, place)  # Config(…).method()
            if made is not None:
                init = self.method_named(ast.Attribute(func.value.func, "__init__"), place, 0)
                instance = self._bind(init, func.value, place, caller, None, made)
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
            and caller is not None
        ):
            instance = caller.instance  # the same object's other method
        callee = self.function_named(func, place) or self.method_named(func, place, 0)
        if callee is None:
            return None
        return self._bind(callee, call, place, caller, instance, None)

    def _bind(
        self,
        callee: tuple[ParsedModule, ast.FunctionDef | ast.AsyncFunctionDef] | None,
        call: ast.Call,
        place: Place,
        caller: _Frame | None,
        instance: _Frame | None,
        owner: tuple[ast.ClassDef, ParsedModule] | None,
    ) -> _Frame | None:
        if callee is None:
            return None
        module, function = callee
        args = function.args
        names = [a.arg for a in (*args.posonlyargs, *args.args)]
        # `mod.f(a)` of a module's function passes `a` first: only a class's function
        # is given its object (held-out-s22 pgworkload's `pkg.utils.common.f(url, …)`)
        fn_scope = module.scope_of(function)
        in_class = fn_scope is not None and isinstance(
            getattr(fn_scope.parent, "node", None), ast.ClassDef
        )
        method = (isinstance(call.func, ast.Attribute) and in_class) or owner is not None
        if method and names and not returns.is_static(function):
            names = names[1:]  # self / cls
        bound: dict[str, tuple[ast.expr, Place, _Frame | None]] = {}
        spread = any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords
        )
        for name, arg in zip(names, call.args, strict=False):
            bound[name] = (arg, place, caller)
        for keyword in call.keywords:
            if keyword.arg is not None:
                bound[keyword.arg] = (keyword.value, place, caller)
        return _Frame(module, function, bound, not spread, instance, owner)

    def _truth(self, test: ast.expr, frame: _Frame, depth: int) -> bool | None:
        """Whether an `if` test holds in this frame: True, False, or None (not known)."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._truth(test.operand, frame, depth)
            return None if inner is None else not inner
        if isinstance(test, ast.BoolOp):
            parts = [self._truth(v, frame, depth) for v in test.values]
            wanted = isinstance(test.op, ast.Or)  # the value that settles it
            if wanted in parts:
                return wanted
            return (not wanted) if all(p is not None for p in parts) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            op = test.ops[0]
            if not isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot):
                return None
            left = self._known(test.left, frame, depth)
            right = self._known(test.comparators[0], frame, depth)
            if left is _NOT_KNOWN or right is _NOT_KNOWN:
                return None
            same = left == right and type(left) is type(right)
            return same if isinstance(op, ast.Eq | ast.Is) else not same
        value = self._known(test, frame, depth)
        return None if value is _NOT_KNOWN else bool(value)

    def _known(self, expr: ast.expr, frame: _Frame | None, depth: int) -> object:
        """A constant an expression certainly has in this frame, else _NOT_KNOWN."""
        if depth > _MAX_HOPS * 2 or frame is None:
            return _NOT_KNOWN
        scope = frame.module.scope_of(frame.function)
        if scope is None:
            return _NOT_KNOWN
        if isinstance(expr, ast.Name) and expr.id in returns.parameters(frame.function):
            if expr.id in frame.bound:
                arg, at, caller = frame.bound[expr.id]
                if caller is None:
                    return _constant(self.any(arg, at, 0))
                return self._known(arg, caller, depth + 1)
            default = returns.default(frame.function, expr.id)
            if default is None or not frame.complete:
                return _NOT_KNOWN
            return _constant(self.any(default, Place(frame.module, scope, default.lineno), 0))
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id in ("self", "cls")
        ):
            instance = frame.instance
            if instance is None or instance.owner is None:
                return _NOT_KNOWN
            written = [  # every `self.x = …` of the class and its bases: only __init__'s
                w
                for cls, module in self.lineage(instance.owner)
                for w in _self_assignments(cls, module, expr.attr)
            ]
            init_scope = instance.module.scope_of(instance.function)
            sole = [w for w in written if w[1].scope is init_scope]
            if (
                len(written) != 1
                or len(sole) != 1
                or not returns.top_level(instance.function, expr)
            ):
                return _NOT_KNOWN
            return self._known(sole[0][0], instance, depth + 1)
        return _constant(self.any(expr, Place(frame.module, scope, expr.lineno), 0))

    def _returns(self, scope: Scope, module: ParsedModule, depth: int) -> Value:
        """Every return of a function, each read at its own line (the last first)."""
        pairs = list(zip(scope.return_lines, scope.returns, strict=True))
        options = [
            _written_connection_string(
                self.any(expr, Place(module, scope, line), depth), expr, line, module
            )
            for line, expr in reversed(pairs[-MAX_ALTERNATIVES - 1 :])
        ]
        options = _one_written_string(options)
        return choice(options, len(pairs) > MAX_ALTERNATIVES)

    def _dict_call(self, node: ast.Call, place: Place, depth: int) -> Value:
        """dict(base, k=v, **more) and d.update(base, k=v): base's entries, then the
        keywords'."""
        keys: list[ast.expr | None] = [None for _ in node.args[:1]]
        values: list[ast.expr] = list(node.args[:1])
        keys += [ast.Constant(k.arg) if k.arg else None for k in node.keywords]
        values += [k.value for k in node.keywords]
        built = self._Dict(ast.Dict(keys=keys, values=values), place, depth)
        if len(node.args) > 1 and isinstance(built, DictValue):
            return replace(built, complete=False)
        return built

    def _env(self, node: ast.Call, read: EnvRead, place: Place, depth: int) -> Value:
        name_value = self._sub(read.variable, place, depth) if read.variable else Const(None)
        name = name_value.known if isinstance(name_value, Text) else None
        default = read.default
        if default is None:
            return Unknown(f"environment variable {name or '?'}")
        value = self.any(default, place, depth)
        getter = _env_call_name(node, place)
        what = f"the default of {getter}({name or '?'!r}), used when {name or 'it'} is unset"
        written = WrittenAt(place.module.path, node.lineno, node.col_offset + 1, what)
        passed = self._passed_argument(default, place)
        if passed is not None:
            # a helper's parameter (`def get_env(key, default=""): return os.environ.get(
            # key, default=default)`): the default is written where this call passes it
            argument, passed_at = passed
            column = argument.col_offset + 1
            written = WrittenAt(passed_at.module.path, argument.lineno, column, what)
        noted = _noted(value, f"{name or '?'}: default of {getter}", written)
        if isinstance(value, Text) and value.known == "":
            # an empty default configures nothing: the value that runs is the
            # deployment's, so that world is judged too (a host from it is a TCP host)
            return choice((noted, Unknown(f"environment variable {name or '?'}")))
        if (
            isinstance(value, Text)
            and value.known is not None
            and stands_in_for_deployed(name, value.known)
        ):
            # a placeholder default never runs: only the deployment's world is real
            return Unknown(f"environment variable {name or '?'} (its default is a placeholder)")
        deployed = _deployed_instead(value, name, place)
        if deployed is not None:
            return choice((noted, deployed))
        return noted

    def _passed_argument(self, expr: ast.expr, place: Place) -> tuple[ast.expr, Place] | None:
        """The argument the call being read passes for a parameter named by expr."""
        if not isinstance(expr, ast.Name) or expr.id not in place.scope.params:
            return None
        active = self._active.get(id(place.scope))
        bound = active[0].bound.get(expr.id) if active is not None else None
        return (bound[0], bound[1]) if bound is not None else None

    def _string_method(
        self, receiver: Text, method: str, node: ast.Call, place: Place, depth: int
    ) -> Value:
        args = [self._sub(a, place, depth) for a in node.args]
        texts = [a.known if isinstance(a, Text) else None for a in args]
        if method == "replace" and len(texts) >= 2 and texts[0] is not None:
            if texts[1] is None:
                return Unknown("a replacement with an unknown value")
            return receiver.replace(texts[0], texts[1])
        if method in ("strip", "rstrip", "lstrip") and not args:
            return receiver
        if method == "format" and receiver.known is not None:
            positional = [as_text(a) or Text((Unknown("a format argument"),)) for a in args]
            named = self._named_arguments(node, place, depth)
            if named is None:
                return Unknown("a format with keywords from a mapping not known")
            return _format(receiver.known, positional, named)
        if method == "format_map" and receiver.known is not None and len(args) == 1:
            mapping = args[0]
            if not isinstance(mapping, DictValue):
                return Unknown("format_map() of a mapping not known")
            return _format(receiver.known, [], _mapping_texts(mapping))
        return Unknown(f"result of str.{method}()")

    def _named_arguments(self, node: ast.Call, place: Place, depth: int) -> dict[str, Text] | None:
        """The keyword arguments of a format-like call as text, `**mapping` spread in
        (a mapping known only in part leaves its other keys to the format's unknown
        fields); None when a spread is not a mapping seen here."""
        named: dict[str, Text] = {}
        for keyword in node.keywords:
            value = self._sub(keyword.value, place, depth)
            if keyword.arg is not None:
                named[keyword.arg] = as_text(value) or Text((Unknown("a format argument"),))
            elif isinstance(value, DictValue):
                named.update(_mapping_texts(value))
            else:
                return None
        return named

    def _template_text(self, expr: ast.expr, place: Place, depth: int) -> Text | None:
        """The template text of `string.Template(text)`, written there or bound to a name
        in this scope or an enclosing one (its last binding)."""
        if isinstance(expr, ast.Name):
            scope: Scope | None = place.scope
            while scope is not None and expr.id not in scope.assigns:
                scope = scope.parent
            if scope is None:
                return None
            expr = scope.assigns[expr.id][-1].value
        if not isinstance(expr, ast.Call) or len(expr.args) != 1:
            return None
        if place.module.qualname(expr.func) != "string.Template":
            return None
        text = self._sub(expr.args[0], place, depth)
        return text if isinstance(text, Text) and text.known is not None else None

    def _substituted(
        self, template: Text, method: str, node: ast.Call, place: Place, depth: int
    ) -> Value:
        """`Template(t).substitute(mapping, **kw)` / `safe_substitute`: `$name` and
        `${name}` filled from the mapping then the keywords; a name neither gives is
        an unknown part (substitute raises KeyError; safe_substitute keeps `$name`)."""
        named = self._named_arguments(node, place, depth)
        if named is None or len(node.args) > 1:
            return Unknown(f"result of Template.{method}() with arguments not known")
        complete = True
        if node.args:
            mapping = self._sub(node.args[0], place, depth)
            if not isinstance(mapping, DictValue):
                return Unknown(f"result of Template.{method}() of a mapping not known")
            named = {**_mapping_texts(mapping), **named}
            complete = mapping.complete
        known = template.known or ""
        result = Text((), template.notes)
        position = 0
        for match in _TEMPLATE_FIELD.finditer(known):
            result = result + Text.of(known[position : match.start()])
            position = match.end()
            if match.group(1) is not None:  # $$
                result = result + Text.of("$")
                continue
            name = match.group(2) or match.group(3)
            value = named.get(name)
            if value is None and method == "safe_substitute" and complete:
                value = Text.of(match.group(0))
            result = result + (value or Text((Unknown(f"template field {name!r}"),)))
        return _rescheme(result + Text.of(known[position:]))

    def url_create(
        self, node: ast.Call, place: Place, depth: int, what: str = "URL.create()"
    ) -> Value:
        """SQLAlchemy URL.create(drivername, username, password, host, port, database, query),
        and URL(...) itself; keywords also from `**mapping` spreads. A spread not known in
        full may hold any field: the fields not given, and the query, stay unknown."""
        names = ("drivername", "username", "password", "host", "port", "database", "query")
        given: dict[str, Value] = {
            name: self._sub(arg, place, depth) for name, arg in zip(names, node.args, strict=False)
        }
        unseen = any(isinstance(a, ast.Starred) for a in node.args)
        for keyword in node.keywords:
            if keyword.arg is not None:
                given[keyword.arg] = self._sub(keyword.value, place, depth)
                continue
            spread = self._sub(keyword.value, place, depth)
            if isinstance(spread, DictValue):
                given.update((k, v) for k, v in spread.items if k in names)
                unseen = unseen or not spread.complete
            else:
                unseen = True
        if unseen:
            for name in names:
                given.setdefault(name, Unknown(f"{name}, from arguments not known"))
        parts: dict[str, Text | None] = {}
        for key in names[:-1]:
            value = given.get(key)
            parts[key] = None if value is None or _nothing(value) else as_text(value)
        driver = parts["drivername"] or Text((Unknown("drivername"),))
        url = driver + Text.of("://")
        if parts["username"] is not None:
            url = url + parts["username"]
            if parts["password"] is not None:
                url = url + Text.of(":") + parts["password"]
            url = url + Text.of("@")
        if parts["host"] is not None:
            url = url + parts["host"]
        if parts["port"] is not None:
            url = url + Text.of(":") + parts["port"]
        if parts["database"] is not None:
            url = url + Text.of("/") + parts["database"]
        query = given.get("query")
        if query is not None and not _nothing(query):
            if isinstance(query, DictValue):
                pairs: list[Text] = []
                for key, item in query.items:
                    text = as_text(item)
                    if text is None and isinstance(item, ListValue):
                        text = as_text(item.items[-1]) if item.items else None
                    pairs.append(Text.of(f"{key}=") + (text or Text((Unknown(key),))))
                if pairs:
                    joined = pairs[0]
                    for pair in pairs[1:]:
                        joined = joined + Text.of("&") + pair
                    url = url + Text.of("?") + joined
                if not query.complete:
                    url = url + Text((Unknown("query options built elsewhere"),))
            else:
                url = url + Text.of("?") + Text((Unknown("query options"),))
        return replace(url, notes=(*url.notes, f"built by {what}"))

    # --- ssl contexts ----------------------------------------------------------------
    def new_context(self, origin: str, node: ast.Call, place: Place, depth: int) -> ContextValue:
        line = node.lineno
        if origin == "ssl._create_unverified_context":
            return ContextValue(
                "ssl._create_unverified_context()",
                "CERT_NONE",
                False,
                None,
                line=line,
                unverified_at=((str(place.module.path), line, node.col_offset + 1),),
            )
        if origin == "ssl.create_default_context":
            keywords = {k.arg for k in node.keywords}
            purpose = self._sub(node.args[0], place, depth) if node.args else None
            if isinstance(purpose, Symbol) and purpose.last == "CLIENT_AUTH":
                return ContextValue(
                    "ssl.create_default_context(Purpose.CLIENT_AUTH)",
                    "CERT_NONE",
                    False,
                    "TLSv1.2",
                    line=line,
                )
            own_ca = bool(keywords & {"cafile", "capath", "cadata"}) or len(node.args) > 1
            return ContextValue(
                "ssl.create_default_context()",
                "CERT_REQUIRED",
                True,
                "TLSv1.2",
                own_ca=own_ca,
                system_roots=not own_ca,
                has_client_cert=False,
                line=line,
            )
        protocol = self._sub(node.args[0], place, depth) if node.args else None
        for keyword in node.keywords:
            if keyword.arg == "protocol":
                protocol = self._sub(keyword.value, place, depth)
        name = protocol.last if isinstance(protocol, Symbol) else "PROTOCOL_TLS"
        if isinstance(protocol, Unknown):
            return ContextValue("ssl.SSLContext(?)", None, None, None, line=line)
        if name == "PROTOCOL_TLS_CLIENT":
            return ContextValue(
                "ssl.SSLContext(PROTOCOL_TLS_CLIENT)",
                "CERT_REQUIRED",
                True,
                "TLSv1.2",
                own_ca=False,
                system_roots=False,
                has_client_cert=False,
                line=line,
            )
        floor = LEGACY_PROTOCOLS.get(name, "TLSv1.2")
        return ContextValue(f"ssl.SSLContext({name})", "CERT_NONE", False, floor, line=line)

    def _mutated(self, name: str, context: ContextValue, place: Place, depth: int) -> ContextValue:
        """Apply `ctx.attr = …` and `ctx.method(…)` done to the named context in its scope:
        those after it is made and before the name is bound again, which makes another
        context (held-out-s18 shiny-couscous: three `ssl_context = …` blocks in one module,
        each weakened apart, were all given the last one's state and place)."""
        later = [b.line for b in place.scope.assigns.get(name, []) if b.line > context.line]
        end = min(later, default=None)

        def applies(line: int) -> bool:
            return line >= context.line and (end is None or line < end)

        for attr, binding in place.scope.attr_assigns.get(name, []):
            if not applies(binding.line):
                continue
            value = self._sub(binding.value, place, depth)
            written = ((str(place.module.path), binding.line, binding.column),)
            if attr == "verify_mode":
                mode = value.last if isinstance(value, Symbol) else None
                context = replace(
                    context,
                    verify_mode=mode,
                    unverified_at=written if mode == "CERT_NONE" else (),
                )
            elif attr == "check_hostname":
                flag = value.value if isinstance(value, Const) else None
                context = replace(
                    context,
                    check_hostname=flag if isinstance(flag, bool) else None,
                    hostname_off_at=written if flag is False else (),
                )
            elif attr == "minimum_version":
                version = value.last if isinstance(value, Symbol) else None
                context = replace(context, minimum_version=tls_version_text(version))
        for method, call in place.scope.method_calls.get(name, []):
            if not applies(call.lineno):
                continue
            if method == "set_ciphers" and call.args:
                ciphers = self._sub(call.args[0], place, depth)
                context = replace(
                    context, ciphers=ciphers.known if isinstance(ciphers, Text) else None
                )
            elif method == "load_verify_locations":
                context = replace(context, own_ca=True)
            elif method in ("load_default_certs", "set_default_verify_paths"):
                context = replace(context, system_roots=True)
            elif method == "load_cert_chain":
                context = replace(context, has_client_cert=True)
        return context


MAX_CHANGES = 256  # changes to one binding's value followed (real code makes a few)
_COVER_CHECK = 64  # live bindings checked pairwise for an if/else that replaces them


# Objects whose `.url` is the URL they were made with (databases.DatabaseURL, SQLAlchemy's
# Engine.url): the value is followed back to the constructor's argument.
_URL_CARRIERS = frozenset(
    {
        "databases.Database",
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
        "sqlmodel.create_engine",
    }
)


def _covered(earlier: Binding, live: list[Binding]) -> bool:
    """Whether a later if/else binds the name in every arm, on a path that runs
    whenever `earlier` did: `x = {}` then `if c: x = a` / `else: x = b`."""
    arms: dict[int, set[int]] = {}
    for binding in live:
        if binding.line <= earlier.line or not binding.branch:
            continue
        *outer, (statement, arm, exclusive, covering) = binding.branch
        if exclusive and covering and runs_whenever(tuple(outer), earlier.branch):
            arms.setdefault(statement, set()).add(arm)
            if len(arms[statement]) >= covering:
                return True
    return False


def _capped(value: Value) -> bool:
    return isinstance(value, Choice) and value.capped


def _falsy(value: Value) -> bool:
    if isinstance(value, Const):
        return not value.value
    return isinstance(value, Text) and value.known == ""


LEGACY_PROTOCOLS = {
    "PROTOCOL_TLSv1": "TLSv1",
    "PROTOCOL_TLSv1_1": "TLSv1.1",
    "PROTOCOL_SSLv23": "TLSv1.2",
    "PROTOCOL_SSLv3": "SSLv3",
    "PROTOCOL_SSLv2": "SSLv2",
}


def tls_version_text(member: str | None) -> str | None:
    """TLSVersion member name to policy text: TLSv1_2 -> TLSv1.2."""
    if member is None:
        return None
    if member in ("MINIMUM_SUPPORTED", "MAXIMUM_SUPPORTED"):
        return member
    return member.replace("_", ".")


@dataclass(frozen=True)
class _Frame:
    """A call followed in its context: the callee, its parameters bound to what the
    call writes (each read where the call is, in the caller's own frame), whether the
    others take their defaults (no `*args`/`**kw` at the call), and for a method of an
    object constructed in the chain, that constructor's frame and class."""

    module: ParsedModule
    function: ast.FunctionDef | ast.AsyncFunctionDef
    bound: Mapping[str, tuple[ast.expr, Place, _Frame | None]]
    complete: bool
    instance: _Frame | None
    owner: tuple[ast.ClassDef, ParsedModule] | None  # the class constructed (for __init__)


_MAX_HOPS = 6  # calls followed through returns that are calls
_MAX_FRAMES = 64  # calls one search follows in all (k returns per helper, 6 deep: k**6)
_NOT_KNOWN = object()


def _constant(value: Value) -> object:
    """The Python constant a value certainly is (one known option), else _NOT_KNOWN."""
    if isinstance(value, Const):
        return value.value
    if isinstance(value, Text) and value.known is not None:
        return value.known
    return _NOT_KNOWN


@dataclass(frozen=True)
class UrlRest(Unknown):
    """What follows the scheme of a URL the scanner cannot see (`url.split("://")[1]`):
    its host and path, but also its query, so whatever TLS options it carries."""


def _after_scheme(cut: ast.expr, index: ast.expr) -> tuple[ast.expr, str, str, int] | None:
    """The receiver, separator, method and index of `x.split("://")[1]`, `x.split("://", 1)[-1]`,
    `x.partition("://")[2]` (or with "//"), else None."""
    if not (
        isinstance(cut, ast.Call)
        and isinstance(cut.func, ast.Attribute)
        and cut.args
        and isinstance(cut.args[0], ast.Constant)
        and cut.args[0].value in ("://", "//")
        and isinstance(index, ast.Constant | ast.UnaryOp)
    ):
        return None
    try:
        position = ast.literal_eval(index)
    except ValueError:
        return None
    wanted = {"split": (1, -1), "partition": (2, -1)}.get(cut.func.attr, ())
    if position not in wanted:
        return None
    return cut.func.value, str(cut.args[0].value), cut.func.attr, int(position)


def _url_rest(receiver: Value, cut: tuple[ast.expr, str, str, int], what: str) -> Value:
    """The URL after its scheme: a known text cut as Python cuts it, a text whose first
    known part holds the separator cut there, else an UrlRest of the unseen URL."""
    _, separator, method, position = cut
    text = as_text(receiver)
    if text is not None and text.known is not None:
        known = text.known
        pieces = known.split(separator, 1) if method == "split" else known.partition(separator)
        if position >= len(pieces):
            return Text((UrlRest("an index past the parts of a split"),))  # IndexError
        return Text.of(pieces[position], text.notes)
    first = text.parts[0] if text is not None and text.parts else None
    if text is not None and isinstance(first, str) and separator in first:
        return Text((first.split(separator, 1)[1], *text.parts[1:]), text.notes)
    why = receiver.why if isinstance(receiver, Unknown) else what
    return Text((UrlRest(f"{why} after its scheme"),))


def _rescheme(text: Text) -> Value:
    """`"postgresql://" + url.split("://")[1]`: a new scheme on an unseen URL is that URL,
    query and TLS options included, still unseen: not a URL known to lack them."""
    for part in text.parts:
        if isinstance(part, UrlRest):
            return Unknown(f"{part.why} (the rest of a URL, its query included)")
    return text


@dataclass(frozen=True)
class ModuleValue(Unknown):
    """A project module object (`import config`), so `config.NAME` can be followed."""

    module: ParsedModule | None = None


_Def = TypeVar("_Def", ast.ClassDef, ast.FunctionDef | ast.AsyncFunctionDef)


def _definition(
    expr: ast.expr, place: Place, table: Callable[[ParsedModule], Mapping[str, _Def]]
) -> tuple[ParsedModule, _Def] | None:
    """The class or function a name refers to: defined here or imported from the
    project, or `module.name` of a project module imported whole."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        ref = place.module.aliases.get(expr.value.id)
        found = place.module.find_import(ref) if ref is not None else None
        if found is None or found[1] is not None:
            return None
        definition = table(found[0]).get(expr.attr)
        return (found[0], definition) if definition is not None else None
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Attribute):
        # `pkg.utils.common.f` after `import pkg.utils.common` (held-out-s22 pgworkload)
        dotted = place.module.qualname(expr.value)
        root = dotted.split(".", 1)[0] if dotted else ""
        if not dotted or place.module.aliases.get(root) is None:
            return None
        found = place.module.find_import(ImportRef(dotted, None))
        if found is None or found[1] is not None:
            return None
        definition = table(found[0]).get(expr.attr)
        return (found[0], definition) if definition is not None else None
    if not isinstance(expr, ast.Name):
        return None
    if expr.id in table(place.module):
        return place.module, table(place.module)[expr.id]
    module, name = place.module, expr.id
    for _ in range(_REEXPORT_HOPS):  # `from app.db import f`, app/db/__init__.py re-exports it
        ref = module.aliases.get(name)
        if ref is None or ref.name is None:
            return None
        found = module.find_import(ref)
        if found is None or found[1] is None:
            return None
        module, name = found[0], found[1]
        definition = table(module).get(name)
        if definition is not None:
            return module, definition
        if name in module.scope.assigns:
            return None
    return None


def _is_library(node: ast.Attribute, place: Place) -> bool:
    root = node
    while isinstance(root.value, ast.Attribute):
        root = root.value
    if not isinstance(root.value, ast.Name):
        return False
    ref = place.module.aliases.get(root.value.id)
    if ref is None:
        return False
    if ref.level == 0 and ref.module.split(".")[0] in _LIBRARY_MODULES:
        return True  # a standard module: no need to look for a project file
    return place.module.find_import(ref) is None


def _enclosing_class(place: Place) -> tuple[ast.ClassDef, ParsedModule] | None:
    """The class whose method (or a function nested in one) the place is in."""
    scope: Scope | None = place.scope
    while scope is not None and scope.parent is not None:
        if scope.is_function and isinstance(scope.parent.node, ast.ClassDef):
            return scope.parent.node, place.module
        scope = scope.parent
    return None


def _self_assignments(
    owner: ast.ClassDef, module: ParsedModule, attr: str
) -> list[tuple[ast.expr, Place]]:
    found: list[tuple[ast.expr, Place]] = []
    for method in owner.body:
        scope = module.scope_of(method)
        if scope is None or not scope.is_function:
            continue
        for name, binding in _object_assignments(scope):
            if name == attr:
                found.append((binding.value, Place(module, scope, binding.line)))
    return found


def _object_assignments(scope: Scope) -> list[tuple[str, Binding]]:
    """A method's `self.x = …` and, in a classmethod, `cls.x = …` (held-out-s23
    intelmq's test `cls.sysconfig = {…}` in `set_bot`): the attributes it sets."""
    return [*scope.attr_assigns.get("self", ()), *scope.attr_assigns.get("cls", ())]


def _test_stand_in(module: ParsedModule, value: Value) -> bool:
    """A literal a test passes that no driver could read as a connection at all (no
    `://`, no `key=value`: "db-url", "fake"): a stand-in for a mocked call chain, not a
    setting (issue 12 item 9: test inputs that never reach a connection; held-out-s14b,
    vlab-research/fly's `process_job("db-url", job)` under `@patch`). A URL or keyword
    string a test passes is still judged: integration tests connect."""
    if not (isinstance(value, Text) and value.known):
        return False
    if "://" in value.known or "=" in value.known:
        return False
    try:
        relpath = module.path.relative_to(module.root).as_posix()
    except ValueError:
        return False
    return is_test_path(relpath)


def _parameter_annotation(name: str, place: Place) -> ast.expr | None:
    """The class named in a parameter's annotation (`Settings`, `Settings | None`)."""
    scope: Scope | None = place.scope
    while scope is not None:
        node = scope.node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and name in scope.params:
            args = node.args
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                if arg.arg == name and arg.annotation is not None:
                    annotation = arg.annotation
                    if isinstance(annotation, ast.BinOp):  # X | None
                        annotation = annotation.left
                    if isinstance(annotation, ast.Subscript):  # Optional[X]
                        annotation = annotation.slice
                    return annotation if isinstance(annotation, ast.Name) else None
            return None
        scope = scope.parent
    return None


def _validates(method: ast.FunctionDef | ast.AsyncFunctionDef, attr: str) -> bool:
    """A pydantic @field_validator("attr") / @validator("attr", ...) method."""
    for decorator in method.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        func = decorator.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("field_validator", "validator") and any(
            isinstance(a, ast.Constant) and a.value in (attr, "*") for a in decorator.args
        ):
            return True
    return False


_RECORD_DECORATORS = ("dataclass", "define", "frozen", "attrs")


def _is_record_class(node: ast.ClassDef) -> bool:
    """A class built from its fields: a dataclass, an attrs class, a pydantic model."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _RECORD_DECORATORS:
            return True
    return _is_settings_class(node)


def _is_settings_class(node: ast.ClassDef) -> bool:
    return has_base(node, _SETTINGS_BASES)


def has_base(node: ast.ClassDef, suffixes: tuple[str, ...]) -> bool:
    """Whether a base class's name ends with one of the suffixes (`BaseSettings`)."""
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        if name.endswith(suffixes):
            return True
    return False


def dsn_literal(expr: ast.expr | None) -> ast.expr | None:
    """The literal of `PostgresDsn("…")` (a pydantic URL type made from it: held-out-s23
    v3ss0n/copier-litestar-pg-redis-docker's settings default), else expr."""
    if not (isinstance(expr, ast.Call) and expr.args):
        return expr
    func = expr.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    literal = expr.args[0]
    if name.endswith(_DSN_TYPES) and isinstance(literal, ast.Constant):
        return literal
    return expr


def field_default(expr: ast.expr) -> ast.expr | None:
    """The default of `x: T = Field(default=…)` / `Field(…)`; the value itself otherwise."""
    if isinstance(expr, ast.Call):
        func = expr.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "Field":
            for keyword in expr.keywords:
                if keyword.arg == "default":
                    return keyword.value
            first = expr.args[0] if expr.args else None
            if first is not None and not (isinstance(first, ast.Constant) and first.value is ...):
                return first
            return None
    return expr


def _env_call_name(node: ast.Call, place: Place) -> str:
    qual = place.module.qualname(node.func) or "getenv"
    return qual


# The expressions that write a whole connection string where they stand: a literal, an
# f-string, a template filled by `.format(...)` or `%`, a sum of such parts.
_STRING_EXPRESSIONS = (ast.Constant, ast.JoinedStr, ast.BinOp)
_TLS_QUERY_KEY = re.compile(r"[?&](?:ssl|sslmode|sslrootcert|sslcert|sslkey|sslcrl)=", re.I)


def _written_connection_string(
    value: Value, expr: ast.expr, line: int, module: ParsedModule
) -> Value:
    """A connection URL written as one expression bound to a name (`url = f"postgresql://
    {user}@{host}/{db}"`, then `create_engine(url)` lines on) or returned by a helper
    (`return f"postgresql://…"`): the finding its reading decides is placed there, where
    the string is written, the calls related (issue 12 item 8; held-out-s19
    py-nest-thermostat, held-out-s20 varMT, commits-analyzer, real-estate-scrapers: the
    labels' place). Each option of a Choice (a host from either branch) is marked."""
    if not isinstance(expr, (*_STRING_EXPRESSIONS, ast.Call)):
        return value  # a name, an attribute, a subscript: written elsewhere, marked there
    if isinstance(value, Choice):
        return choice(
            (_written_connection_string(o, expr, line, module) for o in value.options),
            value.capped,
        )
    if not isinstance(value, Text) or value.written is not None:
        return value
    template = (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "format"
        and isinstance(expr.func.value, ast.Constant | ast.JoinedStr)
    )
    if not (isinstance(expr, _STRING_EXPRESSIONS) or template or _url_builder(expr)):
        return value
    first = value.parts[0] if value.parts else None
    if isinstance(first, str):
        if not known_scheme(first):
            return value
    else:
        # the scheme itself is filled in (`'{dialect}://{auth}@{host}'.format(...)`): a
        # connection URL when its site says so, which only then gives a finding
        written = next((p for p in value.parts if isinstance(p, str)), "")
        if not written.startswith("://") or written.startswith(":///"):
            return value  # `{scheme}:///{db}`: no host, a file database or a socket
    if any(isinstance(p, str) and _TLS_QUERY_KEY.search(p) for p in value.parts):
        # a URL that writes its TLS: each call reads it in its own way (databases drops
        # the query, asyncpg reads ssl=): reported at each call (session 9's ruling)
        return value
    what = f"{CONNECTION_STRING_WRITTEN}, with no TLS setting"
    return replace(value, written=WrittenAt(module.path, line, expr.col_offset + 1, what))


# Class methods that build a URL from its parts: pydantic's `PostgresDsn.build(...)` /
# `MultiHostUrl.build(...)`, SQLAlchemy's `URL.create(...)`, yarl's `URL.build(...)`.
_URL_BUILDERS = frozenset({"build", "create"})


def _url_builder(expr: ast.expr) -> bool:
    """`Receiver.build(...)` / `.create(...)` on a class name: the URL written there
    (held-out-s21 hotosm/field-tm's validator `pg_url = PostgresDsn.build(...)`); the
    value decides it is a connection URL."""
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in _URL_BUILDERS
        and isinstance(expr.func.value, ast.Name | ast.Attribute)
    )


def _one_written_string(options: list[Value]) -> list[Value]:
    """Several branches (bindings, returns) each writing a connection URL with no TLS
    setting: one place for them all, the first, its text naming the others (one
    connection, one finding: a labeller spans the literals or marks the call; held-out-s20
    varMT's two f-strings, vlab-research/fly's two returns)."""
    if len(options) < 2:
        return options
    marked = sorted(
        {
            (w.line, w.column, w.path, w.what)
            for option in options
            for item in alternatives(option)
            if isinstance(item, Text)
            and (w := item.written) is not None
            and w.what.startswith(CONNECTION_STRING_WRITTEN)
        }
    )
    if len({(line, path) for line, _, path, _ in marked}) < 2:
        return options
    line, column, path, _ = marked[0]
    others = ", ".join(str(n) for n in sorted({n for n, _, p, _ in marked[1:] if p == path}))
    what = f"{CONNECTION_STRING_WRITTEN} and at line {others}, with no TLS setting"
    first = WrittenAt(path, line, column, what)

    def moved(value: Value) -> Value:
        if isinstance(value, Choice):
            return choice((moved(o) for o in value.options), value.capped)
        if (
            isinstance(value, Text)
            and value.written is not None
            and value.written.what.startswith(CONNECTION_STRING_WRITTEN)
        ):
            return replace(value, written=first)
        return value

    return [moved(option) for option in options]


def _where(module: ParsedModule, call: ast.expr | ast.stmt) -> str:
    """A call (or a definition) in another module, named by its path under the project root."""
    try:
        path = module.path.relative_to(module.root).as_posix()
    except ValueError:
        path = module.path.name
    return f"{path}:{call.lineno}"


def _written_default(path: Path, expr: ast.expr | None, what: str) -> WrittenAt | None:
    """Where a field's or parameter's default is written, when it is a mode word: a
    finding it decides is reported there (class 8, as an environment reader's default)."""
    if not _mode_word(expr):
        return None
    return WrittenAt(path, expr.lineno, expr.col_offset + 1, what)


def _carried_tls_place(mapping: DictValue) -> WrittenAt | None:
    """Where a TLS value of a parsed query was written, when the dict still holds it
    as parse_qs read it (values.Text.written): the URL urlencode puts back says it."""
    for key, item in mapping.items:
        if key not in urls.TLS_KEYS:
            continue
        for value in item.items if isinstance(item, ListValue) else (item,):
            if isinstance(value, Text) and value.written is not None:
                return value.written
    return None


def _restamped(marked: Value, before: Value, what: str) -> Value:
    """`marked` with the places `_written_connection_string` gave it (none `before` had)
    saying `what`."""
    if isinstance(marked, Choice) and isinstance(before, Choice):
        pairs = zip(marked.options, before.options, strict=False)
        return choice((_restamped(m, b, what) for m, b in pairs), marked.capped)
    placed_before = isinstance(before, Text) and before.written is not None
    if isinstance(marked, Text) and marked.written is not None and not placed_before:
        return replace(marked, written=replace(marked.written, what=what))
    return marked


def _placed_mode(value: Value, where: WrittenAt) -> Value:
    """A setting word (`"disable"`, a constant naming one) as written at `where`, each
    option of a Choice so; another value unchanged."""
    if isinstance(value, Choice):
        return choice((_placed_mode(o, where) for o in value.options), value.capped)
    if not isinstance(value, Text) or value.known is None or value.written is not None:
        return value
    return replace(value, written=where) if _setting_word(value.known) else value


def _typer_annotated(function: ast.AST, name: str, place: Place) -> bool:
    """Whether the parameter's annotation is `Annotated[T, typer.Option(…)]` (or
    typer.Argument): its default is then the command-line option's."""
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    every = (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)
    annotation = next((a.annotation for a in every if a.arg == name), None)
    if not (isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple)):
        return False
    head = annotation.value
    if (head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")) != "Annotated":
        return False
    return any(
        isinstance(e, ast.Call) and place.module.qualname(e.func) in cli_options.TYPER_PARAMETERS
        for e in annotation.slice.elts[1:]
    )


def _bound_before(bindings: list[Binding], line: int | None, before: bool) -> bool:
    """Whether one of the bindings runs before a read at `line` (any does, when the read
    has no line: a read from an inner function)."""
    if line is None:
        return True
    return any(b.line < line or (b.line == line and not before) for b in bindings)


def _connection_url_literal(expr: ast.expr) -> bool:
    """A string literal (or an f-string whose first written part) beginning with a scheme
    the model reads: `"postgres://root@localhost:26257/db?sslmode=disable"`."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        first = expr.value
    elif isinstance(expr, ast.JoinedStr) and expr.values:
        head = expr.values[0]
        first = head.value if isinstance(head, ast.Constant) and isinstance(head.value, str) else ""
    else:
        return False
    return "://" in first and known_scheme(first)


def _mode_word(expr: ast.expr | None) -> TypeGuard[ast.Constant]:
    """A string literal that can only be a setting's value (`"disable"`, `"require"`), not
    a connection string: the place a default of a field or parameter gives a finding.
    A whole URL default that writes its TLS stays judged at its call (a Settings URL in
    another module has its own place, placement.settings_default_place); one with no
    TLS setting is placed at the default (_written_connection_string)."""
    if not (isinstance(expr, ast.Constant) and isinstance(expr.value, str)):
        return False
    return _setting_word(expr.value)


def _setting_word(text: str) -> bool:
    """A short word with nothing a connection string holds (`disable`, `require`)."""
    text = text.strip()
    return bool(text) and len(text) <= 32 and not any(c in text for c in ":/=@ ")


def _class_member(statement: ast.stmt, name: str) -> tuple[ast.expr | None, ast.expr | None] | None:
    """(annotation, value) of a class body's `name: T = v` / `name = v`, None when the
    statement does not bind `name`."""
    if (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.target.id == name
    ):
        return statement.annotation, statement.value
    if isinstance(statement, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in statement.targets
    ):
        return None, statement.value
    return None


def _default_factory(value: ast.expr) -> ast.expr | None:
    """X of `Field(default_factory=X)` / `field(default_factory=X)`."""
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg == "default_factory":
                return keyword.value
    return None


def _optional_inner(annotation: ast.expr) -> ast.expr:
    """`X | None` and `Optional[X]` name the class X."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = annotation.left, annotation.right
        return right if isinstance(left, ast.Constant) and left.value is None else left
    if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", "") == "Optional":
        return annotation.slice
    return annotation


def _keyword_quoted(value: str) -> str:
    """A value as a libpq keyword string writes it (quoted when empty or spaced)."""
    if value and not any(c.isspace() or c in "'\\" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _expanded_db_url(url: Value) -> Value:
    """expand_db_url(url) as the config entry it returns for a URL not seen here: an
    entry of unknown engine whose credentials are incomplete (the URL's query may carry
    any key, ssl too) but whose host is given (a network host), so a later change to the
    entry still applies. A URL seen here stays the text: the site reads it as Tortoise's
    db_url, with its casts (?ssl= through bool()); a change after it is not followed."""
    if isinstance(url, Text) and url.known is not None:
        return url
    host = Unknown("the host of the URL given to expand_db_url()")
    credentials = DictValue((("host", host),), complete=False)
    engine = Unknown("the engine of expand_db_url()'s URL")
    return DictValue((("engine", engine), ("credentials", credentials)))


def _noted(value: Value, note: str, written: WrittenAt | None = None) -> Value:
    """The value with a note on where it came from; `written`: where it was written,
    unless an inner reader's default already says (`getenv("A", getenv("B", "…"))`)."""
    if isinstance(value, Text):
        return replace(value, notes=(*value.notes, note), written=value.written or written)
    if isinstance(value, Choice):
        options = tuple(_noted(option, note, written) for option in value.options)
        return replace(value, options=options)
    return value


def _describe(node: ast.AST) -> str:
    """A short name for an unknown expression (never its literal content)."""
    if isinstance(node, ast.Name):
        return f"name '{node.id}'"
    if isinstance(node, ast.Attribute):
        return f"attribute '{node.attr}'"
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "a call")
        return f"result of {name}()"
    return "an expression"


def _env_name(expr: ast.expr, place: Place) -> str | None:
    """The variable an environment read written right there names (`os.getenv("X")`)."""
    read = env_read(place.module, expr) if isinstance(expr, ast.Call) else None
    if read is None or not isinstance(read.variable, ast.Constant):
        return None
    return read.variable.value if isinstance(read.variable.value, str) else None


def _deployed_instead(default: Value, name: str | None, place: Place) -> Unknown | None:
    """The deployment's world of an environment reader whose default is another
    backend's URL (`os.getenv("SQLALCHEMY_DATABASE_URI", "sqlite:///db.sqlite")`, or
    `os.getenv("DATABASE_URL") or "sqlite:///…"`) when the project's deployment files set
    that variable to a PostgreSQL URL (compose, env files, Kubernetes, ECS;
    scan/deployed_urls.py; held-out-s15 CSSE6400), or, for a SQL backend's fallback (a
    development database: SQLite, MySQL), when the project declares a PostgreSQL driver
    as a dependency (held-out-s18 dh-case-study and pairs-api: Heroku apps on psycopg2
    with a SQLite fallback): the default is the development database, the deployed one
    is PostgreSQL and decided at deploy. A Redis or AMQP fallback is never made a
    database connection by a driver in the requirements."""
    known = default.known if isinstance(default, Text) else None
    if known is None or "://" not in known:
        return None
    scheme = known.split("://", 1)[0].split("+", 1)[0].lower()
    if not scheme or scheme in KNOWN_SCHEMES or scheme.startswith(("postgres", "cockroach")):
        return None
    found = deployed_postgres_url(place.module.root, name) if name is not None else None
    if found is not None:
        return Unknown(f"environment variable {name}, which {found.why}")
    if scheme not in OTHER_BACKENDS:
        return None
    declared = declared_postgres_driver(place.module.root)
    if declared is None:
        return None
    variable = f"environment variable {name}" if name else "the deployment's URL"
    return Unknown(f"{variable} (the fallback is {scheme}; the project declares {declared})")


# string.Template's default pattern: $$, $identifier, ${identifier} (idpattern ASCII)
_TEMPLATE_FIELD = re.compile(r"\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\})")


def _mapping_texts(mapping: DictValue) -> dict[str, Text]:
    """A mapping's entries as format arguments (a value not text is an unknown part)."""
    return {
        key: as_text(value) or Text((Unknown(f"mapping entry {key!r}"),))
        for key, value in mapping.items
    }


def _nothing(value: Value) -> bool:
    """None given for a URL part: the part is left out, as when it is not given."""
    return isinstance(value, Const) and value.value is None


def _format(template: str, positional: list[Text], named: dict[str, Text]) -> Value:
    import string

    result = Text(())
    auto = 0
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return Unknown("a malformed format string")
    for literal, field_name, _spec, _conv in parsed:
        result = result + Text.of(literal)
        if field_name is None:
            continue
        if field_name == "":
            value = positional[auto] if auto < len(positional) else None
            auto += 1
        elif field_name.isdigit():
            index = int(field_name)
            value = positional[index] if index < len(positional) else None
        else:
            value = named.get(field_name)
        result = result + (value or Text((Unknown(f"format field {field_name!r}"),)))
    return _rescheme(result)


__all__ = ["ModuleValue", "Place", "Resolver", "notes_of"]


def _dict_items(value: Value) -> tuple[tuple[str, Value], ...]:
    return value.items if isinstance(value, DictValue) else ()


def _complete(*operands: Value) -> bool:
    """Every operand of a merge is a mapping read in full."""
    return all(isinstance(v, DictValue) and v.complete for v in operands)


def _builds_on_unread(value: Value, mutation: Mutation | Binding) -> bool:
    """A key set (`d[k] = v`) or a merge (`d.update(...)`, `d |= {...}`) made in a value
    the scanner could not read: the statement shows it is a mapping."""
    if not isinstance(value, Unknown) or not isinstance(mutation, Mutation):
        return False
    if not mutation.method:
        return mutation.value is not None
    return mutation.method == "update"
