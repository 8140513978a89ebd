"""An import naming a module longer than the file system allows is a library, not an
internal error (Path.is_file raises ENAMETOOLONG on Python 3.11: the mutation fuzz test
drew it once under the full suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifyfull.scan import engine
from verifyfull.scan.settings import load


@pytest.mark.parametrize("length", [255, 300, 5000])
@pytest.mark.parametrize(
    ("form", "dsn"),
    [("import {m}", "{m}.DSN"), ("from {m} import DSN", "DSN"), ("from . import {m}", "{m}.DSN")],
)
def test_an_overlong_module_name_is_not_an_internal_error(
    tmp_path: Path, length: int, form: str, dsn: str
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    name = "m" * length
    (tmp_path / "env.py").write_text(
        form.format(m=name) + "\nimport psycopg\n"
        'psycopg.connect("host=db sslmode=disable")\n'
        f"psycopg.connect({dsn.format(m=name)})\n",
        encoding="utf-8",
    )
    report = engine.scan([tmp_path], load(tmp_path), jobs=1).report
    assert [e.message for e in report.errors] == []
    assert "VF101" in [f.rule_id for f in report.findings]
