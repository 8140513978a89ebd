"""VF404: what counts as a secret sink for `random` (the brief's class 4).

Generated: function names built from a verb, a qualifier and a code word, bodies that
carry the random value to the return in different shapes, and module paths. A code
that says what it proves (`reset_code`, `sms_code`) is a sink anywhere; a bare
`code` only in a module about authentication and not in tests; a code naming a
thing (`status_code`, `country_code`) never; a random value that does not reach the
return is no finding. On main only names holding token/otp/pin/... were sinks and the
value was not followed through names, so most generated sinks were missed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_config_formats import scan_tree

SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VERBS = ("generate", "make", "new", "create", "get", "build")
SECRET_QUALIFIERS = ("reset", "confirmation", "verification", "sms", "activation", "login")
THING_QUALIFIERS = ("status", "country", "currency", "colour", "exit", "product")
CODE_WORDS = ("code", "codes", "passcode")
SECURITY_PATHS = ("auth.py", "accounts/views.py", "api/users/auth.py", "security/otp_utils.py")
NEUTRAL_PATHS = ("game/lobby.py", "shop/catalog.py", "api/users/profile.py")
TEST_PATHS = ("tests/test_auth.py", "accounts/tests/factories.py", "auth/conftest.py")

# How the random value reaches the return: {r} is the random call.
SHAPES = (
    "    return str({r})\n",
    "    value = {r}\n    return str(value)\n",
    "    digits = []\n    for _ in range(6):\n        digits.append(str({r}))\n"
    '    return "".join(digits)\n',
    '    return "".join(str({r}) for _ in range(6))\n',
    '    out = ""\n    for _ in range(6):\n        out += str({r})\n    return out\n',
    "    first = {r}\n    second = first * 10\n    return f'{{second}}'\n",
)
RANDOMS = ("random.randint(0, 9)", "random.choice('0123456789')", "random.randrange(10)")


def _module(function: str, shape: str, call: str) -> str:
    return f"import random\n\n\ndef {function}() -> str:\n{shape.format(r=call)}"


def _vf404(tmp_path: Path, path: str, text: str) -> set[int]:
    found = scan_tree(tmp_path, {path: text})
    return {line for where, line, rule, _ in found if rule == "VF404" and where == path}


def _random_line(text: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if "random." in line)


@SLOW
@given(
    verb=st.sampled_from(VERBS),
    qualifier=st.sampled_from(SECRET_QUALIFIERS),
    word=st.sampled_from(CODE_WORDS),
    shape=st.sampled_from(SHAPES),
    call=st.sampled_from(RANDOMS),
    path=st.sampled_from(SECURITY_PATHS + NEUTRAL_PATHS),
)
def test_a_code_that_says_what_it_proves_is_a_sink_anywhere(
    tmp_path_factory: pytest.TempPathFactory,
    verb: str,
    qualifier: str,
    word: str,
    shape: str,
    call: str,
    path: str,
) -> None:
    text = _module(f"{verb}_{qualifier}_{word}", shape, call)
    assert _vf404(tmp_path_factory.mktemp("sink"), path, text) == {_random_line(text)}


@SLOW
@given(
    verb=st.sampled_from(VERBS),
    word=st.sampled_from(CODE_WORDS),
    shape=st.sampled_from(SHAPES),
    call=st.sampled_from(RANDOMS),
    path=st.sampled_from(SECURITY_PATHS + NEUTRAL_PATHS + TEST_PATHS),
)
def test_a_bare_code_is_a_sink_in_an_auth_module_only(
    tmp_path_factory: pytest.TempPathFactory,
    verb: str,
    word: str,
    shape: str,
    call: str,
    path: str,
) -> None:
    text = _module(f"{verb}_new_{word}", shape, call)
    expected = {_random_line(text)} if path in SECURITY_PATHS else set()
    assert _vf404(tmp_path_factory.mktemp("bare"), path, text) == expected


@SLOW
@given(
    verb=st.sampled_from(VERBS),
    qualifier=st.sampled_from(THING_QUALIFIERS),
    shape=st.sampled_from(SHAPES),
    call=st.sampled_from(RANDOMS),
    path=st.sampled_from(SECURITY_PATHS),
)
def test_a_code_naming_a_thing_is_never_a_sink(
    tmp_path_factory: pytest.TempPathFactory,
    verb: str,
    qualifier: str,
    shape: str,
    call: str,
    path: str,
) -> None:
    text = _module(f"{verb}_{qualifier}_code", shape, call)
    assert _vf404(tmp_path_factory.mktemp("thing"), path, text) == set()


@SLOW
@given(call=st.sampled_from(RANDOMS), path=st.sampled_from(SECURITY_PATHS))
def test_a_random_value_that_is_not_returned_is_no_finding(
    tmp_path_factory: pytest.TempPathFactory, call: str, path: str
) -> None:
    body = f"    delay = {call}\n    print(delay)\n    return 'fixed'\n"
    text = _module("generate_reset_code", body, call)
    assert _vf404(tmp_path_factory.mktemp("unused"), path, text) == set()


def test_stored_on_a_code_field_in_an_auth_module(tmp_path: Path) -> None:
    text = "import random\n\ndef send(user):\n    user.code = str(random.randint(0, 9))\n"
    assert _vf404(tmp_path, "accounts/auth.py", text) == {4}
    assert _vf404(tmp_path / "other", "shop/catalog.py", text) == set()
