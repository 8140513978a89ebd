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
from test_trust_bounds import scan_shape

SLOW = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

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


# (function name, module path, whether the random value is a secret there)
_SAYS_WHAT_IT_PROVES = st.builds(
    lambda v, q, w, p: (f"{v}_{q}_{w}", p, True),
    st.sampled_from(VERBS),
    st.sampled_from(SECRET_QUALIFIERS),
    st.sampled_from(CODE_WORDS),
    st.sampled_from(SECURITY_PATHS + NEUTRAL_PATHS),
)
_BARE_CODE = st.builds(
    lambda v, w, p: (f"{v}_new_{w}", p, p in SECURITY_PATHS),
    st.sampled_from(VERBS),
    st.sampled_from(CODE_WORDS),
    st.sampled_from(SECURITY_PATHS + NEUTRAL_PATHS + TEST_PATHS),
)
_NAMES_A_THING = st.builds(
    lambda v, q, p: (f"{v}_{q}_code", p, False),
    st.sampled_from(VERBS),
    st.sampled_from(THING_QUALIFIERS),
    st.sampled_from(SECURITY_PATHS),
)


@SLOW
@given(
    case=st.one_of(_SAYS_WHAT_IT_PROVES, _BARE_CODE, _NAMES_A_THING),
    shape=st.sampled_from(SHAPES),
    call=st.sampled_from(RANDOMS),
)
def test_which_code_names_are_sinks(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str, bool], shape: str, call: str
) -> None:
    """A code that says what it proves is a sink anywhere; a bare code only in a module
    about authentication, not in tests; a code naming a thing never."""
    function, path, secret = case
    text = _module(function, shape, call)
    expected = {_random_line(text)} if secret else set()
    assert _vf404(tmp_path_factory.mktemp("sink"), path, text) == expected


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


def test_a_long_chain_of_bindings_is_followed_in_bounded_time(tmp_path: Path) -> None:
    """Each pass over a function's bindings only adds names, and there are at most
    eight: a 10,000-binding function costs linear time, not one pass per link."""
    chain = "".join(f"    v{i + 1} = v{i} + 1\n" for i in range(10_000))
    text = f"import random\n\ndef make_reset_code():\n    v0 = random.randint(0, 9)\n{chain}"
    text += "    return str(v10000)\n"
    scan_shape(tmp_path, {"auth.py": text})
