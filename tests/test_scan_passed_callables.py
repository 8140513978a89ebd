"""A connection function handed to a wrapper with its arguments (`retry(db.set_bind,
bind=DSN)`, `functools.partial(psycopg2.connect, dsn)`, `asyncio.to_thread(...)`,
`loop.run_in_executor(None, ...)`) is the call the wrapper makes: judged as that call
(passed_callables.py), at the wrapper's line, and the prefilter keeps such a file
(filtered == full analysis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import analyse, run_analysis
from verifyfull.scan.python.prefilter import ALL_FAMILIES

HEADER = (
    "import asyncio\nimport functools\nimport os\n"
    "import asyncpg\nimport psycopg\nimport psycopg2\nfrom psycopg2 import connect\n"
    "from gino import Gino\n\ndb = Gino()\nloop = asyncio.get_event_loop()\n"
)
CALLABLES = {
    "psycopg2.connect": "psycopg2.connect",
    "connect": "connect",
    "psycopg.connect": "psycopg.connect",
    "asyncpg.connect": "asyncpg.connect",
    "asyncpg.create_pool": "asyncpg.create_pool",
    "db.set_bind": "db.set_bind",
}
ARGUMENTS = (
    "'postgresql://app@db.internal/app?sslmode=disable'",
    "'postgresql://app@db.internal/app'",
    "'postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=system'",
    "os.environ['DATABASE_URL']",
    "'postgresql://app@db.internal/app', ssl='require'",
)
WRAPPERS = (
    "functools.partial({f}, {args})",
    "retry({f}, {args})",
    "asyncio.to_thread({f}, {args})",
    "loop.run_in_executor(None, {f}, {args})",
)


def _findings(root: Path, text: str, *, full: bool) -> list[tuple[str, int]]:
    path = root / "app.py"
    path.write_text(text, encoding="utf-8")
    source = SourceFile(path, "app.py", text, text.encode())
    ctx = ScanContext(root=root)
    found = run_analysis(source, ctx, ALL_FAMILIES).findings if full else analyse(source, ctx)
    return sorted((f.rule_id, f.line or 0) for f in found if f.rule_id.startswith("VF1"))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    function=st.sampled_from(sorted(CALLABLES)),
    arguments=st.sampled_from(ARGUMENTS),
    wrapper=st.sampled_from(WRAPPERS),
    in_function=st.booleans(),
)
def test_a_wrapped_connection_is_judged_as_the_call_it_makes(
    tmp_path_factory: pytest.TempPathFactory,
    function: str,
    arguments: str,
    wrapper: str,
    in_function: bool,
) -> None:
    """The wrapper's line gets exactly the findings of the direct call written there,
    and the filtered scan equals the full analysis. On the code before this test
    every example whose direct call has a finding failed (a wrapped call was no site:
    nothing reported)."""
    if function == "db.set_bind" and "ssl=" in arguments:
        arguments = arguments.replace("'postgresql", "bind='postgresql", 1)
    root = tmp_path_factory.mktemp("wrapped")

    def program(line: str) -> str:
        body = f"async def start():\n    c = {line}\n" if in_function else f"c = {line}\n"
        return HEADER + body

    wrapped = program(wrapper.format(f=CALLABLES[function], args=arguments))
    direct = program(f"{CALLABLES[function]}({arguments})")
    expected = _findings(root, direct, full=False)
    assert _findings(root, wrapped, full=False) == expected, wrapped
    assert _findings(root, wrapped, full=True) == expected, wrapped


def test_builtins_that_do_other_things_with_a_callable_are_not_wrappers(tmp_path: Path) -> None:
    text = HEADER + "conns = list(map(psycopg2.connect, ['postgresql://app@db/app']))\n"
    assert _findings(tmp_path, text, full=True) == []
