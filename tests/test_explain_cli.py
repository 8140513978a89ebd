"""`verifyfull explain`: the issue's examples, the JSON contract, exit codes, redaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from verifyfull.cli import app

CANARY = "Canary-explain-5c1d"
SEED = (
    "postgresql+asyncpg://root@localhost:26257/defaultdb?sslmode=verify-ca"
    "&sslcert=/secrets/client.crt&sslkey=/secrets/client.key&sslrootcert=/secrets/ca.crt"
)
FULL = (
    "postgresql://root@db:26257/defaultdb?sslmode=verify-full&sslrootcert=certs/ca.crt"
    "&sslcert=certs/client.root.crt&sslkey=certs/client.root.key"
)

# (args, expected rule ids, expected breaks fragment or None, exit code): the issue's list.
ISSUE_EXAMPLES = [
    ([SEED], {"VF104", "VF105"}, "TypeError: connect() got an unexpected keyword argument", 1),
    (["postgresql://u@h/db", "--driver", "asyncpg"], {"VF102"}, None, 1),
    (["postgresql://u@h/db?sslmode=require"], {"VF103"}, None, 1),
    (["postgresql+asyncpg://u@h/db?ssl=require", "--driver", "sqlalchemy"], {"VF103"}, None, 1),
    (["postgres://u@h:5432/db?ssl=false", "--driver", "tortoise"], {"VF105"}, None, 1),
    ([FULL], set(), None, 0),
]

runner = CliRunner()


def _json(args: list[str]) -> tuple[dict[str, object], int]:
    result = runner.invoke(app, ["explain", *args, "--format", "json"])
    return json.loads(result.stdout), result.exit_code


@pytest.mark.parametrize(("args", "rules", "breaks", "code"), ISSUE_EXAMPLES)
def test_issue_examples(args: list[str], rules: set[str], breaks: str | None, code: int) -> None:
    data, exit_code = _json(args)
    assert {f["rule"] for f in data["findings"]} == rules  # type: ignore[union-attr,index]
    if breaks is None:
        assert data["breaks"] is None
    else:
        assert breaks in str(data["breaks"])
    assert exit_code == code


def test_json_has_exactly_the_design_keys() -> None:
    data, _ = _json([SEED])
    assert set(data) == {
        "driver",
        "tls",
        "verifies_chain",
        "verifies_hostname",
        "breaks",
        "findings",
        "corrected",
    }
    assert data["driver"] == "sqlalchemy+asyncpg" and data["tls"] == "always"
    finding = data["findings"][0]  # type: ignore[index]
    assert set(finding) == {
        "rule", "slug", "severity", "cwe", "message", "path", "line", "column", "target",
        "evidence", "fix",
    }  # fmt: skip


def test_seed_corrected_form_passes_a_context() -> None:
    data, _ = _json([SEED])
    corrected = str(data["corrected"])
    assert 'connect_args={"ssl": ctx}' in corrected and "sslmode" not in corrected
    assert 'cafile="/secrets/ca.crt"' in corrected


def test_text_names_driver_rules_and_environment() -> None:
    result = runner.invoke(app, ["explain", SEED])
    out = result.stdout
    assert result.exit_code == 1
    assert "sqlalchemy+asyncpg" in out and "VF105" in out and "VF104" in out
    assert "an empty environment" in out and "--env" in out
    assert "create_async_engine" in out


def test_env_flag_reads_pg_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", "/certs/ca.crt")
    monkeypatch.setenv("PGPASSWORD", CANARY)
    without, _ = _json(["postgresql://u@h/db"])
    with_env = runner.invoke(app, ["explain", "postgresql://u@h/db", "--env"])
    assert {f["rule"] for f in without["findings"]} == {"VF102"}  # type: ignore[union-attr,index]
    assert with_env.exit_code == 0
    assert "PGSSLMODE=verify-full" in with_env.stdout and CANARY not in with_env.stdout


def test_env_flag_reads_the_service_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--env reads ~/.pg_service.conf as the drivers would; without it a service is VF108;
    the corrected form, re-read with the same file, keeps the service's host."""
    home = str(tmp_path)
    with open(os.path.join(home, ".pg_service.conf"), "w") as handle:
        handle.write(f"[weak]\nhost=db.example.com\nsslmode=disable\npassword={CANARY}\n")
    monkeypatch.setenv("HOME", home)
    for name in ("PGSERVICEFILE", "PGSYSCONFDIR", "PGSERVICE", "PGSSLMODE", "PGHOST"):
        monkeypatch.delenv(name, raising=False)
    without, _ = _json(["service=weak"])
    with_env = runner.invoke(app, ["explain", "service=weak", "--env", "--format", "json"])
    assert {f["rule"] for f in without["findings"]} == {"VF108"}  # type: ignore[union-attr,index]
    shown = json.loads(with_env.stdout)
    assert {f["rule"] for f in shown["findings"]} == {"VF101"}
    assert (
        "host=db.example.com" in shown["corrected"] and "sslmode=verify-full" in shown["corrected"]
    )
    assert CANARY not in with_env.stdout


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize(
    ("dsn", "driver"),
    [
        (f"postgresql://app:{CANARY}@db/app?sslmode=require", "psycopg"),
        (f"postgresql://app:{CANARY}@db/app?ssl=require", "asyncpg"),
        (f"postgresql+asyncpg://app:{CANARY}@db/app?sslmode=require", "sqlalchemy"),
        (f"postgres://app:{CANARY}@db:5432/app?ssl=false", "tortoise"),
        (f"host=db user=app password={CANARY} sslmode=disable", "psycopg2"),
        (f"cockroachdb://app:{CANARY}@db/app?sslmode=verify-full", "psycopg"),
    ],
)
def test_password_never_printed(fmt: str, dsn: str, driver: str) -> None:
    result = runner.invoke(app, ["explain", dsn, "--driver", driver, "--format", fmt])
    assert CANARY not in result.stdout
    assert "VF401" in result.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifyfull", "explain", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # Read by no driver (a raw '%zz' in a password is asyncpg's to read: issue 14).
        ([f"postgresql://app:{CANARY}%zz@[db/app"], "invalid percent-encoded token"),
        (["mysql://db/app"], "unsupported scheme"),
        (["postgresql://db/app", "--driver", "jdbc"], "unknown driver"),
        (["postgresql://db/app", "--format", "xml"], "unknown format"),
        (["postgresql+pypostgresql://db/app"], "not modelled"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], words: str) -> None:
    done = _cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr
    assert CANARY not in done.stderr


_SEPARATORS = st.sampled_from(["-", "_", " ", ""])


@st.composite
def _near_miss(draw: st.DrawFn) -> tuple[str, str]:
    """A real sslmode spelled as people mistype it: case, separators, one letter lost."""
    from verifyfull.policy import SSLMODES

    mode = draw(st.sampled_from(SSLMODES))
    words = mode.split("-")
    text = draw(_SEPARATORS).join(words) if len(words) > 1 else mode
    text = "".join(c.upper() if draw(st.booleans()) else c for c in text)
    if len(mode) >= 7 and draw(st.booleans()):
        cut = draw(st.integers(1, len(text) - 2))
        text = text[:cut] + text[cut + 1 :]
    return mode, text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_near_miss())
def test_near_misses_of_an_sslmode_get_a_did_you_mean(case: tuple[str, str]) -> None:
    from verifyfull.policy import SSLMODES, sslmode_suggestion

    mode, text = case
    if text in SSLMODES:
        assert sslmode_suggestion(text) == ""
    else:
        assert sslmode_suggestion(text) == f" (did you mean {mode}?)"


@pytest.mark.parametrize("word", ["banana", "on", "true", "1", "tls", ""])
def test_unrelated_words_get_no_suggestion(word: str) -> None:
    from verifyfull.policy import sslmode_suggestion

    assert sslmode_suggestion(word) == ""


@pytest.mark.parametrize("driver", ["psycopg", "asyncpg"])
def test_explain_suggests_the_mode_and_shows_no_corrected_block_when_clean(driver: str) -> None:
    typo = runner.invoke(
        app, ["explain", "postgresql://app@db/app?sslmode=verify_full", "--driver", driver]
    )
    assert "(did you mean verify-full?)" in typo.output
    assert "Corrected" in typo.output
    clean = runner.invoke(
        app,
        [
            "explain",
            "postgresql://app@db/app?sslmode=verify-full&sslrootcert=/ca.crt",
            "--driver",
            "psycopg",
        ],
    )
    assert clean.exit_code == 0 and "Corrected" not in clean.output


@pytest.mark.parametrize(
    ("dsn", "driver", "reason"),
    [
        ("postgres://app@db.internal/app?sslmode=require", "sqlalchemy", "removed the 'postgres'"),
        ("cockroachdb://app@db.internal:26257/app?sslmode=require", "sqlalchemy", "by default"),
        ("postgres://app@db.internal/app?sslmode=require", "psycopg", "reads both"),
    ],
)
def test_a_rewritten_scheme_says_why(dsn: str, driver: str, reason: str) -> None:
    out = CliRunner().invoke(app, ["explain", dsn, "--driver", driver]).output
    corrected = out.split("Corrected", 1)[1]
    assert "scheme " in corrected and reason in corrected


def test_an_unchanged_scheme_says_nothing_about_it() -> None:
    out = CliRunner().invoke(app, ["explain", "postgresql://app@db.internal/app?sslmode=require"])
    assert "Corrected" in out.output and "scheme " not in out.output.split("Corrected", 1)[1]


_HOST = st.sampled_from(["", "db1.internal", "db2.internal", "192.0.2.4", "2001:db8::4"])


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    hosts=st.lists(st.tuples(_HOST, st.one_of(st.none(), st.integers(1, 65535))), max_size=3),
    dialect=st.sampled_from(["psycopg", "psycopg2", "asyncpg"]),
    password=st.booleans(),
)
def test_the_connection_line_is_the_url_sqlalchemy_reads_back(
    hosts: list[tuple[str, int | None]], dialect: str, password: bool
) -> None:
    """explain shows a SQLAlchemy URL in a form SQLAlchemy reads back to the same hosts
    and ports (a host list, an empty `?host=:6000`: the libpq rendering wrote them in a
    netloc make_url reads as one host, or without the empty host that hides PGHOST), and
    never with its password."""
    from verifyfull.conninfo import Environment
    from verifyfull.conninfo.effective import effective
    from verifyfull.conninfo.parse import from_sqlalchemy_url

    pairs = "&".join(
        f"host={'[' + h + ']' if ':' in h else h}:{'' if p is None else p}" for h, p in hosts
    )
    secret = "Canary-5f3e9a"
    url = f"postgresql+{dialect}://app{':' + secret if password else ''}@/app?sslmode=require"
    url += f"&{pairs}" if pairs else ""
    try:
        original = from_sqlalchemy_url(url)
    except Exception:  # the dialect refuses it: explain says so, nothing to read back
        return
    out = runner.invoke(app, ["explain", url]).output
    assert secret not in out
    shown = next(line for line in out.splitlines() if line.startswith("connection"))
    again = from_sqlalchemy_url(shown.split(None, 1)[1].replace("***", "x"))
    # The same endpoints beside PG* variables (an empty host written hides PGHOST).
    env = Environment.of({"PGHOST": "pg-env.internal", "PGPORT": "6543"})
    endpoints = [effective(i, "sqlalchemy", env).endpoints for i in (original, again)]
    assert endpoints[0] == endpoints[1], shown
