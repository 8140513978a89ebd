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


def test_a_device_or_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    emit("through the pipe\n", fifo)
    reader.join(timeout=10)
    assert received == ["through the pipe\n"]
    assert fifo.exists() and not fifo.is_file()  # still a FIFO, not a regular file
    emit("discarded\n", Path(os.devnull))
    assert not Path(os.devnull).is_file()


def test_a_symlinked_report_keeps_its_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    emit("new", link)
    assert link.is_symlink() and real.read_text() == "new"
