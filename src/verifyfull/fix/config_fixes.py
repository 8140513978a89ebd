"""Line-level fixes for config files: .env, INI (alembic.ini), YAML (compose,
Kubernetes), TOML, and the connection strings of shell scripts and Terraform files.

Only the reported lines are edited, and on them only the connection string or
the PGSSLMODE value: keys, quoting, comments and every other line keep their
bytes. A string is rewritten only when conninfo reads it as a libpq
connection string meant for a libpq driver; asyncpg-style URLs in config
cannot carry an SSLContext and are left for a person.

Certificate paths: .env files and compose files interpolate `${VAR}`, so the
seed's variables are named there; elsewhere only `sslmode=verify-full` is set
and libpq takes the root from PGSSLROOTCERT (said in the report). Shell scripts and
Terraform interpolate too, but not alike (a shell's single quotes do not, Terraform's
`${X}` is a Terraform reference): no variable is written into them. In a shell script
a URL outside quotes is put in double quotes before its query grows (the `&` and `?`
would be the shell's: a background job, a glob), and a libpq tool run with flags
(`psql -h db`) gets `PGSSLMODE=verify-full` as its own environment, where it is the
command. A `PGHOST` line of a .env or compose file with no PGSSLMODE in the file gets
one after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from verifyfull.conninfo import ConnStringError, parse_dsn
from verifyfull.fix.dsn_edit import CertFiles, strip_url_tls, upgrade, url_tls_params
from verifyfull.fix.model import Action
from verifyfull.scan.config.clients import LIBPQ_TOOLS

# (`psql://`: django-environ's name for PostgreSQL, whose query becomes Django's OPTIONS)
# A URL ends at whitespace, a quote or a comment, except inside a template expression:
# GitHub Actions' `${{ secrets.X }}`, Jinja/Ansible's `{{ var }}` (each one value).
_EXPRESSION = r"\$?\{\{[^{}]*\}\}"
_URL = re.compile(
    rf"(?:postgres(?:ql)?|cockroachdb|psql)(?:\+[a-z0-9]+)?://(?:{_EXPRESSION}|[^\s\"'#])*",
    re.IGNORECASE,
)
# A keyword string's words end at whitespace or a quote (the quote belongs to the file).
# (a word of its own: `PGHOST=lb` is a variable, not the keyword string `host=lb`)
_KEYWORDS = re.compile(
    r"(?<![\w.-])(?:host|hostaddr|dbname|user|port)=[^\s\"']+(?:\s+[a-z_]+=[^\s\"']+)*",
    re.IGNORECASE,
)
_WEAK_MODE = r"(disable|allow|prefer|require|verify-ca|verify_full)\b"
# PGSSLMODE and look-alikes (DB_SSLMODE, the guard's), and a plain `sslmode` key (TOML,
# JSON, pg_service.conf, keyword strings), as `name=mode`, `name = "mode"` or `"name": "mode"`;
# never a URL's `?sslmode=` (the URL edit handles it, certificate files included).
_SSLMODE_VAR = re.compile(
    r"((?:^|(?<=[\s\"'{,]))[A-Za-z0-9_]*ssl_?mode['\"]?\s*[:=]\s*['\"]?)" + _WEAK_MODE,
    re.IGNORECASE,
)
# TLS floors below 1.2: libpq's ssl_min_protocol_version and PGSSLMINPROTOCOLVERSION.
_OLD_FLOOR = re.compile(
    r"((?:ssl_min_protocol_version|PGSSLMINPROTOCOLVERSION)['\"]?\s*[:=]\s*['\"]?)"
    r"(TLSv1(?:\.1)?)(?![.\d])",
    re.IGNORECASE,
)
# Kubernetes: `- name: PGSSLMODE` then `value: mode` on the next line.
_K8S_NAME = re.compile(r"^\s*-?\s*name:\s*['\"]?[A-Z0-9_]*SSL_?MODE['\"]?\s*$")
_K8S_VALUE = re.compile(r"^(\s*value:\s*['\"]?)" + _WEAK_MODE)
# `cockroach start --insecure` (compose command, Kubernetes args, Dockerfile CMD): the
# server side of verify-full. The node then needs its certificates: an unsafe fix.
_INSECURE = re.compile(r"(?<![\w-])--insecure(?:=true)?(?![\w=-])")
NODE_CERTS_DIR = "/cockroach/certs"
_INSECURE_ACTION = "cockroach --insecure -> "
# Moot beside --insecure (no TLS at all), it takes effect once --insecure becomes
# --certs-dir: the node would then accept SQL clients without TLS (VF202). A word of its
# own (blanks around it), so a quoted or glued form is never cut in half.
_ACCEPT_PLAIN = re.compile(
    r"[ \t]+--accept-sql-without-tls(?:=(?:true|1|yes|on))?(?=[ \t]|\\?$)|"
    r"^([ \t]*)--accept-sql-without-tls(?:=(?:true|1|yes|on))?(?:[ \t]+|(?=\\?$))",
    re.IGNORECASE,
)
_PLAIN_ACTION = (
    "cockroach --accept-sql-without-tls removed: with --insecure gone it would let SQL "
    "clients in without TLS (VF202)"
)
INTERPOLATED = CertFiles("${DB_CA_PATH}", "${DB_CERT_PATH}", "${DB_KEY_PATH}")
NO_FILES = CertFiles(None)


@dataclass(frozen=True)
class ConfigResult:
    text: str
    actions: tuple[Action, ...]


# dotenv files under other names: `.env.example`, `.example_env`, `env.local`, `prod.env`
_ENV_NAME = re.compile(r"(?:^|[._-])env(?:[._-]|$)")
SHELL_SUFFIXES = frozenset({".sh", ".bash"})
TERRAFORM_SUFFIXES = frozenset({".tf", ".tfvars"})


def is_env_file(name: str) -> bool:
    """A dotenv file by its name (not a Python module: `env.py` is alembic's)."""
    lowered = name.lower()
    return not lowered.endswith(".py") and bool(_ENV_NAME.search(lowered))


def files_for(relpath: str) -> CertFiles:
    name = PurePosixPath(relpath).name.lower()
    if is_env_file(name) or "compose" in name:
        return INTERPOLATED
    return NO_FILES


# a libpq tool where a command starts (line start, after `;`, `&`, `|`, `(`, a backquote),
# perhaps after the command's own variable assignments
_TOOL = re.compile(
    r"(?:^|(?<=[;&|(`]))(\s*(?:[A-Za-z_]\w*=(?:\"[^\"]*\"|'[^']*'|[^\s\"';&|()]*)\s+)*)("
    + "|".join(sorted(LIBPQ_TOOLS, key=len, reverse=True))
    + r")(?=\s|$)"
)
_PGHOST = re.compile(r"^(\s*-?\s*)PGHOST(\s*[=:]\s*)\S")
# where a shell word ends
_WORD_END = re.compile(r"$|[\s;&|)]")
# what a shell word may hold to be wrapped in double quotes unchanged in meaning
_DOUBLE_QUOTABLE = re.compile(r"[^\"`\\!]*")


def _quoted_at(line: str, index: int) -> bool:
    """Whether `index` of a shell line lies inside a quoted string (a rough reading:
    the quotes before it do not pair up)."""
    before = line[:index]
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1


_PLACEHOLDER = re.compile(rf"{_EXPRESSION}|\$\{{[^}}]*\}}|\$\([^)]*\)|<[A-Za-z_][\w-]*>")


def _libpq_string(text: str) -> bool:
    """conninfo reads it, and the receiving driver is libpq (no asyncpg dialect)."""
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if "asyncpg" in scheme:
        return False
    # an interpolation (`${X}`, `$(cmd)`, a template's `<port>`) stands for one value
    # anywhere in it, the port included
    probe = _PLACEHOLDER.sub("1", text)
    try:
        parse_dsn(
            probe
            if scheme in {"postgresql", "postgres", ""}
            else "postgresql://" + probe.split("://", 1)[1]
        )
    except ConnStringError:
        return False
    return True


def _sqlalchemy_asyncpg(text: str) -> bool:
    scheme = text.split("://", 1)[0].lower()
    return scheme.endswith("+asyncpg") and scheme.split("+", 1)[0] in {
        "postgresql",
        "postgres",
        "cockroachdb",
    }


def asyncpg_url(text: str) -> str:
    """A SQLAlchemy `+asyncpg` URL in the one TLS form its dialect hands asyncpg intact:
    `ssl=verify-full` (libpq's sslmode/sslrootcert/sslcert/sslkey become keyword arguments
    asyncpg.connect() does not have: TypeError at the first connect). The root then comes
    from PGSSLROOTCERT, the client certificate from PGSSLCERT/PGSSLKEY when set, or from
    the SSLContext code passes in connect_args, which wins over the URL."""
    mode = url_tls_params(text).get("ssl") or url_tls_params(text).get("sslmode")
    if mode == "verify-full" and set(url_tls_params(text)) == {"ssl"}:
        return text
    base = strip_url_tls(text)
    return base + ("&" if "?" in base else "?") + "ssl=verify-full"


def _fix_line(
    line: str,
    files: CertFiles,
    previous: str = "",
    *,
    shell: bool = False,
    mode_set: bool = True,
    newline: str = "\n",
) -> tuple[str, list[str]]:
    actions: list[str] = []
    if _INSECURE.search(line):
        actions.append(
            f"{_INSECURE_ACTION}--certs-dir={NODE_CERTS_DIR} (create the certificates: "
            f"verifyfull certs create-ca --certs-dir certs --ca-key ca.key; verifyfull certs "
            f"create-node <host> --certs-dir certs --ca-key ca.key; mount certs/ there)"
        )
        line = _INSECURE.sub(f"--certs-dir={NODE_CERTS_DIR}", line)
    if _K8S_NAME.match(previous):
        match = _K8S_VALUE.match(line)
        if match:
            actions.append(f"sslmode variable {match.group(2)} -> verify-full")
            return _K8S_VALUE.sub(r"\1verify-full", line, count=1), actions

    def mode(match: re.Match[str]) -> str:
        actions.append(f"sslmode variable {match.group(2)} -> verify-full")
        return match.group(1) + "verify-full"

    line = _SSLMODE_VAR.sub(mode, line)

    def floor(match: re.Match[str]) -> str:
        actions.append(f"TLS floor {match.group(2)} -> TLSv1.2")
        return match.group(1) + "TLSv1.2"

    line = _OLD_FLOOR.sub(floor, line)
    pattern = _URL if _URL.search(line) else _KEYWORDS

    def dsn(match: re.Match[str]) -> str:
        text = match.group(0)
        if not shell:
            return dsn_in(text)
        after = line[match.end() :]
        if _quoted_at(line, match.start()):
            # the whole quoted string, and the whole word: `"postgresql://"$USER` is not
            whole = after[:1] in "\"'" and _WORD_END.match(after[1:]) is not None
            return dsn_in(text) if after and whole else text
        if _WORD_END.match(after) is None:
            return text  # `postgresql://"${USER}"@db`: the word goes on
        new = dsn_in(text)
        quotable = new != text and _DOUBLE_QUOTABLE.fullmatch(text) is not None
        return f'"{new}"' if quotable else text

    def dsn_in(text: str) -> str:
        if _sqlalchemy_asyncpg(text):
            new = asyncpg_url(text)
            if new != text:
                actions.append("+asyncpg URL: TLS keys -> ssl=verify-full (asyncpg's own form)")
            return new
        if not _libpq_string(text):
            return text
        new = upgrade(text, files)
        if new != text:
            actions.append("connection string upgraded to sslmode=verify-full")
        return new

    line = pattern.sub(dsn, line)
    # flags only: a connection string on the line is the one place its TLS is written
    given = pattern.search(line) or re.search("sslmode", line, re.IGNORECASE)
    if shell and not actions and not given:

        def tool(match: re.Match[str]) -> str:
            actions.append(f"{match.group(2)}: PGSSLMODE=verify-full as its environment")
            return f"{match.group(1)}PGSSLMODE=verify-full {match.group(2)}"

        line = _TOOL.sub(tool, line)
    host = _PGHOST.match(line) if not mode_set and not shell else None
    if host is not None:
        actions.append("PGSSLMODE=verify-full added after PGHOST")
        line += f"{newline}{host.group(1)}PGSSLMODE{host.group(2)}verify-full"
    return line, actions


def fix_config(text: str, relpath: str, lines: Iterable[int]) -> ConfigResult:
    """The file with the connection settings on `lines` upgraded."""
    wanted = set(lines)
    files = files_for(relpath)
    shell = PurePosixPath(relpath).suffix.lower() in SHELL_SUFFIXES
    # a .env or compose file whose PGHOST is reported and that sets no mode gets one
    mode_set = files is not INTERPOLATED or bool(re.search("PGSSLMODE", text, re.IGNORECASE))
    out: list[str] = []
    actions: list[Action] = []
    previous = ""
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        body = line.rstrip("\r\n")
        if number in wanted:
            ending = line[len(body) :]
            new, done = _fix_line(
                body, files, previous, shell=shell, mode_set=mode_set, newline=ending or "\n"
            )
            # an edit never adds or removes a quote but a pair around a shell word: the
            # file's quoting stays valid
            added = new.count('"') - body.count('"')
            if new.count("'") == body.count("'") and (added == 0 or (shell and added == 2)):
                line = new + line[len(body) :]
                actions += [Action(number, number, text) for text in done]
        out.append(line)
        previous = body
    secured = {a.first_line for a in actions if a.text.startswith(_INSECURE_ACTION)}
    if secured:
        out = _drop_plain_sql(out, secured, actions)
    return ConfigResult("".join(out), tuple(sorted(actions, key=lambda a: a.first_line)))


def _drop_plain_sql(lines: list[str], secured: set[int], actions: list[Action]) -> list[str]:
    """Remove --accept-sql-without-tls from each command (a line and its backslash
    continuations) whose --insecure this run replaced; a continuation line left holding
    nothing but its backslash goes too. Each removal is reported."""
    commands: list[list[int]] = [[]]
    for index, line in enumerate(lines):
        commands[-1].append(index)
        if not line.rstrip("\r\n").endswith("\\"):
            commands.append([])
    dropped: set[int] = set()
    for command in commands:
        if not any(index + 1 in secured for index in command):
            continue
        for index in command:
            line = lines[index]
            body = line.rstrip("\r\n")
            new = _ACCEPT_PLAIN.sub(lambda m: m.group(1) or "", body)
            if new == body:
                continue
            actions.append(Action(index + 1, index + 1, _PLAIN_ACTION))
            if new.strip() in ("", "\\") and index != command[0]:
                dropped.add(index)
            else:
                lines[index] = new + line[len(body) :]
        if command[-1] in dropped:
            # The command's last line went: the line before it now ends the command, so
            # its backslash goes too (else the next command would become its arguments).
            last = max(index for index in command if index not in dropped)
            body = lines[last].rstrip("\r\n")
            lines[last] = body.rstrip("\\").rstrip(" \t") + lines[last][len(body) :]
    return [line for index, line in enumerate(lines) if index not in dropped]
