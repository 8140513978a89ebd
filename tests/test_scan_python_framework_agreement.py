"""A framework that builds the driver call from settings is judged exactly as the
call it makes, written by hand: generated settings, every shape the framework
takes them in, compared with the equivalent direct call (the oracle: sites.py).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

HEADER = (
    "import os\n"
    "from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore\n"
    "from apscheduler.schedulers.background import BackgroundScheduler\n"
    "from sqlalchemy import create_engine\n"
    "scheduler = BackgroundScheduler()\n"
)
MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
HOSTS = ("db.internal:26257", "10.0.0.7", "localhost")

# APScheduler: create_engine(url, **engine_options) (apscheduler.jobstores.sqlalchemy)
JOBSTORES = (
    "SQLAlchemyJobStore({url}{options})",
    "SQLAlchemyJobStore(url={url}{options})",
    'scheduler.add_jobstore("sqlalchemy", url={url}{options})',
    'BackgroundScheduler(jobstores={{"default": {{"type": "sqlalchemy", "url": {url}{entry}}}}})',
)


def _mode_query(key: str, mode: str) -> str:
    root = "&sslrootcert=system" if mode.startswith("verify") else ""
    return f"?{key}={mode}{root}"


@st.composite
def urls(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return f'os.environ["{draw(st.sampled_from(("JOBS_URL", "DATABASE_URL")))}"]'
    query = draw(
        st.one_of(st.just(""), st.sampled_from(MODES).map(lambda m: _mode_query("sslmode", m)))
    )
    return repr(f"postgresql://app@{draw(st.sampled_from(HOSTS))}/jobs{query}")


@st.composite
def connect_args(draw: st.DrawFn) -> str | None:
    """The connect_args dict's source text, or None for no engine options."""
    mode = draw(st.one_of(st.none(), st.sampled_from(MODES)))
    if mode is None:
        return draw(st.sampled_from((None, '{"connect_timeout": 5}')))
    root = ', "sslrootcert": "system"' if mode.startswith("verify") else ""
    return f'{{"sslmode": "{mode}"{root}}}'


def _rules(tmp_path: Path, code: str) -> set[str]:
    path = tmp_path / "site.py"
    path.write_text(HEADER + code + "\n", encoding="utf-8")
    source = SourceFile(path, "site.py", path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=tmp_path, policy=Policy())).findings
    last = HEADER.count("\n") + 1
    return {f.rule_id for f in found if f.line == last}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=st.sampled_from(JOBSTORES), url=urls(), args=connect_args())
def test_an_apscheduler_job_store_is_judged_as_its_create_engine(
    tmp_path: Path, shape: str, url: str, args: str | None
) -> None:
    direct = f"create_engine({url}" + (f", connect_args={args})" if args else ")")
    options = f', engine_options={{"connect_args": {args}}}' if args else ""
    entry = f', "engine_options": {{"connect_args": {args}}}' if args else ""
    store = shape.format(url=url, options=options, entry=entry)
    assert _rules(tmp_path, store) == _rules(tmp_path, direct), (store, direct)


def test_a_job_store_given_an_engine_is_not_a_second_site(tmp_path: Path) -> None:
    assert _rules(tmp_path, "SQLAlchemyJobStore(engine=ENGINE, url='postgresql://a@db/x')") == set()
