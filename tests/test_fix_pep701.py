"""fix on a module written for Python 3.12 (PEP 701 f-strings reusing their quote), run on
an older interpreter: the scanner reads such a module through scan/python/fstrings.py, and
fix must too (it parsed with plain ast.parse and compile, so a reported site in such a
module was left unfixed: "the fixed file would not load").
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.fix.plan import FIXABLE, plan_fixes
from verifyfull.scan import engine
from verifyfull.scan.python.fstrings import parse_python
from verifyfull.scan.settings import load

_SITES = st.sampled_from(
    [
        "import psycopg\nconn = psycopg.connect({url!r})\n",
        "import psycopg2\nconn = psycopg2.connect({url!r})\n",
        "from sqlalchemy import create_engine\nengine = create_engine({url!r})\n",
    ]
)
_MODES = st.sampled_from(["disable", "allow", "prefer", "require"])
_QUOTE = st.sampled_from(["'", '"'])
_NAMES = st.from_regex(r"[A-Z][A-Z_]{1,8}", fullmatch=True)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(site=_SITES, mode=_MODES, quote=_QUOTE, name=_NAMES, before=st.booleans())
def test_a_module_with_pep701_fstrings_is_fixed(
    tmp_path: Path, site: str, mode: str, quote: str, name: str, before: bool
) -> None:
    q = quote
    # an f-string that reuses its own quote inside a field: Python 3.12 only
    pep701 = f"import os\nlabel = f{q}db-{{os.getenv({q}{name}{q}, {q}x{q})}}{q}\n"
    url = f"postgresql://app@db.internal/app?sslmode={mode}"
    body = site.format(url=url)
    text = pep701 + body if before else body + pep701
    root = tmp_path / "proj"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "db.py").write_text(text)
    plan = plan_fixes([root], load(root), unsafe=True)
    assert [fix.relpath for fix in plan.fixes] == ["db.py"], plan
    after = plan.fixes[0].after.decode()
    parse_python(after)
    assert pep701.splitlines()[1] in after.splitlines()  # the 3.12 line kept as written
    (root / "db.py").write_text(after)
    assert not {f.rule_id for f in engine.scan([root], load(root)).report.findings} & FIXABLE
    assert plan_fixes([root], load(root), unsafe=True).fixes == ()
