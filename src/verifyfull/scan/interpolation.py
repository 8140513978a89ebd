"""`${...}` interpolation, read the one way the project reads it.

Two readings of one syntax family, in one module so there is one reading:

- `interpolate(value, env)`: the value docker compose passes. Compose replaces
  `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`,
  `${VAR?message}`, `${VAR:+alt}` and `${VAR+alt}` before any program sees a
  value, and `$$` is a literal `$`. A scan does not know the deploy environment,
  so every variable is read as unset (unless the caller knows it, e.g. from the
  `.env` compose reads): a default is what compose uses; a variable without one
  (or whose unset value is an error) stands for a value given at deploy and
  becomes a neutral placeholder that parses in its position (`5432` where a URL
  port goes, a word elsewhere). The result says which variables decided, so a
  finding can name them. Used by the compose project reader (composejudge.py).
  Work is linear in the value: one pass, nested defaults (`${A:-${B:-x}}`) at
  most _MAX_NESTING deep, anything deeper or unterminated kept as written.

- `neutral_dsn(value)`: a connection string holding any deploy-time template
  (Terraform and Bicep `${var.db.address}`, compose and shell `${DB_PORT:-5432}` /
  `${PW:?set it}`, GitHub Actions `${{ job.services.postgres.ports[5432] }}`,
  blanked to `$____` by helm.untemplate before YAML is read, an example's `<host>`
  / `<port>` slots), judged by its
  literal parts: each interpolation becomes a neutral stand-in (a default when
  one is written, `5432` in the port place, `x` elsewhere) so conninfo can judge
  the rest. When an interpolation decides the TLS part itself (it sits in the
  query string, `?sslmode=${SSLMODE}` with no default), nothing can be claimed
  and `neutral_dsn` gives None. A password that is an interpolation is a
  reference, not a literal (`password_interpolated`). Used by dsn.dsn_findings
  for every config format.

Both share the port position rule (_PORT_FOLLOWS, PLACEHOLDER_PORT) and the
default reading (a `${NAME:-default}` / `${NAME-default}` uses its default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
_MAX_NESTING = 8
# Where a URL port goes: after `host:` and before the path, query or next host.
_PORT_FOLLOWS = "/?,"
PLACEHOLDER_WORD = "deployvalue"
# Output just before a password: a URL's `://user:`, a keyword string's `password=`.
_PASSWORD_BEFORE = re.compile(r"://[^:/?#@\s]*:$|(?:^|\s)password\s*=\s*$")
PLACEHOLDER_PORT = "5432"


@dataclass(frozen=True)
class Resolved:
    text: str
    unset: tuple[str, ...] = ()  # variables read as unset, a placeholder in their place
    defaulted: tuple[str, ...] = ()  # variables whose default compose would use
    sslmode_variable: str | None = None  # a variable that alone gives `sslmode=`
    known: tuple[str, ...] = ()  # variables whose value the caller gave (`.env`)

    @property
    def changed(self) -> bool:
        return bool(self.unset or self.defaulted or self.known)

    def note(self) -> str:
        """What decided the value, for a finding's message (names only, no values)."""
        parts = []
        if self.known:
            parts.append("the .env value of " + ", ".join(f"${{{n}}}" for n in self.known))
        if self.defaulted:
            parts.append("the default of " + ", ".join(f"${{{n}}}" for n in self.defaulted))
        if self.unset:
            parts.append(", ".join(f"${{{n}}}" for n in self.unset) + " given at deploy")
        return f" (compose interpolation: {'; '.join(parts)})" if parts else ""


@dataclass
class _State:
    unset: list[str]
    defaulted: list[str]
    sslmode_variable: str | None = None
    known: list[str] = field(default_factory=list)


def interpolate(value: str, env: Mapping[str, str] | None = None) -> Resolved:
    """The value compose would pass with `env` known and every other variable unset."""
    if "$" not in value:
        return Resolved(value)
    state = _State([], [])
    text = _expand(value, env or {}, state, 0)
    return Resolved(
        text,
        tuple(dict.fromkeys(state.unset)),
        tuple(dict.fromkeys(state.defaulted)),
        state.sslmode_variable,
        tuple(dict.fromkeys(state.known)),
    )


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing the `${` whose body starts at `start`, or -1."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "$" and text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return -1


def _placeholder(name: str, out: list[str], following: str) -> str:
    written = "".join(out)
    if _PASSWORD_BEFORE.search(written) and (following.startswith("@") or "://" not in written):
        # `$NAME`, which scrub knows for a reference: a placeholder read as a password
        # must not be remembered as a secret and masked wherever the word appears.
        return f"${name}"
    port_position = not following or following[0] in _PORT_FOLLOWS
    if written.endswith(":") and "://" in written and port_position:
        return PLACEHOLDER_PORT
    return PLACEHOLDER_WORD


def _expand(text: str, env: Mapping[str, str], state: _State, depth: int) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        dollar = text.find("$", index)
        if dollar < 0:
            out.append(text[index:])
            break
        out.append(text[index:dollar])
        if text.startswith("$$", dollar):
            out.append("$")
            index = dollar + 2
            continue
        if text.startswith("${", dollar) and depth < _MAX_NESTING:
            end = _closing_brace(text, dollar + 2)
            name = _NAME.match(text, dollar + 2)
            if end < 0 or name is None:
                out.append(text[dollar:])
                break
            body = text[name.end() : end]
            out.append(_braced(name.group(), body, env, state, depth, out, text[end + 1 :]))
            index = end + 1
            continue
        name = _NAME.match(text, dollar + 1)
        if name is None:
            out.append("$")
            index = dollar + 1
            continue
        out.append(_variable(name.group(), env, state, out, text[name.end() :]))
        index = name.end()
    return "".join(out)


def _variable(
    name: str, env: Mapping[str, str], state: _State, out: list[str], following: str
) -> str:
    if name in env:
        state.known.append(name)
        return env[name]
    state.unset.append(name)
    if "".join(out).lower().endswith("sslmode="):
        state.sslmode_variable = name
    return _placeholder(name, out, following)


def _braced(
    name: str,
    body: str,
    env: Mapping[str, str],
    state: _State,
    depth: int,
    out: list[str],
    following: str,
) -> str:
    operator = next((op for op in _OPERATORS if body.startswith(op)), "")
    if not operator:
        return _variable(name, env, state, out, following)
    argument = body[len(operator) :]
    is_set = name in env and (bool(env[name]) or not operator.startswith(":"))
    if operator in (":+", "+"):
        if is_set:
            state.known.append(name)
        return _expand(argument, env, state, depth + 1) if is_set else ""
    if is_set:
        state.known.append(name)
        return env[name]
    if operator in (":-", "-"):
        state.defaulted.append(name)
        return _expand(argument, env, state, depth + 1)
    return _variable(name, {}, state, out, following)  # `?`: compose refuses it unset


# A `${...}` body may hold spaces (`${PW:?set the password}`).
_URL_PASSWORD = re.compile(r"://[^:/?#@\s]*:(?P<password>(?:\$\{[^}]*\}|[^@\s])*)@")


def password_is_variable(value: str) -> bool:
    """Whether a URL's password is written as a variable with no default (`${PW}`,
    `${PW:?set it}`, `$PW`): a secret given at deploy, not a literal."""
    match = _URL_PASSWORD.search(value)
    if match is None:
        return False
    password = match.group("password")
    return password.startswith("$") and not re.search(r"^\$\{\w+:?-", password)


# --- neutral_dsn: any template syntax in a DSN, judged by its literal parts ------------


# `${{ … }}`, `${ … }` (one level of inner braces, Terraform's `${var.m["k"]}`),
# a template blanked by helm.untemplate (`$` + underscores, or underscores), and a
# slot an example file asks a person to fill (`<host>`, `<port>`, `<db_name>`).
# A shell command substitution (`$(cat /run/secrets/pw)`, backticks) is a value computed
# where the script runs, an interpolation like the others (held-out-s8).
# Character classes only, no nested quantifier: linear in the value.
_PLACEHOLDER = re.compile(
    r"\$\{\{[^}]*\}\}|\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)?\}|\$?_{6,}|<[A-Za-z_][\w.-]{0,63}>"
    r"|\$\([^()]*\)|`[^`]*`"
)
_DEFAULT = re.compile(r"^\$\{[A-Za-z_]\w*:?-(?P<default>[^}]*)\}$")
# A default that itself expands (`${PW:-$(cat pw)}`, `${A:-$B}`) is not written in the
# file: it is read like a variable without one.
_EXPANDS = re.compile(r"\$\(|`|\$\{|\$[A-Za-z_]")
STAND_IN = "x"
PORT_STAND_IN = PLACEHOLDER_PORT


@dataclass(frozen=True)
class Neutral:
    text: str  # the DSN with every interpolation replaced
    password_interpolated: bool  # the URL password was (or held) an interpolation


# A file a person copies and fills in (`.env.example`, `.env.docker.example`,
# `config.sample.ini`, `env.tpl`): a word where a number goes is a slot there.
_EXAMPLE_PARTS = frozenset({"example", "examples", "sample", "dist", "template", "tpl", "tmpl"})
# A word that says what goes in its place, in any language: the part's role name
# (`port`, `porta`, `puerto`, `host`, `servidor`, `banco`, `user`), possessives
# (`your_`, `seu_`, `sua_`, `tu_`, `my_`), a `{slot}`, or a name in capitals (`PORT`).
_SLOT_WORD = re.compile(
    r"^(\{[^{}]*\}|[A-Z][A-Z0-9_]*"
    r"|(?i:.*(port|porto|puerto|host|server|servidor|servicio|banco|base|datab|db|user|usuario"
    r"|nome|name|nombre|senha|pass|pwd|contrase).*)"
    r"|(?i:(your|seu|sua|tu|su|mon|ma|votre|dein|ihr|my)[_\-].*))$"
)


def example_context(name: str) -> bool:
    """Whether a file name says it is an example to copy (its dotted or separated
    parts hold `example`, `sample`, `dist`, `template`, `tpl`)."""
    return any(part in _EXAMPLE_PARTS for part in re.split(r"[._\-]+", name.lower()))


def _slot_ports(value: str, example: bool) -> str:
    """The URL with a port that is a word read as a slot (`5432`): in an example
    file, or when every part of the URL is a slot word
    (`postgresql://user:pass@host:port/db`). Elsewhere a word port is what the
    driver refuses, and stays (VF105). One split of the host list: linear."""
    start, end = _authority(value)
    if start < 0:
        return value
    hosts_at = value.rfind("@", start, end) + 1 or start
    hosts = value[hosts_at:end].split(",")
    changed = False
    for index, host in enumerate(hosts):
        name, colon, port = host.rpartition(":")
        if not colon or not port or port.isdigit() or name.endswith(":") or "]" in port:
            continue  # no port, a number, or inside an IPv6 address
        if "$" in port or _PLACEHOLDER.search(port):
            continue  # an interpolation: neutral_dsn reads it next
        if not (example or _all_slots(value, start, end)):
            return value
        hosts[index] = name + colon + PORT_STAND_IN
        changed = True
    if not changed:
        return value
    return value[:hosts_at] + ",".join(hosts) + value[end:]


def _all_slots(value: str, start: int, end: int) -> bool:
    """Every part of the URL (user, password, hosts, ports, database) is a slot word."""
    path = value[end:].lstrip("/").split("?", 1)[0]
    parts = [p for p in re.split(r"[:@,]", value[start:end]) if p]
    if path:
        parts.append(path)
    return len(parts) >= 3 and all(_SLOT_WORD.match(p) for p in parts)


def neutral_dsn(value: str, example: bool = False) -> Neutral | None:
    """The DSN with stand-ins for its interpolations and slots, or None when one
    decides its TLS. `example`: the file is one to copy and fill in (example_context)."""
    value = _slot_ports(value, example)
    if "$" not in value and "______" not in value and "<" not in value and "`" not in value:
        return Neutral(value, False)
    # Positions are judged on a copy with every interpolation masked: `${PW:?say}`
    # holds a `?` that is not the query's.
    masked = _PLACEHOLDER.sub(lambda m: "x" * len(m.group()), value)
    query_at = masked.find("?")
    pieces: list[str] = []
    last = 0
    password_interpolated = False
    for match in _PLACEHOLDER.finditer(value):
        start, end = match.span()
        default = _DEFAULT.match(match.group())
        if default is not None and _EXPANDS.search(default.group("default")):
            default = None
        if query_at >= 0 and start > query_at and default is None:
            return None  # `?sslmode=${SSLMODE}`: the deployment decides
        pieces.append(value[last:start])
        if default is not None:
            pieces.append(default.group("default"))
        elif _port_place(masked, start, end):
            pieces.append(PORT_STAND_IN)
        else:
            pieces.append(STAND_IN)
        if default is None:  # a default is a literal written in the file
            password_interpolated = password_interpolated or _in_password(masked, start)
        last = end
    pieces.append(value[last:])
    return Neutral("".join(pieces), password_interpolated)


def _port_place(masked: str, start: int, end: int) -> bool:
    """Whether masked[start:end] is the port of a host (`@host:${PORT}/db`)."""
    after_colon = start > 0 and masked[start - 1] == ":"
    closes = end == len(masked) or masked[end] in _PORT_FOLLOWS
    return after_colon and closes and _in_authority(masked, start)


def _authority(value: str) -> tuple[int, int]:
    """Start and end of the URL's authority (user:password@hosts), or (-1, -1)."""
    scheme = value.find("://")
    if scheme < 0:
        return -1, -1
    start = scheme + 3
    ends = [i for i in (value.find("/", start), value.find("?", start)) if i >= 0]
    return start, min(ends) if ends else len(value)


def _in_authority(value: str, index: int) -> bool:
    """Whether `index` is in the host part (after the last `@` of the authority)."""
    start, end = _authority(value)
    if not start <= index < end:
        return False
    return index > value.rfind("@", start, end)


def _in_password(value: str, index: int) -> bool:
    start, end = _authority(value)
    at = value.rfind("@", start, end) if start >= 0 else -1
    if at < 0 or not start <= index < at:
        return False
    colon = value.find(":", start, at)
    return 0 <= colon < index
