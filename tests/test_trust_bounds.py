"""Bounded time and memory on every input (issue 11, class 2), scanner side.

Two kinds of test, for every scanner family:
- growth: an input ten times larger takes at most GROWTH_LIMIT times as long (near
  linear; quadratic work would be 100x). Best of several runs, so a loaded machine
  slows both sizes alike rather than failing the test.
- adversarial shapes (alias bombs, exponential call graphs, long lines, many
  findings, deep nesting): each finishes before HANG_SECONDS, under a watchdog that
  fails the test instead of hanging it, with the result the docs promise (a finding
  kept, or one error entry naming the limit).
On the code before this change the shapes took minutes (the watchdog fails them)
and a .env of 20,000 findings grew 30x per 2x.

The watchdog is a deadline against a hang, not a speed target: how fast each shape
is scanned (target SHAPE_SECONDS) is measured by benchmarks/bounds_bench.py, which
runs these same tests with VERIFYFULL_SHAPE_TIMES set to a file that scan_shape
writes each shape's time to.
"""

from __future__ import annotations

import ast
import gc
import json
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from verifyfull.scan import engine
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python import check as python_check
from verifyfull.scan.settings import ScanSettings

GROWTH_LIMIT = 20.0  # 10x the input; linear is 10x the time
# A shape still running after this long is a hang (the code before the bounds took
# minutes on each); the speed target SHAPE_SECONDS is benchmarks/bounds_bench.py's.
HANG_SECONDS = 60.0
SHAPE_SECONDS = 5.0
DSN = "postgresql://app@db/app?sslmode=disable"


class Overran(BaseException):
    """Raised by the watchdog; a BaseException so no `except Exception` swallows it."""


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Overran(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def scan_files(root: Path, files: dict[str, str | bytes]) -> engine.ScanResult:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return engine.scan([root], ScanSettings(project_root=root), jobs=1)


def scan_shape(root: Path, files: dict[str, str | bytes]) -> engine.ScanResult:
    """Scan a hostile shape under the hang deadline; when the benchmark asks for it
    (VERIFYFULL_SHAPE_TIMES), append the test's name and the time it took."""
    engine.load_checks()  # imports are not the shape's time
    with watchdog(HANG_SECONDS):
        started = time.perf_counter()
        result = scan_files(root, files)
        elapsed = time.perf_counter() - started
    times = os.environ.get("VERIFYFULL_SHAPE_TIMES")
    if times:
        shape = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        with open(times, "a", encoding="utf-8") as out:
            out.write(json.dumps({"shape": shape, "seconds": elapsed}) + "\n")
    return result


def errors_of(result: engine.ScanResult) -> list[str]:
    return [e.message for e in result.report.errors]


# --- growth, per family ------------------------------------------------------------


def _certificate_pem() -> bytes:
    """One RSA-1024 certificate (VF304 each), made by the project's own certs code."""
    import tempfile

    from verifyfull.certs.create import KeySpec, create_ca

    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        return create_ca(
            base / "certs", base / "ca.key", key=KeySpec("rsa", 1024)
        ).cert_path.read_bytes()


def _python(n: int) -> dict[str, str | bytes]:
    lines = ["import asyncpg, ssl", "import os"]
    for i in range(n):
        lines += [
            f"def connect_{i}(port=5432):",
            f"    dsn_{i} = os.getenv('DSN_{i}', '{DSN}') + f'&application_name=a{i}'",
            f"    ctx_{i} = ssl.create_default_context()",
            f"    ctx_{i}.check_hostname = False",
            f"    return asyncpg.connect(dsn_{i}, ssl=ctx_{i}, port=port)",
        ]
    return {"app.py": "\n".join(lines) + "\n"}


def _guarded_sites(n: int) -> dict[str, str | bytes]:
    """Module-level engines each under its own `if` (guards.other_backend looks at the
    ifs around every site, and at the bindings of the names its URL is made from)."""
    lines = ["import os", "from sqlalchemy import create_engine"]
    for i in range(n):
        lines += [
            f"url_{i} = os.getenv('U{i}', 'postgresql://app@db{i}.internal/app')",
            f"if FLAG_{i}:",
            f"    engine_{i} = create_engine(url_{i})",
        ]
    return {"app.py": "\n".join(lines) + "\n"}


def _prefect_loads(n: int) -> dict[str, str | bytes]:
    """Prefect block loads, half of them dropped at once (prefect._discarded looks at the
    statements of the load's scope)."""
    lines = ["from prefect_sqlalchemy import SqlAlchemyConnector"]
    for i in range(n):
        lines += [f"SqlAlchemyConnector.load('b{i}')", f"db_{i} = SqlAlchemyConnector.load('b{i}')"]
    return {"flows.py": "\n".join(lines) + "\n"}


def _exported_tools(n: int) -> dict[str, str | bytes]:
    """One exported PGHOST and many libpq tools that use it (judge._as_related)."""
    lines = [
        "#!/bin/bash",
        "export PGHOST=db.internal",
        *(f"psql -c 'select {i}'" for i in range(n)),
    ]
    return {"run.sh": "\n".join(lines) + "\n"}


GROWTH: dict[str, tuple[Callable[[int], dict[str, str | bytes]], int]] = {
    "python": (_python, 60),
    "python-prefect": (_prefect_loads, 200),
    "sh-exported": (_exported_tools, 200),
    "python-guarded": (_guarded_sites, 100),
    "env": (lambda n: {".env": "".join(f"DB{i}_URL={DSN}\n" for i in range(n))}, 300),
    "compose": (
        lambda n: {
            "docker-compose.yml": "services:\n"
            + "".join(
                f"  db{i}:\n    image: postgres\n    command: postgres -c ssl=off\n"
                f"    environment:\n      - PGSSLMODE=disable\n"
                for i in range(n)
            )
        },
        100,
    ),
    "k8s": (
        lambda n: {
            "deploy.yaml": "".join(
                f"---\nkind: Deployment\nmetadata:\n  name: app{i}\nspec:\n  containers:\n"
                f"    - name: app\n      env:\n        - name: DATABASE_URL\n"
                f"          value: {DSN}\n"
                for i in range(n)
            )
        },
        100,
    ),
    "helm": (
        lambda n: {
            "templates/deploy.yaml": "".join(
                f"{{{{- if .Values.a{i} }}}}\n- {{{{ toYaml . | nindent 4 }}}}\n"
                f"  name: PGSSLMODE\n  value: disable\n{{{{- end }}}}\n"
                for i in range(n)
            )
        },
        100,
    ),
    "toml": (
        lambda n: {"app.toml": "".join(f'[db{i}]\nurl = "{DSN}"\n' for i in range(n))},
        200,
    ),
    "ini": (
        lambda n: {"alembic.ini": "".join(f"[db{i}]\nsqlalchemy.url = {DSN}\n" for i in range(n))},
        200,
    ),
    "json": (
        lambda n: {
            "config.json": "{"
            + ", ".join(f'"db{i}": {{"database_url": "{DSN}"}}' for i in range(n))
            + "}"
        },
        200,
    ),
    "dockerfile": (
        lambda n: {
            "Dockerfile": "FROM postgres\n"
            + "".join(
                f"ENV PGSSLMODE=disable\nRUN postgres -c ssl=off \\\n  -c x{i}=1\n"
                for i in range(n)
            )
        },
        100,
    ),
    "postgresql.conf": (
        lambda n: {
            "postgresql.conf": "".join(
                "ssl = off\nssl_min_protocol_version = 'TLSv1'\n" for _ in range(n)
            )
        },
        200,
    ),
    "pg_hba": (
        lambda n: {
            "pg_hba.conf": "".join(f"host all all 10.{i % 250}.0.0/16 md5\n" for i in range(n))
        },
        300,
    ),
    "pgpool.conf": (
        lambda n: {
            "pgpool.conf": "".join(f"backend_hostname{i} = 'db{i}'\nssl = off\n" for i in range(n))
        },
        300,
    ),
    "pgbouncer.ini": (
        lambda n: {
            "pgbouncer.ini": "[databases]\n"
            + "".join(f"app{i} = host=db{i} port=5432 dbname=app{i}\n" for i in range(n))
            + "[pgbouncer]\nlisten_addr = *\nclient_tls_sslmode = disable\n"
        },
        300,
    ),
    "pgpass": (
        lambda n: {".pgpass": "".join(f"db{i}:5432:app:app:secret{i}\n" for i in range(n))},
        300,
    ),
    "certs": (lambda n: {"bundle.pem": _certificate_pem() * n}, 60),
}


def _timed(root: Path, files: dict[str, str | bytes]) -> float:
    root.mkdir(parents=True)
    started = time.perf_counter()
    scan_files(root, files)
    return time.perf_counter() - started


def assert_grows_near_linearly(
    family: str,
    generate: Callable[[int], dict[str, str | bytes]],
    n: int,
    root: Path,
    before_each: Callable[[], None] = lambda: None,
) -> None:
    """Scan generate(n) and generate(10 * n), best of three interleaved runs each, and fail
    when the larger took more than GROWTH_LIMIT times as long. before_each drops a cache that
    would otherwise let the second run of a size reuse the first's work."""
    engine.load_checks()
    small_files, large_files = generate(n), generate(10 * n)
    before_each()
    assert scan_files(root / "probe", small_files).report.findings, (
        f"{family}: the generator must produce findings"
    )
    small = large = float("inf")
    # The cyclic collector is off while timing: when its passes run depends on what the
    # process holds besides the scan (the test run's own objects), not on the scan's work.
    gc.collect()
    gc.disable()
    try:
        with watchdog(60):
            for attempt in range(3):  # interleaved: a burst of load slows one pair, not a size
                before_each()
                small = min(small, _timed(root / f"small{attempt}", small_files))
                before_each()
                large = min(large, _timed(root / f"large{attempt}", large_files))
    finally:
        gc.enable()
    # Below a twentieth of a second fixed costs and timer noise dominate: floor it.
    assert large / max(small, 0.05) <= GROWTH_LIMIT, f"{family}: {small:.3f} s -> {large:.3f} s"


@pytest.mark.parametrize("family", sorted(GROWTH))
def test_ten_times_the_input_takes_at_most_twenty_times_as_long(
    family: str, tmp_path: Path
) -> None:
    generate, n = GROWTH[family]
    assert_grows_near_linearly(family, generate, n, tmp_path)


# --- adversarial shapes ----------------------------------------------------------------


def _call_graph(levels: int, join: str, base: str) -> str:
    """f{k} calls f{k-1} three times: 3**levels paths to f0 without memory."""
    lines = ["import asyncpg, os", "def f0(i):", f"    return {base}"]
    for k in range(1, levels + 1):
        lines += [f"def f{k}(i):", f"    return {join.join([f'f{k - 1}(i)'] * 3)}"]
    return "\n".join(lines) + "\n"


def test_an_exponential_call_graph_is_resolved_once_per_function(tmp_path: Path) -> None:
    # Every f is unknown (an environment variable), so `or` evaluates all three calls.
    source = _call_graph(24, " or ", "os.environ['DSN']")
    source += f"async def main():\n    await asyncpg.connect(f24(1) or '{DSN}')\n"
    result = scan_shape(tmp_path, {"app.py": source})
    assert [f.rule_id for f in result.report.findings] == ["VF101"]
    assert not result.report.errors


def test_a_string_doubled_by_each_function_is_a_limit_not_gigabytes(tmp_path: Path) -> None:
    """The issue's shape: `return f(i-1) + f(i-1) + f(i-1)`, 16 deep: the string would
    be 3**16 DSNs. The site cannot be judged, and the file says so."""
    source = _call_graph(16, " + ", repr(DSN))
    source += "async def main():\n    await asyncpg.connect(f16(1))\n"
    result = scan_shape(tmp_path, {"app.py": source})
    (message,) = errors_of(result)
    assert message.startswith("not fully checked: a string too large to follow")


@pytest.mark.parametrize(
    "step",
    [
        "a{k} = a{p} + a{p}",
        "a{k} = f'{{a{p}}}{{a{p}}}'",
        "a{k} = {{**a{p}, **a{p}, 'k{k}': a{p}}}",
        "a{k} = [a{p}, a{p}]",
        "a{k} = a{p}.replace('x', a{p})",
    ],
)
def test_values_that_double_at_every_line_stop_at_a_limit(step: str, tmp_path: Path) -> None:
    lines = ["import asyncpg", "a0 = {'ssl': 'disable', 'x': 'xx'} if 0 else 'x'"]
    lines += [step.format(k=k, p=k - 1) for k in range(1, 60)]
    lines.append("asyncpg.connect(a59, **a59)")
    result = scan_shape(tmp_path, {"app.py": "\n".join(lines) + "\n"})
    assert all(m.startswith("not fully checked") for m in errors_of(result))


def test_imports_that_import_each_other_end(tmp_path: Path) -> None:
    result = scan_shape(
        tmp_path,
        {
            "a.py": "import asyncpg\nfrom b import X\nasyncpg.connect(X)\n",
            "b.py": "from a import X\n",
        },
    )
    assert not result.report.errors


def test_a_spent_budget_keeps_the_findings_and_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(python_check, "budget_for", lambda size: 10)
    source = "import asyncpg, ssl\nctx = ssl._create_unverified_context()\n" + "".join(
        f"x{i} = 'a'\nasyncpg.connect(x{i} + '{DSN}')\n" for i in range(50)
    )
    result = scan_shape(tmp_path, {"app.py": source})
    assert result.report.findings  # what was judged before the budget ran out stays
    (error,) = result.report.errors
    assert error.path == "app.py"
    assert error.message.startswith("not fully checked: analysis budget exceeded (10 ")


@pytest.mark.parametrize("levels", [6, 9])
def test_a_yaml_alias_bomb_is_refused(levels: int, tmp_path: Path) -> None:
    lines = ["x: &a0 {environment: [PGSSLMODE=disable]}"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 8)}]" for k in range(1, levels + 1)]
    result = scan_shape(tmp_path, {"docker-compose.yml": "\n".join(lines) + "\n"})
    (message,) = errors_of(result)
    assert "nodes (alias bomb?)" in message
    assert not result.report.findings


def test_a_recursive_yaml_alias_is_refused(tmp_path: Path) -> None:
    result = scan_shape(tmp_path, {"docker-compose.yml": "a: &a [PGSSLMODE=disable, *a]\n"})
    assert len(result.report.errors) == 1


def test_anchors_used_as_meant_are_still_judged_once_per_place(tmp_path: Path) -> None:
    services = "".join(f"  s{i}:\n    <<: *db\n" for i in range(200))
    text = f"x-db: &db\n  environment:\n    - PGSSLMODE=disable\nservices:\n{services}"
    result = scan_shape(tmp_path, {"docker-compose.yml": text})
    assert not result.report.errors
    assert {(f.rule_id, f.line) for f in result.report.findings} == {("VF101", 3)}


@pytest.mark.parametrize(
    "files",
    [
        {".env": "PGSSLMODE=disable\n" * 20_000},
        {".env": "PGPASSWORD=" + "{{" * 100_000 + "\nDB_PASSWORD=x\n"},
        {"app.py": "import asyncpg\n" + f"asyncpg.connect('{DSN}')\n" * 5_000},
        {
            "docker-compose.yml": "services:\n  db:\n    image: postgres\n"
            f"    command: postgres -c ssl=off {'a' * 100_000}\n"
        },
    ],
    ids=["20k-findings-env", "long-template-line", "5k-python-sites", "long-command-word"],
)
def test_many_findings_and_long_lines_are_linear(
    files: dict[str, str | bytes], tmp_path: Path
) -> None:
    result = scan_shape(tmp_path, files)
    assert result.report.findings
    assert not result.report.errors


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 5000 + "1" + ")" * 5000,
        "x = " + "[" * 90 + "1" + "]" * 90 + "\n" + "y = " + " + ".join(["'a'"] * 20000),
        "".join("    " * k + f"def f{k}():\n" for k in range(95)) + "    " * 95 + "pass\n",
    ],
    ids=["parentheses", "lists-and-terms", "nested-defs"],
)
def test_deep_nesting_is_one_error_or_a_result_never_a_traceback(
    source: str, tmp_path: Path
) -> None:
    text = f"import asyncpg, ssl\nctx.check_hostname = False\nDB_PASSWORD = 'pw'\n{source}\n"
    result = scan_shape(tmp_path, {"app.py": text})
    assert len(result.report.errors) <= 1
    # a line past the parser's nesting limit is stood in for (tolerant.py): the file is
    # then "not fully checked", its other lines judged
    assert all(m.startswith(("not checked", "not fully checked")) for m in errors_of(result))


# --- memory does not change what is found ------------------------------------------------


def _random_program(rng: random.Random) -> str:
    """Bindings, functions, dicts and f-strings over each other, reused many times."""
    pieces = [repr(DSN), "'verify-full'", "'disable'", "os.environ['X']", "'db'", "port"]
    lines = ["import asyncpg, os, psycopg", "PORT = 5432"]
    names: list[str] = []
    for k in range(rng.randint(5, 25)):
        pick = lambda: rng.choice(names + pieces)  # noqa: E731
        shape = rng.randrange(6)
        if shape == 0:
            lines.append(f"v{k} = {pick()} + {pick()}")
        elif shape == 1:
            named = lambda: rng.choice([*names, "port", "PORT"])  # noqa: E731
            lines.append(f"v{k} = f'{{{named()}}}?sslmode={{{named()}}}'")
        elif shape == 2:
            lines.append(f"v{k} = {{'dsn': {pick()}, 'ssl': {pick()}}}")
        elif shape == 3:
            lines += [f"def g{k}(port=PORT):", f"    return {pick()} or {pick()}"]
            lines.append(f"v{k} = g{k}()")
        elif shape == 4:
            lines.append(f"v{k} = os.getenv('V{k}', {pick()})")
        else:
            target = rng.choice(names) if names else "v0"
            lines.append(f"v{k} = {target}")  # may refer forward: cycles
        names.append(f"v{k}")
    for name in rng.sample(names, min(6, len(names))):
        lines += [
            f"def site_{name}():",
            f"    asyncpg.connect({name})",
            f"    psycopg.connect({name}, sslmode={rng.choice(names)})",
        ]
    return "\n".join(lines) + "\n"


def _findings(source: str, tmp_path: Path) -> list[tuple[str, int, int, str, str]]:
    path = tmp_path / "app.py"
    path.write_text(source, encoding="utf-8")
    analysis = python_check.run_analysis(
        SourceFile(path, "app.py", source), ScanContext(root=tmp_path)
    )
    return sorted(
        (f.rule_id, f.line or 0, f.column or 0, f.message, f.evidence) for f in analysis.findings
    )


def test_memoised_resolution_finds_what_resolving_afresh_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from verifyfull.scan.python.effort import Effort

    rng = random.Random(11)
    programs = [_random_program(rng) for _ in range(150)]
    for program in programs:
        ast.parse(program)
    remembered = [_findings(p, tmp_path) for p in programs]
    monkeypatch.setattr(Effort, "recall", lambda self, key, depth: None)
    afresh = [_findings(p, tmp_path) for p in programs]
    assert sum(len(f) for f in remembered) > 100  # the programs do reach the rules
    assert remembered == afresh
