"""What every config format is reduced to before judging: settings and commands.

Each format module only parses (keeping line and column); judge.py alone decides
what a setting or a command means, so `PGSSLMODE=disable` reads the same in a
.env file, a compose file, a Kubernetes manifest or a Dockerfile.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifyfull.scan.api import CheckSkipped


class ConfigParseError(CheckSkipped):
    """A file that does not parse: the engine reports it as an error entry for the file.

    One line, "problem; fix", never with file content (it may hold a password).
    """

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}" if fix else problem)


@dataclass(frozen=True)
class Setting:
    """One key = value pair, where the value is a literal string in the file.

    `key` is the last name (POSTGRES_PASSWORD, sqlalchemy.url, sslmode); `context`
    holds the enclosing names (services.db.environment) so a judge can tell a
    database password from an SMTP one.
    """

    key: str
    value: str
    line: int
    column: int  # 1-based column of the value (or of the key when the value has no place)
    context: tuple[str, ...] = ()
    # Set for one command only (`PGSSLMODE=disable pg_restore ...` in shell): judged,
    # but not part of the environment the file's other settings and commands see.
    local: bool = False

    @property
    def name(self) -> str:
        return self.key.strip().upper()

    @property
    def where(self) -> str:
        return ".".join((*self.context, self.key))


@dataclass(frozen=True)
class Word:
    """One word of a command line and where it is written."""

    text: str
    line: int
    column: int
    # A here-document body (a command's stdin): True when the shell expands `$…` in it
    # (an unquoted delimiter), False when it is read as written; None for other words.
    expands: bool | None = None


@dataclass(frozen=True)
class Command:
    """A command line a container or server will run, split into words.

    `hint` names the program when the command itself does not (a Kubernetes
    `args:` list of a container whose image is cockroachdb/cockroach). `stdin`
    holds the text a shell command reads as input (here-documents, here-strings:
    `psql <<EOF ... EOF`, `cat >> pg_hba.conf <<EOF`). `piped` holds what the command
    before it in a pipeline writes when that is known text (`echo "host ..." | sudo tee
    -a pg_hba.conf`): kept apart from `stdin`, which the SQL-password check also reads
    (the echo's own words are judged already).
    """

    words: tuple[Word, ...]
    hint: str = ""
    stdin: tuple[Word, ...] = ()
    piped: tuple[Word, ...] = ()

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.text for w in self.words)


# A file that mentions none of these cannot hold anything the config checks
# report: such files are not parsed at all (speed, and no parse-error noise
# from unrelated JSON-with-comments or templated YAML).
# Matched in the case-folded text (a superset of a case-insensitive match; one
# case-insensitive regex over a large JSON file cost 10 ms, these substring tests
# a tenth of that).
_MARKERS = (
    *("postgres", "cockroach", "sslmode", "ssl_mode", "pgssl", "database", "_dsn"),
    # URL schemes only Django's URL helpers read (conninfo.django_url; psql:// is below)
    *("pgsql", "postgis", "timescale"),
    # a connection written as components (components.py): what says PostgreSQL there
    *("pghost", "crdb", "5432", "26257"),
    # every name password_names.password_name takes: PASSWORD, PASSWD, DB_PASS, db.pass, PG_PWD
    *("pass", "pwd"),
    *("db_url", "sqlalchemy", "hostssl", "hostnossl", "ssl_ciphers", "ssl_min_protocol"),
    "accept-sql-without-tls",
    # a cockroach chart's `statefulset.args: [--insecure]` may name cockroach nowhere
    # (cockroach_chart.py; a values file handed to `helm … cockroachdb/cockroachdb -f`)
    "--insecure",
    # libpq clients a CI step or compose command runs (`pg_dump -h db` names no postgres)
    *("psql", "pg_dump", "pg_restore", "pg_basebackup", "createdb", "createuser"),
    *("vacuumdb", "pgbench", "pgcli"),
    # A project-defined TLS variable (scan/project_vars.py: POSTGRES_SSL, DB_TLS) may
    # be named by nothing else.
    *("ssl", "tls"),
    # a pgbouncer.ini that sets no TLS at all is a pooler without TLS (pgbouncer.py)
    "[pgbouncer]",
    # A Kubernetes Secret: its base64 `data:` may name a database only once decoded
    # (secretdata.py).
    *("kind: secret", "kind: 'secret'", 'kind: "secret"', '"kind": "secret"'),
    "kind: sealedsecret",
)


def worth_parsing(text: str) -> bool:
    folded = text.casefold()
    return any(marker in folded for marker in _MARKERS)
