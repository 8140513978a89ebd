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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from verifyfull.scan.python.effort import BASE_STEPS, BUDGET_EXCEEDED, Effort
from verifyfull.scan.python.module import Binding, ParsedModule, Scope
from verifyfull.scan.python.values import (
    Const,
    ContextValue,
    DictValue,
    ListValue,
    Symbol,
    Text,
    Unknown,
    Value,
    ValueTooLarge,
    as_text,
    notes_of,
)

MAX_DEPTH = 40

ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "getenv"})
_PASSTHROUGH = frozenset(
    {
        "str",
        "int",
        "sqlalchemy.engine.make_url",
        "sqlalchemy.make_url",
        "sqlalchemy.engine.url.make_url",
        "pydantic.PostgresDsn",
        "PostgresDsn",
    }
)
URL_CREATE = frozenset(
    {
        "sqlalchemy.URL.create",
        "sqlalchemy.engine.URL.create",
        "sqlalchemy.engine.url.URL.create",
    }
)
_SETTINGS_BASES = ("BaseSettings", "BaseModel", "Settings")
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


_TOO_DEEP = "expression nested too deeply"


class Resolver:
    def __init__(self, budget: int = BASE_STEPS) -> None:
        self.effort = Effort(budget)
        # method scopes being resolved for a class attribute: `self.x` reads the class
        self._methods_of: dict[int, tuple[ast.ClassDef, ParsedModule]] = {}
        self._too_large: str | None = None

    @property
    def incomplete(self) -> str | None:
        """Why some values of the file were left unknown by a limit (the step budget, a
        value too large to follow), or None: what they decide is not judged, and the
        check says so for the file."""
        if self.effort.exceeded:
            return f"{BUDGET_EXCEEDED} ({self.effort.budget:,} value-resolution steps)"
        return self._too_large

    # --- entry point -----------------------------------------------------------
    def value(self, expr: ast.expr | None, place: Place, depth: int = 0) -> Value:
        if expr is None:
            return Const(None)
        if depth > MAX_DEPTH:
            self.effort.cut_by_depth()
            return Unknown(_TOO_DEEP)
        scope_key = id(place.scope)
        key = (id(expr), id(place.module), scope_key, place.line, scope_key in self._methods_of)
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
        try:
            result = method(expr, place, depth + 1)
        except ValueTooLarge as exc:
            self._too_large = self._too_large or exc.why
            result = Unknown(exc.why)
        self.effort.end(mark, key, result, depth, (expr, place))
        return result

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
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                result = result + Text.of(part.value)
            elif isinstance(part, ast.FormattedValue):
                inner = self.value(part.value, place, depth)
                text = as_text(inner)
                if isinstance(inner, Const) and isinstance(inner.value, bool):
                    text = Text.of(str(inner.value))
                result = result + (text or Text((Unknown(_describe(part.value)),)))
        return result

    def _BinOp(self, node: ast.BinOp, place: Place, depth: int) -> Value:
        if isinstance(node.op, ast.Add):
            left = self.value(node.left, place, depth)
            right = self.value(node.right, place, depth)
            left_text, right_text = as_text(left), as_text(right)
            textual = isinstance(left, Text | Unknown) or isinstance(right, Text | Unknown)
            if textual and left_text is not None and right_text is not None:
                return left_text + right_text
        if isinstance(node.op, ast.BitOr):  # dict | dict
            left = self.value(node.left, place, depth)
            right = self.value(node.right, place, depth)
            if isinstance(left, DictValue) and isinstance(right, DictValue):
                return DictValue(left.items + right.items, left.complete and right.complete)
        return Unknown(_describe(node))

    def _Dict(self, node: ast.Dict, place: Place, depth: int) -> Value:
        items: list[tuple[str, Value]] = []
        complete = True
        for key, item in zip(node.keys, node.values, strict=True):
            if key is None:  # **spread
                spread = self.value(item, place, depth)
                if isinstance(spread, DictValue):
                    items += spread.items
                    complete = complete and spread.complete
                else:
                    complete = False
                continue
            key_value = self.value(key, place, depth)
            if isinstance(key_value, Text) and key_value.known is not None:
                items.append((key_value.known, self.value(item, place, depth)))
            else:
                complete = False
        return DictValue(tuple(items), complete)

    def _List(self, node: ast.List | ast.Tuple, place: Place, depth: int) -> Value:
        return ListValue(tuple(self.value(e, place, depth) for e in node.elts))

    _Tuple = _List

    def _IfExp(self, node: ast.IfExp, place: Place, depth: int) -> Value:
        return Unknown("a conditional expression")

    def _BoolOp(self, node: ast.BoolOp, place: Place, depth: int) -> Value:
        # `os.getenv("X") or "fallback"`: the fallback is what runs when X is unset.
        if isinstance(node.op, ast.Or):
            for operand in node.values:
                value = self.value(operand, place, depth)
                if not isinstance(value, Unknown):
                    if isinstance(value, Text) and operand is not node.values[0]:
                        return replace(value, notes=(*value.notes, "fallback after `or`"))
                    return value
        return Unknown(_describe(node))

    def _Subscript(self, node: ast.Subscript, place: Place, depth: int) -> Value:
        qual = place.module.qualname(node.value)
        key = self.value(node.slice, place, depth)
        key_text = key.known if isinstance(key, Text) else None
        if qual == "os.environ":
            return Unknown(f"environment variable {key_text or '?'}")
        container = self.value(node.value, place, depth)
        if isinstance(container, DictValue) and key_text is not None:
            found = container.get(key_text)
            if found is not None:
                return found
            if not container.complete:
                return Unknown(f"key {key_text!r} of a dict built elsewhere")
            return Unknown(f"missing key {key_text!r}")
        return Unknown(_describe(node))

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
                if innermost:
                    before = [b for b in bindings if b.line <= place.line]
                    bindings = before or bindings
                return self._bound(name, bindings, Place(place.module, scope, place.line), depth)
            if name in scope.params:
                default = scope.params[name]
                if default is None or scope.parent is None:
                    return Unknown(f"parameter '{name}' of {scope.name}()")
                value = self.value(default, Place(place.module, scope.parent, place.line), depth)
                return _noted(value, f"{name}: default of parameter of {scope.name}()")
            scope = scope.parent
            innermost = False
        ref = place.module.aliases.get(name)
        if ref is not None:
            return self._imported(name, place, depth)
        return Unknown(f"name '{name}'")

    def _bound(self, name: str, bindings: list[Binding], place: Place, depth: int) -> Value:
        key = (id(place.scope), name)
        if not self.effort.enter(key):
            return Unknown(f"'{name}' defined in terms of itself")
        try:
            start = max((i for i, b in enumerate(bindings) if not b.augmented), default=0)
            value = self.value(bindings[start].value, place, depth)
            for extra in bindings[start + 1 :]:
                added = as_text(self.value(extra.value, place, depth))
                text = as_text(value)
                value = text + added if text is not None and added is not None else value
            if isinstance(value, ContextValue):
                value = self._mutated(name, value, place, depth)
            return value
        finally:
            self.effort.leave(key)

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
            owner_of_self = self._methods_of.get(id(place.scope))
            if owner_of_self is not None:
                return self.class_attribute(owner_of_self[0], owner_of_self[1], node.attr, depth)
        base = self.value(node.value, place, depth)
        if isinstance(base, ModuleValue) and base.module is not None:
            return self.name(node.attr, Place(base.module, base.module.scope, 10**9), depth)
        owner = self.settings_class(node.value, place, depth)
        if owner is not None:
            return self.class_attribute(owner[0], owner[1], node.attr, depth)
        if isinstance(base, Symbol):
            return Symbol(f"{base.dotted}.{node.attr}")
        return Unknown(_describe(node))

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
            return None
        if isinstance(expr, ast.Name):
            found = self.class_named(expr, place)
            if found is not None:
                return found
            binding = self._binding_expr(expr.id, place, depth + 1)
            if binding is not None:
                return self.settings_class(binding[0], binding[1], depth + 1)
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

    def class_attribute(
        self, owner: ast.ClassDef, module: ParsedModule, attr: str, depth: int
    ) -> Value:
        scope = module.scope_of(owner)
        if scope is None:
            return Unknown(f"attribute {owner.name}.{attr}")
        settings = _is_settings_class(owner)
        bindings = scope.assigns.get(attr)
        method = next(
            (
                n
                for n in owner.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == attr
            ),
            None,
        )
        if not bindings and method is not None:
            # A @property (or @computed_field) building the DSN from the other fields.
            method_scope = module.scope_of(method)
            if method_scope is None or not method_scope.returns:
                return Unknown(f"property {owner.name}.{attr}")
            self._methods_of[id(method_scope)] = (owner, module)
            value = self.value(method_scope.returns[-1], Place(module, method_scope, 10**9), depth)
            return _noted(value, f"{attr}: property of {owner.name}")
        if not bindings:
            if settings:
                return Unknown(f"settings field {owner.name}.{attr} (environment, no default)")
            return Unknown(f"attribute {owner.name}.{attr}")
        expr = _field_default(bindings[-1].value)
        value = self.value(expr, Place(module, scope, 10**9), depth)
        if settings:
            return _noted(value, f"{attr}: default of settings field {owner.name}.{attr}")
        return value

    # --- calls -------------------------------------------------------------------
    def _Call(self, node: ast.Call, place: Place, depth: int) -> Value:
        qual = place.module.qualname(node.func)
        if qual in ENV_GETTERS or (qual or "").endswith("environ.get"):
            return self._env(node, place, depth)
        if qual in _PASSTHROUGH and node.args:
            return self.value(node.args[0], place, depth)
        if qual in URL_CREATE or (qual or "").endswith("URL.create"):
            return self.url_create(node, place, depth)
        if qual == "dict":
            return self._Dict(
                ast.Dict(
                    keys=[ast.Constant(k.arg) if k.arg else None for k in node.keywords],
                    values=[k.value for k in node.keywords],
                ),
                place,
                depth,
            )
        origin = ssl_origin(qual)
        if origin is not None:
            return self.new_context(origin, node, place, depth)
        if isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in ("replace", "format", "strip", "rstrip", "lstrip"):
                receiver = self.value(node.func.value, place, depth)
                if isinstance(receiver, Text):
                    return self._string_method(receiver, method, node, place, depth)
        function = self.function_named(node.func, place)
        if function is not None:
            fn_module, fn_node = function
            fn_scope = fn_module.scope_of(fn_node)
            if fn_scope is not None and fn_scope.returns:
                key = (id(fn_scope), "<return>")
                if self.effort.enter(key):
                    try:
                        returned = self.value(
                            fn_scope.returns[-1], Place(fn_module, fn_scope, 10**9), depth
                        )
                    finally:
                        self.effort.leave(key)
                    return _noted(returned, f"returned by {fn_node.name}()")
        return Unknown(f"result of {qual or 'a call'}()")

    def _env(self, node: ast.Call, place: Place, depth: int) -> Value:
        name_value = self.value(node.args[0], place, depth) if node.args else Const(None)
        name = name_value.known if isinstance(name_value, Text) else None
        default: ast.expr | None = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg in ("default", "value"):
                default = keyword.value
        if default is None:
            return Unknown(f"environment variable {name or '?'}")
        value = self.value(default, place, depth)
        return _noted(value, f"{name or '?'}: default of {_env_call_name(node, place)}")

    def _string_method(
        self, receiver: Text, method: str, node: ast.Call, place: Place, depth: int
    ) -> Value:
        args = [self.value(a, place, depth) for a in node.args]
        texts = [a.known if isinstance(a, Text) else None for a in args]
        if method == "replace" and len(texts) >= 2 and texts[0] is not None:
            if texts[1] is None:
                return Unknown("a replacement with an unknown value")
            return receiver.replace(texts[0], texts[1])
        if method in ("strip", "rstrip", "lstrip") and not args:
            return receiver
        if method == "format" and receiver.known is not None:
            positional = [as_text(a) or Text((Unknown("a format argument"),)) for a in args]
            named = {
                k.arg: as_text(self.value(k.value, place, depth))
                or Text((Unknown("a format argument"),))
                for k in node.keywords
                if k.arg
            }
            return _format(receiver.known, positional, named)
        return Unknown(f"result of str.{method}()")

    def url_create(self, node: ast.Call, place: Place, depth: int) -> Value:
        """SQLAlchemy URL.create(drivername, username, password, host, port, database, query)."""
        names = ("drivername", "username", "password", "host", "port", "database", "query")
        given: dict[str, ast.expr] = dict(zip(names, node.args, strict=False))
        given.update({k.arg: k.value for k in node.keywords if k.arg})
        parts: dict[str, Text | None] = {}
        for key in names[:-1]:
            if key in given:
                value = self.value(given[key], place, depth)
                parts[key] = as_text(value)
            else:
                parts[key] = None
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
        if "query" in given:
            query = self.value(given["query"], place, depth)
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
        return replace(url, notes=(*url.notes, "built by URL.create()"))

    # --- ssl contexts ----------------------------------------------------------------
    def new_context(self, origin: str, node: ast.Call, place: Place, depth: int) -> ContextValue:
        line = node.lineno
        if origin == "ssl._create_unverified_context":
            return ContextValue(
                "ssl._create_unverified_context()", "CERT_NONE", False, None, line=line
            )
        if origin == "ssl.create_default_context":
            keywords = {k.arg for k in node.keywords}
            purpose = self.value(node.args[0], place, depth) if node.args else None
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
        protocol = self.value(node.args[0], place, depth) if node.args else None
        for keyword in node.keywords:
            if keyword.arg == "protocol":
                protocol = self.value(keyword.value, place, depth)
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
        """Apply `ctx.attr = …` and `ctx.method(…)` done to the named context in its scope."""
        for attr, binding in place.scope.attr_assigns.get(name, []):
            if binding.line < context.line:
                continue
            value = self.value(binding.value, place, depth)
            if attr == "verify_mode":
                mode = value.last if isinstance(value, Symbol) else None
                context = replace(context, verify_mode=mode)
            elif attr == "check_hostname":
                flag = value.value if isinstance(value, Const) else None
                context = replace(context, check_hostname=flag if isinstance(flag, bool) else None)
            elif attr == "minimum_version":
                version = value.last if isinstance(value, Symbol) else None
                context = replace(context, minimum_version=tls_version_text(version))
        for method, call in place.scope.method_calls.get(name, []):
            if call.lineno < context.line:
                continue
            if method == "set_ciphers" and call.args:
                ciphers = self.value(call.args[0], place, depth)
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
class ModuleValue(Unknown):
    """A project module object (`import config`), so `config.NAME` can be followed."""

    module: ParsedModule | None = None


_Def = TypeVar("_Def", ast.ClassDef, ast.FunctionDef | ast.AsyncFunctionDef)


def _definition(
    expr: ast.expr, place: Place, table: Callable[[ParsedModule], Mapping[str, _Def]]
) -> tuple[ParsedModule, _Def] | None:
    """The class or function a name refers to: defined here or imported from the project."""
    if not isinstance(expr, ast.Name):
        return None
    if expr.id in table(place.module):
        return place.module, table(place.module)[expr.id]
    ref = place.module.aliases.get(expr.id)
    if ref is None or ref.name is None:
        return None
    found = place.module.find_import(ref)
    if found is None:
        return None
    module, attr = found
    definition = table(module).get(attr) if attr is not None else None
    return (module, definition) if definition is not None else None


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


def _is_settings_class(node: ast.ClassDef) -> bool:
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        if name.endswith(_SETTINGS_BASES):
            return True
    return False


def _field_default(expr: ast.expr) -> ast.expr | None:
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


def _noted(value: Value, note: str) -> Value:
    if isinstance(value, Text):
        return replace(value, notes=(*value.notes, note))
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
    return result


__all__ = ["ModuleValue", "Place", "Resolver", "notes_of"]
