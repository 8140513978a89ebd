"""Enforcement for a whole process, from its environment (read by bootstrap/sitecustomize.py).

    VERIFYFULL_ENFORCE=refuse|audit   activate (anything else: UsageError; the sitecustomize
                                      prints it in one line and exits 2: fail closed)
    VERIFYFULL_RECORDS_DIR=DIR        at exit, write DIR/<pid>.json (set by `verifyfull run`,
                                      which merges them: child processes write their own)
    VERIFYFULL_REPORT=FILE            otherwise, write the report there at exit
    VERIFYFULL_REPORT_FORMAT=text|json  (default: json for *.json, else text)
Without either, audit mode prints the text report on stderr at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from verifyfull.errors import UsageError, VerifyfullError
from verifyfull.runtime.enforce import Enforcement, enforce
from verifyfull.runtime.record import ConnectionRecord, Mode
from verifyfull.runtime.report import render

ENV_MODE = "VERIFYFULL_ENFORCE"
ENV_RECORDS_DIR = "VERIFYFULL_RECORDS_DIR"
ENV_REPORT = "VERIFYFULL_REPORT"
ENV_REPORT_FORMAT = "VERIFYFULL_REPORT_FORMAT"


def activate_from_env(environ: Mapping[str, str] = os.environ) -> Enforcement | None:
    mode = environ.get(ENV_MODE, "").strip().lower()
    if not mode:
        return None
    try:
        handle = enforce(mode)
    except VerifyfullError as exc:
        raise UsageError(f"{ENV_MODE}: {exc.problem}", exc.fix) from None
    atexit.register(_at_exit, handle, dict(environ))
    return handle


def _at_exit(handle: Enforcement, environ: dict[str, str]) -> None:
    records = handle.connections
    try:
        if environ.get(ENV_RECORDS_DIR):
            write_records(Path(environ[ENV_RECORDS_DIR]), records)
        elif environ.get(ENV_REPORT):
            path = Path(environ[ENV_REPORT])
            fmt = environ.get(ENV_REPORT_FORMAT) or ("json" if path.suffix == ".json" else "text")
            path.write_text(render(records, handle.mode.value, fmt), encoding="utf-8")
        elif handle.mode is Mode.AUDIT and records:
            sys.stderr.write(render(records, handle.mode.value, "text"))
    except OSError as exc:
        print(f"verifyfull: could not write the connection report: {exc}", file=sys.stderr)


def write_records(directory: Path, records: tuple[ConnectionRecord, ...]) -> None:
    data = json.dumps([r.to_json() for r in records])
    (directory / f"{os.getpid()}.json").write_text(data, encoding="utf-8")


def read_records(directory: Path) -> list[ConnectionRecord]:
    """Every process's records, oldest first."""
    records: list[ConnectionRecord] = []
    for path in sorted(directory.glob("*.json")):
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a process killed while writing: its records are lost, not invented
        records.extend(ConnectionRecord.from_json(item) for item in items)
    return sorted(records, key=lambda r: r.at)
