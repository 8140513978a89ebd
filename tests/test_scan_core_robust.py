"""Whatever a file holds, the scan finishes: an error entry naming the file, never a
traceback or a hang."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from verifyfull.scan import dispatch, engine
from verifyfull.scan.settings import ScanSettings
from verifyfull.scan.walk import WalkedFile

FIXTURES = Path(__file__).parent / "fixtures" / "scan" / "python"


def scan(root: Path, **settings: object) -> engine.ScanResult:
    return engine.scan([root], ScanSettings(project_root=root, **settings), jobs=1)  # type: ignore[arg-type]


def errors_by_path(result: engine.ScanResult) -> dict[str, str]:
    return {e.path or "": e.message for e in result.report.errors}


def test_unparseable_binary_and_non_utf8_files_become_error_entries(tmp_path: Path) -> None:
    """Files that hold something to check; a file no rule could fire on is not parsed."""
    relevant = "import ssl\nctx.check_hostname = False\n"
    (tmp_path / "syntax.py").write_text(relevant + "def broken(:\n", encoding="utf-8")
    (tmp_path / "binary.py").write_bytes(b"ssl\x00\x01\x02" * 10)
    (tmp_path / "latin1.py").write_bytes("# café\nimport ssl\n".encode("latin-1"))
    (tmp_path / "declared.py").write_bytes(
        b"# -*- coding: latin-1 -*-\n# caf\xe9\nimport ssl\n"
        b"ctx = ssl._create_unverified_context()\n"
    )
    (tmp_path / "nul.py").write_bytes(relevant.encode() + b"x = 1\n" * 2000 + b"\x00")
    result = scan(tmp_path)
    errors = errors_by_path(result)
    assert "syntax error at line 3" in errors["syntax.py"]
    assert "binary content" in errors["binary.py"]
    assert "not valid UTF-8" in errors["latin1.py"]
    assert "not parseable as Python" in errors["nul.py"]
    # A PEP 263 declaration is honoured: the file is checked, not refused.
    assert "declared.py" not in errors
    assert [f.rule_id for f in result.report.findings] == ["VF103"]


def test_huge_files_are_reported_not_read(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("import ssl\n" + "x = 1\n" * 1000, encoding="utf-8")
    errors = errors_by_path(scan(tmp_path, max_file_size=1000))
    assert "over the 1000-byte limit" in errors["big.py"]


def test_deeply_nested_expressions_do_not_crash(tmp_path: Path) -> None:
    head = "import ssl\nctx.check_hostname = False\nDB_PASSWORD = x\n"
    deep_call = head + "x = " + "f(" * 5000 + "1" + ")" * 5000 + "\n"
    long_chain = head + "x = " + " + ".join(["'a'"] * 50000) + "\n"
    (tmp_path / "deep.py").write_text(deep_call, encoding="utf-8")
    (tmp_path / "chain.py").write_text(long_chain, encoding="utf-8")
    result = scan(tmp_path)
    errors = errors_by_path(result)
    assert set(errors) <= {"deep.py", "chain.py"}
    assert all(
        message.startswith(("not checked", "not fully checked")) for message in errors.values()
    )
    # the parser refuses 5000 nested calls: that line is stood in for, the rest judged
    assert "deep.py" in errors and "line 4" in errors["deep.py"]


def test_symlink_loops_and_fifos_are_error_entries_when_they_look_like_code(
    tmp_path: Path,
) -> None:
    import os

    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(tmp_path / "pipe.unknown-extension")
    errors = errors_by_path(scan(tmp_path))
    assert set(errors) == {"a.py", "b.py", "pipe.py"}


def test_unreadable_file_is_an_error_entry(tmp_path: Path) -> None:
    target = tmp_path / "db.py"
    target.write_text("import ssl\n", encoding="utf-8")
    walked = WalkedFile(target, "db.py")
    target.unlink()  # vanishes between the walk and the read
    outcome = engine.scan_file(walked, engine.ScanContext(root=tmp_path), 10_000)
    assert not outcome.findings
    assert "cannot read" in outcome.errors[0].message


def _mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        action = rng.random()
        position = rng.randrange(len(chars) + 1)
        if action < 0.4 and chars:
            del chars[min(position, len(chars) - 1)]
        elif action < 0.8:
            chars.insert(position, rng.choice("()[]{}'\":=,.\n\\#f+*x0 \t\x00é"))
        else:
            start = rng.randrange(len(chars) + 1)
            chars[start:start] = chars[position : position + rng.randint(1, 40)]
    return "".join(chars)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_inputs_never_crash_the_scan(tmp_path: Path, seed: int) -> None:
    """Bounded fuzz: 60 mutations per seed of every Python fixture (and any config
    fixture part B ships), each scanned through the full engine path."""
    rng = random.Random(seed)
    sources = sorted(FIXTURES.rglob("*.py"))
    config_fixtures = Path(__file__).parent / "fixtures" / "scan" / "config"
    if config_fixtures.is_dir():
        sources += sorted(p for p in config_fixtures.rglob("*") if p.is_file())[:20]
    ctx = engine.ScanContext(root=tmp_path)
    for index in range(60):
        source = rng.choice(sources)
        target = tmp_path / f"m{index}{source.suffix or ''}"
        if source.name.startswith(".env") or source.name in ("Dockerfile", "pg_hba.conf"):
            target = tmp_path / f"m{index}" / source.name
            target.parent.mkdir()
        mutated = _mutate(source.read_text(encoding="utf-8", errors="replace"), rng)
        target.write_bytes(mutated.encode("utf-8", "surrogatepass"))
        outcome = engine.scan_file(WalkedFile(target, target.name), ctx, 1_000_000)
        for error in outcome.errors:
            assert "internal error" not in error.message, (source.name, error.message)


def test_parallel_scan_equals_sequential_scan(tmp_path: Path) -> None:
    """Above the threshold the files go to worker processes: same report either way."""
    for n in range(dispatch.PARALLEL_THRESHOLD + 10):
        text = "import psycopg\n" + f'psycopg.connect("postgresql://app@db/app{n}")\n' * (n % 3)
        (tmp_path / f"m{n}.py").write_text(text, encoding="utf-8")
    (tmp_path / "bad.py").write_text("import ssl\nctx.check_hostname = False\ndef (\n")
    settings = ScanSettings(project_root=tmp_path)
    one = engine.scan([tmp_path], settings, jobs=1).report
    two = engine.scan([tmp_path], settings, jobs=2).report
    assert one.to_json() == two.to_json()
    # bad.py: its broken line stood in for (scan/python/tolerant.py), its weakened context
    # judged, and the file reported as not fully checked
    assert len(one.findings) == sum(n % 3 for n in range(dispatch.PARALLEL_THRESHOLD + 10)) + 1
    assert len(one.errors) == 1


def test_default_workers_are_one_per_core_only_for_a_large_tree() -> None:
    cores = dispatch.usable_cores()
    many, heavy = dispatch.PARALLEL_THRESHOLD, dispatch.PARALLEL_MIN_BYTES
    few = dispatch.PARALLEL_MIN_FILES_BY_BYTES
    assert dispatch.default_jobs(many - 1, heavy - 1) == 1
    assert dispatch.default_jobs(few - 1, heavy * 10) == 1  # a few huge files: no pool
    assert dispatch.default_jobs(many, 0) == cores  # many files, whatever their bytes
    assert dispatch.default_jobs(few, heavy) == cores  # fewer but large ones


def test_a_pool_starts_for_fewer_but_large_files(tmp_path: Path) -> None:
    count = dispatch.PARALLEL_MIN_FILES_BY_BYTES + 1
    size = dispatch.PARALLEL_MIN_BYTES // dispatch.PARALLEL_MIN_FILES_BY_BYTES + 1
    heavy = (WalkedFile(tmp_path / f"m{n}.py", f"m{n}.py", size) for n in range(count))
    light = (WalkedFile(tmp_path / f"m{n}.py", f"m{n}.py", 1) for n in range(count))
    assert {pid for pid, _ in dispatch.run(heavy, _where_and_what, 2)} - {PARENT}
    assert {pid for pid, _ in dispatch.run(light, _where_and_what, 2)} == {PARENT}


PARENT = os.getpid()


def _where_and_what(chunk: Sequence[WalkedFile]) -> list[tuple[int, str]]:
    return [(os.getpid(), walked.relpath) for walked in chunk]


def _dies_in_a_worker(chunk: Sequence[WalkedFile]) -> list[tuple[int, str]]:
    if os.getpid() != PARENT:
        os._exit(3)  # a worker killed (out of memory, SIGKILL)
    return _where_and_what(chunk)


def _walk(tmp_path: Path, count: int) -> Iterator[WalkedFile]:
    for n in range(count):  # sizes vary, so chunks of files and of bytes both occur
        yield WalkedFile(tmp_path / f"m{n}.py", f"m{n}.py", (n % 7) * 90_000)


def test_streamed_pool_keeps_the_walk_order_and_uses_workers(tmp_path: Path) -> None:
    count = dispatch.PARALLEL_THRESHOLD * 2
    results = dispatch.run(_walk(tmp_path, count), _where_and_what, jobs=2)
    assert [name for _, name in results] == [f"m{n}.py" for n in range(count)]
    assert {pid for pid, _ in results} - {PARENT}  # the work ran in worker processes


def test_small_tree_and_one_job_stay_in_this_process(tmp_path: Path) -> None:
    small = dispatch.run(
        _walk(tmp_path, dispatch.PARALLEL_MIN_FILES_BY_BYTES - 1), _where_and_what, 2
    )
    one = dispatch.run(_walk(tmp_path, dispatch.PARALLEL_THRESHOLD * 2), _where_and_what, 1)
    assert {pid for pid, _ in small} == {pid for pid, _ in one} == {PARENT}


def test_a_broken_pool_falls_back_to_this_process(tmp_path: Path) -> None:
    count = dispatch.PARALLEL_THRESHOLD * 2
    results = dispatch.run(_walk(tmp_path, count), _dies_in_a_worker, jobs=2)
    assert [name for _, name in results] == [f"m{n}.py" for n in range(count)]
    assert {pid for pid, _ in results} == {PARENT}


@pytest.mark.parametrize("scheme", ["postgresl", "sqlite", "mysql+pymysql", "x"])
@pytest.mark.parametrize("project", ["flask_migrate", "flask_migrate_verified"])
def test_a_framework_site_whose_url_is_not_postgresql_is_no_site_not_a_crash(
    tmp_path: Path, scheme: str, project: str
) -> None:
    """Flask-Migrate's env.py is judged through the app's URI by the call handlers:
    another backend's URL there is "not a site" from either side (one NotASite class),
    never an internal error (the fuzz test above found a misspelt scheme)."""
    root = tmp_path / project
    shutil.copytree(FIXTURES / project, root)
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('f"postgresql://', f'f"{scheme}://'), encoding="utf-8")
    result = scan(root)
    assert not [e.message for e in result.report.errors if "internal error" in e.message]
