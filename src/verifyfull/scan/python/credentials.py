"""Database credentials written into code (VF401) or only encoded there (VF402).

VF401 is raised where the literal is written: a DSN literal with a password,
`password="…"` passed to a connection call or URL.create, a credentials dict,
`DB_PASSWORD = "…"` (also as a settings field default), and
`os.getenv("DB_PASSWORD", "…")` defaults, Django's upper-case `'PASSWORD'` keys,
and a password-named literal passed on to a connection (`connect(password=PW)`:
reported where PW's literal is written).

Not credentials: placeholders (scan/placeholders.py, shared with the config
checks: `${DB_PASSWORD}`, `<password>`, `***`, `changeme`, `your_*`, a value equal
to its key's name, localised words); docstrings; an HTTP login payload
(`{"username": u, "password": p}`: no database key beside it) and password hashes
(`hashed_password`); test inputs that never reach a connection: a literal handed
only to a parser, redactor or mock (`parse_dsn("…")`, `redact(…)`, `Mock(…)`), the
pattern of a regular-expression call (`re.match(r"postgresql://[^:]+:[^@]+@", url)`), a DSN
whose host is reserved for examples (`example.com`, `*.test`, RFC 2606/6761); and
lines marked `# pragma: allowlist secret` (detect-secrets' marker).
VF402: a password produced by base64/hex/rot13 decoding a literal.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from verifyfull.conninfo.libpq import keyword_string_error
from verifyfull.scan.interpolation import example_context
from verifyfull.scan.placeholders import (
    DESCRIBING,
    ROLE_WORDS,
    is_placeholder,
    register_written_password,
)
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.env_readers import env_read
from verifyfull.scan.python.module import ParsedModule, Scope
from verifyfull.scan.python.names import (
    has_db_context,
    is_password_name,
    target_name,
    words,
)
from verifyfull.scan.python.resolve import field_default
from verifyfull.scan.python.values import Text
from verifyfull.scrub import register_from_text, register_secret

_DSN_WITH_PASSWORD = re.compile(
    r"(?:postgres(?:ql)?|cockroachdb|asyncpg|psycopg)(?:\+\w+)?://(?P<user>[^:/@\s]*):(?P<pw>[^@\s]+)@",
    re.IGNORECASE,
)
# `postgresql://host/db?user=app&password=x`: libpq reads the query's password too.
_QUERY_PASSWORD = re.compile(
    r"(?:postgres(?:ql)?|cockroachdb|asyncpg|psycopg)(?:\+\w+)?://[^\s?]*\?(?:[^\s#]*&)?"
    r"password=(?P<pw>[^&\s#]+)",
    re.IGNORECASE,
)
# Hosts reserved for examples and tests (RFC 2606, RFC 6761): no server answers there.
_EXAMPLE_HOST = re.compile(
    r"://(?:[^@/\s]*@)?(?:[\w.-]+\.)?(?:example(?:\.(?:com|org|net))?|test|invalid)(?=[:/?\s]|$)",
    re.IGNORECASE,
)
# Calls a literal may be handed to without ever reaching a connection.
_INERT_CALL = re.compile(r"(?:^|[._])(?:parse|redact|mask|scrub|sanitize|sanitise|mock)", re.I)
# Regular-expression calls whose first argument (or pattern=) is a pattern.
_REGEX_MODULES = frozenset({"re", "regex"})
_REGEX_FUNCTIONS = frozenset(
    {"compile", "match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split"}
)
_HASH_WORDS = frozenset({"hash", "hashed", "digest", "salt", "bcrypt", "argon2", "pbkdf2"})
ALLOWLIST_MARKER = "pragma: allowlist secret"
KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*(?P<pw>'[^']*'|[^\s']+)")
KEYWORD_DSN_HINT = re.compile(r"(?:^|\s)(?:host|dbname|user|port)\s*=")
_REFERENCE = re.compile(
    r"^(\$\{[^}]*\}|\$[A-Za-z_]\w*|\{\{.*\}\}|\{[^}]*\}|%\([^)]*\)s|\*+|<[^>]*>|\.\.\.|x+|"
    r"%s|\?)$",
    re.IGNORECASE,
)
_DECODERS = {
    "base64.b64decode": "base64",
    "base64.urlsafe_b64decode": "base64",
    "base64.b32decode": "base32",
    "base64.b16decode": "hex",
    "base64.a85decode": "ascii85",
    "base64.decodebytes": "base64",
    "binascii.unhexlify": "hex",
    "binascii.a2b_hex": "hex",
    "binascii.a2b_base64": "base64",
    "bytes.fromhex": "hex",
    "codecs.decode": "codecs",
}
# Words a decoding call cannot be written without: its module (named, or in the
# import of the name used) or, for bytes.fromhex, the method (for the prefilter).
DECODER_MODULES = frozenset(
    qual.split(".")[0] for qual in _DECODERS if not qual.startswith("bytes.")
)
DECODER_WORDS = (*sorted(DECODER_MODULES), "fromhex")
# The name a decoding call is written with (module.function, the function imported,
# or .fromhex), unless the function was imported under another name.
DECODER_FUNCTIONS = tuple(sorted({qual.rsplit(".", 1)[-1] for qual in _DECODERS}))
_CODEC_NAMES = {"rot13": "rot13", "rot_13": "rot13", "base64": "base64", "hex": "hex"}
# A call whose qualified name holds one of these is a connection call (password= there
# is a database credential).
CONNECTION_CALL_WORDS = (
    "connect",
    "pool",
    "engine",
    "database",
    "tortoise",
    "url.create",
    "make_conninfo",
    "make_dsn",
)

FIX_401 = (
    "Read the password from the environment or a secret store (no default in code), or "
    "better, authenticate with a client certificate (cockroach cert create-client)."
)


def is_reference(value: str, key: str = "password", example: bool = True) -> bool:
    """Whether a literal only points at a secret kept elsewhere or stands in for one
    (`example`: in a module to copy and fill in, placeholders.is_placeholder)."""
    stripped = value.strip().strip("'\"")
    if not stripped or _REFERENCE.match(stripped):
        return True
    return is_placeholder(key, stripped, example)


def example_module(a: Analysis) -> bool:
    """Whether the analysed module is one to copy and fill in (`settings.example.py`)."""
    return example_context(a.module.path.name)


def is_credential_name(name: str) -> bool:
    """A password name that is not a password hash (`hashed_password`)."""
    return is_password_name(name) and not _HASH_WORDS & set(words(name))


# Wrappers that only hide a secret's repr (pydantic's SecretStr / SecretBytes, starlette's
# Secret): `pg_password: SecretStr = SecretStr("postgres")` writes the literal all the same
# (held-out-s18 chatrooms-server).
SECRET_WRAPPERS = frozenset({"SecretStr", "SecretBytes", "Secret"})


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in SECRET_WRAPPERS:
            node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return node.value.decode("utf-8", "replace")
    return None


def literal_holds_password(text: str, example: bool = False) -> bool:
    """Whether a string literal is a DSN or libpq keyword string with a password (not a
    reference to one). The prefilter asks the same of a file's literals, as of a module
    used as written (`example` False): a superset of what any module reports."""
    if len(text) > 4096 or ("@" not in text and "assword" not in text):
        return False  # most literals: no regex needed
    match = _DSN_WITH_PASSWORD.search(text) or _QUERY_PASSWORD.search(text)
    if match is not None and _EXAMPLE_HOST.search(text):
        return False  # an example host: a test input or documentation, never connected
    if match is None and KEYWORD_DSN_HINT.search(text) and keyword_string_error(text) is None:
        # Only what libpq reads as a keyword string: prose or code in a string
        # ("user = User(password='x')") is not a connection string.
        match = KEYWORD_PASSWORD.search(text)
    if match is None or is_reference(match.group("pw"), example=example):
        return False
    user = match.groupdict().get("user")  # a DSN's password named after its user: a slot
    return not (user and names_its_slot(match.group("pw"), (user,)))


def on_constant(a: Analysis, node: ast.Constant) -> None:
    """A string literal holding a DSN or keyword string with a password. Docstrings and
    other strings standing alone as a statement are documentation, not credentials in
    use: the walker does not hand them here."""
    if isinstance(node.value, str) and literal_holds_password(node.value, example_module(a)):
        register_from_text(node.value)  # no writer may print it, in any shape
        if id(node) in a.inert or _allowlisted(a, node):
            return
        a.report(
            "VF401",
            node,
            "a database password is written in the connection string",
            fix=FIX_401,
        )


def _decoder(a: Analysis, node: ast.expr, scope: Scope) -> tuple[ast.Call, str] | None:
    """A decoding call with a literal argument inside `node`, and the encoding."""
    for inner in ast.walk(node):
        if not isinstance(inner, ast.Call) or not inner.args:
            continue
        qual = a.module.qualname(inner.func) or ""
        encoding = _DECODERS.get(qual)
        if encoding is None and getattr(inner.func, "attr", "") == "fromhex":
            encoding = "hex"
        if encoding is None:
            continue
        if encoding == "codecs":
            codec = _literal(inner.args[1]) if len(inner.args) > 1 else None
            encoding = _CODEC_NAMES.get((codec or "").lower().replace("-", "_"), "")
            if not encoding:
                continue
        argument = a.resolver.value(inner.args[0], a.place(inner, scope))
        if isinstance(argument, Text) and argument.known:
            return inner, encoding
    return None


# A password slot named after what it belongs to: the entry's own user or database name
# (or describing words) apart, then a role word (`'PASSWORD': 'mydjangoapp_password'`
# beside `'USER': 'mydjangoapp'`, `'django_db_user_pswd'` beside `'USER':
# 'django_db_user_name'`): a template's or install script's slot (gopalraha/boot-django's
# script seds it to the password typed at install time), not a password.
_SLOT_ROLE_WORDS = ROLE_WORDS | {"pswd", "passw", "passwrd"}
_SLOT_SEPARATORS = re.compile(r"[\s_.\-]+")


def _slot_words(text: str) -> list[str]:
    return [word for word in _SLOT_SEPARATORS.split(text.strip().casefold()) if word]


def names_its_slot(value: str, siblings: Iterable[str]) -> bool:
    """Whether `value` is its entry's user/database words (or describing words) written
    apart and ending in a password's role word: it says whose password goes there."""
    parts = _slot_words(value)
    if len(parts) < 2 or parts[-1] not in _SLOT_ROLE_WORDS:
        return False
    named = {word for sibling in siblings for word in _slot_words(sibling)} | DESCRIBING
    return all(part in named for part in parts[:-1])


_SLOT_OWNER_KEYS = frozenset({"user", "username", "name", "database", "dbname", "db"})


def _sibling_literals(pairs: Iterable[tuple[str | None, ast.expr]]) -> tuple[str, ...]:
    """The literal values of an entry's user/database keys (its password's siblings)."""
    return tuple(
        value.value
        for key, value in pairs
        if key is not None
        and key.lower() in _SLOT_OWNER_KEYS
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
    )


def _password_value(
    a: Analysis,
    name: str,
    value: ast.expr,
    scope: Scope,
    db: bool,
    siblings: tuple[str, ...] = (),
) -> None:
    """`name = value` where name says password: VF402 if decoded, VF401 if literal
    (not when it only names its slot after the siblings' user or database)."""
    decoded = _decoder(a, value, scope)
    if decoded is not None:
        call, encoding = decoded
        func = ast.get_source_segment(a.source.text, call.func) or "decode"
        a.report(
            "VF402",
            call,
            f"the password {name!r} is only {encoding}-encoded in the code; anyone reading "
            "the source decodes it",
            evidence=f"{name} = {func}(***)",
            fix="Encoding is not protection: read the password from a secret store or the "
            "environment, or use certificate authentication.",
        )
        return
    literal = _literal(value)
    if db and literal is not None:
        register_written_password(name, literal)  # a placeholder is masked too
    if (
        db
        and literal is not None
        and not is_reference(literal, name, example_module(a))
        and not names_its_slot(literal, siblings)
    ):
        register_secret(literal)
        if id(value) in a.inert or _allowlisted(a, value):
            return
        a.report(
            "VF401",
            value,
            f"database password {name!r} is written in the code",
            evidence=f"{name} = ***",
            fix=FIX_401,
        )


def _enclosing_class(scope: Scope) -> str:
    node = scope.node
    return node.name if isinstance(node, ast.ClassDef) else ""


def _allowlisted(a: Analysis, node: ast.AST) -> bool:
    """`# pragma: allowlist secret` on the literal's line (or its statement's last)."""
    lines = a.lines()
    first = getattr(node, "lineno", 0)
    last = getattr(node, "end_lineno", first) or first
    return any(
        ALLOWLIST_MARKER in lines[n - 1] for n in range(first, last + 1) if 0 < n <= len(lines)
    )


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    name = target_name(target)
    if name is None or not is_credential_name(name):
        return
    db = has_db_context(name, _enclosing_class(scope), a.source.path.stem)
    _password_value(a, name, value, scope, db)


def _regex_pattern(qual: str, node: ast.Call) -> ast.expr | None:
    """The pattern a regular-expression call is given (`re.match(r"postgresql://[^:]+:
    [^@]+@(.+)", url)`): a pattern describes DSNs, it is none (`[^@]+` is no password).
    Only the pattern: re.sub's replacement and the searched string stay what they are."""
    module, _, function = qual.rpartition(".")
    if module not in _REGEX_MODULES or function not in _REGEX_FUNCTIONS:
        return None
    given = next((k.value for k in node.keywords if k.arg == "pattern"), None)
    return given if given is not None else (node.args[0] if node.args else None)


def on_call(a: Analysis, node: ast.Call, scope: Scope) -> None:
    qual = a.module.qualname(node.func) or ""
    # The called name, with its module path when that is imported (`urllib.parse.urlparse`,
    # `unittest.mock.patch`); a method of a local object is judged by its own name only
    # (`parser.add_argument(default="postgresql://…")` declares an option, it parses
    # nothing: held-out-s21 whereisthisplace's committed default password).
    root = node.func
    while isinstance(root, ast.Attribute):
        root = root.value
    imported = isinstance(root, ast.Name) and root.id in a.module.aliases
    called = qual if imported or isinstance(node.func, ast.Name) else qual.rsplit(".", 1)[-1]
    if _INERT_CALL.search(called or getattr(node.func, "attr", "")):
        # A literal handed only to a parser, redactor or mock is a test input.
        a.inert.update(id(arg) for arg in (*node.args, *(k.value for k in node.keywords)))
        return
    pattern = _regex_pattern(qual, node)
    if pattern is not None:
        a.inert.add(id(pattern))
        return
    named = _literal(node.args[0]) if node.args else None
    if not (named and is_credential_name(named)) and not any(
        keyword.arg and is_credential_name(keyword.arg) for keyword in node.keywords
    ):
        # Neither an env read of a credential (its variable is the first argument) nor
        # a call given one: nothing to judge. Asked first because env_read follows a
        # called imported name to its module (a reader instance?), which parsed 17
        # modules for django/contrib/auth/forms.py alone (session 13).
        return
    read = env_read(a.module, node)
    if read is not None:
        variable = _literal(read.variable) if read.variable else None
        default = read.default
        if variable and default is not None and is_credential_name(variable):
            _password_value(a, variable, default, scope, has_db_context(variable))
        return
    lowered = qual.lower()
    if not any(word in lowered for word in CONNECTION_CALL_WORDS):
        return
    siblings = _sibling_literals((k.arg, k.value) for k in node.keywords)
    for keyword in node.keywords:
        if keyword.arg and is_credential_name(keyword.arg):
            _password_value(a, keyword.arg, keyword.value, scope, db=True, siblings=siblings)
            if isinstance(keyword.value, ast.Name):
                _passed_on(a, keyword.value.id, scope)


def _passed_on(a: Analysis, name: str, scope: Scope) -> None:
    """`PASSWORD = "…"` then `connect(password=PASSWORD)`: the literal is a database
    password wherever it is written (its name alone may say nothing of a database)."""
    where: Scope | None = scope
    while where is not None:
        bindings = where.assigns.get(name)
        if bindings:
            for binding in bindings:
                _password_value(a, name, binding.value, where, db=True)
            return
        where = where.parent


def passed_into_string(a: Analysis, scope: Scope, password: str) -> None:
    """A connection string whose password came from a literal bound to a name the
    call's scope sees (`password = '…'` then `'… password={3}'.format(…, password)`):
    VF401 where that literal is written. Password-named bindings first: a user name
    that happens to equal the password is not the password's literal."""
    found: list[tuple[bool, str, ast.expr, Scope, tuple[str, ...]]] = []
    where: Scope | None = scope
    while where is not None:
        for name, bindings in where.assigns.items():
            for b in bindings:
                if _literal(b.value) == password:
                    found.append((is_credential_name(name), name, b.value, where, ()))
                elif isinstance(b.value, ast.Call):  # '…{pw}…'.format(pw="…"), f(password=…)
                    keywords = _call_keywords(b.value)
                    siblings = _sibling_literals((k.arg, k.value) for k in keywords)
                    found += [
                        (True, k.arg, k.value, where, siblings)
                        for k in keywords
                        if k.arg and is_credential_name(k.arg) and _literal(k.value) == password
                    ]
        where = where.parent
    named = [item for item in found if item[0]] or found
    for _, name, value, where, siblings in named:
        _password_value(a, name, value, where, db=True, siblings=siblings)


_CALL_DEPTH = 4  # calls nested in a binding's value looked into (`.format(...).strip()`)


def _call_keywords(call: ast.Call) -> list[ast.keyword]:
    """The keywords of a call and of the calls it is made on or given (a few levels)."""
    found: list[ast.keyword] = []
    stack: list[tuple[ast.expr, int]] = [(call, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, ast.Call) or depth > _CALL_DEPTH:
            continue
        found += node.keywords
        if isinstance(node.func, ast.Attribute):
            stack.append((node.func.value, depth + 1))
        stack += [(arg, depth + 1) for arg in node.args]
    return found


def settings_field_password(
    a: Analysis, owner: tuple[ast.ClassDef, ParsedModule], password: str
) -> tuple[str, ast.expr] | None:
    """The credential-named field of a Settings class whose default is the connection's
    literal password (`pg_password: str = Field(default="…")`): its name and default."""
    cls, module = owner
    for node in cls.body:
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = node.value if isinstance(node, ast.AnnAssign | ast.Assign) else None
        if not isinstance(target, ast.Name) or value is None:
            continue
        default = field_default(value)
        literal = _literal(default) if default is not None else None
        if literal is not None and is_credential_name(target.id):
            register_written_password(target.id, literal)
        if (
            default is not None
            and literal == password
            and is_credential_name(target.id)
            and not is_reference(literal, target.id, example_context(module.path.name))
        ):
            register_secret(literal)
            if default is value and has_db_context(target.id, cls.name, module.path.stem):
                return None  # on_assign reports it where it is written: one finding
            here = module.path == a.module.path
            if here and (id(default) in a.inert or _allowlisted(a, default)):
                return None
            return target.id, default
    return None


_DB_DICT_KEYS = frozenset({"host", "user", "database", "dbname", "port", "dsn"})


def on_dict(a: Analysis, node: ast.Dict, scope: Scope) -> None:
    """A credentials dict: password next to host/user/database keys (Django's upper-case
    ones too). `username` alone is a login form's field, not a database's."""
    keys = {
        k.value: v
        for k, v in zip(node.keys, node.values, strict=True)
        if k is not None and isinstance(k, ast.Constant) and isinstance(k.value, str)
    }
    shaped = bool(_DB_DICT_KEYS & {key.lower() for key in keys})
    for key, value in keys.items():
        if is_credential_name(key) and (shaped or has_db_context(key)):
            _password_value(a, key, value, scope, db=True, siblings=_sibling_literals(keys.items()))
