#!/usr/bin/env bash
# Prepare a machine for verifyfull's demo and tests: PostgreSQL 15 server
# binaries (for the lab) and a virtualenv with the pinned dependency set.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bindir() {
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
  done
  return 1
}

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! pg_bindir >/dev/null; then
  echo "setup: installing PostgreSQL 15 server (Debian packages)" >&2
  apt_install postgresql-15
  # Debian starts a default cluster on 5432; the lab uses private clusters only.
  $SUDO service postgresql stop >/dev/null 2>&1 || true
fi
# Headless Chromium renders the HTML report in its test (tests only).
if [ "${VERIFYFULL_SETUP_BROWSER:-1}" = "1" ] && ! command -v chromium >/dev/null; then
  echo "setup: installing Chromium (Debian package) for the HTML report test" >&2
  apt_install chromium
fi
if ! id postgres >/dev/null 2>&1; then
  echo "setup: no 'postgres' user; install the postgresql-15 package" >&2
  exit 2
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating the virtualenv .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.verifyfull-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements/constraints.txt -nt "$stamp" ]; then
  echo "setup: installing verifyfull and its pinned dependencies into .venv (a minute on a fresh machine)" >&2
  log=$(mktemp)
  # pip's own chatter goes to a log that is shown only when the install fails.
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -c requirements/constraints.txt -e ".[all,dev]"; } \
       >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip install failed (log above)" >&2
    exit 2
  fi
  rm -f "$log"
  touch "$stamp"
fi

# Tests only: libpq 16 as an oracle of its own. No installed driver carries it
# (psycopg-binary bundles 18, psycopg2-binary 17, the system has 15), so the versions
# differential loads the libpq that psycopg2-binary 2.9.9's wheel bundles (16.x) with
# ctypes; the wheel is downloaded from the registry and only its libraries are kept.
oracle=.venv/oracles/libpq16
if [ "${VERIFYFULL_SETUP_ORACLES:-1}" = "1" ] && ! ls "$oracle"/libpq-*.so* >/dev/null 2>&1; then
  echo "setup: fetching libpq 16 (psycopg2-binary 2.9.9's wheel) for the versions differential" >&2
  wheels=$(mktemp -d)
  if .venv/bin/python -m pip download -q --no-deps --only-binary=:all: \
       psycopg2-binary==2.9.9 -d "$wheels" >/dev/null 2>&1; then
    .venv/bin/python - "$wheels" "$oracle" <<'PY'
import sys, zipfile
from pathlib import Path

wheels, oracle = Path(sys.argv[1]), Path(sys.argv[2])
oracle.mkdir(parents=True, exist_ok=True)
for wheel in wheels.glob("*.whl"):
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("psycopg2_binary.libs/") and not name.endswith("/"):
                target = oracle / Path(name).name
                target.write_bytes(archive.read(name))
PY
  else
    echo "setup: could not download psycopg2-binary 2.9.9; the libpq 16 form is skipped" >&2
  fi
  rm -rf "$wheels"
fi
