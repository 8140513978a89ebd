"""A dj-database-url or django-environ entry changed afterwards (issue 15's fixer
writes `DATABASES["default"]["OPTIONS"] = {**…, "sslmode": "verify-full", …}`): the
entry is judged as Django connects with the changes every path makes, and a change
only one branch makes is that branch's connection, reported where it is written.
Before, the entry was judged alone (dj-database-url read no change at all), so a
fixed project kept its finding and a weakening update went unseen."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.conninfo import Driver, Environment, evaluate, parse_dsn
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF106", "VF107", "VF108"}
ENTRY_LINE = 5
P = 'DATABASES["default"]'


def _findings(root: Path, text: str) -> set[tuple[int, str]]:
    path = root / "settings.py"
    path.write_text(text, encoding="utf-8")
    analysis = run_analysis(SourceFile(path, "settings.py", text), ScanContext(root=root))
    return {(f.line, f.rule_id) for f in analysis.findings if f.rule_id in TRANSPORT}


def _rules(pairs: dict[str, str]) -> set[str]:
    """The oracle: conninfo's verdict on the libpq keywords Django hands psycopg."""
    text = " ".join(f"{k}='{v}'" for k, v in pairs.items())
    return set(evaluate(parse_dsn(text), Driver.PSYCOPG, Environment.empty()).rule_ids) - {"VF401"}


def _change(shape: str, mode: str, root: str | None) -> str:
    root_text = {None: None, "file": "'/certs/ca.crt'", "env": 'os.environ["DB_CA_PATH"]'}[root]
    items = [("sslmode", repr(mode))] + ([("sslrootcert", root_text)] if root_text else [])
    if shape == "dict_spread":
        body = ", ".join(f"{k!r}: {v}" for k, v in items)
        return f'{P}["OPTIONS"] = {{**{P}.get("OPTIONS", {{}}), {body}}}'
    if shape == "keys":
        return "; ".join(f'{P}["OPTIONS"][{k!r}] = {v}' for k, v in items)
    if shape == "update_keywords":
        return f'{P}["OPTIONS"].update(' + ", ".join(f"{k}={v}" for k, v in items) + ")"
    body = ", ".join(f"{k!r}: {v}" for k, v in items)
    return f'{P}["OPTIONS"].update({{{body}}})'


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entry=st.sampled_from(["config", "parse", "env_db", "config_from_environment"]),
    url_mode=st.sampled_from([None, "disable", "require"]),
    ssl_require=st.booleans(),
    shape=st.sampled_from(["dict_spread", "keys", "update_keywords", "update_dict"]),
    mode=st.sampled_from(["disable", "prefer", "require", "verify-ca", "verify-full"]),
    root=st.sampled_from([None, "file", "env"]),
    in_branch=st.booleans(),
)
def test_a_later_options_change_is_judged_with_the_entry(
    tmp_path: Path,
    entry: str,
    url_mode: str | None,
    ssl_require: bool,
    shape: str,
    mode: str,
    root: str | None,
    in_branch: bool,
) -> None:
    url = "postgres://app@db.internal/app" + (f"?sslmode={url_mode}" if url_mode else "")
    require = ssl_require and entry != "env_db"
    keyword = ", ssl_require=True" if require else ""
    made = {
        "config": f"dj_database_url.config(default={url!r}{keyword})",
        "parse": f"dj_database_url.parse({url!r}{keyword})",
        "env_db": f"env.db(default={url!r})",
        "config_from_environment": f"dj_database_url.config({keyword.lstrip(', ')})",
    }[entry]
    change = _change(shape, mode, root)
    lines = [
        "import os",
        "import dj_database_url",
        "import environ",
        "env = environ.Env()",
        f'DATABASES = {{"default": {made}}}',
        *(['if os.environ.get("PRODUCTION"):', f"    {change}"] if in_branch else [change]),
    ]
    found = _findings(tmp_path, "\n".join(lines) + "\n")
    change_line = ENTRY_LINE + (2 if in_branch else 1)

    base = {"host": "db.internal", "user": "app", "dbname": "app"}
    if entry != "config_from_environment" and url_mode:
        base["sslmode"] = url_mode
    if require:
        base["sslmode"] = "require"
    changed = {**base, "sslmode": mode, **({"sslrootcert": "/certs/ca.crt"} if root else {})}
    entry_alone = {"VF108"} if entry == "config_from_environment" and not require else _rules(base)
    if in_branch:  # the entry as written, and the branch's connection where it changes it
        expected = {(ENTRY_LINE, r) for r in entry_alone}
        expected |= {(change_line, r) for r in _rules(changed)}
    else:  # every path changes it: one connection, the entry's
        expected = {(ENTRY_LINE, r) for r in _rules(changed)}
    assert found == expected, "\n".join(lines)


def test_the_fixers_update_leaves_no_finding(tmp_path: Path) -> None:
    """The shape `verifyfull fix --unsafe-fixes` writes after a dj-database-url entry."""
    text = (
        "import os\n\nimport dj_database_url\n\n"
        'if not os.environ.get("DB_CA_PATH"):\n'
        '    raise RuntimeError("DB_CA_PATH is not set")\n'
        'DATABASES = {"default": dj_database_url.config('
        'default="postgres://u@db.example.com/app?sslmode=require")}\n'
        'DATABASES["default"]["OPTIONS"] = {\n'
        '    **DATABASES["default"].get("OPTIONS", {}),\n'
        '    "sslmode": "verify-full",\n'
        '    "sslrootcert": os.environ["DB_CA_PATH"],\n'
        '    "sslcert": os.environ.get("DB_CERT_PATH", ""),\n'
        '    "sslkey": os.environ.get("DB_KEY_PATH", ""),\n'
        "}\n"
    )
    assert _findings(tmp_path, text) == set()


def test_a_new_options_dict_without_the_entrys_own_replaces_the_url_options(
    tmp_path: Path,
) -> None:
    """`OPTIONS = {"sslmode": "verify-full"}` replaces the URL's options (dj_database_url
    parses the query into OPTIONS): the new dict's sslmode is the one psycopg gets, as
    for the entry written with that OPTIONS (s15b: a replacement is read, not merged)."""
    head = (
        "import dj_database_url\n"
        'DATABASES = {"default": dj_database_url.config('
        'default="postgres://u@db.internal/app?sslmode=require")}\n'
    )
    replaced = head + 'DATABASES["default"]["OPTIONS"] = {"sslmode": "verify-full"}\n'
    written = (
        'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app",'
        ' "USER": "u", "HOST": "db.internal", "OPTIONS": {"sslmode": "verify-full"}}}\n'
    )
    assert _findings(tmp_path, head) == {(2, "VF103")}
    assert {rule for _, rule in _findings(tmp_path, replaced)} == {
        rule for _, rule in _findings(tmp_path, written)
    }
    assert (2, "VF103") not in _findings(tmp_path, replaced)
