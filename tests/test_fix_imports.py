"""Imports a fix adds go where isort / Ruff's I001 puts them (fix/imports.py).

Generated modules whose opening imports Ruff itself sorted (random stdlib and
third-party imports, a docstring or not, `from __future__` or not) get `import os`,
`import ssl` and the guard's import; Ruff's I001 must find nothing to sort afterwards,
and every original statement keeps its bytes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.fix.imports import add_imports

RUFF = Path(sys.executable).with_name("ruff")
STDLIB = (
    "import json",
    "import logging",
    "import asyncio",
    "from pathlib import Path",
    "from typing import Any",
    "import sys",
    "from os import path",
)
THIRD = (
    "import asyncpg",
    "import psycopg",
    "from fastapi import FastAPI",
    "from sqlalchemy import create_engine",
    "import yaml",
    "from pydantic import BaseModel",
)
NEW = ("import os", "import ssl", "from verifyfull.guard import Guard")


def _ruff(args: list[str], text: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    path = tmp / "mod.py"
    path.write_text(text)
    return subprocess.run(
        [str(RUFF), *args, "--isolated", "--select", "I001", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp,  # not this repository: verifyfull is a third-party package there
    )


def _sorted(text: str, tmp: Path) -> str:
    _ruff(["check", "--fix", "-q"], text, tmp)
    return (tmp / "mod.py").read_text()


@pytest.mark.skipif(shutil.which(str(RUFF)) is None, reason="ruff not installed")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stdlib=st.lists(st.sampled_from(STDLIB), unique=True, max_size=4),
    third=st.lists(st.sampled_from(THIRD), unique=True, max_size=4),
    docstring=st.booleans(),
    future=st.booleans(),
    new=st.lists(st.sampled_from(NEW), unique=True, min_size=1, max_size=3),
)
def test_added_imports_leave_nothing_for_isort(
    tmp_path_factory: pytest.TempPathFactory,
    stdlib: list[str],
    third: list[str],
    docstring: bool,
    future: bool,
    new: list[str],
) -> None:
    tmp = tmp_path_factory.mktemp("imports")
    head = '"""A module."""\n\n' if docstring else ""
    head += "from __future__ import annotations\n\n" if future else ""
    imports = "\n".join([*stdlib, *third])
    text = _sorted(head + (imports + "\n\n\n" if imports else "") + "VALUE = 1\n", tmp)
    fixed = add_imports(cst.parse_module(text), new).code
    result = _ruff(["check"], fixed, tmp)
    assert result.returncode == 0, fixed + result.stdout
    for line in text.splitlines():
        assert line in fixed.splitlines()
    for statement in new:
        assert statement in fixed.splitlines()


def test_an_import_already_there_is_not_added_twice() -> None:
    text = "import os\nimport ssl as _ssl\n"
    assert add_imports(cst.parse_module(text), ["import os"]).code == text


def test_relative_imports_stay_last() -> None:
    text = "import json\n\nimport psycopg\n\nfrom . import models\nfrom .db import engine\n"
    fixed = add_imports(cst.parse_module(text), ["import os"]).code
    assert fixed.startswith("import json\nimport os\n\nimport psycopg\n")
    assert fixed.endswith("from . import models\nfrom .db import engine\n")


def test_an_import_the_fix_left_unused_goes_and_others_stay() -> None:
    from verifyfull.fix.python_fixes import fix_python

    text = (
        "import asyncpg\n"
        "from ssl import CERT_NONE, _create_unverified_context\n\n"
        "ctx = _create_unverified_context()\n"
    )
    fixed = fix_python(text, [4]).text
    assert "_create_unverified_context" not in fixed
    assert "from ssl import CERT_NONE\n" in fixed  # unused before the fix: not ours to drop
    assert "ctx = ssl.create_default_context()\n" in fixed
    compile(fixed, "m.py", "exec")
