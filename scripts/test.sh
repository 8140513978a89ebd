#!/usr/bin/env bash
# The full test suite: lint, types, then every test against real PostgreSQL 15
# clusters that the test harness starts and stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests
.venv/bin/ruff format --check src tests
.venv/bin/mypy
set +e
# One pytest worker per core (pytest-xdist): each worker starts its own lab servers
# (session fixtures), ports and directories are private per server. Arguments
# given to this script come after, so `-n 0` runs everything in one process.
.venv/bin/python -m pytest -n auto "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
