"""A DSN's password reads the same wherever the DSN is written: in Python, in a .env
file or in a compose environment, a placeholder (placeholders.is_placeholder keyed
`password`) is never VF401 and a real password always is. Generated DSNs, keys and
files."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.placeholders import is_placeholder
from verifyfull.scan.walk import WalkedFile

PLACEHOLDERS = ("password", "PASSWORD", "changeme", "<password>", "your_password", "xxxx")
REAL = ("hunter2", "Pg-s3cret!", "postgres", "admin123", "s3cr3tpw")
KEYS = ("DATABASE_URL", "APP_CONFIG__DB__URL", "DB_URL", "SQLALCHEMY_DATABASE_URI")
HOSTS = ("127.0.0.1:5432", "db.internal", "postgres:5432")
# (file name, how the setting is written)
FILES = (
    (".env", "{key}={dsn}\n"),
    (".env.example", "{key}={dsn}\n"),
    (
        "docker-compose.yml",
        "services:\n  app:\n    image: app\n    environment:\n      {key}: {dsn}\n",
    ),
    ("settings.py", '{key} = "{dsn}"\n'),
)


def _vf401(tmp_path: Path, name: str, text: str) -> bool:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    walked = WalkedFile(path, name)
    outcome = scan_file(walked, ScanContext(root=tmp_path, policy=DEFAULT_POLICY), 10_000_000)
    return any(f.rule_id == "VF401" for f in outcome.findings)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    file=st.sampled_from(FILES),
    key=st.sampled_from(KEYS),
    password=st.sampled_from(PLACEHOLDERS + REAL),
    host=st.sampled_from(HOSTS),
    scheme=st.sampled_from(("postgresql", "postgresql+asyncpg", "postgres")),
)
def test_a_dsn_password_is_a_credential_unless_a_placeholder_in_every_file(
    tmp_path: Path, file: tuple[str, str], key: str, password: str, host: str, scheme: str
) -> None:
    name, template = file
    dsn = f"{scheme}://app:{password}@{host}/app?sslmode=verify-full&sslrootcert=system"
    found = _vf401(tmp_path, name, template.format(key=key, dsn=dsn))
    assert found is not is_placeholder("password", password), (name, key, dsn)


def _rules(tmp_path: Path, name: str, text: str) -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    walked = WalkedFile(path, name)
    outcome = scan_file(walked, ScanContext(root=tmp_path, policy=DEFAULT_POLICY), 10_000_000)
    return sorted(f.rule_id for f in outcome.findings)


SLOTS = ("user", "password", "host", "port", "db_name")
QUERIES = ("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full&sslrootcert=system")


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    slots=st.sets(st.sampled_from(SLOTS), min_size=1),
    query=st.sampled_from((*QUERIES, "?sslmode={mode}")),
    file=st.sampled_from(FILES[:2]),  # .env files: compose reads `${…}` itself
)
def test_an_example_slot_reads_as_an_interpolation(
    tmp_path: Path, slots: set[str], query: str, file: tuple[str, str]
) -> None:
    """`<host>` in an example file is a value a person fills in, as `${HOST}` is one
    the deployment fills in: the same verdict, never "cannot be read"."""
    name, template = file
    literal = {"user": "app", "password": "s3cr3tpw", "host": "db.internal"}
    literal.update({"port": "5432", "db_name": "app", "mode": "require"})

    def url(slot: str) -> str:
        parts = {k: (slot.format(k) if k in slots else v) for k, v in literal.items()}
        parts["mode"] = slot.format("mode")  # a slot in the query: the deployment's
        return "postgresql://{user}:{password}@{host}:{port}/{db_name}".format(
            **parts
        ) + query.format(**parts)

    example = _rules(tmp_path, name, template.format(key="DATABASE_URL", dsn=url("<{}>")))
    interpolated = _rules(tmp_path, name, template.format(key="DATABASE_URL", dsn=url("${{{}}}")))
    assert example == interpolated, (url("<{}>"), url("${{{}}}"))


# Password names the config judge takes (judge._PASSWORD_NAME with a database word).
PREFIXES = ("DB", "PG", "POSTGRES", "DATABASE", "CRDB", "APP_DB")
SUFFIXES = ("PASSWORD", "PASSWD", "PASS", "PWD")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(PREFIXES),
    separator=st.just("_"),  # an environment variable name
    suffix=st.sampled_from(SUFFIXES),
    lower=st.booleans(),
    password=st.sampled_from(REAL),
)
def test_every_database_password_name_is_read_in_a_dotenv_file(
    tmp_path: Path, prefix: str, separator: str, suffix: str, lower: bool, password: str
) -> None:
    """The files the config checks skip unparsed (model.worth_parsing) hold no name the
    judge would report: a lone `DB_PASS=…` line is a credential like `DB_PASSWORD=…`."""
    key = f"{prefix}{separator}{suffix}"
    key = key.lower() if lower else key
    assert _vf401(tmp_path, ".env", f"{key}={password}\n"), key
