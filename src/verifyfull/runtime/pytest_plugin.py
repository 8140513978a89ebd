"""The pytest plugin: a test session against a real database becomes the runtime check.

    pytest --verifyfull            (audit: every connection allowed, listed, judged at the end)
    pytest --verifyfull=refuse     (an unverified connection raises in the test that opens it)
    [tool.pytest.ini_options] verifyfull = "audit"

Inactive unless asked. The terminal summary lists each distinct connection
target (driver, host:port, database, user, TLS version, chain and host name
verified, client certificate, the test and code line that opened it); the
session fails (exit status 1) if any connection was not verify-full, unless
the test that opened it is marked `@pytest.mark.verifyfull_allow("VF102",
reason="...")` (the reason is required). Connections made while a fixture is
set up count for the test being set up. Entry point `verifyfull` (pyproject);
with pytest-xdist each worker judges its own connections.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from verifyfull.errors import VerifyfullError

if TYPE_CHECKING:
    from verifyfull.runtime.enforce import Enforcement
    from verifyfull.runtime.record import ConnectionRecord

# Installed, the entry point loads this module into every pytest run: it
# imports nothing heavy (conninfo, the guard, cryptography) until asked.
_MODES = ("refuse", "audit")
_MARK = "verifyfull_allow"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("verifyfull", "verifyfull: database TLS enforcement")
    group.addoption(
        "--verifyfull",
        nargs="?",
        const="audit",
        default=None,
        choices=_MODES,
        dest="verifyfull",
        help="Enforce verify-full on every database connection of the session: audit "
        "(default: list them, fail the session at the end) or refuse (refuse each at once). "
        "Write --verifyfull=MODE, or put a bare --verifyfull after the test paths.",
    )
    parser.addini("verifyfull", "refuse or audit: as --verifyfull=MODE (empty: off)", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARK}(*rules, reason): connections this test opens may break these rules "
        "(e.g. VF102) without failing a --verifyfull session; reason= is required",
    )
    mode = config.getoption("verifyfull") or str(config.getini("verifyfull")).strip()
    if not mode:
        return
    if mode not in _MODES:
        raise pytest.UsageError(f"verifyfull = {mode!r} in the ini file: use refuse or audit")
    config.pluginmanager.register(_Session(mode), "verifyfull-session")


def _allowed_rules(item: pytest.Item) -> frozenset[str]:
    from verifyfull import rules

    allowed: set[str] = set()
    for mark in item.iter_markers(_MARK):
        reason = mark.kwargs.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            pytest.fail(
                f"@pytest.mark.{_MARK}{mark.args!r} needs reason=...: say why this test "
                "may connect without verify-full",
                pytrace=False,
            )
        for rule_id in mark.args:
            try:
                rules.get(str(rule_id))
            except VerifyfullError as exc:
                pytest.fail(f"@pytest.mark.{_MARK}: {exc}", pytrace=False)
            allowed.add(str(rule_id))
    return frozenset(allowed)


class _Session:
    """The enforcement of one test session and its verdict."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.handle: Enforcement | None = None
        self._failing: list[ConnectionRecord] = []  # every one, even past MAX_RECORDS

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from verifyfull.runtime.enforce import enforce

        try:
            self.handle = enforce(self.mode)
        except VerifyfullError as exc:  # another mode already active (VERIFYFULL_ENFORCE)
            raise pytest.UsageError(f"--verifyfull: {exc}") from None
        for record in self.handle.subscribe(self._note):
            self._note(record)

    def _note(self, record: ConnectionRecord) -> None:
        if record.unexcused_rules:
            self._failing.append(record)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        if self.handle is not None:
            self.handle.opened_by = item.nodeid
            self.handle.allowed_rules = frozenset()  # stays so when the mark is malformed
            self.handle.allowed_rules = _allowed_rules(item)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            if self.handle is not None:
                self.handle.opened_by = None
                self.handle.allowed_rules = frozenset()

    def failing(self) -> list[ConnectionRecord]:
        return list(self._failing)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.failing() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from verifyfull.runtime.report import distinct_targets

        records = self.handle.connections if self.handle is not None else ()
        write = terminalreporter.write_line
        terminalreporter.section(f"verifyfull ({self.mode}): database connections")
        if not records:
            write("no database connection was opened")
            return
        for summary in distinct_targets(records):
            write(summary.line())
        failing = self.failing()
        if not failing:
            write(f"all {len(records)} connection(s) verify-full (or allowed by {_MARK})")
            return
        for record in failing:
            where = f"{record.opened_by or 'outside any test'} ({record.location})"
            write(f"{','.join(record.unexcused_rules)}: {where}: {record.message}", red=True)
        write(
            f"verifyfull: {len(failing)} connection(s) not verify-full: fix them, or mark the "
            f'test @pytest.mark.{_MARK}("VF…", reason="...")',
            red=True,
            bold=True,
        )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.handle = None
