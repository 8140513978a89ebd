"""Issue 11, class 5: `verifyfull fix` never lowers the security of any connection.

- writes: no symbolic link followed out of the scanned tree, no hard link split
  silently, no edit made while fix runs lost (real links, a writer between plan and
  write);
"""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from verifyfull.certs.create import create_ca, create_client
from verifyfull.cli import app
from verifyfull.fix import census
from verifyfull.fix import cli as fix_cli
from verifyfull.fix import plan as plan_module
from verifyfull.fix.apply import FileChanged, read_stamped, write_atomic
from verifyfull.fix.plan import FixPlan, plan_fixes
from verifyfull.fix.python_fixes import PythonResult, fix_python
from verifyfull.lab.mitm import DowngradeProxy
from verifyfull.scan.config.envfile import parse_env
from verifyfull.scan.settings import load

INSECURE = (
    "import psycopg\n\n\n"
    "def report():\n"
    '    return psycopg.connect("host=db dbname=app user=report sslmode=disable")\n'
)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


Fixer = Callable[..., Ran]


@pytest.fixture
def fix(monkeypatch: pytest.MonkeyPatch) -> Fixer:
    """`verifyfull fix ARGS` in this process, through typer's runner (so a test can
    patch a step between planning and writing)."""
    runner = CliRunner()

    def invoke(cwd: Path, *args: str) -> Ran:
        monkeypatch.chdir(cwd)
        # every fix applied: these tests are about writing them safely, not about kinds
        result = runner.invoke(app, ["fix", "--unsafe-fixes", *args], catch_exceptions=False)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project whose app/db.py is INSECURE."""
    base = tmp_path / "repo"
    (base / "app").mkdir(parents=True)
    (base / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (base / "app" / "db.py").write_text(INSECURE, encoding="utf-8")
    return base


# --- writes ---------------------------------------------------------------------------


def test_a_symlink_out_of_the_tree_is_not_followed(tmp_path: Path, root: Path, fix: Fixer) -> None:
    outside = tmp_path / "elsewhere" / "shared_db.py"
    outside.parent.mkdir()
    outside.write_text(INSECURE, encoding="utf-8")
    (root / "app" / "db.py").unlink()
    (root / "app" / "db.py").symlink_to(outside)
    ran = fix(root)
    assert outside.read_text(encoding="utf-8") == INSECURE
    assert (root / "app" / "db.py").is_symlink()
    assert "app/db.py (VF101): not fixed: it is a symbolic link to a file outside" in ran.out
    assert "0 file(s) fixed" in ran.out
    assert ran.code == 1


def test_a_file_reached_by_a_link_inside_the_tree_is_fixed_once_under_its_name(
    root: Path, fix: Fixer
) -> None:
    real = root / "app" / "db.py"
    (root / "app" / "alias.py").symlink_to(real)
    ran = fix(root)
    assert "sslmode=verify-full" in real.read_text(encoding="utf-8")
    assert (root / "app" / "alias.py").is_symlink()
    assert "fixed app/db.py" in ran.out
    assert "app/alias.py (VF101): not fixed: it is a link to app/db.py" in ran.out


def test_a_hard_linked_file_is_refused_not_split(tmp_path: Path, root: Path, fix: Fixer) -> None:
    target = root / "app" / "db.py"
    other = tmp_path / "deploy_copy.py"
    os.link(target, other)
    ran = fix(root)
    assert target.read_text(encoding="utf-8") == INSECURE
    assert os.stat(target).st_ino == os.stat(other).st_ino  # still one file
    assert "not fixed: it has 2 hard links" in ran.out
    assert ran.code == 1
    diff = fix(root, "--diff")
    assert diff.out == ""  # nothing planned for it, in --diff either
    assert "not fixed: it has 2 hard links" in diff.err


def test_an_edit_saved_while_fix_runs_is_not_lost(
    root: Path, fix: Fixer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = root / "app" / "db.py"
    other = root / "app" / "other.py"
    other.write_text(INSECURE, encoding="utf-8")
    planned = fix_cli.plan_fixes
    edit = "# saved by the editor while fix ran\n"

    def plan_then_edit(*args: object, **kwargs: object) -> fix_cli.FixPlan:
        plan = planned(*args, **kwargs)  # type: ignore[arg-type]
        with target.open("a", encoding="utf-8") as handle:  # the concurrent writer
            handle.write(edit)
        return plan

    monkeypatch.setattr(fix_cli, "plan_fixes", plan_then_edit)
    ran = fix(root)
    assert target.read_text(encoding="utf-8") == INSECURE + edit
    assert "sslmode=verify-full" in other.read_text(encoding="utf-8")  # the others are written
    lines = [line for line in ran.err.splitlines() if "db.py" in line]
    assert len(lines) == 1 and "changed while fix ran" in lines[0]
    assert ran.code == 1


def test_write_atomic_compares_bytes_and_identity_before_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "db.py"
    target.write_text("a = 1\n", encoding="utf-8")
    data, stamp = read_stamped(target)
    replaced = tmp_path / "new.py"
    replaced.write_text("a = 1\n", encoding="utf-8")
    os.replace(replaced, target)  # same bytes, another file (an editor's save)
    with pytest.raises(FileChanged):
        write_atomic(target, b"a = 2\n", expected=data, stamp=stamp)
    assert target.read_text(encoding="utf-8") == "a = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["db.py"]  # no temporary file left
    data, stamp = read_stamped(target)
    write_atomic(target, b"a = 2\n", expected=data, stamp=stamp)
    assert target.read_text(encoding="utf-8") == "a = 2\n"


# --- no verdict gets worse ------------------------------------------------------------

SHARED_DSN = '"postgresql://app@db/app?sslmode=verify-full&sslrootcert=/certs/ca.crt"'
ISSUE_EXAMPLE = f"""import asyncpg
import psycopg

DSN = {SHARED_DSN}


def report():
    return psycopg.connect(DSN)


async def api():
    return await asyncpg.connect(DSN, ssl="require")
"""


def write_tree(base: Path, files: dict[str, str]) -> Path:
    (base / "pyproject.toml").parent.mkdir(parents=True, exist_ok=True)
    (base / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    for relpath, text in files.items():
        (base / relpath).parent.mkdir(parents=True, exist_ok=True)
        (base / relpath).write_text(text, encoding="utf-8")
    return base


def planned(base: Path) -> FixPlan:
    return plan_fixes([base], load(base))


def test_the_issue_example_keeps_the_shared_string(tmp_path: Path) -> None:
    """One DSN feeds a verify-full psycopg call and an asyncpg call with ssl="require":
    the asyncpg call gets a context built from the DSN's files and the DSN is kept (the
    old fix stripped its sslmode, leaving psycopg with a plaintext fallback)."""
    base = write_tree(tmp_path / "repo", {"app/db.py": ISSUE_EXAMPLE})
    before = census.take(base, ["app/db.py"])
    plan = planned(base)
    (fixed,) = plan.fixes
    after = fixed.after.decode()
    assert f"DSN = {SHARED_DSN}" in after
    assert 'ssl.create_default_context(cafile="/certs/ca.crt")' in after
    assert "asyncpg.connect(DSN, ssl=ssl_context)" in after
    fixed.path.write_bytes(fixed.after)
    assert census.regressions(before, census.take(base, ["app/db.py"])) == []
    assert plan.refused == ()
    # What is left: the scanner's note that asyncpg ignores the DSN's certificate files
    # next to the context (they stay: psycopg reads them; its sslmode=verify-full the
    # context meets, so that one is not named); a second run changes nothing.
    left = [(f.rule_id, "ignores sslrootcert" in f.message) for f in plan.left]
    assert left == [("VF105", True)]
    assert planned(base).fixes == ()


def _strip_shared_dsn_on(line: int) -> object:
    """A codemod with the old bug: fixing `line` also strips the shared DSN's TLS keys."""
    real = plan_module.fix_python

    def buggy(text: str, lines: Iterable[int], **options: bool) -> PythonResult:
        result = real(text, lines, **options)
        if line in set(lines):
            return PythonResult(
                result.text.replace(SHARED_DSN, '"postgresql://app@db/app"'), result.actions
            )
        return result

    return buggy


def test_an_edit_that_weakens_another_site_is_refused_and_listed(
    tmp_path: Path, fix: Fixer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a codemod does: the net judges the result, not the codemod."""
    monkeypatch.setattr(plan_module, "fix_python", _strip_shared_dsn_on(12))
    base = write_tree(tmp_path / "repo", {"app/db.py": ISSUE_EXAMPLE})
    plan = planned(base)
    assert plan.fixes == ()
    (refusal,) = plan.refused
    assert (refusal.relpath, refusal.line, refusal.rules) == ("app/db.py", 12, ("VF104",))
    assert "psycopg.connect() at app/db.py:8" in refusal.reason
    assert "from verify-full to TLS with a plaintext fallback" in refusal.reason
    assert [f.rule_id for f in plan.left] == ["VF104"]  # still reported, for a person
    ran = fix(base)
    assert (base / "app" / "db.py").read_text(encoding="utf-8") == ISSUE_EXAMPLE
    assert "refused (each for a person):" in ran.out
    assert ran.code == 1


def test_a_reader_in_another_module_is_re_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared constant lives next to the asyncpg call; psycopg imports it elsewhere."""
    monkeypatch.setattr(plan_module, "fix_python", _strip_shared_dsn_on(7))
    db = ISSUE_EXAMPLE.replace("\n\ndef report():\n    return psycopg.connect(DSN)\n", "").replace(
        "import psycopg\n", ""
    )
    report = (
        "import psycopg\n\nfrom app.db import DSN\n\n\n"
        "def report():\n    return psycopg.connect(DSN)\n"
    )
    files = {"app/__init__.py": "", "app/db.py": db, "app/report.py": report}
    base = write_tree(tmp_path / "repo", files)
    plan = planned(base)
    assert plan.fixes == ()
    (refusal,) = plan.refused
    assert "psycopg.connect() at app/report.py:7" in refusal.reason


def test_only_the_weakening_line_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another site of the same file is still fixed (the fixer re-planned per line)."""
    monkeypatch.setattr(plan_module, "fix_python", _strip_shared_dsn_on(12))
    text = ISSUE_EXAMPLE + (
        "\n\ndef nightly():\n"
        '    return psycopg.connect("host=db dbname=app user=report sslmode=disable")\n'
    )
    base = write_tree(tmp_path / "repo", {"app/db.py": text})
    plan = planned(base)
    (fixed,) = plan.fixes
    assert [r.line for r in plan.refused] == [12]
    after = fixed.after.decode()
    assert 'ssl="require"' in after and SHARED_DSN in after  # the shared string is kept
    assert "sslmode=verify-full" in after.split("def nightly")[1]


_MODES = st.sampled_from(["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
_ROOT = st.sampled_from(["", "/certs/ca.crt"])
_SITES = st.sampled_from(
    [
        "psycopg.connect({dsn})",
        "psycopg.connect({dsn}, sslmode='require')",
        "asyncpg.connect({dsn})",
        "asyncpg.connect({dsn}, ssl='require')",
        "asyncpg.connect({dsn}, ssl=True)",
        "asyncpg.connect({dsn}, ssl=False)",
        "create_engine({dsn}.replace('postgresql://', 'postgresql+psycopg://'))",
    ]
)


def _dsn(mode: str, root: str) -> str:
    query = "&".join(
        p for p in (f"sslmode={mode}" if mode else "", f"sslrootcert={root}" if root else "") if p
    )
    return repr("postgresql://app@db/app" + (f"?{query}" if query else ""))


@st.composite
def projects(draw: st.DrawFn) -> dict[str, str]:
    """Two DSN constants (one in a shared module, one next to the sites) and maybe a .env
    (DATABASE_URL, PGSSLMODE) that code reads, read by two to four sites of psycopg,
    asyncpg and SQLAlchemy spread over two modules."""
    shared = _dsn(draw(_MODES), draw(_ROOT))
    local = _dsn(draw(_MODES), draw(_ROOT))
    header = "import os\n\nimport asyncpg\nimport psycopg\nfrom sqlalchemy import create_engine\n\n"
    modules = {
        "app/shared.py": f"{header}SHARED = {shared}\n",
        "app/sites.py": f"{header}from app.shared import SHARED\n\nLOCAL = {local}\n",
    }
    readers = ["SHARED", "LOCAL"]
    if draw(st.booleans()):
        lines = [f"DATABASE_URL={_dsn(draw(_MODES), draw(_ROOT))[1:-1]}"]
        mode = draw(_MODES)
        if mode:
            lines.append(f"PGSSLMODE={mode}")
        modules[".env"] = "\n".join(lines) + "\n"
        readers.append('os.environ["DATABASE_URL"]')
    for index in range(draw(st.integers(2, 4))):
        where = draw(st.sampled_from(["app/shared.py", "app/sites.py"]))
        choices = [r for r in readers if r != "LOCAL" or where == "app/sites.py"]
        call = draw(_SITES).format(dsn=draw(st.sampled_from(choices)))
        modules[where] += f"\n\nasync def site{index}():\n    return {call}\n"
    return {"app/__init__.py": "", **modules}


@settings(
    max_examples=int(os.environ.get("VERIFYFULL_FIX_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=projects())
def test_generated_projects_no_site_gets_worse(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, str]
) -> None:
    """Random small projects: fix, write, judge again: no site is worse than before,
    every changed module compiles, a second run changes nothing."""
    base = write_tree(tmp_path_factory.mktemp("proj"), files)
    python = sorted(f for f in files if f.endswith(".py"))
    config = [f for f in files if not f.endswith(".py")]

    def judged() -> census.Census:
        values = parse_env((base / ".env").read_text()) if ".env" in files else []
        env = {s.key: s.value for s in values}
        pg = {k: v for k, v in env.items() if k.startswith("PG")}
        return census.take(base, python, config, env=pg, values=env)

    before = judged()
    plan = planned(base)
    for fixed in plan.fixes:
        if fixed.relpath.endswith(".py"):
            compile(fixed.after, fixed.relpath, "exec", dont_inherit=True)
        fixed.path.write_bytes(fixed.after)
    assert census.regressions(before, judged()) == []
    assert planned(base).fixes == ()


LIVE_CHECK = """
import asyncio, sys
import psycopg
import app.db as db
QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
with db.report() as conn:
    print("psycopg TLS", conn.execute(QUERY).fetchone()[0])
async def api():
    conn = await db.api()
    try:
        print("asyncpg TLS", await conn.fetchval(QUERY))
    finally:
        await conn.close()
asyncio.run(api())
db.DSN = db.DSN.replace(sys.argv[1], sys.argv[2])  # the same string, dialled via the proxy
try:
    db.report().close()
    print("psycopg through the proxy: connected")
except psycopg.OperationalError:
    print("psycopg through the proxy: refused")
"""


@pytest.mark.pg
def test_live_the_shared_dsn_still_refuses_a_downgrading_proxy(lab: object, tmp_path: Path) -> None:
    """After the fix both calls connect with TLS, and the psycopg call, dialled through a
    proxy that answers 'N' to SSLRequest, refuses instead of going on in plaintext."""
    server = lab("secure")  # type: ignore[operator]
    certs = server.certs_dir
    dsn = (
        f'"postgresql://root@{server.hostname}:{server.port}/{server.database}'
        f"?sslmode=verify-full&sslrootcert={certs / 'ca.crt'}"
        f'&sslcert={certs / "client.root.crt"}&sslkey={certs / "client.root.key"}"'
    )
    base = write_tree(
        tmp_path / "repo",
        {"app/__init__.py": "", "app/db.py": ISSUE_EXAMPLE.replace(SHARED_DSN, dsn)},
    )
    plan = planned(base)
    assert [f.relpath for f in plan.fixes] == ["app/db.py"] and plan.refused == ()
    for fixed in plan.fixes:
        fixed.path.write_bytes(fixed.after)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PYTHONPATH=str(base), HOME=str(certs.parent))
    with DowngradeProxy(server.host, server.port) as proxy:
        ran = subprocess.run(
            [
                sys.executable,
                "-c",
                LIVE_CHECK,
                f"{server.hostname}:{server.port}/",
                f"{server.hostname}:{proxy.port}/",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.splitlines() == [
        "psycopg TLS True",
        "asyncpg TLS True",
        "psycopg through the proxy: refused",
    ]
    assert proxy.refused_tls_requests >= 1
    assert proxy.startup_messages == []  # not even the user name crossed in cleartext


# --- fixed code runs, whatever names the module binds ---------------------------------

_INSERTED = ["ssl", "os", "Guard", "ssl_context", "db_ssl_context"]
_SPOTS = ["module", "import", "param", "local", "loop", "except", "class"]
_SITE_LINES = {
    "asyncpg": 'return await asyncpg.connect("postgresql://app@db/app", ssl="require")',
    "psycopg literal": 'return psycopg.connect("host=db dbname=app user=app sslmode=disable")',
    "psycopg keywords": "return psycopg.connect(DSN_FROM_SETTINGS, sslmode='require')",
}


def _shadow(name: str, spot: str) -> tuple[str, str, str]:
    """(module lines, parameter, body lines) that bind `name` at `spot`."""
    return {
        "module": (f"{name} = None\n", "", ""),
        "import": (f"import json as {name}\n", "", ""),
        "param": ("", f"{name}=None", ""),
        "local": ("", "", f"    {name} = 1\n"),
        "loop": ("", "", f"    for {name} in ():\n        pass\n"),
        "except": (
            "",
            "",
            f"    try:\n        pass\n    except Exception as {name}:\n        pass\n",
        ),
        "class": (f"class Holder:\n    {name} = None\n", "", ""),
    }[spot]


@st.composite
def shadowing_modules(draw: st.DrawFn) -> tuple[str, int, str]:
    """A module with one connection site in `fetch` and names the fixes insert bound
    elsewhere (text, the site's line, the site's kind)."""
    imports = "import asyncpg\nimport psycopg\n"
    imports += "".join(
        draw(st.lists(st.sampled_from(["import ssl\n", "import os\n"]), unique=True))
    )
    module, params, body = "", [], ""
    for name, spot in draw(
        st.lists(
            st.tuples(st.sampled_from(_INSERTED), st.sampled_from(_SPOTS)), min_size=1, max_size=4
        )
    ):
        extra_module, param, extra_body = _shadow(name, spot)
        if param and param not in params:
            params.append(param)
        module += extra_module
        body += extra_body
    kind = draw(st.sampled_from(sorted(_SITE_LINES)))
    head = (
        f"{imports}DSN_FROM_SETTINGS = 'host=db dbname=app'\n{module}\n\n"
        f"async def fetch({', '.join(params)}):\n{body}"
    )
    return head + f"    {_SITE_LINES[kind]}\n", head.count("\n") + 1, kind


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    certs = tmp_path_factory.mktemp("certs")
    create_ca(certs, certs.parent / "ca.key")
    create_client("app", certs, certs.parent / "ca.key")
    return {
        "DB_CA_PATH": str(certs / "ca.crt"),
        "DB_CERT_PATH": str(certs / "client.app.crt"),
        "DB_KEY_PATH": str(certs / "client.app.key"),
    }


def _drivers() -> dict[str, types.ModuleType]:
    """asyncpg and psycopg that hand back what they were called with."""
    asyncpg, psycopg = types.ModuleType("asyncpg"), types.ModuleType("psycopg")

    async def connect(*args: object, **kwargs: object) -> tuple[object, ...]:
        return ("asyncpg", args, kwargs)

    asyncpg.connect = connect  # type: ignore[attr-defined]
    psycopg.connect = lambda *args, **kwargs: ("psycopg", args, kwargs)  # type: ignore[attr-defined]
    guard = types.ModuleType("verifyfull.guard")

    class Guard:
        @staticmethod
        def from_env() -> Guard:
            return Guard()

        def ssl_context(self) -> ssl.SSLContext:
            return ssl.create_default_context(cafile=os.environ["DB_CA_PATH"])

    guard.Guard = Guard  # type: ignore[attr-defined]
    return {"asyncpg": asyncpg, "psycopg": psycopg, "verifyfull.guard": guard}


@settings(
    max_examples=int(os.environ.get("VERIFYFULL_FIX_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=shadowing_modules(), use_guard=st.booleans())
def test_fixed_code_runs_whatever_the_module_shadows(
    case: tuple[str, int, str],
    use_guard: bool,
    cert_files: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Random bindings of every name the codemods insert (ssl, os, Guard, the context
    variable) as module globals, import aliases, parameters, locals, loop and exception
    names, class attributes: the fixed function runs and hands the driver verify-full."""
    text, line, kind = case
    fixed = fix_python(text, [line], use_guard=use_guard).text
    assert fixed != text
    for name, value in cert_files.items():
        monkeypatch.setenv(name, value)
    for name, module in _drivers().items():
        monkeypatch.setitem(sys.modules, name, module)
    namespace: dict[str, object] = {"__name__": "fixed"}
    exec(compile(fixed, "fixed.py", "exec", dont_inherit=True), namespace)
    _, args, kwargs = asyncio.run(namespace["fetch"]())  # type: ignore[operator]
    if kind == "asyncpg":
        context = kwargs["ssl"]
        assert isinstance(context, ssl.SSLContext)
        assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED
    elif kind == "psycopg literal":  # a keyword string: the files as keyword arguments
        assert "sslmode=verify-full" in args[0]
        assert kwargs["sslrootcert"] == cert_files["DB_CA_PATH"]
    else:
        assert (
            kwargs["sslmode"] == "verify-full" and kwargs["sslrootcert"] == cert_files["DB_CA_PATH"]
        )
