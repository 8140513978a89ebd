"""Reports written with --output: whole or not at all, and a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifyfull.errors import UsageError
from verifyfull.report.output import emit


def test_writes_the_file_and_replaces_an_old_report(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    emit('{"findings": []}\n', target)
    assert target.read_text() == '{"findings": []}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left


def test_unwritable_place_is_one_line_and_keeps_nothing(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot write .*missing/r\.json.*choose a writable path"):
        emit("x", tmp_path / "missing" / "r.json")


def test_stdout_when_no_file(capsys: pytest.CaptureFixture[str]) -> None:
    emit("hello\n", None)
    assert capsys.readouterr().out == "hello\n"
