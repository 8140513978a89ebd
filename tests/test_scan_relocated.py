"""A finding reported where its deciding value is written (a getenv default, a config
module) is silenced by suppressions, and held by baselines, written at the connection
calls it acts through, when every one of those calls carries them (scan/relocated.py).

Before: a project that suppressed `connect(DSN)  # verifyfull: ignore[VF101] ...` at
the call saw the finding again once it moved to the default; its baseline no longer
held it either.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.findings import Finding
from verifyfull.scan import baseline as baseline_file
from verifyfull.scan import engine
from verifyfull.scan.settings import load

_DEFAULT = (
    'DSN = os.environ.get("DATABASE_URL", "postgresql://app@db.internal/app?sslmode=disable")'
)
_REASON = "  # verifyfull: ignore[{rule}] a test database on the bridge network"


def _project(root: Path, calls: list[str], dsn_module: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    head = ["import os", "", "import psycopg", ""]
    if dsn_module:
        (root / "app" / "config.py").write_text(
            "\n".join(["import os", "", _DEFAULT, ""]), encoding="utf-8"
        )
        head = ["import psycopg", "", "from app.config import DSN", ""]
    else:
        head.append(_DEFAULT)
    body = [f"def call_{n}() -> None:\n    psycopg.connect(DSN){c}" for n, c in enumerate(calls)]
    (root / "app" / "db.py").write_text("\n".join([*head, "", *body, ""]), encoding="utf-8")
    return root


def _findings(root: Path, **kw: object) -> list[Finding]:
    return list(engine.scan([root], load(root), jobs=1, **kw).report.findings)  # type: ignore[arg-type]


def test_a_suppression_at_the_only_call_silences_the_finding_at_the_default(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path / "p", [_REASON.format(rule="VF101")])
    result = engine.scan([root], load(root), jobs=1)
    assert result.report.findings == ()
    assert result.suppressed == 1


def test_the_same_across_modules(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", [_REASON.format(rule="VF101")], dsn_module=True)
    assert _findings(root) == []
    unsuppressed = _project(tmp_path / "q", [""], dsn_module=True)
    [found] = _findings(unsuppressed)
    assert (found.rule_id, found.path) == ("VF101", "app/config.py")


def test_a_suppression_naming_another_rule_silences_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", [_REASON.format(rule="VF102")])
    assert [f.rule_id for f in _findings(root)] == ["VF101"]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(marks=st.lists(st.booleans(), min_size=1, max_size=3), other_module=st.booleans())
def test_silenced_only_when_every_call_is_suppressed(
    marks: list[bool], other_module: bool, tmp_path_factory: object
) -> None:
    """A value used by two calls, one of them suppressed, still weakens the other."""
    root = tmp_path_factory.mktemp("calls")  # type: ignore[attr-defined]
    calls = [_REASON.format(rule="VF101") if m else "" for m in marks]
    found = _findings(_project(root, calls, dsn_module=other_module))
    assert (found == []) == all(marks), found
    if found:
        assert len(found[0].related) == len(marks)


def _baseline_at_the_calls(root: Path, where: Path) -> Path:
    """A baseline as the old placement wrote it: the finding at each call's line."""
    [found] = _findings(root)
    lines = (root / "app" / "db.py").read_text(encoding="utf-8").splitlines()
    at_calls = [
        Finding(found.rule_id, found.message, path=r.path, line=r.line, column=r.column)
        for r in found.related
    ]
    texts = {id(f): lines[(f.line or 1) - 1] for f in at_calls}
    baseline_file.write(where, at_calls, lambda f: texts[id(f)])
    return where


def test_a_baseline_written_at_the_calls_holds_the_relocated_finding(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", ["", ""])
    written = _baseline_at_the_calls(root, tmp_path / "baseline.json")
    result = engine.scan([root], load(root), jobs=1, baseline=written)
    assert result.report.findings == ()
    assert result.baselined == 1


def test_a_new_call_of_the_same_value_is_not_held_by_that_baseline(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", [""])
    written = _baseline_at_the_calls(root, tmp_path / "baseline.json")
    db = root / "app" / "db.py"
    db.write_text(
        db.read_text(encoding="utf-8")
        + "\n\ndef later() -> None:\n    psycopg.connect(DSN, connect_timeout=5)\n",
        encoding="utf-8",
    )
    result = engine.scan([root], load(root), jobs=1, baseline=written)
    [found] = result.report.findings
    assert len(found.related) == 2 and result.baselined == 0


def test_a_baseline_of_other_lines_holds_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", [""])
    other = Finding("VF101", "x", path="app/db.py", line=1)
    written = tmp_path / "baseline.json"
    baseline_file.write(written, [other], lambda f: "import os")
    result = engine.scan([root], load(root), jobs=1, baseline=written)
    assert [f.rule_id for f in result.report.findings] == ["VF101"]
