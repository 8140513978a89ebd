"""Service files (pg_service.conf) against the installed drivers (issue 14, class 4).

Generated service files (the home file, PGSERVICEFILE, PGSYSCONFDIR's file;
sections, comments, odd keys and separators, repeated groups and keys, '%',
DEFAULT, nested service=) and generated connections naming a service
(`service=` in a keyword string, `?service=` in a URL, PGSERVICE), with
written values that compete with the service's and PG* variables under it.
The oracles, in a private HOME with those files on disk:

    libpq    PQconnectStart (libpq 18, psycopg-binary 3.3.9) and PQconninfo on
             the connection it starts: the parameters libpq settled on after
             reading the service, the variables and its defaults. Every host a
             service names is a loopback address or a socket directory that does
             not exist, so the attempt fails at once (nothing is listening).
    asyncpg  asyncpg.connect_utils._parse_connect_dsn_and_args (asyncpg 0.32.0)

The model (conninfo.service through effective + evaluate, with the same
files in Environment.services) must give the same endpoints, user, database,
sslmode, sslrootcert (libpq) and TLS use, and refuse exactly what the driver
refuses. 5,000 generated cases, each for libpq keywords, libpq URL and asyncpg
alone, beside a host argument and beside a port argument (25,000 comparisons);
hypothesis draws one seed per batch of 25 (test_conninfo_draws.batch), the grammar
below makes every other choice with random.Random. VERIFYFULL_SLOW=1 runs ten times
as many.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_conninfo_budget import spent
from test_conninfo_differential import (
    _SETTINGS,
    MISSING_FILE,
    SLOW,
    Outcome,
    _asyncpg_settings,
    _model,
    differences,
    driver_environment,
    libpq_outcome,
    pg_variables,
)
from test_conninfo_draws import SEEDS, batch, seeded
from verifyfull.conninfo import Environment, evaluate, from_asyncpg_kwargs, parse_dsn
from verifyfull.conninfo.model import ServiceFiles
from verifyfull.errors import VerifyfullError

pq = pytest.importorskip("psycopg.pq")
asyncpg = pytest.importorskip("asyncpg")

# Generated cases per form in CI (docs/conninfo.md's table; test_conninfo_budget.py).
CI_CASES = 5000
CASES = int(os.environ.get("VERIFYFULL_SERVICE_CASES", CI_CASES * (10 if SLOW else 1)))
BATCH = 25

NAMES = ["a", "prod", " a ", "A", "a b"]
HOSTS = ["127.0.0.1", "::1", "127.0.0.1,::1", "/tmp/vf-nosuch", "localhost", ""]
PORTS = ["1", "2", "1,2", "x", "70000", ""]
MODES = ["disable", "prefer", "require", "verify-ca", "verify-full", "bogus", ""]
KEYS = [
    "host",
    "host",
    "port",
    "sslmode",
    "sslmode",
    "sslrootcert",
    "user",
    "dbname",
    "database",
    "hostaddr",
    "Host",
    "SSLMODE",
    "application_name",
    "bogus",
    "service",
    "password",
]
SEPARATORS = ["=", "=", "=", " = ", "= ", ":"]


def _service_value(rng: random.Random, key: str) -> str:
    key = key.lower()
    if key == "host":
        return rng.choice(HOSTS)
    if key == "port":
        return rng.choice(PORTS)
    if key == "sslmode":
        return rng.choice(MODES)
    if key == "sslrootcert":
        return rng.choice(["{ca}", "system", "50%", ""])
    if key == "hostaddr":
        return rng.choice(["127.0.0.1", "::1", "x"])
    return rng.choice(["svcuser", "svcdb", "a=b", "%(x)s", "p w"])


def service_file_of(rng: random.Random) -> str:
    lines: list[str] = []
    if rng.randrange(10) == 0:
        lines.append("sslmode=require")  # before any group
    for _ in range(rng.randint(1, 3)):
        name = rng.choice([*NAMES, "DEFAULT"])
        lines.append(rng.choice([f"[{name}]", f"[{name}]", f"  [{name}] "]))
        for _ in range(rng.randint(0, 4)):
            key = rng.choice(KEYS)
            line = key + rng.choice(SEPARATORS) + _service_value(rng, key)
            prefix = rng.choice(["", "", "", "", "  "])
            lines.append(prefix + line)
            if rng.randrange(6) == 0:
                lines.append(rng.choice(["# note", "; note", "", "garbage"]))
    return "\n".join(lines) + "\n"


def service_file() -> st.SearchStrategy[str]:
    return seeded(service_file_of)


def files_and_env(rng: random.Random) -> tuple[dict[str, str | None], dict[str, str]]:
    """Service files by role (home, alt, system) and the variables that choose them."""
    files: dict[str, str | None] = {
        role: service_file_of(rng) if rng.randrange(4) else None
        for role in ("home", "alt", "system")
    }
    env: dict[str, str] = {}
    if rng.randrange(4) == 0:
        env["PGSERVICEFILE"] = "{alt}"
    if rng.random() < 0.5:
        env["PGSYSCONFDIR"] = "{sys}"
    if rng.randrange(4) == 0:
        env["PGSERVICE"] = rng.choice(NAMES)
    if rng.randrange(5) == 0:
        env["PGHOST"] = rng.choice(["127.0.0.5", "/tmp/vf-nosuch2"])
    if rng.randrange(5) == 0:
        env["PGPORT"] = rng.choice(["3", "3,4"])
    if rng.randrange(4) == 0:
        env["PGSSLMODE"] = rng.choice(MODES[:5])
    return files, env


def connection(rng: random.Random) -> tuple[str, str]:
    """(keyword string, URL) naming a service, with some values written beside it."""
    written: list[tuple[str, str]] = []
    if rng.randrange(5):
        written.append(("service", rng.choice(NAMES)))
    for _ in range(rng.randint(0, 2)):
        key = rng.choice(["host", "port", "sslmode", "dbname"])
        value = {
            "host": lambda: rng.choice(["127.0.0.3", "/tmp/vf-nosuch3"]),
            "port": lambda: rng.choice(["5", "6"]),
            "sslmode": lambda: rng.choice(MODES[:5]),
            "dbname": lambda: "written",
        }[key]()
        written.append((key, value))
    keywords = " ".join(f"{k}='{v}'" for k, v in written) or "dbname=''"
    netloc = ""
    query = []
    for key, value in written:
        if key == "host" and not value.startswith("/"):
            netloc = value + netloc
        elif key == "port" and rng.random() < 0.5:
            netloc = netloc + f":{value}"
        else:
            query.append(f"{key}={value.replace(' ', '%20')}")
    path = "/" + ("?" + "&".join(query) if query else "")
    return keywords, f"postgresql://{netloc}{path}"


def service_case(
    rng: random.Random,
) -> tuple[tuple[dict[str, str | None], dict[str, str]], tuple[str, str]]:
    return files_and_env(rng), connection(rng)


def _paths(base: Path) -> dict[str, str]:
    return {
        "home": str(base / "home" / ".pg_service.conf"),
        "alt": str(base / "alt.conf"),
        "system": str(base / "sys" / "pg_service.conf"),
    }


def _place(base: Path, files: dict[str, str | None], ca: str) -> dict[str, str | None]:
    """Write the files where the drivers look; the same texts, by path, for the model."""
    by_path: dict[str, str | None] = {}
    for role, path in _paths(base).items():
        text = files[role]
        if text is None:
            Path(path).unlink(missing_ok=True)
        else:
            text = text.replace("{ca}", ca)
            Path(path).write_text(text)
        by_path[path] = text
    return by_path


def _libpq(conninfo: str) -> Outcome:
    """The parameters libpq settled on, from the connection PQconnectStart began."""
    conn = pq.PGconn.connect_start(conninfo.encode())
    try:
        message = conn.error_message.decode(errors="replace")
        bad = conn.status == pq.ConnStatus.BAD
        values = {
            o.keyword.decode(): (o.val.decode() if o.val is not None else None) for o in conn.info
        }
    finally:
        conn.finish()
    # Past the options, libpq resolves and dials: those failures are not the reading's.
    if bad and not message.startswith(("connection to server", "could not translate host")):
        return Outcome(error=message.strip().splitlines()[0])
    return libpq_outcome(values, written_mode=True)  # PQconninfo's sslmode is the final one


TALLY: Counter[str] = Counter()
EXAMPLES: dict[str, list[object]] = {}
ASYNCPG_FORMS = ("asyncpg", "asyncpg with a port argument", "asyncpg with a host argument")
HOST_ARGUMENT = "db.invalid"


def _case(
    base: Path,
    ca: str,
    files: dict[str, str | None],
    variables: dict[str, str],
    keywords: str,
    url: str,
) -> None:
    by_path = _place(base, files, ca)
    variables = {
        k: v.replace("{alt}", _paths(base)["alt"]).replace("{sys}", str(base / "sys"))
        for k, v in variables.items()
    }
    services = ServiceFiles.of(by_path, home=str(base / "home"))
    env = Environment.of({"PGUSER": "envuser", **variables}, services=services)
    with pg_variables(variables):
        found = {
            "libpq keywords": differences(
                _model(lambda: parse_dsn(keywords), "psycopg", env), _libpq(keywords)
            ),
            "libpq url": differences(_model(lambda: parse_dsn(url), "psycopg", env), _libpq(url)),
            "asyncpg": differences(
                _model(lambda: from_asyncpg_kwargs({"dsn": url}), "asyncpg", env),
                _asyncpg_settings(dsn=url),
            ),
            # A port argument beside the DSN: every port the DSN and the service write
            # is then ignored (a service host still takes it).
            "asyncpg with a port argument": differences(
                _model(lambda: from_asyncpg_kwargs({"dsn": url, "port": 7000}), "asyncpg", env),
                _asyncpg_settings(dsn=url, port=7000),
            ),
            # A host argument beside the DSN: the service's host is then never read,
            # its port serves the argument's host unless the DSN gives one.
            "asyncpg with a host argument": differences(
                _model(
                    lambda: from_asyncpg_kwargs({"dsn": url, "host": HOST_ARGUMENT}), "asyncpg", env
                ),
                _asyncpg_settings(dsn=url, host=HOST_ARGUMENT),
            ),
        }
        found["corrected"] = _corrected(keywords, env)
    for form, kinds in found.items():
        TALLY[f"{form} cases"] += 1
        for kind in kinds:
            TALLY[f"{form}: {kind}"] += 1
            examples = EXAMPLES.setdefault(f"{form}: {kind}", [])
            if len(examples) < 2:
                examples.append((files, variables, keywords if "keywords" in form else url))


def _corrected(text: str, env: Environment) -> list[str]:
    """libpq re-reads the corrected form: verify-full, to the endpoints the original had
    (the service's values written out, service= kept)."""
    try:
        verdict = evaluate(parse_dsn(text), "psycopg", env)
    except VerifyfullError:
        return []
    original = _libpq(text)
    if verdict.breaks or original.error or original.tls == "never":
        return []
    TALLY["corrected checked"] += 1
    again = _libpq(verdict.corrected)
    if again.error or again.sslmode != "verify-full":
        return ["corrected form is not verify-full"]
    return [] if again.endpoints == original.endpoints else ["corrected form dials elsewhere"]


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    from verifyfull.certs.create import create_ca

    base = tmp_path_factory.mktemp("ca")
    return str(create_ca(base / "certs", base / "ca.key").cert_path)


def test_service_files_agree_with_drivers(tmp_path: Path, ca_file: str) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "sys").mkdir()

    @settings(_SETTINGS, max_examples=CASES // BATCH)
    @given(SEEDS)
    def run(seed: int) -> None:
        for (files, variables), (keywords, url) in batch(seed, BATCH, service_case):
            _case(tmp_path, ca_file, files, variables, keywords, url)

    with driver_environment(tmp_path / "home"):
        run()
    seen = {
        k.removesuffix(" cases"): n
        for k, n in TALLY.items()
        if k.endswith(" cases") and k != "corrected cases"
    }
    spent("test_conninfo_differential_service.py", seen)
    assert TALLY["corrected cases"] >= min(seen.values()), TALLY
    assert TALLY["corrected checked"] >= CASES // 50, TALLY
    # The deliberate classes of the main differential (docs/conninfo.md), for the same
    # forms: asyncpg opens a root file it is named while it parses; the model judges
    # the files a connection names, not whether they exist here.
    allowed = {f"{form}: {MISSING_FILE}" for form in ASYNCPG_FORMS}
    problems = {
        k: n
        for k, n in TALLY.items()
        if not k.endswith((" cases", " checked")) and k not in allowed
    }
    report = "".join(f"\n  {k}: {n} (e.g. {EXAMPLES[k]})" for k, n in sorted(problems.items()))
    assert not problems, f"service files: disagreements with the drivers: {report}"


# --- the verdict, on the classes the issue names -------------------------------------

SERVICES = (
    "[weak]\nhost=db.example.com\nsslmode=disable\n[strong]\nhost=db.example.com\n"
    "sslmode=verify-full\nsslrootcert=/etc/ssl/db-ca.crt\n"
)


def _env(**variables: str) -> Environment:
    return Environment.of(
        variables,
        services=ServiceFiles.of({"/h/.pg_service.conf": SERVICES}, home="/h"),
    )


@pytest.mark.parametrize(
    ("text", "driver", "variables", "rules"),
    [
        ("service=weak", "psycopg", {}, ("VF101",)),
        ("postgresql:///app?service=weak", "psycopg", {}, ("VF101",)),
        ("postgresql:///app?service=weak", "asyncpg", {}, ("VF101",)),
        ("dbname=app", "psycopg", {"PGSERVICE": "weak"}, ("VF101",)),
        ("service=strong", "psycopg", {}, ()),
        ("postgresql:///app?service=strong", "asyncpg", {}, ()),
        # A written sslmode beats the service's; the service's root still fills in
        # (require with a root checks the chain: verify-ca).
        ("service=strong sslmode=require", "psycopg", {}, ("VF104",)),
        ("service=weak sslmode=verify-full sslrootcert=/ca.crt", "psycopg", {}, ()),
        # asyncpg never reads PGSERVICE: the default prefer to its default hosts.
        ("postgresql:///app", "asyncpg", {"PGSERVICE": "weak"}, ("VF102",)),
        # The service beats PGSSLMODE (libpq fills from the service first).
        ("service=weak", "psycopg", {"PGSSLMODE": "verify-full"}, ("VF101",)),
    ],
)
def test_service_verdicts(
    text: str, driver: str, variables: dict[str, str], rules: tuple[str, ...]
) -> None:
    info = parse_dsn(text) if driver != "asyncpg" else from_asyncpg_kwargs({"dsn": text})
    verdict = evaluate(info, driver, _env(**variables))
    assert verdict.rule_ids == rules, verdict.notes
    assert verdict.breaks is None


def test_unknown_service_file_is_decided_at_deploy() -> None:
    """Without the deployment's files (the scanner), a service that may set sslmode is
    VF108 and undetermined; a written weak mode is still judged."""
    verdict = evaluate(parse_dsn("service=prod"), "psycopg", Environment.empty())
    assert verdict.rule_ids == ("VF108",) and not verdict.determined
    verdict = evaluate(parse_dsn("service=prod sslmode=disable"), "psycopg", Environment.empty())
    assert verdict.rule_ids == ("VF101",)


def test_missing_service_breaks_for_libpq_not_asyncpg() -> None:
    env = _env()
    verdict = evaluate(parse_dsn("service=nope"), "psycopg", env)
    assert verdict.breaks == 'psycopg.OperationalError: definition of service "nope" not found'
    verdict = evaluate(from_asyncpg_kwargs({"dsn": "postgresql:///?service=nope"}), "asyncpg", env)
    assert verdict.breaks is None and verdict.rule_ids == ("VF102",)


def test_service_password_never_shown() -> None:
    env = Environment.of(
        {}, services=ServiceFiles.of({"/h/.pg_service.conf": "[s]\npassword=Hunter2x\n"}, home="/h")
    )
    verdict = evaluate(parse_dsn("service=s"), "psycopg", env)
    shown = repr(env) + str(verdict) + verdict.corrected + " ".join(verdict.notes)
    assert "Hunter2x" not in shown


def test_scanner_reports_service_references(tmp_path: Path) -> None:
    """Python code naming a service: VF108 (its file is the deployment's), unless the
    code writes its own weak sslmode (VF101); asyncpg's ?service= the same."""
    import json

    from typer.testing import CliRunner

    from verifyfull.cli import app

    (tmp_path / "app.py").write_text(
        "import asyncpg\nimport psycopg\n\n"
        'def a():\n    return psycopg.connect("service=prod")\n\n'
        'def b():\n    return psycopg.connect("service=prod sslmode=disable")\n\n'
        'async def c():\n    return await asyncpg.connect("postgresql:///app?service=prod")\n'
    )
    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--format", "json"])
    found = sorted(
        (f["rule"], f["line"]) for f in json.loads(result.stdout)["findings"] if "line" in f
    )
    assert found == [("VF101", 8), ("VF108", 5), ("VF108", 11)], result.stdout


def test_a_service_argument_of_none_is_no_service() -> None:
    """asyncpg.connect passes service=None on to connect_utils (enforcement sees every
    argument): None names no service, so the verdict stays determined."""
    info = from_asyncpg_kwargs(
        {"dsn": "postgresql://app@db.invalid/db", "service": None, "servicefile": None}
    )
    verdict = evaluate(info, "asyncpg", Environment.empty())
    assert verdict.rule_ids == ("VF102",) and verdict.determined
