"""A URL whose query holds a value from the environment: when the key's value cannot
change TLS (a root file, a name, a number) the URL is judged as written, exactly as
with any literal there; any other key, or an unknown key, leaves it to the
deployment (VF108). Generated over drivers, modes, keys and how the URL is built.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis
from verifyfull.scan.python.query_values import INERT_QUERY_KEYS

HEADER = "import os\nimport asyncpg\nimport psycopg2\nfrom sqlalchemy import create_engine\n"
CALLS = ("create_engine({url})", "psycopg2.connect({url})", "asyncpg.connect({url})")
SCHEMES = {"create_engine": ("postgresql", "cockroachdb"), "psycopg2": ("postgresql",)}
MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
# A literal of each inert key's kind: absolute paths, so no file in the tree decides.
LITERALS = {"sslrootcert": "/run/certs/ca.crt", "sslcert": "/run/certs/client.crt"}
TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}  # not VF401
DECIDING = ("sslmode", "host", "service", "gssencmode", "ssl")


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, str, bool]:
    """(code with the value from the environment, code with a literal there, key,
    whether the key is inert)."""
    call = draw(st.sampled_from(CALLS))
    scheme = draw(st.sampled_from(SCHEMES.get(call.split("(")[0].split(".")[0], ("postgresql",))))
    mode = draw(st.sampled_from(MODES))
    inert = draw(st.booleans())
    key = draw(st.sampled_from(sorted(INERT_QUERY_KEYS) if inert else DECIDING))
    literal = LITERALS.get(key, "/run/app" if key.startswith("ssl") else "app5")
    first = draw(st.booleans())  # the environment's value before or after sslmode
    pairs = [f"sslmode={mode}", f"{key}={{}}"]
    query = "&".join(pairs if not first else pairs[::-1])
    if key == "sslmode":
        query = "sslmode={}"
    template = f"{scheme}://app@db.internal:26257/app?{query}"
    style = draw(st.sampled_from(("format", "fstring")))
    if style == "format":
        unknown = f"{template!r}.format(os.environ['CERT_VALUE'])"
    else:
        unknown = "f" + repr(template.replace("{}", "{os.environ['CERT_VALUE']}"))
    return call.format(url=unknown), call.format(url=repr(template.format(literal))), key, inert


def _rules(tmp_path: Path, code: str) -> set[str]:
    path = tmp_path / "site.py"
    path.write_text(HEADER + code + "\n", encoding="utf-8")
    source = SourceFile(path, "site.py", path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=tmp_path, policy=Policy())).findings
    line = HEADER.count("\n") + 1
    return {f.rule_id for f in found if f.line == line and f.rule_id in TRANSPORT}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases())
def test_a_query_value_from_the_environment_decides_only_when_its_key_can(
    tmp_path: Path, case: tuple[str, str, str, bool]
) -> None:
    unknown, written, _, inert = case
    if inert:
        assert _rules(tmp_path, unknown) == _rules(tmp_path, written), (unknown, written)
    else:
        assert _rules(tmp_path, unknown) == {"VF108"}, unknown


def test_an_unknown_query_key_is_the_deployments(tmp_path: Path) -> None:
    code = "create_engine(f'postgresql://app@db/app?sslmode=verify-full&{os.environ[\"Q\"]}')"
    assert _rules(tmp_path, code) == {"VF108"}
