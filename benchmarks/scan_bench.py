"""Benchmark `verifyfull scan` (and, when installed, Bandit, Semgrep and `ruff check
--select S`) on the same trees, same machine, same run: wall time and peak memory.

    .venv/bin/python benchmarks/scan_bench.py                      # generated + examples
    .venv/bin/python benchmarks/scan_bench.py --tree DIR --x4      # a large real tree, 1x and 4x
    .venv/bin/python benchmarks/scan_bench.py --bandit B --semgrep S --ruff R ...

Trees:
- generated: ~2,000 Python modules (seeded), 1 in 10 with database, ssl or secret code;
- examples/insecure_app;
- --tree DIR: e.g. a copy of a virtualenv's site-packages (copy it out of the
  virtualenv: every tool skips paths under .venv or site-packages by default);
  --x4 also scans four copies of it side by side (linearity).
Peak memory is the largest resident set of the tool and its worker processes
(os.wait4 on the tool's process). Results print as a Markdown table.

verifyfull runs as an installed package does: from bytecode (.pyc files, which pip
writes at install time; here a scratch PYTHONPYCACHEPREFIX filled by one warm-up
scan per tree, even where PYTHONDONTWRITEBYTECODE is set). --source-each-run measures it compiling
its modules from source at every start instead (0.1-0.15 s more per run). Wall
time and CPU time (user + system, workers included) are each the best of --repeat;
the median CPU time is printed beside it.

Two versions of verifyfull, interleaved run by run (on a loaded machine only CPU time
compares, and only within one run of this script):

    git -C /work/main archive HEAD src | tar -x -C /tmp/main-src
    .venv/bin/python benchmarks/scan_bench.py --tree /tmp/speed/treedj --tree-only \
        --repeat 5 --variant main=/tmp/main-src/src --variant branch=src

--variant NAME=SRC runs `python -m verifyfull` with PYTHONPATH=SRC (its own bytecode
cache); without --variant the installed verifyfull runs. The benchmark tree is made
by benchmarks/make_bench_tree.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERIFYFULL = [sys.executable, "-m", "verifyfull", "scan"]
DEFAULT_RUN = "verifyfull (default jobs)"  # one worker per core on a large tree

# A local Semgrep rule set of the same concern (no registry access needed).
SEMGREP_RULES = """
rules:
  - id: postgres-sslmode-disabled
    pattern-regex: postgres(ql)?(\\+\\w+)?://[^"']*sslmode=(disable|allow|prefer)
    message: database connection without TLS
    languages: [python]
    severity: ERROR
  - id: ssl-cert-none
    pattern: $CTX.verify_mode = ssl.CERT_NONE
    message: certificate not verified
    languages: [python]
    severity: ERROR
  - id: ssl-no-hostname
    pattern: $CTX.check_hostname = False
    message: host name not verified
    languages: [python]
    severity: ERROR
  - id: asyncpg-connect-without-ssl
    patterns:
      - pattern: asyncpg.connect(...)
      - pattern-not: asyncpg.connect(..., ssl=$S, ...)
    message: asyncpg without ssl
    languages: [python]
    severity: WARNING
"""

_PLAIN_MODULE = '''"""Module {n}: ordinary application code."""

from dataclasses import dataclass


@dataclass
class Item{n}:
    name: str
    price: float
    tags: tuple[str, ...] = ()

    def total(self, quantity: int) -> float:
        return round(self.price * quantity * (1 + {tax} / 100), 2)


def parse_{n}(rows: list[dict[str, str]]) -> list[Item{n}]:
    items = []
    for row in rows:
        if not row.get("name"):
            continue
        tags = tuple(row.get("tags", "").split(","))
        items.append(Item{n}(row["name"], float(row.get("price", 0)), tags))
    return sorted(items, key=lambda item: item.name)


def summary_{n}(items: list[Item{n}]) -> dict[str, float]:
    prices = [i.price for i in items]
    return {{"count": len(items), "sum": sum(prices), "max": max(prices, default=0.0)}}
'''

_DB_MODULES = (
    """import os
import asyncpg

DSN = os.getenv("DATABASE_URL", "postgresql://app@db:26257/app{n}")


async def fetch_{n}(limit: int):
    conn = await asyncpg.connect(DSN)
    try:
        return await conn.fetch("SELECT * FROM t{n} LIMIT $1", limit)
    finally:
        await conn.close()
""",
    """from sqlalchemy import create_engine

engine_{n} = create_engine("postgresql+psycopg://app@db:26257/app?sslmode=verify-full&sslrootcert=certs/ca.crt")
""",
    """import ssl

ctx_{n} = ssl.create_default_context(cafile="ca.crt")
ctx_{n}.check_hostname = False
""",
    """import hashlib
import random


def token_{n}() -> str:
    return "".join(random.choice("abcdef0123456789") for _ in range(32))


def cache_key_{n}(url: str) -> str:
    return hashlib.md5(url.encode()).hexdigest()
""",
)


def generate_tree(dest: Path, files: int = 2000, seed: int = 4) -> Path:
    rng = random.Random(seed)
    for n in range(files):
        package = dest / f"pkg{n // 50}"
        package.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.1:
            text = rng.choice(_DB_MODULES).format(n=n)
        else:
            text = _PLAIN_MODULE.format(n=n, tax=rng.randint(0, 25))
        (package / f"mod{n}.py").write_text(text, encoding="utf-8")
    return dest


@dataclass(frozen=True)
class Measure:
    tool: str
    tree: str
    files: int
    seconds: float
    cpu_seconds: float  # user + system of the tool and its reaped workers
    peak_mb: float
    exit_code: int


def python_files(tree: Path) -> int:
    return sum(1 for _ in tree.rglob("*.py"))


def bytecode_env(scratch: Path) -> dict[str, str]:
    """The environment of an installed verifyfull: modules loaded from cached bytecode
    (kept in scratch, not beside the sources), whatever this shell says."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def measure(
    tool: str,
    command: list[str],
    tree: Path,
    files: int,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> Measure:
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Measure(tool, tree.name, files, seconds, cpu, usage.ru_maxrss / 1024, process.returncode)


def variants(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    """The verifyfull versions to run: (label, source folder), or the installed one."""
    chosen: list[tuple[str, Path | None]] = []
    for given in args.variant:
        name, _, src = given.partition("=")
        if not name or not src:
            sys.exit(f"--variant {given!r}: write NAME=SRC")
        chosen.append((name, Path(src).resolve()))
    return chosen or [("", None)]


def verifyfull_env(
    scratch: Path, name: str, src: Path | None, source_each_run: bool
) -> dict[str, str] | None:
    env = None if source_each_run else bytecode_env(scratch / (name or "installed"))
    if src is not None:
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = str(src)
    return env


def commands(
    args: argparse.Namespace, tree: Path, scratch: Path
) -> list[tuple[str, list[str], dict[str, str] | None]]:
    chosen: list[tuple[str, list[str], dict[str, str] | None]] = []
    for name, src in variants(args):
        label = f" [{name}]" if name else ""
        env = verifyfull_env(scratch, name, src, args.source_each_run)
        chosen.append(
            (DEFAULT_RUN + label, [*VERIFYFULL, str(tree), "-f", "json", "-o", os.devnull], env)
        )
        chosen.append(
            (
                "verifyfull (1 job)" + label,
                [*VERIFYFULL, str(tree), "--jobs", "1", "-f", "json", "-o", os.devnull],
                env,
            )
        )
    if args.ruff:
        chosen.append(
            (
                "ruff check --select S",
                [args.ruff, "check", "--select", "S", "--no-cache", "-q", "--exit-zero", str(tree)],
                None,
            )
        )
    if args.bandit and not (args.skip_slow and tree.name.endswith("x4")):
        chosen.append(
            (
                "bandit -r",
                [args.bandit, "-r", "-q", "-f", "json", "-o", os.devnull, str(tree)],
                None,
            )
        )
    if args.semgrep and not (args.skip_slow and tree.name.endswith("x4")):
        rules = scratch / "semgrep-rules.yml"
        rules.write_text(SEMGREP_RULES, encoding="utf-8")
        chosen.append(
            (
                "semgrep (4 rules, -j 2)",
                [
                    args.semgrep,
                    "scan",
                    "--config",
                    str(rules),
                    "--metrics=off",
                    "--disable-version-check",
                    "-j",
                    "2",
                    "-q",
                    "--json",
                    "-o",
                    os.devnull,
                    "--no-git-ignore",
                    str(tree),
                ],
                None,
            )
        )
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tree", type=Path, help="a large real tree to scan as well")
    parser.add_argument("--x4", action="store_true", help="also scan 4 copies of --tree")
    parser.add_argument("--files", type=int, default=2000, help="size of the generated tree")
    parser.add_argument("--ruff", help="ruff executable to compare with")
    parser.add_argument("--bandit", help="bandit executable to compare with")
    parser.add_argument("--semgrep", help="semgrep executable to compare with")
    parser.add_argument(
        "--skip-slow", action="store_true", help="no Bandit or Semgrep on the 4x tree"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best is kept")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=SRC",
        help="run verifyfull from SRC (PYTHONPATH), interleaved with the other variants",
    )
    parser.add_argument(
        "--tree-only", action="store_true", help="only --tree (no generated tree, no examples)"
    )
    parser.add_argument(
        "--source-each-run",
        action="store_true",
        help="verifyfull compiles its modules at every start (no bytecode cache)",
    )
    args = parser.parse_args()
    for name in ("ruff", "bandit", "semgrep"):
        given = getattr(args, name)
        if given:  # the tools run from a scratch directory: make paths absolute
            found = shutil.which(given)
            setattr(args, name, str(Path(found).resolve()) if found else given)

    with tempfile.TemporaryDirectory(prefix="vf-bench-") as scratch_name:
        scratch = Path(scratch_name)
        trees = []
        if not (args.tree_only and args.tree):
            trees += [
                generate_tree(scratch / "generated", args.files),
                ROOT / "examples" / "insecure_app",
            ]
        if args.tree:
            big = scratch / f"{args.tree.name}-1x"
            shutil.copytree(args.tree, big, symlinks=True)
            trees.append(big)
            if args.x4:
                four = scratch / f"{args.tree.name}-x4"
                for part in "abcd":
                    shutil.copytree(args.tree, four / part, symlinks=True)
                trees.append(four)
        rows: list[Measure] = []
        print(f"load average at the start: {os.getloadavg()[0]:.1f}", file=sys.stderr)
        for tree in trees:
            files = python_files(tree)
            chosen = commands(args, tree, scratch)
            # Rounds interleave the tools, so a load change hits them alike; best kept.
            runs: dict[str, list[Measure]] = {tool: [] for tool, _, _ in chosen}
            if not args.source_each_run:  # a warm-up run writes the bytecode the scan loads
                for tool, command, env in chosen:
                    if tool.startswith(DEFAULT_RUN):
                        measure(tool, command, tree, files, scratch, env)
            for _ in range(args.repeat):
                for tool, command, env in chosen:
                    runs[tool].append(measure(tool, command, tree, files, scratch, env))
            for tool, _, _ in chosen:
                fastest = min(runs[tool], key=lambda m: m.seconds)
                # CPU time is steadier than wall time on a shared machine: its own best.
                best = dataclasses.replace(
                    fastest, cpu_seconds=min(m.cpu_seconds for m in runs[tool])
                )
                rows.append(best)
                median = statistics.median(m.cpu_seconds for m in runs[tool])
                print(
                    f"{tool:36} {tree.name:22} {best.seconds:8.2f} s {best.cpu_seconds:8.2f} cpu-s"
                    f" (median {median:.2f}) {best.peak_mb:7.0f} MB",
                    file=sys.stderr,
                )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    reference: dict[str, float] = {}
    for row in rows:  # the first verifyfull default run of each tree
        if row.tool.startswith(DEFAULT_RUN):
            reference.setdefault(row.tree, row.seconds)
    print("| tree | .py files | tool | wall s | cpu s | files/s | wall / verifyfull | peak MB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for row in rows:
        rate = row.files / row.seconds if row.seconds else 0
        ratio = row.seconds / reference[row.tree] if reference.get(row.tree) else 0
        cells = (
            row.tree,
            row.files,
            row.tool,
            f"{row.seconds:.2f}",
            f"{row.cpu_seconds:.2f}",
            f"{rate:.0f}",
            f"{ratio:.2f}",
        )
        print("| " + " | ".join(str(c) for c in cells) + f" | {row.peak_mb:.0f} |")


if __name__ == "__main__":
    main()
