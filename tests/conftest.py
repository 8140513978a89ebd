"""Shared fixtures: real TLS PostgreSQL 15 servers from verifyfull.lab.

- `lab(variant="secure")`: session-scoped factory; each variant starts at most
  once per session (lazily) and stops at session end. Do not mutate these
  servers; use `fresh_lab` for that.
- `lab_cluster`: three `secure` nodes sharing one CA.
- `fresh_lab(variant="secure")`: function-scoped factory, stopped after the test.
- `crdb_or_lab`: a real CockroachDB node when VERIFYFULL_CRDB_URL is set,
  else the `secure` stand-in.
Tests that use them are marked `@pytest.mark.pg`. Missing PostgreSQL binaries
FAIL the test with the reason (CI must not skip silently).

Generated tests (Hypothesis) run derandomized by default: the same examples at every
run, so a red run is a change's doing, never a draw's (Hypothesis 6.170 also draws the
string constants of the code under test, and a new draw once failed CI by chance).
`HYPOTHESIS_PROFILE=explore` draws new examples each run, to look for new failures.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from verifyfull import scrub
from verifyfull.certs.create import create_ca, create_node
from verifyfull.lab import crdb, harness
from verifyfull.lab.harness import LabError, LabServer

LabFactory = Callable[..., LabServer]

# tests/fixtures holds code the scanner reads (test modules and conftests of fictional
# projects among it), never tests of this suite.
collect_ignore = ["fixtures"]

hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Generous: the suite shares two cores with parallel runs; a start takes ~2 s idle.
START_TIMEOUT = 30.0

# The session starts many servers: prepare the next one's files in the background.
harness.prefetch()


@pytest.fixture(autouse=True)
def _fresh_secret_registry() -> None:
    """A CLI run is one process and its registry of secrets (verifyfull.scrub) lives
    for that run; a test is one such run, so one test's passwords do not mask
    another's expected output."""
    scrub.forget_all()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so fixtures and exit handlers stop the servers


# `timeout` and CI runners stop a run with SIGTERM, which skips exit handlers.
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _interrupt)


def _start(variant: str) -> LabServer:
    try:
        return harness.start(variant, timeout=START_TIMEOUT)
    except LabError as exc:
        pytest.fail(f"lab server {variant!r} did not start: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def lab() -> Iterator[LabFactory]:
    servers: dict[str, LabServer] = {}
    lock = threading.Lock()

    def get(variant: str = "secure") -> LabServer:
        with lock:
            if variant not in servers:
                servers[variant] = _start(variant)
            return servers[variant]

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def lab_cluster() -> Iterator[list[LabServer]]:
    try:
        nodes = harness.start_cluster(3, timeout=START_TIMEOUT)
    except LabError as exc:
        pytest.fail(f"lab cluster did not start: {exc}", pytrace=False)
    yield nodes
    for node in nodes:
        node.stop()


@pytest.fixture
def fresh_lab() -> Iterator[LabFactory]:
    started: list[LabServer] = []

    def make(variant: str = "secure") -> LabServer:
        server = _start(variant)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def crdb_or_lab(lab: LabFactory) -> LabServer | crdb.ExternalServer:
    external = crdb.from_env()
    return external if external is not None else lab("secure")


@pytest.fixture(scope="module")
def rogue_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A node certificate for localhost/127.0.0.1 from a CA no client trusts (the
    on-path attacker of the MITM tests: tests/test_conninfo_table.py, test_conninfo_pg8000.py)."""
    base = tmp_path_factory.mktemp("rogue")
    create_ca(base / "certs", base / "ca.key", common_name="rogue CA")
    create_node(["localhost", "127.0.0.1"], base / "certs", base / "ca.key")
    return base / "certs" / "node.crt", base / "certs" / "node.key"
