"""The differential suite's budget (issue 14): every driver form gets at least FLOOR
generated cases in CI, and docs/conninfo.md's count table says so.

Each differential test counts the cases it compared per driver form and hands the
counts to `spent()` at its end, which fails when a form got fewer than FLOOR (x10
under VERIFYFULL_SLOW=1). The floor is this module's constant, not the test's own
case count, so lowering a test's default cannot pass unnoticed; only a count set by
hand (the VERIFYFULL_*_CASES / *_EXAMPLES variables) lowers it. FORMS is the
declared list of forms per file; `test_the_count_table_is_the_budget` holds the
table in docs/conninfo.md ("Case counts per driver form") to it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

FLOOR = 5000
SLOW_FACTOR = 10
SLOW = os.environ.get("VERIFYFULL_SLOW") == "1"
# Set by hand to run fewer (or more) cases: the floor is then the one case.
OVERRIDES = (
    "VERIFYFULL_DIFF_EXAMPLES",
    "VERIFYFULL_KWARGS_CASES",
    "VERIFYFULL_OPTION_CASES",
    "VERIFYFULL_SERVICE_CASES",
    "VERIFYFULL_VERSION_EXAMPLES",
)

# Each differential file's driver forms (a form: one written form handed to one oracle).
FORMS: dict[str, tuple[str, ...]] = {
    "test_conninfo_differential.py": (
        "libpq url",
        "libpq keywords",
        "asyncpg",
        "sqlalchemy postgresql+asyncpg",
        "sqlalchemy cockroachdb+asyncpg",
        "sqlalchemy postgresql+psycopg",
        "sqlalchemy cockroachdb+psycopg",
        "sqlalchemy postgresql+psycopg2",
        "sqlalchemy cockroachdb (psycopg2)",
        "tortoise",
    ),
    "test_conninfo_differential_kwargs.py": ("asyncpg keyword arguments",),
    "test_conninfo_differential_options.py": (
        "libpq18 keywords",
        "libpq18 url",
        "libpq17",
        "asyncpg url",
    ),
    "test_conninfo_differential_service.py": (
        "libpq keywords",
        "libpq url",
        "asyncpg",
        "asyncpg with a port argument",
        "asyncpg with a host argument",
    ),
    # The libpqs found on the machine (pinned wheels, then the system's).
    "test_conninfo_differential_versions.py": (
        "psycopg2 (libpq 17)",
        "psycopg (psycopg libpq 18)",
        "psycopg (psycopg2-binary 2.9.9's libpq 16)",
        "psycopg (system libpq 15)",
    ),
}


def floor() -> int:
    """The cases each form must reach in this run."""
    if any(name in os.environ for name in OVERRIDES):
        return 1
    return FLOOR * (SLOW_FACTOR if SLOW else 1)


def spent(where: str, counts: Mapping[str, int]) -> None:
    """Called by a differential test at its end with the cases it compared per form."""
    assert counts, f"{where}: no cases compared"
    undeclared = set(counts) - set(FORMS[where])
    assert not undeclared, f"{where}: forms not in the budget (FORMS, docs): {undeclared}"
    short = {form: n for form, n in counts.items() if n < floor()}
    assert not short, f"{where}: fewer than {floor()} generated cases compared: {short}"
    print(f"{where}: generated cases per form: {dict(counts)}")


# | `file` | form | oracle | cases in CI | cases slow | deliberate differences |
_ROW = re.compile(
    r"^\| `(test_conninfo_differential\w*\.py)` \| ([^|]+?) \| [^|]+ \| ([\d,]+) \| ([\d,]+) \|"
)


def _table() -> dict[str, dict[str, tuple[int, int]]]:
    text = (Path(__file__).parents[1] / "docs" / "conninfo.md").read_text()
    section = text.split("### Case counts per driver form", 1)[1].split("\n#", 1)[0]
    rows: dict[str, dict[str, tuple[int, int]]] = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            file, form, ci, slow = match.groups()
            counts = (int(ci.replace(",", "")), int(slow.replace(",", "")))
            rows.setdefault(file, {})[form.strip("`")] = counts
    return rows


def test_the_count_table_is_the_budget() -> None:
    """docs/conninfo.md lists every declared form of every differential file, with
    FLOOR cases in CI and ten times as many in the slow tier, and nothing else."""
    table = _table()
    assert {f: set(forms) for f, forms in table.items()} == {
        f: set(forms) for f, forms in FORMS.items()
    }
    for file, forms in table.items():
        for form, (ci, slow) in forms.items():
            assert ci >= FLOOR and slow == ci * SLOW_FACTOR, (file, form, ci, slow)


def test_every_differential_file_is_budgeted_and_spends() -> None:
    """Every test_conninfo_differential*.py that compares with an oracle is in FORMS and
    calls spent() (test_conninfo_differential_redact.py is a property test: no oracle)."""
    here = Path(__file__).parent
    files = {p.name for p in here.glob("test_conninfo_differential*.py")}
    assert files - {"test_conninfo_differential_redact.py"} == set(FORMS)
    for name in FORMS:
        assert "spent(" in (here / name).read_text(), name


def test_the_floor_follows_the_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    assert floor() == FLOOR * (SLOW_FACTOR if SLOW else 1)
    where = "test_conninfo_differential_kwargs.py"
    with pytest.raises(AssertionError, match="fewer than"):
        spent(where, {"asyncpg keyword arguments": floor() - 1})
    with pytest.raises(AssertionError, match="not in the budget"):
        spent(where, {"asyncpg with another name": floor()})
    with pytest.raises(AssertionError, match="no cases"):
        spent(where, {})
    monkeypatch.setenv("VERIFYFULL_KWARGS_CASES", "10")
    assert floor() == 1
