"""Bounded time on shell text, in the style of tests/test_trust_bounds.py (issue 13, class 1).

Every shell format (scripts, PowerShell, Makefile recipes, Dockerfile RUN) grows
near linearly, and hostile shapes (deep nesting of substitutions and `sh -c`,
huge continuations, unclosed quotes and here-documents, many here-documents)
finish before HANG_SECONDS with a result or one error entry, never a traceback (their
speed is measured by benchmarks/bounds_bench.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import test_trust_bounds
from test_trust_bounds import DSN, errors_of, scan_shape


def _script(n: int) -> str:
    block = (
        "export DATABASE_URL_{i}='{dsn}'\n"
        "out_{i}=\"$(psql -h db{i}.internal -c 'select 1' | cut -d \\| -f 1)\"\n"
        'bash -ecx "exec cockroach start \\\n  --insecure --join=r{i}"\n'
        "psql -U postgres <<-EOSQL\n\tCREATE USER u{i} WITH PASSWORD 'pw-{i}-x';\nEOSQL\n"
        "if pg_dump -h db{i}.internal app > /tmp/{i}.sql; then echo ok; fi\n"
        "cat >> .env <<EOF\nDB_URL_{i}=postgresql://u:$P@db{i}/a\nDB_HOST_{i}=db{i}\nEOF\n"
    )
    return "".join(block.format(i=i, dsn=DSN) for i in range(n))


GROWTH: dict[str, tuple[Callable[[int], dict[str, str | bytes]], int]] = {
    "sh": (lambda n: {"deploy.sh": "#!/bin/sh\n" + _script(n)}, 40),
    "makefile": (
        lambda n: {
            "Makefile": "".join(
                f"t{i}:\n\tpsql -h db{i}.internal \\\n\t  -c 'x'\n\tPGSSLMODE=disable psql\n"
                for i in range(n)
            )
        },
        100,
    ),
    "ps1": (
        lambda n: {
            "env.ps1": "".join(
                f"$env:DB_URL_{i} = \"{DSN}\"\npsql -h db{i} `\n  -c 'x'\n" for i in range(n)
            )
        },
        100,
    ),
    "subprocess": (
        lambda n: {
            "tasks.py": "import subprocess\n"
            + "".join(
                f"def t{i}(h):\n    subprocess.run(['psql', '-h', h, '-c', 'x{i}'])\n"
                f"    subprocess.run('cockroach start --insecure --join=r{i}', shell=True)\n"
                for i in range(n)
            )
        },
        100,
    ),
    "dockerfile-run": (
        lambda n: {
            "Dockerfile": "FROM postgres\n"
            + "".join(f"RUN export X_URL='{DSN}' && psql -h db{i} \\\n  -c x\n" for i in range(n))
        },
        100,
    ),
}


@pytest.mark.parametrize("family", sorted(GROWTH))
def test_ten_times_the_shell_takes_at_most_twenty_times_as_long(
    family: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trust test's own measurement (interleaved best of three, floored), on these inputs.
    monkeypatch.setitem(test_trust_bounds.GROWTH, family, GROWTH[family])
    test_trust_bounds.test_ten_times_the_input_takes_at_most_twenty_times_as_long(family, tmp_path)


NESTED = 20_000


@pytest.mark.parametrize(
    "shape",
    [
        "$(" * NESTED + "psql -h db" + ")" * NESTED,
        "`" * NESTED,
        "sh -c " + "'" * NESTED,
        'bash -c "' + 'sh -c \\"' * 40 + 'cockroach start --insecure"',
        "${" * NESTED,
        "$((" * NESTED,
        "(" * NESTED + "psql -h db" + ")" * NESTED,
    ],
    ids=["substitutions", "backquotes", "quotes", "sh-c", "braces", "arithmetic", "subshells"],
)
def test_deep_nesting_is_one_error_or_a_result(shape: str, tmp_path: Path) -> None:
    result = scan_shape(tmp_path, {"deep.sh": "#!/bin/sh\nexport PGHOST=db\n" + shape + "\n"})
    errors = errors_of(result)
    assert len(errors) <= 1, errors
    assert all("nested deeper" in e for e in errors), errors
    assert not any("internal error" in e for e in errors)


@pytest.mark.parametrize(
    "shape",
    [
        "psql -h db " + "\\\n -c x " * 50_000,  # one command continued over 50,000 lines
        "psql -h db -c '" + "x" * 1_000_000,  # an unclosed quote: the rest of the file
        'psql -h db -c "' + "$x " * 200_000,  # unclosed double quote full of expansions
        "psql <<EOF\n" + "CREATE USER a WITH PASSWORD 'p';\n" * 20_000,  # unclosed here-doc
        "cat <<A <<B <<C\n" * 5_000 + "x\n" * 20_000,  # many here-docs opened at once
        "echo 'host all all 0.0.0.0/0 md5' >> pg_hba.conf\n" * 5_000,
        'psql -c "' + "CREATE USER " * 50_000 + "PASSWORD 'x'\"",  # one word: a bounded pattern
        # env files the script writes (held-out-s14): one huge here-document, many
        # appends, one printf of 50,000 `\n`-joined lines, an unclosed here-document
        "cat > .env <<EOF\n" + "DB_URL=postgresql://u:$P@db/a\nDB_HOST=db\n" * 20_000 + "EOF",
        'echo "DB_URL=postgresql://u@db/a?sslmode=disable" >> .env\n' * 5_000,
        "printf '" + "DB_URL=postgresql://u@db/a\\n" * 50_000 + "' > prod.env",
        "cat >> .env.local <<'EOF'\n" + "DATABASE_HOST=db\n" * 50_000,
    ],
    ids=[
        *("continuation", "single-quote", "double-quote", "heredoc", "heredocs", "hba", "sql"),
        *("env-heredoc", "env-appends", "env-printf", "env-unclosed"),
    ],
)
def test_huge_shell_shapes_finish(shape: str, tmp_path: Path) -> None:
    result = scan_shape(tmp_path, {"big.sh": "#!/bin/sh\n" + shape + "\n"})
    assert not any("internal error" in e for e in errors_of(result)), errors_of(result)


@pytest.mark.parametrize(
    "shape",
    [
        "psql -h db -c '" + "x`" * 300_000,  # an unclosed quote full of escapes
        'psql -h db `\n  -c "' + '`"' * 300_000,
        "$env:PGSSLMODE = 'disable'\n" * 5_000,
    ],
    ids=["single-quote", "double-quote", "assignments"],
)
def test_huge_powershell_shapes_finish(shape: str, tmp_path: Path) -> None:
    result = scan_shape(tmp_path, {"big.ps1": shape + "\n"})
    assert not errors_of(result), errors_of(result)
