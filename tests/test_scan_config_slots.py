"""Template DSNs (issue 13 class 3): slots a person fills in, in any language.

Generated: a URL whose every part is a slot word (role names in several languages,
possessives, `{slot}`, capitals), with or without a TLS setting, in an example file
and in a real one: judged as if filled in (VF102 without TLS), never VF105 "cannot
be read". A word port next to literal parts is a slot only in an example file; in a
real config it is what the driver refuses (VF105).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.envfile import judge_env_file

_POSSESSIVE = st.sampled_from(["seu_", "sua_", "your_", "tu_", "my_", "votre-", ""])
_ROLES = {
    "user": ["user", "usuario", "USER", "{user}"],
    "password": ["senha", "password", "contraseña", "PASSWORD", "{password}", "pass"],
    "host": ["servidor", "host", "server", "HOST", "{host}", "db_host"],
    "port": ["porta", "port", "puerto", "PORT", "{port}", "db_port"],
    "db": ["banco", "database", "dbname", "nome_do_banco", "DB", "{db}"],
}
_EXAMPLE_NAMES = st.sampled_from(
    [".env.example", ".env.docker.example", "env.sample", "app.env.dist"]
)
_TLS = {"": {"VF102"}, "?sslmode=disable": {"VF101"}, "?sslmode=require": {"VF103"}}


def _slot(role: str) -> st.SearchStrategy[str]:
    words = st.sampled_from(_ROLES[role])
    return st.builds(
        lambda p, w: w if w.startswith("{") or w.isupper() else p + w, _POSSESSIVE, words
    )


def _rules(name: str, line: str) -> set[str]:
    src = SourceFile(Path("/x") / name, name, line + "\n")
    return {f.rule_id for f in judge_env_file(src, DEFAULT_POLICY)}


@settings(max_examples=80, deadline=None)
@given(
    parts=st.fixed_dictionaries({role: _slot(role) for role in _ROLES}),
    tls=st.sampled_from(sorted(_TLS)),
    name=st.one_of(_EXAMPLE_NAMES, st.just("app.env")),
)
def test_a_url_of_slots_is_judged_as_if_filled_in(
    parts: dict[str, str], tls: str, name: str
) -> None:
    url = "postgresql://{user}:{password}@{host}:{port}/{db}".format(**parts) + tls
    assert _rules(name, f"DATABASE_URL={url}") - {"VF401"} == _TLS[tls], url


@settings(max_examples=60, deadline=None)
@given(
    port=st.from_regex(r"[a-z][a-z_]{1,10}", fullmatch=True),
    host=st.sampled_from(["db.internal", "10.0.0.7", "pg-primary.prod"]),
    example=_EXAMPLE_NAMES,
)
def test_a_word_port_is_a_slot_only_in_an_example(port: str, host: str, example: str) -> None:
    url = f"postgresql://app@{host}:{port}/app"
    assert _rules(example, f"DATABASE_URL={url}") == {"VF102"}, url
    assert "VF105" in _rules("app.env", f"DATABASE_URL={url}"), url
