"""MD5/SHA-1 for security (VF403) and `random` for secrets (VF404).

Precision over noise: a hash is flagged only when what it hashes, where its
result goes, or the function it sits in says security (password, token,
signature…); `hashlib.md5(url).hexdigest()` for a cache key is fine, and
`usedforsecurity=False` is taken at its word. `random` is flagged only when
its value flows to a secret sink: a value stored under, passed as, or returned by a
function named like a secret (token, otp, nonce, salt, pin, a code that says what
it proves: `reset_code`; a bare `code` / `generate_new_code` only in a module about
authentication, not in tests), followed inside the function through the names
and containers that carry it to the return (`el = random.randint(...)`,
`digits.append(str(el))`, `return "".join(digits)`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.names import (
    is_code_name,
    is_secret_code_name,
    is_secret_name,
    is_security_name,
    is_test_path,
    target_name,
    words,
)

_WEAK_HASHES = {"hashlib.md5": "MD5", "hashlib.sha1": "SHA-1"}
_WEAK_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha-1": "SHA-1"}
RANDOM_FUNCTIONS = frozenset(
    {
        "random",
        "randint",
        "randrange",
        "choice",
        "choices",
        "sample",
        "shuffle",
        "getrandbits",
        "randbytes",
        "uniform",
    }
)


def weak_hash(a: Analysis, node: ast.Call) -> str | None:
    qual = a.module.qualname(node.func) or ""
    algorithm = _WEAK_HASHES.get(qual)
    if algorithm is None and qual == "hashlib.new" and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            algorithm = _WEAK_NAMES.get(first.value.lower())
    if algorithm is None:
        return None
    for keyword in node.keywords:
        if (
            keyword.arg == "usedforsecurity"
            and isinstance(keyword.value, ast.Constant)
            and keyword.value.value is False
        ):
            return None
    return algorithm


def is_insecure_random(a: Analysis, node: ast.Call) -> bool:
    qual = a.module.qualname(node.func) or ""
    module, _, function = qual.rpartition(".")
    return module == "random" and function in RANDOM_FUNCTIONS


def _names_in(node: ast.AST) -> list[str]:
    found: list[str] = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            found.append(inner.id)
        elif isinstance(inner, ast.Attribute):
            found.append(inner.attr)
    return found


def _report_hash(a: Analysis, call: ast.Call, algorithm: str, why: str) -> None:
    a.report(
        "VF403",
        call,
        f"{algorithm} used {why}; it is broken for security use (collisions, fast brute force)",
        fix="Passwords: hashlib.scrypt or argon2; tokens and signatures: hmac with "
        "SHA-256, or secrets.token_urlsafe.",
    )


def _report_random(a: Analysis, call: ast.Call, sink: str) -> None:
    a.report(
        "VF404",
        call,
        f"random.{getattr(call.func, 'attr', getattr(call.func, 'id', ''))} makes {sink!r}: "
        "the Mersenne Twister is predictable from earlier output",
        fix="Use the secrets module: secrets.token_urlsafe(), secrets.token_bytes(), "
        "secrets.choice().",
    )


def _sink(a: Analysis, value: ast.expr, sink: str) -> None:
    """A value written into a secret-like name: check the hashes and randoms inside it."""
    for inner in ast.walk(value):
        if not isinstance(inner, ast.Call):
            continue
        algorithm = weak_hash(a, inner)
        if algorithm is not None:
            _report_hash(a, inner, algorithm, f"to compute {sink!r}")
        elif is_insecure_random(a, inner):
            _report_random(a, inner, sink)


# Modules about proving who someone is: there a bare `code` is a confirmation code.
_SECURITY_MODULE_WORDS = frozenset(
    {
        *("auth", "authentication", "authorization", "security", "otp", "mfa", "totp"),
        *("twofa", "verification", "verify", "confirm", "confirmation", "activation"),
        *("login", "signup", "registration", "register", "password", "passwords", "reset"),
        *("token", "tokens", "invite", "invitations", "accounts", "account", "sessions"),
    }
)


def _security_module(a: Analysis) -> bool:
    path = a.source.relpath
    if is_test_path(path):
        return False  # test data, not a code anyone is sent
    return any(w in _SECURITY_MODULE_WORDS for w in words(path.replace("/", "_")))


def is_sink(a: Analysis, name: str) -> bool:
    """Whether a value stored under, passed as, or returned by `name` must be
    unpredictable."""
    if is_secret_name(name) or is_secret_code_name(name):
        return True
    return is_code_name(name) and _security_module(a)


def on_call(a: Analysis, node: ast.Call, scope: Scope, function: str | None) -> None:
    algorithm = weak_hash(a, node)
    if algorithm is not None:
        hashed = _names_in(ast.Tuple(elts=list(node.args), ctx=ast.Load()))
        secret = next((n for n in hashed if is_security_name(n)), None)
        if secret is not None:
            _report_hash(a, node, algorithm, f"on {secret!r}")
        elif function is not None and is_security_name(function):
            _report_hash(a, node, algorithm, f"in {function}()")
    for keyword in node.keywords:
        if keyword.arg and is_sink(a, keyword.arg):
            _sink(a, keyword.value, keyword.arg)
    if (
        is_insecure_random(a, node)
        and scope.is_function
        and _produces_secret(a, scope)
        and id(node) in _returned_randoms(a, scope.node)
    ):
        _report_random(a, node, f"{scope.name}()")


# A method named only by its verb (`OTP.generate()`, `ResetToken.create()`) produces
# what its class is named for.
_PRODUCER_VERBS = frozenset({"generate", "gen", "make", "create", "new", "issue", "build"})


def _produces_secret(a: Analysis, scope: Scope) -> bool:
    """A function named like a secret, or a producing method of a class so named."""
    if is_sink(a, scope.name):
        return True
    parent = scope.parent
    return (
        parent is not None
        and isinstance(parent.node, ast.ClassDef)
        and (words(scope.name) or ("",))[0] in _PRODUCER_VERBS
        and is_sink(a, parent.name)
    )


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    name = target_name(target)
    if name is not None and is_sink(a, name):
        _sink(a, value, name)


def on_return(a: Analysis, node: ast.Return, function: str | None) -> None:
    if node.value is not None and function is not None and is_sink(a, function):
        _sink(a, node.value, f"{function}()")


# Methods that put their argument into the container they are called on.
_FILLS = frozenset({"append", "extend", "add", "insert", "update", "appendleft", "write"})
# Passes over a function's bindings to follow a value back from its return; each pass
# can only add names, and real code needs two or three.
_PASSES = 8


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not of the functions and classes it defines."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))


def _bindings(function: ast.AST) -> list[tuple[set[str], ast.AST]]:
    """(names bound, the expression they get) for every binding in the function:
    assignments, loop targets, `with ... as`, and `x.append(value)`-style fills."""
    found: list[tuple[set[str], ast.AST]] = []
    for node in _own_nodes(function):
        if isinstance(node, ast.Assign):
            found.append(({n for t in node.targets for n in _names(t)}, node.value))
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
            found.append((_names(node.target), node.value))
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            found.append((_names(node.target), node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            found.append((_names(node.optional_vars), node.context_expr))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _FILLS
            and isinstance(node.func.value, ast.Name)
        ):
            found.append(({node.func.value.id}, ast.Tuple(elts=node.args, ctx=ast.Load())))
    return found


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _randoms(a: Analysis, node: ast.AST) -> set[int]:
    return {id(n) for n in ast.walk(node) if isinstance(n, ast.Call) and is_insecure_random(a, n)}


_CACHE: dict[int, tuple[ast.AST, frozenset[int]]] = {}


def _returned_randoms(a: Analysis, function: ast.AST) -> frozenset[int]:
    """The random calls whose value reaches a return of the function: the names the
    returns read, followed back through the bindings that give them values."""
    cached = _CACHE.get(id(function))
    if cached is not None and cached[0] is function:
        return cached[1]
    returns = [n.value for n in _own_nodes(function) if isinstance(n, ast.Return) and n.value]
    needed = {name for value in returns for name in _names(value)}
    found = {call for value in returns for call in _randoms(a, value)}
    bindings = _bindings(function)
    used: set[int] = set()
    for _ in range(_PASSES):
        grew = False
        for index, (targets, value) in enumerate(bindings):
            if index not in used and targets & needed:
                used.add(index)
                needed |= _names(value)
                found |= _randoms(a, value)
                grew = True
        if not grew:
            break
    result = frozenset(found)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[id(function)] = (function, result)
    return result


def on_dict(a: Analysis, node: ast.Dict) -> None:
    for key, value in zip(node.keys, node.values, strict=True):
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and is_secret_name(key.value)
        ):
            _sink(a, value, key.value)
