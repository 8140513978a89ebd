"""Connection sites whose connection string is not seen (issue 12, classes 1 and 10).

Property: judging a site with its URL from the environment never contradicts judging
it with any URL written in: when the scanner reports a transport rule for the unseen
URL, every written URL gives one too; when it reports none (and no VF108), no written
URL does; otherwise it is a VF108 that names the variable.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

TRANSPORT = {"VF101", "VF102", "VF103", "VF104"}
HEADER = (
    "import os\nimport ssl\nimport asyncpg\nimport psycopg\nimport psycopg2\n"
    "from sqlalchemy import create_engine\n"
    "from sqlalchemy.ext.asyncio import create_async_engine\n"
    'ROOTS = ssl.create_default_context(cafile="certs/ca.crt")\n'
)
LIBPQ_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
ASYNCPG_SSL = (*(repr(m) for m in LIBPQ_MODES), "True", "False", "ROOTS")
# (call template, the driver's key for TLS in a written URL, the schemes it is written with)
SITES = (
    ("create_async_engine({url}{args})", "ssl", ("postgresql+asyncpg",)),
    ("create_engine({url}{args})", "sslmode", ("postgresql", "postgresql+psycopg")),
    ("psycopg2.connect({url}{args})", "sslmode", ("postgresql",)),
    ("psycopg.connect({url}{args})", "sslmode", ("postgresql",)),
    ("asyncpg.connect({url}{args})", "sslmode", ("postgresql",)),
)


def _tls_args(template: str) -> st.SearchStrategy[str]:
    """The site's own TLS arguments (possibly none), in the form its API takes."""
    if template.startswith("create_async_engine"):
        values = st.sampled_from(ASYNCPG_SSL).map(lambda v: f', connect_args={{"ssl": {v}}}')
    elif template.startswith("create_engine"):
        values = st.sampled_from(LIBPQ_MODES).map(
            lambda m: (
                f', connect_args={{"sslmode": "{m}", "sslrootcert": "certs/ca.crt"}}'
                if m.startswith("verify")
                else f', connect_args={{"sslmode": "{m}"}}'
            )
        )
    elif template.startswith("asyncpg"):
        values = st.sampled_from(ASYNCPG_SSL).map(lambda v: f", ssl={v}")
    else:
        values = st.sampled_from(LIBPQ_MODES).map(
            lambda m: (
                f', sslmode="{m}", sslrootcert="certs/ca.crt"'
                if m.startswith("verify")
                else f', sslmode="{m}"'
            )
        )
    return st.one_of(st.just(""), values)


@st.composite
def sites(draw: st.DrawFn) -> tuple[str, str, str, tuple[str, ...]]:
    template, key, schemes = draw(st.sampled_from(SITES))
    return template, draw(_tls_args(template)), key, schemes


def _written_urls(key: str, schemes: tuple[str, ...]) -> list[str]:
    queries = ["", f"?{key}=disable", f"?{key}=require", f"?{key}=verify-full&sslrootcert=ca.crt"]
    hosts = ["db.internal:26257", "10.0.0.7"]
    return [f"{s}://app@{h}/app{q}" for s in schemes for h in hosts for q in queries]


def _rules(tmp_path: Path, code: str) -> tuple[set[str], list[str]]:
    path = tmp_path / "site.py"
    path.write_text(HEADER + code + "\n", encoding="utf-8")
    source = SourceFile(path, "site.py", path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=tmp_path, policy=Policy())).findings
    last = HEADER.count("\n") + 1
    on_site = [f for f in found if f.line == last]
    return {f.rule_id for f in on_site}, [f.message for f in on_site if f.rule_id == "VF108"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(site=sites(), variable=st.from_regex(r"[A-Z][A-Z0-9_]{2,12}", fullmatch=True))
def test_an_unseen_url_never_contradicts_a_written_one(
    tmp_path: Path, site: tuple[str, str, str, tuple[str, ...]], variable: str
) -> None:
    template, args, key, schemes = site
    unseen, messages = _rules(tmp_path, template.format(url=f'os.environ["{variable}"]', args=args))
    weak_written = [
        bool(_rules(tmp_path, template.format(url=repr(url), args=args))[0] & TRANSPORT)
        for url in _written_urls(key, schemes)
    ]
    if "VF108" in unseen:
        assert any(variable in m for m in messages), messages
        assert not unseen & TRANSPORT
    elif unseen & TRANSPORT:
        assert all(weak_written), (template, args)
    else:
        assert not any(weak_written), (template, args)
        assert args, "a site without TLS arguments and an unseen URL is a VF108"


def test_an_unseen_url_with_no_tls_argument_is_deploy_decided(tmp_path: Path) -> None:
    for template, _, _ in SITES:
        rules, messages = _rules(tmp_path, template.format(url='os.getenv("APP_DB")', args=""))
        assert rules == {"VF108"}, template
        assert "APP_DB" in messages[0]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mode=st.sampled_from(LIBPQ_MODES),
    folder=st.sampled_from(["", "certs/", "deploy/tls/"]),
    name=st.from_regex(r"[a-z]{1,8}\.(crt|pem|bundle)", fullmatch=True),
    present=st.booleans(),
)
def test_a_relative_root_certificate_is_judged_by_whether_it_is_there(
    tmp_path: Path, mode: str, folder: str, name: str, present: bool
) -> None:
    """Class 7: the verdict is conninfo's with the file when it is in the tree, and
    conninfo's without it when not (require then checks nothing; verify-* fail closed)."""
    from verifyfull.conninfo import Driver, Environment, evaluate, parse_dsn

    root_file = tmp_path / folder / name
    root_file.parent.mkdir(parents=True, exist_ok=True)
    if present:
        root_file.write_text("bundle\n", encoding="utf-8")
    else:
        root_file.unlink(missing_ok=True)
    written = f"host=db.internal sslmode={mode} sslrootcert={folder}{name}"
    rules, _ = _rules(tmp_path, f'psycopg2.connect("{written}")')
    judged = written if present else f"host=db.internal sslmode={mode}"
    verdict = evaluate(parse_dsn(judged), Driver.PSYCOPG2, Environment.empty())
    expected = set(verdict.rule_ids) & TRANSPORT
    if not expected:  # verify-* without the file fails closed: judged as written
        expected = set(evaluate(parse_dsn(written), Driver.PSYCOPG2).rule_ids) & TRANSPORT
    assert rules & TRANSPORT == expected, (written, present)
