"""What a config setting or a server command means for database transport security.

The one place where config values are judged, whatever format they came from.
Connection strings and sslmode values are handed to verifyfull.conninfo (the
drivers' real semantics, see dsn.py); this module knows the server side
(CockroachDB flags and environment, PostgreSQL settings) and credentials.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

from verifyfull.conninfo.foreign_drivers import UrlReader
from verifyfull.errors import UsageError
from verifyfull.findings import Finding, Related, finding
from verifyfull.policy import (
    DEFAULT_POLICY,
    Policy,
    parse_tls_version,
    server_suite_weakness,
    tls_version_name,
    weak_cipher_reasons,
)
from verifyfull.rules import MODE_RULES
from verifyfull.scan import project_vars
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config import (
    clients,
    components,
    dsn,
    ecosystem,
    embedded,
    engines,
    envnames,
    pg_hba,
    secretdata,
)
from verifyfull.scan.config.model import Command, Setting, Word
from verifyfull.scan.config.password_names import password_name
from verifyfull.scan.config.pgconf_lines import parse_conf
from verifyfull.scan.interpolation import example_context
from verifyfull.scan.placeholders import is_placeholder, register_written_password
from verifyfull.scan.shell.argv import program as _program
from verifyfull.scrub import register_secret

POSTGRES_TLS_FIX = (
    "Set ssl = on with ssl_cert_file and ssl_key_file (postgresql.conf, or -c ssl=on), "
    "and accept clients only on 'hostssl' lines in pg_hba.conf."
)
_COCKROACH_TLS_FIX = (
    "Start the node with --certs-dir=<dir> holding ca.crt, node.crt and node.key "
    "(verifyfull certs create-ca / create-node, or cockroach cert), instead of --insecure."
)
_FALSE = {"false", "0", "no", "off", "n", "f"}
# cockroach subcommands that connect to a node as a client (their --insecure is the
# client's: plaintext, no server certificate checked), as against start/demo/cert/gen.
_COCKROACH_CLIENTS = frozenset(
    {"sql", "init", "node", "quit", "dump", "import", "userfile", "nodelocal"}
    | {"statement-diag", "auth-session", "zone", "debug", "workload"}
)
_COCKROACH_CLIENT_FIX = (
    "Give the client --certs-dir=<dir> holding ca.crt (and client.<user>.crt/.key), or "
    "--url 'postgresql://<user>@<host>:26257/<db>?sslmode=verify-full&sslrootcert=<ca.crt>', "
    "instead of --insecure."
)

# Names that hold a password (PGPASSWORD, POSTGRES_PASSWORD, db.password, DB_PASS).
# Names or enclosing names that say the password is a database's. RDS / Aurora are AWS's
# managed databases (Elastic Beanstalk's RDS_PASSWORD, a Terraform `variable "rds_password"`
# that an aws_db_instance takes: held-out-s11, abroberts14/fantasy-app-bot).
# A word that ends in DB names a database too: a TOML `[Cachedb]` table of host, port,
# database, username and password (held-out-s21, DINA-community/Matching-Agent; another
# engine's, MONGODB or INFLUXDB, is dropped by engines.py).
_DB_CONTEXT = re.compile(
    r"(^|[_.\-])(PG|DB|CRDB|RDS|AURORA)|POSTGRES|COCKROACH|DATABASE|SQL|DSN"
    r"|(^|[_.\-])(DB|PG)([_.\-]|$)|[A-Z0-9]DB([_.\-]|$)"
)
# Values that refer to a secret held elsewhere, not the secret itself (and a
# template action, `_templated`).
# A command substitution (`$(gcloud secrets ... \` continued on the next line, a
# backquoted one) is the command's output: whole or cut at the line's end.
_REFERENCE = re.compile(r"^\$\{[^}]*\}$|^\$[A-Za-z_]\w*$|^%\([^)]*\)s$|^\*+$|^<[^>]*>$|^\$\(|^`")
# Web logins of database admin UIs (pgAdmin, Adminer): a password for the UI, not
# for the database (GF_DATABASE_PASSWORD, Grafana's own database, still is one).
_WEB_LOGIN = re.compile(r"^(PGADMIN|ADMINER)[_.\-]")
# The password part of a connection URL, or of a libpq keyword string.
# A template action blanked by helm.untemplate (`{{ .Values.x }}` -> `_____________`).
_BLANKED_ACTION = "____"
_COCKROACH_START = {"start", "start-single-node"}
_COCKROACH_PROGRAMS = frozenset({"cockroach", "cockroach.exe"})


def _templated(value: str) -> bool:
    """Whether a line of the value holds `{{` and, after it, `}}` (a template action).
    Two finds per line: the regex `\\{\\{.*\\}\\}` backtracked from every `{{` to the
    line's end, quadratic in a line of many `{{` (20 s for 200 kB)."""
    for line in value.split("\n"):
        start = line.find("{{")
        if start >= 0 and line.find("}}", start + 2) >= 0:
            return True
    return False


def _where(src: SourceFile, line: int, column: int) -> dict[str, Any]:
    return {"path": src.relpath, "line": line, "column": column}


# Go's strconv.ParseBool, which cockroach's envutil.EnvOrDefaultBool and its flag
# parsing use for COCKROACH_* booleans: any other spelling switches nothing on
# (recent releases panic at start-up, older ones log the error and keep false).
_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}


def go_truthy(value: str) -> bool:
    return value.strip().strip("'\"") in _GO_TRUE


def falsy(value: str) -> bool:
    return value.strip().strip("'\"").lower() in _FALSE


# --- settings -------------------------------------------------------------------------


def judge_settings(
    src: SourceFile,
    settings: Sequence[Setting],
    policy: Policy = DEFAULT_POLICY,
    commands: Sequence[Command] = (),
    *,
    own_code: bool = False,
) -> list[Finding]:
    """Every finding the given settings of one file raise (own_code: the file is the
    environment of an image that runs the project's own Python code).

    PG* variables set in the same file form the environment the connection
    strings of that file are judged in (a .env with DATABASE_URL and
    PGSSLMODE=verify-full is read as the driver will read it).
    """
    env = file_environment(settings)
    found: list[Finding] = []
    reader = ecosystem.url_reader(src.path.parent, src)  # the file's own sub-project
    for setting in settings:
        found.extend(judge_setting(src, setting, env, policy, reader))
    found.extend(
        components.component_findings(
            src, settings, env, policy, commands, src.path.parent, own_code=own_code
        )
    )
    return engines.without_foreign(found, src.relpath, settings)  # MySQL's, Redis's...


def file_environment(settings: Sequence[Setting]) -> dict[str, str]:
    """The PG* variables a file sets for everything in it (not those set for one command)."""
    return {s.name: s.value for s in settings if s.name.startswith("PG") and not s.local}


_NAMED_SETTINGS = frozenset(
    {
        "PGSSLMINPROTOCOLVERSION",
        "SSL_MIN_PROTOCOL_VERSION",
        "COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES",
        "COCKROACH_INSECURE",
        "POSTGRES_HOST_AUTH_METHOD",
        "POSTGRES_INITDB_ARGS",
        "PASSWORD_ENCRYPTION",
    }
)


def worth_judging(key: str, value: str) -> bool:
    """Whether judge_setting could report anything for this key and value (cheap).

    Parsers of formats without positions (JSON, TOML) place only these settings
    in the file: placing every value of a large document would cost more than
    the rest of the scan.
    """
    if not value.strip():
        return False
    name = key.strip().upper()
    return (
        name in _NAMED_SETTINGS
        or name.endswith(("SSLMODE", "SSL_MODE"))
        or password_name(name) is not None
        or dsn.looks_like_dsn(value)
        or dsn.sslmode_word(value)  # a project-defined TLS variable's value (project_vars)
    )


def worth_placing(key: str, value: str) -> bool:
    """worth_judging, or a connection component (judged with the others of its group,
    components.py): what readers without positions place in the file."""
    return worth_judging(key, value) or (bool(value.strip()) and components.is_component(key))


_COMMAND_WORDS = re.compile(
    r"insecure|accept-sql-without-tls|ssl|password_encryption|password|://|host=|dbname=|"
    r"pg_hba|psql|pg_dump|pg_restore|createdb|createuser|vacuumdb|pgbench|pg_basebackup",
    re.IGNORECASE,
)


def command_worth_judging(words: Sequence[str]) -> bool:
    """Whether judge_command could report anything for a command with these words."""
    return any(_COMMAND_WORDS.search(word) for word in words)


def judge_setting(
    src: SourceFile,
    setting: Setting,
    env: Mapping[str, str],
    policy: Policy = DEFAULT_POLICY,
    reader: UrlReader | None = None,
) -> list[Finding]:
    """One setting's findings; `reader`: the driver of another ecosystem's sub-project
    that reads its connection URL (ecosystem.url_reader), None for Python's. A Secret's
    base64 `data:` value is judged as the text it decodes to (secretdata.py)."""
    text = secretdata.decoded(setting)
    if text is None:
        return _judge_value(src, setting, env, policy, reader)
    found = _judge_value(src, dataclasses.replace(setting, value=text), env, policy, reader)
    if found:
        register_secret(setting.value.strip())  # the encoded form reveals it as well
    return [dataclasses.replace(f, message=f.message + _DECODED_NOTE) for f in found]


_DECODED_NOTE = " (the Secret's base64 data value, decoded as the API server does)"


def _judge_value(
    src: SourceFile,
    setting: Setting,
    env: Mapping[str, str],
    policy: Policy,
    reader: UrlReader | None,
) -> list[Finding]:
    name, value = setting.name, setting.value
    found: list[Finding] = []
    if embedded.is_env_value(setting):  # a configuration document in the value
        found.extend(_document_passwords(src, setting.key, setting.line, setting.column, value))
    if not worth_judging(setting.key, value):
        return found
    where = _where(src, setting.line, setting.column)
    if dsn.looks_like_dsn(value):
        example = example_context(src.path.name)
        found.extend(dsn.dsn_findings(value, env, policy, where, example, reader, setting.key))
    elif name == "PGSSLMODE" or name.endswith(("SSLMODE", "SSL_MODE")):
        found.extend(dsn.sslmode_findings(setting.key, value, env, policy, where))
    elif name in ("PGSSLMINPROTOCOLVERSION", "SSL_MIN_PROTOCOL_VERSION"):
        found.extend(_client_min_version(setting, policy, where))
    elif dsn.sslmode_word(value) and (variable := project_vars.tls_variable(src, name)):
        found.extend(dsn.tls_variable_findings(variable, setting.key, value, env, policy, where))
    if name == "COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES" and go_truthy(value):
        found.append(
            finding(
                "VF204",
                "COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES switches on CBC and RSA key-exchange "
                "suites on the CockroachDB node",
                evidence=f"{setting.key}={value}",
                **where,
            )
        )
    if name == "COCKROACH_INSECURE" and go_truthy(value):
        found.append(
            finding(
                "VF201",
                "COCKROACH_INSECURE=true is the environment form of --insecure: cockroach "
                "commands run without TLS, and a node started so without authentication",
                evidence=f"{setting.key}={value}",
                **where,
            )
        )
    if name == "POSTGRES_HOST_AUTH_METHOD" and value.strip().lower() == "md5":
        found.append(_md5_auth(setting.key, value, where))
    if name == "POSTGRES_HOST_AUTH_METHOD" and "\n" in value:
        found.extend(_injected_hba(setting, value, where))
    if name == "POSTGRES_INITDB_ARGS" and re.search(r"--auth(-host)?[= ]md5\b", value):
        found.append(_md5_auth(setting.key, value, where))
    if name == "PASSWORD_ENCRYPTION" and value.strip().strip("'\"").lower() == "md5":
        found.append(_md5_auth(setting.key, value, where))
    found.extend(_hardcoded_password(setting, where, src))
    return found


def _injected_hba(setting: Setting, value: str, where: Mapping[str, Any]) -> list[Finding]:
    """The postgres image writes `host all all all $POSTGRES_HOST_AUTH_METHOD` into
    pg_hba.conf, so a value with line breaks writes pg_hba lines of its own
    (`"scram-sha-256\nhost replication all 0.0.0.0/0 md5"`, held-out-s18 CRDBKube): those
    lines are judged as the pg_hba.conf they become, reported at the setting. The image's
    own first line is its default, not a finding here (as the image's ssl=off is not)."""
    _, _, written = value.partition("\n")
    found: list[Finding] = []
    for item in pg_hba.judge_hba(pg_hba.parse_hba(written), str(where["path"])):
        evidence = f"{setting.key} writes the pg_hba line: {item.evidence or ''}".strip()
        found.append(
            dataclasses.replace(item, line=where["line"], column=where["column"], evidence=evidence)
        )
    return found


@lru_cache(maxsize=256)
def _document_passwords(
    src: SourceFile, key: str, line: int, column: int, value: str
) -> tuple[Finding, ...]:
    """The VF401s of the configuration document an environment value holds (embedded.py),
    once per place: a YAML anchor aliased under many `environment:` keys is one value."""
    found: list[Finding] = []
    for inner in embedded.document_settings(src, Setting(key, value, line, column)):
        found.extend(_hardcoded_password(inner, _where(src, inner.line, inner.column), src))
    return tuple(found)


def _client_min_version(
    setting: Setting, policy: Policy, where: Mapping[str, Any]
) -> Iterable[Finding]:
    try:
        version = parse_tls_version(setting.value)
    except UsageError:
        return
    if policy.tls_version_too_low(version):
        yield finding(
            "VF106",
            f"{setting.key} lets the client negotiate {tls_version_name(version)}, "
            f"below the policy floor {tls_version_name(policy.min_tls_version)}",
            evidence=f"{setting.key}={setting.value}",
            **where,
        )


def _md5_auth(key: str, value: str, where: Mapping[str, Any]) -> Finding:
    return finding(
        "VF403",
        "PostgreSQL stores or checks passwords with MD5 (deprecated, replayable hash)",
        evidence=f"{key}={value}",
        fix="Use scram-sha-256 (password_encryption = scram-sha-256, auth method "
        "scram-sha-256), or client certificates.",
        **where,
    )


# Ciphertext a tool decrypts where the service runs, not the password: a SOPS value,
# an Ansible Vault blob (inline `!vault` values start so).
_CIPHERTEXT = re.compile(r"^(ENC\[[A-Z0-9_]+,data:|\$ANSIBLE_VAULT;)")


def _ciphertext(setting: Setting) -> bool:
    """A value only a key held elsewhere turns into the password: a SealedSecret's
    `encryptedData` (the controller's public-key ciphertext; its `template.data` is
    a plain Secret's `data:` again), a SOPS `ENC[...]` value, an Ansible Vault blob."""
    if setting.context[:1] == ("SealedSecret",) and "encryptedData" in setting.context:
        return True
    return _CIPHERTEXT.match(setting.value.strip()) is not None


def _not_a_literal(setting: Setting, src: SourceFile | None) -> bool:
    """A reference to a secret held elsewhere, a template action, ciphertext, or a
    placeholder."""
    value = setting.value.strip()
    if not value or _REFERENCE.search(value) or _templated(value) or _ciphertext(setting):
        return True
    # The file's text is searched only for a value that holds a blanked action (once
    # per file would do, but per setting it made a 20,000-password file quadratic).
    if _BLANKED_ACTION in value and src is not None and "{{" in src.text:
        return True
    return is_placeholder(setting.key, setting.value, _example_file(src))


def _example_file(src: SourceFile | None) -> bool:
    """Whether the file is one to copy and fill in (True when it is not known)."""
    return src is None or example_context(PurePosixPath(src.relpath).name)


def _hardcoded_password(
    setting: Setting, where: Mapping[str, Any], src: SourceFile | None = None
) -> Iterable[Finding]:
    name = setting.name
    if password_name(name) is None or _WEB_LOGIN.match(name):
        return
    context = ".".join((*setting.context, setting.key)).upper()
    # a name that says nothing of a database, but that the project's code passes as a
    # connection's password (held-out-s23 danaides' DANAIDES_PASSWORD)
    if not _DB_CONTEXT.search(context) and not (
        src is not None and project_vars.password_variable(src, name)
    ):
        return
    value = setting.value.strip()
    default = dsn.ENV_DEFAULT.match(value)
    if not _ciphertext(setting):
        # Masked in every output even when it reads as a placeholder (not reported).
        register_written_password(setting.key, default.group("default") if default else value)
    if default is not None:
        if not default.group("default").strip():
            return
        if dsn.EXPANSION.search(default.group("default")):
            return
        if is_placeholder(setting.key, default.group("default"), _example_file(src)):
            return
        message = f"{setting.key} falls back to a literal default password"
    elif _not_a_literal(setting, src):
        return
    else:
        message = f"{setting.key} holds a literal database password"
    register_secret(default.group("default").strip() if default is not None else value)
    yield finding(
        "VF401",
        message,
        evidence=f"{setting.where}=***",
        fix="Take the password from a secret (POSTGRES_PASSWORD_FILE, a Kubernetes Secret "
        "via secretKeyRef, the CI secret store), or use client-certificate authentication.",
        **where,
    )


def judge_all(
    src: SourceFile,
    settings: Sequence[Setting],
    commands: Sequence[Command],
    policy: Policy = DEFAULT_POLICY,
    *,
    own_code: bool = False,
) -> list[Finding]:
    """Settings and commands of one file together.

    A libpq tool that takes its host from the PGHOST the file exports is the exported
    connection's caller: when that connection is reported at the export, the tool is
    listed there as a related location, not reported again (class 8: one finding where
    the connection is written, however many tools use it; enterpriseviz's restore
    script runs dropdb, createdb and psql after one `export PGHOST=...`)."""
    found = judge_settings(src, settings, policy, commands, own_code=own_code)
    env = file_environment(settings)
    exported = _exported_connection(found, settings)
    related: dict[int, list[Related]] = {}  # index in found -> the tools, in order
    for command in commands:
        judged = judge_command(src, command, policy, env)
        tool = clients.reads_exported_host(command) if exported else None
        if tool is not None:
            judged = _as_related(exported, judged, tool, src.relpath, related)
        found.extend(judged)
    for index, tools in related.items():  # joined once: a related tuple grown per tool
        unique = list(dict.fromkeys(tools))  # was quadratic in a script of many tools
        found[index] = dataclasses.replace(found[index], related=(*found[index].related, *unique))
    return found


def _exported_connection(found: Sequence[Finding], settings: Sequence[Setting]) -> dict[str, int]:
    """rule -> index in `found` of the transport finding at the file's PGHOST export."""
    line = next((s.line for s in reversed(settings) if s.name == "PGHOST" and not s.local), None)
    return {
        f.rule_id: index
        for index, f in enumerate(found)
        if line is not None and f.line == line and f.rule_id in MODE_RULES
    }


def _as_related(
    exported: Mapping[str, int],
    judged: list[Finding],
    tool: Word,
    relpath: str,
    related: dict[int, list[Related]],
) -> list[Finding]:
    """The tool's transport findings of a rule reported at the export, noted in
    `related` (index of the export's finding -> the tools) instead of kept."""
    kept: list[Finding] = []
    for item in judged:
        index = exported.get(item.rule_id)
        if index is None or item.line != tool.line:
            kept.append(item)
            continue
        here = Related(
            f"{tool.text} connects with the exported PGHOST", relpath, tool.line, tool.column
        )
        related.setdefault(index, []).append(here)
    return kept


# --- PostgreSQL server settings (postgresql.conf, postgres -c name=value) --------------


def judge_server_setting(
    src: SourceFile, key: str, value: str, line: int, column: int, policy: Policy = DEFAULT_POLICY
) -> list[Finding]:
    """A PostgreSQL server parameter, from postgresql.conf or `postgres -c key=value`."""
    name = key.strip().lower()
    bare = value.strip().strip("'\"")
    where = _where(src, line, column)
    evidence = f"{key} = {value.strip()}"
    found: list[Finding] = []
    if name == "ssl" and falsy(bare):
        found.append(
            finding(
                "VF201",
                "PostgreSQL runs with ssl=off: no client can use TLS",
                evidence=evidence,
                fix=POSTGRES_TLS_FIX,
                **where,
            )
        )
    elif name == "ssl_min_protocol_version":
        try:
            version = parse_tls_version(bare)
        except UsageError:
            return found
        if policy.tls_version_too_low(version):
            found.append(
                finding(
                    "VF203",
                    f"the server accepts {tls_version_name(version)}, below the policy floor "
                    f"{tls_version_name(policy.min_tls_version)}",
                    evidence=evidence,
                    **where,
                )
            )
    elif name == "ssl_ciphers":
        reasons = server_cipher_reasons(bare)
        if reasons:
            found.append(
                finding(
                    "VF204",
                    f"ssl_ciphers admits weak suites: {', '.join(reasons)}",
                    evidence=evidence,
                    **where,
                )
            )
    elif name == "password_encryption" and bare.lower() == "md5":
        found.append(_md5_auth(key, value.strip(), where))
    return found


def server_cipher_reasons(cipher_string: str) -> tuple[str, ...]:
    """Why a server cipher string is weak: the client view plus the server view
    (no forward secrecy, CBC without AEAD) of every suite it expands to here."""
    import ssl

    if "\0" in cipher_string:  # OpenSSL cannot read it (and neither can PostgreSQL)
        return ()
    reasons = list(weak_cipher_reasons(cipher_string))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.set_ciphers(cipher_string)
    except ssl.SSLError:
        return tuple(reasons)
    for suite in ctx.get_ciphers():
        why = server_suite_weakness(suite["name"])
        if why and why not in reasons:
            reasons.append(why)
    return tuple(reasons)


# --- commands -------------------------------------------------------------------------


def judge_command(
    src: SourceFile,
    command: Command,
    policy: Policy = DEFAULT_POLICY,
    env: Mapping[str, str] | None = None,
    in_server: bool = False,
) -> list[Finding]:
    """A command line: cockroach start flags, postgres -c settings, and what a client
    command says about its connection (clients.py; `env` holds the PG* variables
    the file sets; `in_server`: it runs in the database server's own container)."""
    argv = command.argv
    programs = {_program(w) for w in argv} | ({command.hint.lower()} if command.hint else set())
    is_cockroach = any("cockroach" in p for p in programs)
    is_postgres = any("postgres" in p for p in programs)
    starts_node = any(w in _COCKROACH_START for w in argv)
    # An --insecure node has no TLS at all: its --accept-sql-without-tls changes nothing,
    # one VF201 is the verdict (judge the final state, issue 12 item 9; held-out-s9).
    insecure = is_cockroach and starts_node and any(_truthy_flag(w, "--insecure") for w in argv)
    client = _cockroach_subcommand(argv, command.hint) if is_cockroach and not starts_node else None
    if client not in _COCKROACH_CLIENTS:
        client = None
    found: list[Finding] = []
    evidence_of = _Evidence(command)
    for index, word in enumerate(command.words):
        flag, _, flag_value = word.text.partition("=")
        where = _where(src, word.line, word.column)
        if flag == "--accept-sql-without-tls" and insecure:
            continue
        if flag == "--accept-sql-without-tls" and not falsy(flag_value or "true"):
            found.append(
                finding(
                    "VF202",
                    "the CockroachDB node accepts SQL clients without TLS "
                    "(--accept-sql-without-tls)",
                    evidence=evidence_of(word),
                    **where,
                )
            )
        elif flag == "--insecure" and is_cockroach and starts_node:
            if not falsy(flag_value or "true"):
                found.append(
                    finding(
                        "VF201",
                        "the CockroachDB node runs with --insecure: no TLS and no authentication",
                        evidence=evidence_of(word),
                        fix=_COCKROACH_TLS_FIX,
                        **where,
                    )
                )
        elif flag == "--insecure" and client is not None:
            if not falsy(flag_value or "true"):
                found.append(
                    finding(
                        "VF101",
                        f"the cockroach {client} client connects with --insecure: "
                        "plaintext, no server certificate checked",
                        evidence=evidence_of(word),
                        fix=_COCKROACH_CLIENT_FIX,
                        **where,
                    )
                )
        elif is_postgres and word.text in ("-c", "--set") and index + 1 < len(argv):
            following = command.words[index + 1]
            key, sep, value = following.text.partition("=")
            if sep:
                found.extend(
                    judge_server_setting(src, key, value, following.line, following.column, policy)
                )
        elif is_postgres and word.text.startswith("--") and "=" in word.text:
            key, _, value = word.text[2:].partition("=")
            found.extend(
                judge_server_setting(
                    src, key.replace("-", "_"), value, word.line, word.column, policy
                )
            )
    found.extend(clients.client_findings(src, command, env or {}, policy, evidence_of, in_server))
    found.extend(_written_conf_lines(src, command, policy))
    found.extend(_written_env_lines(src, command, policy))
    return found


def _cockroach_subcommand(argv: Sequence[str], hint: str | None) -> str | None:
    """The subcommand of a cockroach command line: the first word that is no flag after
    the program (`cockroach sql --insecure`), or, when the program is implied by the
    image (`CMD ["sql", "--insecure"]`, a compose command), the first word."""
    start = 0
    # The program itself, not a word that only names it: `kubectl exec db-cockroachdb-0
    # -- ./cockroach sql`, `--image=cockroachdb/cockroach:v24 --command -- ./cockroach sql`
    # (held-out-s14b, vlab-research/fly); a name holding the word is the fallback.
    exact = [i for i, word in enumerate(argv) if _program(word) in _COCKROACH_PROGRAMS]
    loose = [i for i, word in enumerate(argv) if "cockroach" in _program(word)]
    if exact or loose:
        start = (exact or loose)[0] + 1
    elif not (hint and "cockroach" in hint.lower()):
        return None
    return next((word for word in argv[start:] if not word.startswith("-")), None)


def _truthy_flag(word: str, name: str) -> bool:
    """Whether word sets the boolean flag name (`--insecure`, `--insecure=true`)."""
    flag, _, value = word.partition("=")
    return flag == name and not falsy(value or "true")


# postgresql.conf names a script may write into (postgresql_conf.py reads the files).
_CONF_NAMES = ("postgresql.conf", "postgresql.auto.conf", "postgresql*.conf", "postgres*.conf")


def _written_conf_lines(src: SourceFile, command: Command, policy: Policy) -> list[Finding]:
    """Parameters a script appends to postgresql.conf (`echo "ssl = off" >>
    $PGDATA/postgresql.conf`, `... | tee -a`, `cat >> postgresql.conf <<EOF`): judged as
    the file's own lines are, on the line of the script that writes them."""
    found: list[Finding] = []
    for text in clients.written_texts(command, "postgres", _CONF_NAMES):
        for param in parse_conf(text.text):
            column = text.column + param.column - 1 if param.line == 1 else param.column
            found.extend(
                judge_server_setting(
                    src, param.name, param.value, text.line + param.line - 1, column, policy
                )
            )
    return found


def _env_name(name: str) -> bool:
    return envnames.named_env_file(name) or envnames.hinted_env_file(name)


def _written_env_lines(src: SourceFile, command: Command, policy: Policy) -> list[Finding]:
    """The env file a script writes (`cat > "$APP_DIR/.env" <<EOF`, `echo "K=V" >>
    .env`, `printf ... | tee prod.env`): the text the script holds judged as that env
    file's lines are (envfile.py's name rules; a name that only hints needs KEY=VALUE
    text), placed on the script's lines. An unquoted here-document's `$VAR` is expanded
    when the script runs and a quoted one's is written as is: either way the judges
    read it as a reference, a part the deployment fills in."""
    written = clients.written_file(command, "env", _env_name)
    if written is None:
        return []
    name, texts = written
    settings: list[Setting] = []
    for text in texts:
        lines = text.lines()
        if not envnames.is_env_file(name, "\n".join(piece for piece, _, _ in lines)):
            continue
        for piece, offset, start in lines:
            base = (text.word.column if offset == 0 else 1) + start - 1
            for setting in envnames.parse_env(piece):
                line, column = text.word.line + offset, base + setting.column
                settings.append(dataclasses.replace(setting, line=line, column=column))
    return judge_settings(src, settings, policy) if settings else []


_EVIDENCE_WORDS = 16


class _Evidence:
    """The command line, or for a long one the words on the line of the hit. The
    words are grouped by line once, when the first finding needs them: a Helm
    template read line by line is one command of every word in the file, and
    filtering them for each word was quadratic."""

    def __init__(self, command: Command) -> None:
        self.words = command.words
        self._by_line: dict[int, list[Word]] | None = None

    def __call__(self, word: Word) -> str:
        words: Sequence[Word] = self.words
        if len(words) > _EVIDENCE_WORDS:
            if self._by_line is None:
                self._by_line = {}
                for each in self.words:
                    self._by_line.setdefault(each.line, []).append(each)
            words = self._by_line.get(word.line, [])[:_EVIDENCE_WORDS]
        return " ".join(_redacted([w.text for w in words]))


_PASSWORD_FLAG = re.compile(r"^--?[\w-]*pass(word|wd)?$", re.IGNORECASE)


def _redacted(argv: Sequence[str]) -> list[str]:
    """Command words with anything password-like masked (a command may carry one)."""
    out: list[str] = []
    for index, word in enumerate(argv):
        if index and _PASSWORD_FLAG.match(argv[index - 1]):
            out.append("***")
        elif re.search(r"pass(word|wd)?=", word, re.IGNORECASE):
            out.append(word.split("=", 1)[0] + "=***")
        else:
            out.append(dsn.redact(word))  # user:password@ in a URL anywhere in the word
    return out
