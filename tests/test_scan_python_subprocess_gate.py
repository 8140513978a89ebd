"""subprocess_sites reads a module's process-starting calls only when its text can
hold one (may_start_a_process): sound against the check's own reading of the syntax
tree for every import and call spelling, and it turns away a method merely named
`system` (SQLAlchemy's `functions.func.system(x)`)."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from test_trust_bounds import scan_shape
from verifyfull.scan.python.subprocess_sites import _called, _runners, may_start_a_process

_IMPORTS = {
    "import os": "os.{f}",
    "import sys, os as o": "o.{f}",
    "import os as o": "o.{f}",
    "from os import {f}": "{f}",
    "from os import {f} as run_it": "run_it",
    "from os import (\n    getcwd,\n    {f},\n)": "{f}",
    "import subprocess": "subprocess.{g}",
    "import subprocess as sp": "sp.{g}",
    "from subprocess import {g}": "{g}",
    "from subprocess import {g} as go": "go",
    "import asyncio": "asyncio.create_subprocess_shell",
    "from asyncio import create_subprocess_exec as spawn": "spawn",
}


def _cases() -> list[str]:
    cases = []
    for (imported, called), f, g in itertools.product(
        _IMPORTS.items(), ("system", "popen"), ("run", "Popen", "check_output", "getoutput")
    ):
        cases.append(
            imported.format(f=f, g=g)
            + "\n\ndef main():\n    "
            + called.format(f=f, g=g)
            + "('psql -h db')\n"
        )
    return cases


@pytest.mark.parametrize("source", _cases())
def test_every_call_the_check_recognises_passes_the_text_gate(source: str) -> None:
    tree = ast.parse(source)
    modules, functions = _runners(tree)
    recognised = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called(node.func, modules, functions)
    ]
    assert recognised, source  # the table above spells real runner calls
    assert may_start_a_process(source), source


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import func\nx = func.system(1)  # postgres\n",
        "class Shell:\n    def popen(self):\n        return 'psql'\n",
    ],
)
def test_a_method_merely_named_system_is_no_process(source: str) -> None:
    assert not may_start_a_process(source)


def test_a_bare_popen_imported_from_os_is_judged(tmp_path: Path) -> None:
    """`from os import popen` and a bare `popen(...)`: the engine's old keyword
    ("os.popen", "system(") turned this file away before the check saw it."""
    source = "from os import popen\npopen('psql \"host=db.internal sslmode=disable\"')\n"
    findings = scan_shape(tmp_path, {"tool.py": source}).report.findings
    assert [f.rule_id for f in findings] == ["VF101"]
