"""A connection written as separate components: host, port, name, user, password,
backend, each its own env entry, in any env-list format (the brief's class 2).

    { name = "PRETIX_DATABASE_BACKEND", value = "postgresql" }      # Terraform / ECS
    { name = "PRETIX_DATABASE_HOST", value = var.db.address }
    - name: POSTGRES_HOST                                            # Kubernetes
      value: db.internal
    DB_HOST=db.internal  DB_PORT=5432                                # .env, compose

The service that reads them builds a connection the file never spells as a URL.
When no TLS setting sits beside them (an sslmode, a PGSSL*, any `*SSL*`/`*TLS*`
variable of the same database), the connection is what its driver does without
one: libpq's (and asyncpg's) default `prefer`, VF102. conninfo decides, from the
components written as libpq keywords in the file's PG* environment.

Judged here only when the consumer is not the project's own code: a variable the
project's Python reads (`os.environ["DB_HOST"]`, a Settings field `db_host`) is
judged at the Python connection site, which knows the driver and the arguments
(project_vars.code_reads); and where a connection URL sits beside them
(DATABASE_URL next to SQL_HOST, SQL_PORT for a port wait), the URL is the
connection and is judged as such. What else makes a group a PostgreSQL connection: a
backend naming PostgreSQL (`postgresql`, `django.db.backends.postgis`,
`cockroachdb`), a PG/POSTGRES/COCKROACH prefix, or the port 5432 / 26257; a bare
`DB_HOST` with none of these may be MySQL's and is left alone. A host that is a
Unix socket directory is no network connection; a host given by reference
(`var.db.address`, `${DB_HOST}`, `valueFrom`) is a TCP host the deployment names.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from verifyfull.conninfo import ConnStringError, Environment, evaluate, parse_dsn
from verifyfull.errors import VerifyfullError
from verifyfull.findings import Finding
from verifyfull.policy import Policy
from verifyfull.rules import MODE_RULES
from verifyfull.scan import project_vars
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.clients import LIBPQ_TOOLS
from verifyfull.scan.config.dsn import NETWORK_HOST, deployed_environment, looks_like_dsn
from verifyfull.scan.config.ecosystem import driver_default, other_ecosystem, shown
from verifyfull.scan.config.model import Command, Setting
from verifyfull.scan.shell.argv import program

# The database a key names (its family) and the component (its role):
# PRETIX_DATABASE_HOST -> prefix PRETIX_, family DATABASE, role HOST.
_FAMILY = r"PG|POSTGRES|POSTGRESQL|COCKROACH|CRDB|DB|DATABASE|SQL"
_ROLES = {
    "HOST": "host",
    "HOSTNAME": "host",
    "SERVER": "host",
    "ADDRESS": "host",
    "ADDR": "host",
    "PORT": "port",
    "NAME": "dbname",
    "DB": "dbname",
    "DATABASE": "dbname",
    "USER": "user",
    "USERNAME": "user",
    "PASSWORD": "password",
    "PASS": "password",
    "BACKEND": "backend",
    "ENGINE": "backend",
    "DRIVER": "backend",
    "DIALECT": "backend",
    "TYPE": "backend",  # DB_TYPE=postgres, MB_DB_TYPE=postgres (Metabase)
}
_KEY = re.compile(
    rf"^(?P<prefix>(?:[A-Z0-9]+_)*?)(?P<family>{_FAMILY})_?(?P<role>{'|'.join(_ROLES)})$"
)
_PG_FAMILIES = frozenset({"PG", "POSTGRES", "POSTGRESQL", "COCKROACH", "CRDB"})
_PG_BACKEND = re.compile(r"postgres|postgis|psycopg|cockroach|timescale", re.IGNORECASE)
_PG_PORTS = frozenset({"5432", "26257"})
# A host named for the PostgreSQL server it is (`postgres`, `web-postgres`, `crdb-0`,
# `postgres.db.svc`): with a family that names no database kind (DATABASE_HOST), the
# group is PostgreSQL's unless its reader is another ecosystem's sub-project.
_PG_HOST = re.compile(
    r"(?:^|[-_.])(?:postgres(?:ql)?|postgis|pgsql|pg|cockroach(?:db)?|crdb|timescale(?:db)?)"
    r"\d*(?:[-_.]|$)",
    re.IGNORECASE,
)
# A TLS decision written next to the components, for a database: nothing to claim
# here (the sslmode judge, the project's TLS variables or the deployment decide).
# PRETIX_MAIL_TLS is the mail client's.
_TLS_WORD = re.compile(r"SSL|TLS")
_DB_WORD = re.compile(rf"(^|_)({_FAMILY})(_|$)|^PGSSL|SSL_?MODE$")
# A value that is a reference, not a literal (`${DB_HOST}`, `$DB_HOST`, a reader's
# stand-in for `var.db.address`), or a template action.
_REFERENCE = re.compile(r"^\$\{[^}]*\}$|^\$[A-Za-z_]\w*$|\{\{")
_TRANSPORT = MODE_RULES
# `$NAME` / `${NAME...}` in a command word: the variable the command reads.
_READS = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Component:
    role: str  # a libpq keyword, or "backend"
    setting: Setting

    @property
    def literal(self) -> str | None:
        value = self.setting.value.strip().strip("'\"")
        return None if not value or _REFERENCE.search(value) else value


def _parts(setting: Setting) -> tuple[str, str, str] | None:
    """(prefix, family, role) of a component key, else None."""
    match = _KEY.match(setting.name)
    if match is None:
        return None
    family, role = match.group("family"), _ROLES[match.group("role")]
    if family == "DATABASE" and match.group("role") == "DATABASE":
        return None
    if family == "PG" and match.group("role") == "DATABASE":
        return match.group("prefix"), family, "dbname"  # PGDATABASE
    return match.group("prefix"), family, role


def component_role(key: str) -> str | None:
    """The role (a libpq keyword, or "backend") of a component key, else None."""
    parts = _parts(Setting(key, "", 0, 0))
    return None if parts is None else parts[2]


def is_component(key: str) -> bool:
    """Whether a key names a connection component (readers that place only the settings
    worth judging keep these too: the group is judged, not the setting)."""
    return _parts(Setting(key, "", 0, 0)) is not None


def component_findings(
    src: SourceFile,
    settings: Sequence[Setting],
    env: Mapping[str, str],
    policy: Policy,
    commands: Sequence[Command] = (),
    consumer: Path | None = None,
    *,
    own_code: bool = False,
) -> list[Finding]:
    """The transport findings of every connection written as components in a file.
    A group whose host a client command of the same file reads (`psql -h
    "$POSTGRES_HOST"`) is that command's connection, judged at the command. consumer:
    the directory whose code reads them (a compose service's build context, the
    file's own directory), when known. own_code: the env list is an image's that runs
    the project's own Python code (image_code.py): a group no `.py` reads reaches no
    connection there (the code's own sites are judged in Python), so none is judged."""
    if own_code:
        return []
    consumed = _read_by_clients(commands)
    groups: dict[tuple[tuple[str, ...], str], list[tuple[str, Component]]] = {}
    tls_written: set[tuple[tuple[str, ...], str]] = set()
    with_url: set[tuple[str, ...]] = set()
    for setting in settings:
        if setting.local:
            continue
        if looks_like_dsn(setting.value):
            with_url.add(setting.context)  # the URL is the connection; parts are for other uses
            continue
        parts = _parts(setting)
        if parts is not None:
            prefix, family, role = parts
            groups.setdefault((setting.context, prefix), []).append(
                (family, Component(role, setting))
            )
        elif _TLS_WORD.search(setting.name) and _DB_WORD.search(setting.name):
            tls_written.update((setting.context, p) for p in _prefixes(setting.name))
    found: list[Finding] = []
    environments = _Environments(settings, env)
    for (context, prefix), members in groups.items():
        if (context, prefix) in tls_written or context in with_url:
            continue
        if any(c.role == "host" and c.setting.name in consumed for _, c in members):
            continue
        own_env = environments.of(context)
        if any(name.startswith("PGSSL") for name in own_env):
            continue  # libpq's environment decides for every connection (judged there)
        found.extend(_judge_group(src, prefix, members, own_env, policy, consumer))
    return found


# Images of the database server itself (the repository's last part, tag dropped).
_SERVER_IMAGES = frozenset(
    {"postgres", "postgresql", "postgis", "timescaledb", "timescaledb-ha", "cockroach"}
)
# What such a container runs when it is the server (no command, or the server's own).
_SERVER_PROGRAMS = frozenset({"postgres", "cockroach", "docker-entrypoint.sh"})


def runs_the_server(image: str, commands: Sequence[Command]) -> bool:
    """Whether a container is the database server: its image is the server's and it
    runs nothing else. Its environment configures that server (the postgres image
    reads POSTGRES_USER/PASSWORD/DB and never a *_HOST): a `POSTGRES_HOST` written
    there is no client's connection."""
    return server_image(image) and all(_server_command(c.argv) for c in commands)


def server_image(image: str) -> bool:
    """Whether an image is a database server's (postgres, cockroach, ...): whatever a
    container of it runs, a connection to its loopback reaches that server."""
    name = image.strip().split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return name in _SERVER_IMAGES


def _server_command(argv: Sequence[str]) -> bool:
    """The server's own command, or arguments to the image's server entrypoint
    (`-c ssl=on` for postgres, `start-single-node ...` for cockroach)."""
    if not argv:
        return True
    first = argv[0]
    return program(first) in _SERVER_PROGRAMS or first.startswith(("-", "start"))


def _read_by_clients(commands: Sequence[Command]) -> frozenset[str]:
    """The variables the file's libpq client commands read (`pg_dump -h "$DB_HOST"`):
    the clients the command judge (clients.py) judges where they are written."""
    names: set[str] = set()
    for command in commands:
        argv = command.argv
        if any(program(word) in LIBPQ_TOOLS for word in argv):
            for word in argv:
                if "$" in word:
                    names.update(_READS.findall(word))
    return frozenset(names)


class _Environments:
    """The PG* environment of each env list: its own PG* entries, and the file's (or
    the compose service's) but for those another env list of the file sets (a second
    container's PGSSLMODE is not this one's). Indexed once, one dict per env list."""

    def __init__(self, settings: Sequence[Setting], env: Mapping[str, str]) -> None:
        self.env = env
        self.own: dict[tuple[str, ...], dict[str, str]] = {}
        self.contexts: dict[str, set[tuple[str, ...]]] = {}
        for s in settings:
            if s.name.startswith("PG"):
                self.own.setdefault(s.context, {})[s.name] = s.value
                self.contexts.setdefault(s.name, set()).add(s.context)
        self.cache: dict[tuple[str, ...], dict[str, str]] = {}

    def of(self, context: tuple[str, ...]) -> dict[str, str]:
        if context not in self.cache:
            elsewhere = {n for n, where in self.contexts.items() if where - {context}}
            inherited = {k: v for k, v in self.env.items() if k not in elsewhere}
            self.cache[context] = {**inherited, **self.own.get(context, {})}
        return self.cache[context]


def _prefixes(name: str) -> list[str]:
    """Every prefix a TLS key could share with components: DB_SSLMODE -> "", "DB_"."""
    pieces = name.split("_")
    return ["_".join(pieces[:i]) + ("_" if i else "") for i in range(len(pieces))]


def _judge_group(
    src: SourceFile,
    prefix: str,
    members: list[tuple[str, Component]],
    env: Mapping[str, str],
    policy: Policy,
    consumer: Path | None = None,
) -> list[Finding]:
    by_role: dict[str, Component] = {}
    for _, component in members:
        by_role[component.role] = component  # the last one wins, as in an environment
    host = by_role.get("host")
    if host is None or _cockroach_cli(prefix, members):
        return []
    backend = by_role.get("backend")
    port = by_role.get("port")
    postgres = (
        any(family in _PG_FAMILIES for family, _ in members)
        or (backend is not None and _PG_BACKEND.search(backend.setting.value) is not None)
        or (port is not None and port.literal in _PG_PORTS)
        or _names_postgres_server(host, consumer)
    )
    if not postgres or (backend is not None and not _PG_BACKEND.search(backend.setting.value)):
        return []
    if project_vars.code_reads(src, host.setting.name):
        return []  # the project's code reads it: its connection site is judged there
    if project_vars.code_reads_through_chart(src, host.setting.where):
        return []  # a Helm chart gives it to a variable the code reads: judged there
    if project_vars.code_reads_through_template(src, host.setting.key):
        return []  # a template (Ansible) gives it to a variable the code reads
    host_value = host.literal or NETWORK_HOST
    if host_value.startswith("/"):
        return []  # a Unix socket directory: no network
    keywords = {"host": host_value}
    for role in ("port", "dbname", "user"):
        part = by_role.get(role)
        if part is not None and part.literal and part.literal.isprintable():
            keywords[role] = part.literal
    # Read by another ecosystem's sub-project: its driver's default, named (ecosystem.py).
    ecosystem = other_ecosystem(consumer) if consumer is not None else None
    default = driver_default(ecosystem) if ecosystem is not None else None
    judged = {**keywords, "sslmode": default.sslmode} if default is not None else keywords
    text = " ".join(f"{k}={_quoted(v)}" for k, v in judged.items())
    try:
        verdict = evaluate(parse_dsn(text), None, Environment.of(deployed_environment(env)), policy)
    except (ConnStringError, VerifyfullError):
        return []
    keys = list(dict.fromkeys(c.setting.key for _, c in members))
    names = ", ".join(keys[:8]) + (", …" if len(keys) > 8 else "")
    if default is not None and ecosystem is not None and consumer is not None:
        reader = (
            f"the {ecosystem} sub-project {shown(consumer, src)} reading them "
            f"({default.driver}: {default.says})"
        )
    elif backend is not None:
        reader = f"the backend {backend.setting.value.strip()[:60]} (Django: psycopg, libpq)"
    else:
        reader = (
            "the service reading them (not in this tree: its driver is not known here; "
            "libpq's and asyncpg's default is prefer)"
        )
    return [
        dataclasses.replace(
            f,
            message=f"{f.message} (a connection written as components: {names}; no sslmode "
            f"beside them, so {reader} connects with its driver's default)",
            evidence=f"{prefix}…: " + " ".join(f"{k}={v}" for k, v in keywords.items()),
            path=src.relpath,
            line=host.setting.line,
            column=host.setting.column,
        )
        for f in verdict.findings
        if f.rule_id in _TRANSPORT
    ]


def _cockroach_cli(prefix: str, members: Sequence[tuple[str, Component]]) -> bool:
    """COCKROACH_HOST, COCKROACH_PORT, COCKROACH_USER, COCKROACH_DATABASE unprefixed are
    the environment forms of the cockroach CLI's own flags (`cockroach sql`, `node
    status`), which is secure by default: TLS verifying the node with the certificates
    of --certs-dir / COCKROACH_CERTS_DIR, unless --insecure / COCKROACH_INSECURE=true,
    judged where written (VF101/VF201). Not libpq's prefer: no finding for the group."""
    return not prefix and all(family == "COCKROACH" for family, _ in members)


def _names_postgres_server(host: Component, consumer: Path | None) -> bool:
    """The host is named for a PostgreSQL server and its reader is not a sub-project of
    another ecosystem (a JDBC or node-postgres client: its driver's defaults are not
    modelled here, so such a group is not judged; issue 13 item 7)."""
    if host.literal is None or _PG_HOST.search(host.literal) is None:
        return False
    return consumer is None or other_ecosystem(consumer) is None


def _quoted(value: str) -> str:
    """A libpq keyword value: single-quoted, backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
