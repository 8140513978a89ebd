"""Build the scan benchmark tree (docs/scan.md, "Benchmark"): this project's
virtualenv site-packages as it stood in session 5, plus Django 5.2.19.

    .venv/bin/python benchmarks/make_bench_tree.py               # -> /tmp/speed/treedj
    .venv/bin/python benchmarks/make_bench_tree.py --dest DIR --force

Sessions 5-7 measured on one copy: the site-packages of session 5 (3,468 `.py`
files) with Django 5.2.19 added by `pip install --no-deps --target` (885 files):
4,353 `.py` files. Since then the dev extra gained Django and Flask-SQLAlchemy with
their dependencies (commit b23d9d9), so a plain copy of today's site-packages holds
those twice over. This script copies the running interpreter's site-packages
without the files of the distributions that commit added (each one's RECORD says
which files are its own), then unpacks the Django 5.2.19 wheel fetched by
`pip download --no-deps` (the registry's wheel, not the virtualenv's copy, so the
tree does not depend on what the virtualenv holds). Bytecode caches are left out:
every tool measured skips them.

The copy lives outside the virtualenv on purpose: every tool skips paths under
`.venv` or `site-packages` by default. The other distributions' versions follow
the constraints file, so the count can drift by a few files when a pin moves:
the script prints it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

DJANGO = "django==5.2.19"
# The distributions commit b23d9d9 added to the dev extra (Django, Flask-SQLAlchemy
# and what they pull in), and session 14's pg8000 with its own: not in session 5's copy.
ADDED_SINCE_SESSION_5 = frozenset(
    {
        "asn1crypto",
        "pg8000",
        "python-dateutil",
        "scramp",
        "tzdata",
        "asgiref",
        "blinker",
        "django",
        "flask",
        "flask-sqlalchemy",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "sqlparse",
        "werkzeug",
    }
)


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")


def files_of_added(site: Path) -> set[Path]:
    """Every file a distribution added since session 5 installed, by its RECORD."""
    owned: set[Path] = set()
    for dist in metadata.distributions(path=[str(site)]):
        if _normal(dist.metadata["Name"]) not in ADDED_SINCE_SESSION_5:
            continue
        for entry in dist.files or ():
            owned.add((site / entry).resolve())
    return owned


def copy_site_packages(site: Path, dest: Path, skip: set[Path]) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        return {
            name
            for name in names
            if name == "__pycache__" or name.endswith(".pyc") or (here / name).resolve() in skip
        }

    shutil.copytree(site, dest, symlinks=True, ignore=ignore)
    # A directory whose every file was skipped (django/, flask/) is left empty: drop it.
    for directory in sorted((p for p in dest.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def add_django(dest: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="vf-django-") as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", download, DJANGO],
            check=True,
        )
        (wheel,) = Path(download).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(dest)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dest", type=Path, default=Path("/tmp/speed/treedj"))
    parser.add_argument(
        "--site-packages",
        type=Path,
        default=Path(sysconfig.get_paths()["purelib"]),
        help="the virtualenv's site-packages (default: this interpreter's)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --dest")
    args = parser.parse_args()
    if args.dest.exists():
        if not args.force:
            sys.exit(f"{args.dest} exists (--force replaces it)")
        shutil.rmtree(args.dest)
    site = args.site_packages.resolve()
    copy_site_packages(site, args.dest, files_of_added(site))
    add_django(args.dest)
    count = sum(1 for _ in args.dest.rglob("*.py"))
    print(f"{args.dest}: {count:,} .py files (sessions 5-7: 4,353)")


if __name__ == "__main__":
    main()
