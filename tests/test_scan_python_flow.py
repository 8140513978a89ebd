"""Following values the way real code moves them (issue 12, classes 2-4).

- generated programs: a dict or a string built by random sequences of item
  assignments, update/setdefault/pop/del, rebindings and if/else/elif arms are run
  under every combination of their conditions, and every value the program really
  ends with must be among the values the resolver says it may have (no branch is
  missed; the first is the last binding's, as before);
- bounds: many callers x many returns, choices nested in f-strings, long if/elif
  chains and conditional changes stay capped at MAX_ALTERNATIVES (the evidence
  says when), in time linear in the file.
"""

from __future__ import annotations

import ast
import itertools
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_trust_bounds import GROWTH_LIMIT, errors_of, scan_files, scan_shape, watchdog
from verifyfull.scan.python.module import parse_module
from verifyfull.scan.python.resolve import Place, Resolver
from verifyfull.scan.python.values import (
    MAX_ALTERNATIVES,
    Choice,
    DictValue,
    Text,
    Value,
    alternatives,
)

CONDITIONS = ("A", "B", "C")
KEYS = ("sslmode", "sslrootcert", "host")
VALUES = ("disable", "require", "verify-full", "ca.crt")


def _statement(draw: st.DrawFn, depth: int) -> list[str]:
    kind = draw(
        st.sampled_from(["set", "set", "update", "setdefault", "pop", "del", "rebind", "if"])
    )
    key, value = draw(st.sampled_from(KEYS)), draw(st.sampled_from(VALUES))
    if kind == "set":
        return [f"d[{key!r}] = {value!r}"]
    if kind == "update":
        return [f"d.update({key}={value!r})"]
    if kind == "setdefault":
        return [f"d.setdefault({key!r}, {value!r})"]
    if kind == "pop":
        return [f"d.pop({key!r}, None)"]
    if kind == "del":
        return [f"if {key!r} in d:", f"    del d[{key!r}]"]
    if kind == "rebind":
        return [f"d = {{{key!r}: {value!r}}}"]
    if depth >= 2:
        return [f"d[{key!r}] = {value!r}"]
    condition = draw(st.sampled_from(CONDITIONS))
    lines = [f"if {condition}:"]
    lines += ["    " + line for line in _block(draw, depth + 1)]
    shape = draw(st.sampled_from(["if", "else", "elif"]))
    if shape == "else":
        lines += ["else:"] + ["    " + line for line in _block(draw, depth + 1)]
    elif shape == "elif":
        other = draw(st.sampled_from(CONDITIONS))
        lines += [f"elif {other}:"] + ["    " + line for line in _block(draw, depth + 1)]
    return lines


def _block(draw: st.DrawFn, depth: int) -> list[str]:
    count = draw(st.integers(min_value=1, max_value=3))
    return [line for _ in range(count) for line in _statement(draw, depth)]


@st.composite
def dict_programs(draw: st.DrawFn) -> str:
    lines = ["d = {'host': 'pg.internal'}"]
    lines += _block(draw, 0)
    lines.append("RESULT = d")
    return "\n".join(lines) + "\n"


def _resolve_result(source: str, tmp_path: Path) -> tuple[tuple[Value, ...], bool]:
    path = tmp_path / "prog.py"
    module = parse_module(path, tmp_path, source)
    last = module.tree.body[-1]
    assert isinstance(last, ast.Assign)
    place = Place(module, module.scope, last.lineno)
    whole = Resolver().any(last.value, place)
    return alternatives(whole), isinstance(whole, Choice) and whole.capped


def _plain(value: Value) -> object:
    if isinstance(value, DictValue):
        return tuple(sorted((k, _plain(v)) for k, v in dict(value.items).items()))
    if isinstance(value, Text):
        return value.known
    return repr(value)


def _runs(source: str) -> set[object]:
    finals: set[object] = set()
    code = compile(source, "prog.py", "exec")
    for combination in itertools.product((False, True), repeat=len(CONDITIONS)):
        space: dict[str, object] = dict(zip(CONDITIONS, combination, strict=True))
        exec(code, space)  # a generated program of dict literals and ifs only
        result = space["RESULT"]
        if isinstance(result, dict):
            finals.add(tuple(sorted(result.items())))
        else:
            finals.add(result)
    return finals


def _assert_sound(source: str, tmp_path: Path) -> None:
    found, capped = _resolve_result(source, tmp_path)
    if capped:
        return  # past the cap the dropped states are said to be dropped (tested below)
    said = {_plain(v) for v in found}
    missing = _runs(source) - said
    assert not missing, f"{source}\nmissing {missing}, said {said}"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(source=dict_programs())
def test_every_state_a_dict_really_ends_in_is_among_its_alternatives(
    source: str, tmp_path: Path
) -> None:
    _assert_sound(source, tmp_path)


@st.composite
def string_programs(draw: st.DrawFn) -> str:
    """A URL through rebindings in arms, a helper with several returns, `or`, +=."""
    modes = st.sampled_from(VALUES)
    lines = [
        "def mode(flag):",
        f"    if flag:\n        return {draw(modes)!r}",
        f"    return {draw(modes)!r} if B else {draw(modes)!r}",
        "url = 'postgresql://app@pg.internal/app?sslmode=' + mode(A)",
    ]
    for _ in range(draw(st.integers(1, 4))):
        condition = draw(st.sampled_from(CONDITIONS))
        shape = draw(st.sampled_from(["rebind", "append", "or"]))
        value = draw(modes)
        if shape == "rebind":
            lines += [f"if {condition}:", f"    url = 'postgresql://h/app?sslmode={value}'"]
        elif shape == "append":
            lines += [f"if {condition}:", f"    url += '&x={value}'"]
        else:
            lines += [f"url = (None if {condition} else None) or url"]
    lines.append("RESULT = url")
    return "\n".join(lines) + "\n"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(source=string_programs())
def test_every_string_a_program_really_builds_is_among_its_alternatives(
    source: str, tmp_path: Path
) -> None:
    _assert_sound(source, tmp_path)


# --- bounds ------------------------------------------------------------------------


def test_many_callers_times_many_returns_is_capped_and_says_so(tmp_path: Path) -> None:
    returns = "".join(
        f"    if flag == {i}:\n        return 'postgresql://h{i}/app?sslmode=disable'\n"
        for i in range(40)
    )
    callers = "".join(f"    connect_to({i})\n" for i in range(40))
    source = (
        "import psycopg\n"
        f"def url_for(flag):\n{returns}    return 'postgresql://h/app?sslmode=allow'\n"
        "def connect_to(flag):\n    psycopg.connect(url_for(flag))\n"
        f"def main():\n{callers}"
    )
    result = scan_shape(tmp_path, {"app.py": source})
    assert not result.report.errors
    findings = result.report.findings
    # one site, one finding per rule: the last return (allow) and the disable ones
    assert sorted(f.rule_id for f in findings) == ["VF101", "VF102"]
    assert all(f"only {MAX_ALTERNATIVES} followed" in (f.evidence or "") for f in findings)


def test_choices_inside_choices_do_not_multiply(tmp_path: Path) -> None:
    """f{k}() = f{k-1}() + "a" or + "b": 2**10 strings without the cap, 2**12 for m."""
    lines = ["import psycopg", "import os", "def f0():", "    return 'postgresql://h/app?x='"]
    for k in range(1, 11):
        lines += [
            f"def f{k}():",
            f"    return f{k - 1}() + ('a' if os.environ.get('X{k}') else 'b')",
        ]
    lines += ["psycopg.connect(f10() + '&sslmode=disable')"]
    parts = "".join(f"{{m{i}}}" for i in range(12))
    lines += [f"m{i} = 'a' if os.environ.get('M{i}') else 'b'" for i in range(12)]
    lines += [f"psycopg.connect(f'postgresql://h/app?sslmode=disable&x={parts}')"]
    result = scan_shape(tmp_path, {"app.py": "\n".join(lines) + "\n"})
    assert not result.report.errors
    assert [f.rule_id for f in result.report.findings] == ["VF101", "VF101"]


def test_long_branch_chains_and_conditional_changes_stay_linear(tmp_path: Path) -> None:
    chain = "".join(
        f"{'if' if i == 0 else 'elif'} os.environ.get('E') == '{i}':\n"
        f"    URL = 'postgresql://h{i}/app?sslmode=verify-full&sslrootcert=ca.crt'\n"
        for i in range(300)  # a deeper elif chain is too deep for the parser's callers
    )
    changes = "".join(f"if os.environ.get('K{i}'):\n    args['k{i}'] = 'v'\n" for i in range(2000))
    source = (
        "import os\nimport psycopg\nargs = {'sslmode': 'disable'}\n"
        f"{chain}else:\n    URL = 'postgresql://h/app?sslmode=allow'\n"
        f"{changes}psycopg.connect(URL, **args)\n"
    )
    result = scan_shape(tmp_path, {"app.py": source})
    assert not result.report.errors
    assert {f.rule_id for f in result.report.findings} == {"VF101"}


def _branches(n: int) -> dict[str, str | bytes]:
    lines = ["import os", "import asyncpg", "import psycopg"]
    for i in range(n):
        lines += [
            f"args_{i} = {{'host': 'pg{i}.internal'}}",
            f"if os.environ.get('P{i}'):",
            f"    args_{i}['sslmode'] = 'require'",
            "else:",
            f"    args_{i}.update(sslmode='disable')",
            f"def mode_{i}(local):",
            "    return 'disable' if local else 'verify-full'",
            f"def open_{i}(dsn):",
            f"    return psycopg.connect(dsn, sslmode=mode_{i}(False), **args_{i})",
            f"open_{i}('postgresql://pg{i}.internal/app')",
            f"open_{i}(dsn='postgresql://pg{i}.internal/other')",
        ]
    return {"app.py": "\n".join(lines) + "\n"}


def test_ten_times_the_branches_takes_at_most_twenty_times_as_long(tmp_path: Path) -> None:
    small_files, large_files = _branches(40), _branches(400)
    assert scan_files(tmp_path / "probe", small_files).report.findings
    small = large = float("inf")
    with watchdog(60):
        for attempt in range(3):
            for name, files in (("small", small_files), ("large", large_files)):
                root = tmp_path / f"{name}{attempt}"
                root.mkdir(parents=True)
                started = time.perf_counter()
                result = scan_files(root, files)
                elapsed = time.perf_counter() - started
                assert not errors_of(result)
                if name == "small":
                    small = min(small, elapsed)
                else:
                    large = min(large, elapsed)
    assert large / max(small, 0.05) <= GROWTH_LIMIT, f"{small:.3f} s -> {large:.3f} s"
