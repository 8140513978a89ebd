"""Session 11's speed-ups change no answer (issue 12, speed).

- Each text is parsed once per scan (module._PARSED): a file analysed by the Python
  check and read again as another file's import (module._load), or by the subprocess
  check, shares the one parse. Generated projects (modules importing each other's DSNs
  and helpers, in any order, some with a subprocess call) are scanned with the shared
  parses and with every parse made afresh: the findings must be equal, and no text is
  parsed twice.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan import engine
from verifyfull.scan.python import module, subprocess_sites
from verifyfull.scan.python.fstrings import parse_python
from verifyfull.scan.settings import ScanSettings

_MODULE_BODIES = (
    'DSN = "postgresql://app@db.internal/app?sslmode={mode}"\n',
    "from {other} import DSN\nimport asyncpg\n\n\nasync def go():\n"
    "    return await asyncpg.connect(DSN)\n",
    "from {other} import *\nimport psycopg2\n\nconn = psycopg2.connect(DSN)\n",
    "import subprocess\nfrom {other} import DSN\n\n"
    'subprocess.run(["psql", "-h", "db.internal", "-c", "select 1"])\n'
    "import asyncpg\nasyncpg.connect(DSN)\n",
    'import ssl\nctx = ssl.create_default_context()\nctx.check_hostname = {flag}\nDSN = "x"\n',
    'def helper(mode):\n    return f"postgresql://db.internal/app?sslmode={{mode}}"\n'
    'DSN = helper("{mode}")\n',
)

_PROJECTS = st.lists(
    st.tuples(
        st.integers(0, len(_MODULE_BODIES) - 1),
        st.integers(0, 5),
        st.sampled_from(("disable", "require", "verify-full")),
        st.sampled_from(("False", "True")),
    ),
    min_size=2,
    max_size=6,
)


def _write(root: Path, project: list[tuple[int, int, str, str]]) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    for index, (body, other, mode, flag) in enumerate(project):
        text = _MODULE_BODIES[body].format(other=f"m{other % len(project)}", mode=mode, flag=flag)
        (root / f"m{index}.py").write_text(text, encoding="utf-8")


def _scan(root: Path) -> list[tuple[str, str | None, int | None, str]]:
    module.release_parsed()
    report = engine.scan([root], ScanSettings(project_root=root), jobs=1).report
    return [(f.rule_id, f.path, f.line, f.message) for f in report.findings]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(project=_PROJECTS)
def test_each_text_is_parsed_once_and_the_findings_are_those_of_fresh_parses(
    tmp_path_factory: pytest.TempPathFactory, project: list[tuple[int, int, str, str]]
) -> None:
    root = tmp_path_factory.mktemp("proj")
    _write(root, project)
    parsed: Counter[str] = Counter()

    def counting(text: str, filename: str = "<unknown>") -> object:
        parsed[filename if filename != "<unknown>" else f"subprocess:{text}"] += 1
        return parse_python(text, filename=filename)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "parse_python", counting)
        patch.setattr(subprocess_sites, "parse_python", counting)
        shared = _scan(root)
        shared_counts = Counter(parsed)
        parsed.clear()
        patch.setattr(module._PARSED, "get", lambda key, depth: None)  # every parse made afresh
        patch.setattr(subprocess_sites, "parsed_tree", lambda *args: None)
        fresh = _scan(root)
    assert shared == fresh
    # A module with an `import *` of its own is parsed again inside another's `import *`
    # (it follows fewer hops there); every other text once.
    starred = {str(p) for p in root.glob("*.py") if "import *" in p.read_text(encoding="utf-8")}
    assert all(count == 1 for name, count in shared_counts.items() if name not in starred), (
        shared_counts
    )


def test_a_file_analysed_and_imported_is_parsed_once(tmp_path: Path) -> None:
    """db.py is analysed first and imports settings.py; settings.py is analysed next:
    one parse of each (the previous code parsed settings.py twice, and the subprocess
    check parsed db.py again)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    (tmp_path / "settings.py").write_text(
        'DSN = "postgresql://app@db.internal/app?sslmode=disable"\n', encoding="utf-8"
    )
    (tmp_path / "db.py").write_text(
        "import subprocess\nimport asyncpg\nfrom settings import DSN\n\n"
        'subprocess.run(["psql", "-h", "db.internal"])\n\n\n'
        "async def connect():\n    return await asyncpg.connect(DSN)\n",
        encoding="utf-8",
    )
    calls: Counter[str] = Counter()

    def counting(text: str, filename: str = "<unknown>") -> object:
        calls["db.py" if "subprocess" in text else "settings.py"] += 1
        return parse_python(text, filename=filename)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "parse_python", counting)
        patch.setattr(subprocess_sites, "parse_python", counting)
        found = _scan(tmp_path)
    assert {rule for rule, *_ in found} >= {"VF101"}
    assert calls == {"db.py": 1, "settings.py": 1}
