"""Whether two versions of verifyfull give byte-for-byte the same output: the JSON
report (one process, `--jobs 1`) of each tree named, of tests/fixtures and of every
repository under benchmarks/corpus/.repos, and `benchmarks/accuracy.py --json`.
A speed change must change none of them (docs/scan.md, Benchmark).

    git -C /work/main archive HEAD src | tar -x -C /tmp/main-src
    .venv/bin/python benchmarks/same_output.py --base /tmp/main-src/src --new src \\
        --tree /tmp/speed/treedj

Prints one line per difference and a summary; exits 1 when anything differs. The
reports are compared as written, so an unstable order would show here too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(src: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(src.resolve()), PYTHONPYCACHEPREFIX=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _scan(src: Path, cache: Path, tree: Path, out: Path) -> bytes:
    command = [sys.executable, "-m", "verifyfull", "scan", str(tree), "--jobs", "1"]
    command += ["--format", "json", "--output", str(out)]
    subprocess.run(command, env=_env(src, cache), cwd=tree, capture_output=True, timeout=900)
    return out.read_bytes() if out.exists() else b"<no report>"


def _accuracy(src: Path, cache: Path) -> bytes:
    command = [sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), "--json"]
    done = subprocess.run(command, env=_env(src, cache), cwd=ROOT, capture_output=True)
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="src of the reference code")
    parser.add_argument("--new", type=Path, required=True, help="src of the code under test")
    parser.add_argument("--tree", type=Path, action="append", default=[], help="more trees")
    parser.add_argument("--no-accuracy", action="store_true", help="skip accuracy.py --json")
    args = parser.parse_args()
    repos = ROOT / "benchmarks" / "corpus" / ".repos"
    trees = [*args.tree, ROOT / "tests" / "fixtures"]
    trees += sorted(p for p in repos.iterdir() if p.is_dir()) if repos.is_dir() else []
    differ = 0
    with tempfile.TemporaryDirectory(prefix="vf-same-") as scratch_name:
        scratch = Path(scratch_name)
        for index, tree in enumerate(trees):
            reports = [
                _scan(src, scratch / f"pyc{side}", tree, scratch / f"{side}-{index}.json")
                for side, src in enumerate((args.base, args.new))
            ]
            if reports[0] != reports[1]:
                differ += 1
            print(f"{'differs' if reports[0] != reports[1] else 'same'}: {tree}", flush=True)
        compared = len(trees)
        if not args.no_accuracy:
            compared += 1
            base, new = (
                _accuracy(src, scratch / f"pyc{side}")
                for side, src in enumerate((args.base, args.new))
            )
            if base != new or not base:
                differ += 1
                print("differs: accuracy.py --json" if base != new else "accuracy.py gave nothing")
    print(f"{compared} outputs compared, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
