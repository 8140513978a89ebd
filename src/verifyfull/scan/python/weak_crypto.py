"""MD5/SHA-1 for security (VF403) and `random` for secrets (VF404).

Precision over noise: a hash is flagged only when what it hashes, where its
result goes, or the function it sits in says security (password, token,
signature…); `hashlib.md5(url).hexdigest()` for a cache key is fine, and
`usedforsecurity=False` is taken at its word. `random` is flagged only when
its value flows to a secret-like name or use.
"""

from __future__ import annotations

import ast

from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.names import is_secret_name, is_security_name, target_name

_WEAK_HASHES = {"hashlib.md5": "MD5", "hashlib.sha1": "SHA-1"}
_WEAK_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha-1": "SHA-1"}
_RANDOM_FUNCTIONS = frozenset(
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
    return module == "random" and function in _RANDOM_FUNCTIONS


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
        if keyword.arg and is_secret_name(keyword.arg):
            _sink(a, keyword.value, keyword.arg)


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    name = target_name(target)
    if name is not None and is_secret_name(name):
        _sink(a, value, name)


def on_return(a: Analysis, node: ast.Return, function: str | None) -> None:
    if node.value is not None and function is not None and is_secret_name(function):
        _sink(a, node.value, f"{function}()")


def on_dict(a: Analysis, node: ast.Dict) -> None:
    for key, value in zip(node.keys, node.values, strict=True):
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and is_secret_name(key.value)
        ):
            _sink(a, value, key.value)
