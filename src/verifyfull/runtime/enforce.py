"""`enforce()`: every database connection the process opens is judged, proven and recorded.

One Enforcement is active per process at most. Driver wrappers (asyncpg_hook,
psycopg_hook, psycopg2_hook) ask it, for each connect call:
- `begin`: before any byte is sent, the call's arguments and the environment
  are judged (judge.judge_before); in refuse mode a connection that would not
  be verify-full raises ConnectionRefusedByPolicy here, so nothing (no
  StartupMessage, no password) leaves the process;
- `failed`: a driver error that stands for a TLS rule (a rogue certificate, a
  server answering 'N' to a verify-full client) is named by that rule;
- `connected`: the live handshake is proven as the guard proves it; in refuse
  mode a connection that fails the proof is closed by the wrapper and raises.
Every outcome becomes a ConnectionRecord. The wrappers hold no state of their
own: once `stop()` has run they pass straight through to the driver.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, NoReturn, TypeVar

from verifyfull.errors import InsecureConfigurationError, UsageError
from verifyfull.guard.diagnose import diagnose
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.runtime import active, asyncpg_hook, imports, psycopg2_hook, psycopg_hook
from verifyfull.runtime.caller import caller_location
from verifyfull.runtime.judge import (
    Attempt,
    Facts,
    Key,
    Reader,
    client_cert,
    judge_call,
    judge_live,
)
from verifyfull.runtime.patch import Patch
from verifyfull.runtime.record import ConnectionRecord, Mode

Listener = Callable[[ConnectionRecord], None]
# Records kept for `.connections` and reports: the most recent ones, so a
# long-running process with pools does not grow without bound. Listeners
# (metrics, the pytest plugin) see every record.
MAX_RECORDS = 10_000
C = TypeVar("C")


# A record's facts as taken on the connect path: (attempt, target, TLS version,
# cipher, rule ids, message, refused, chain verified, host name verified, client
# certificate, allowed rules, opened by, server certificate not after, proven,
# time.time()).
_Pending = tuple[
    Attempt,
    str,
    str | None,
    str | None,
    tuple[str, ...],
    str,
    bool,
    bool,
    bool,
    str | None,
    tuple[str, ...],
    str | None,
    dt.datetime | None,
    bool,
    float,
]


def _build(facts: _Pending) -> ConnectionRecord:
    (attempt, target, tls, cipher, rule_ids, message, refused, chain, hostname, cert,
     allowed, opened_by, not_after, proven, at) = facts  # fmt: skip
    judged = attempt.judged
    # ConnectionRecord's fields in their order (record.py); a generated test
    # compares every field with a record built by keyword (test_enforce_memo).
    return ConnectionRecord(
        attempt.driver, target, judged.database, judged.user, tls, cipher, chain, hostname,
        cert, rule_ids, message, refused, allowed, attempt.location, opened_by, not_after,
        dt.datetime.fromtimestamp(at, dt.timezone.utc), proven,
    )  # fmt: skip


class ConnectionRefusedByPolicy(InsecureConfigurationError):
    """Enforcement refused a connection; `rule_id` names the rule it broke."""


class Enforcement:
    """The handle `enforce()` returns: `.connections`, `.stop()`."""

    def __init__(self, mode: Mode, policy: Policy) -> None:
        self.mode = mode
        self.policy = policy
        self._lock = threading.RLock()  # listeners run under it and may read the handle
        # Records, or the facts of one not built yet (_Pending): with no listener,
        # nobody needs it before `.connections` is read (see _record).
        self._records: deque[ConnectionRecord | _Pending] = deque(maxlen=MAX_RECORDS)
        self._unbuilt = False  # some entry of _records is a _Pending
        self._listeners: list[Listener] = []
        self._patches: list[Patch] = []
        self._finder: imports.PostImportFinder | None = None
        # Set by the pytest plugin around each test (process-wide, like the test itself).
        self.opened_by: str | None = None
        self.allowed_rules: frozenset[str] = frozenset()
        # Code locations are relative to the directory enforcement started in.
        self._cwd = os.getcwd()

    # -- the handle -------------------------------------------------------------
    @property
    def connections(self) -> tuple[ConnectionRecord, ...]:
        with self._lock:
            return self._built()

    @property
    def active(self) -> bool:
        return active.current() is self

    def subscribe(self, listener: Listener) -> tuple[ConnectionRecord, ...]:
        """Call listener(record) for every record from now on; returns those kept so far.

        Atomic: each record is either in the returned tuple or given to the
        listener, never both, never neither.
        """
        with self._lock:
            self._listeners.append(listener)
            return self._built()

    def stop(self) -> None:
        """Restore every driver function; later connects are not judged."""
        with active.lock:
            if self._finder is not None:
                imports.uninstall(self._finder)
                self._finder = None
            for patch in reversed(self._patches):
                patch.restore()
            self._patches.clear()
            if active.current() is self:
                active.set_current(None)

    # -- for the driver wrappers -----------------------------------------------
    def begin(
        self, driver: str, engine: str, read: Reader, *, key: Key = None, ssl_context: bool = False
    ) -> Attempt:
        """Judge a connect call before the driver runs; raises in refuse mode.

        key: the call's arguments as plain values (reading.plain_key), under
        which the judgement is memoised; None reads and judges afresh.
        """
        judged = judge_call(engine, read, key, self.policy, ssl_context=ssl_context)
        attempt = Attempt(driver, judged, caller_location(cwd=self._cwd))
        before = judged.before
        if before.rule_ids:
            self._maybe_refuse(attempt, before.rule_ids, before.message, before.fix)
        return attempt

    def failed(self, attempt: Attempt, exc: BaseException) -> BaseException | None:
        """A driver's connect error that stands for a rule: recorded; refuse mode renames it."""
        named = diagnose(exc, attempt.target)
        if named is None:
            return None  # not about TLS (no server, bad password): the driver's error stands
        refusing = self.mode is Mode.REFUSE and named.rule_id not in self.allowed_rules
        self._record(attempt, None, None, (named.rule_id,), named.problem, refused=refusing)
        if not refusing:
            return None
        return self._refusal(attempt, named.rule_id, named.problem, named.fix or "")

    def connected(
        self,
        attempt: Attempt,
        peer: str | None,
        protocol: str | None,
        cipher: str | None,
        server_cert_der: bytes | None,
        cert_loaded: bool | None = None,
    ) -> ConnectionRefusedByPolicy | None:
        """Prove the live connection; the refusal to raise (after closing it), or None.

        cert_loaded: whether the driver loaded the client certificate file the
        connection names (judge.LiveFacts); None: the file is looked for.
        """
        target = peer or attempt.target
        before = attempt.before
        live = judge_live(target, protocol, cipher, server_cert_der, before, self.policy)
        unexcused: list[str] = []
        if before.rule_ids or live.rule_ids:  # else verify-full: nothing to merge or excuse
            rule_ids = tuple(dict.fromkeys((*before.rule_ids, *live.rule_ids)))
            unexcused = [r for r in live.rule_ids if r not in self.allowed_rules]
        else:
            rule_ids = ()
        refusing = self.mode is Mode.REFUSE and bool(unexcused)
        verdict = before.verdict
        verified = protocol is not None and verdict is not None
        # The record's facts in _Pending's order, built here (not through _record's
        # eleven keyword arguments: this is the path every connection takes).
        self._keep(
            (
                attempt,
                target,
                live.tls_version,
                live.cipher,
                rule_ids,
                before.message if before.rule_ids else live.message,
                refusing,
                verified and verdict is not None and verdict.verifies_chain,
                verified and verdict is not None and verdict.verifies_hostname,
                client_cert(attempt.judged, cert_loaded) if live.tls_version else None,
                self._allowed(rule_ids),
                self.opened_by,
                live.server_cert_not_after,
                True,
                time.time(),
            )
        )
        if refusing:
            return self._refusal(attempt, unexcused[0], live.message, live.fix)
        return None

    def judged_only(self, attempt: Attempt, why: str) -> None:
        """Record a connection whose handshake cannot be seen (its pre-connect verdict only)."""
        before = attempt.before
        message = f"{before.message} ({why})"
        self._record(attempt, None, None, before.rule_ids, message, refused=False, proven=False)

    def guarded(
        self, attempt: Attempt, connect: Callable[[], C], facts: Facts, close: Callable[[C], Any]
    ) -> C:
        """Run a sync driver connect for `attempt`: rename TLS failures, prove the result."""
        try:
            conn = connect()
        except Exception as exc:
            self._raise_named(attempt, exc)
        refusal = self.connected(attempt, *facts(conn))
        if refusal is not None:
            close(conn)
            raise refusal
        return conn

    async def guarded_async(
        self,
        attempt: Attempt,
        connect: Callable[[], Awaitable[C]],
        facts: Facts,
        close: Callable[[C], Any],
    ) -> C:
        """`guarded` for a coroutine connect; close may be sync or async."""
        try:
            conn = await connect()
        except Exception as exc:
            self._raise_named(attempt, exc)
        refusal = self.connected(attempt, *facts(conn))
        if refusal is not None:
            closing = close(conn)
            if inspect.isawaitable(closing):
                await closing
            raise refusal
        return conn

    # -- inside -------------------------------------------------------------------
    def _raise_named(self, attempt: Attempt, exc: Exception) -> NoReturn:
        renamed = self.failed(attempt, exc)
        if renamed is None:
            raise exc  # the driver's own error, traceback kept
        raise renamed from None  # driver messages may quote the connection string

    def _maybe_refuse(
        self, attempt: Attempt, rule_ids: tuple[str, ...], message: str, fix: str
    ) -> None:
        unexcused = [r for r in rule_ids if r not in self.allowed_rules]
        if self.mode is Mode.REFUSE and unexcused:
            self._record(attempt, None, None, rule_ids, message, refused=True)
            raise self._refusal(attempt, unexcused[0], message, fix)

    def _refusal(
        self, attempt: Attempt, rule_id: str, message: str, fix: str
    ) -> ConnectionRefusedByPolicy:
        return ConnectionRefusedByPolicy(
            rule_id,
            f"verifyfull refused the {attempt.driver} connection to {attempt.target} "
            f"(opened at {attempt.location}): {message}",
            fix,
        )

    def _record(
        self,
        attempt: Attempt,
        tls_version: str | None,
        cipher: str | None,
        rule_ids: tuple[str, ...],
        message: str,
        *,
        refused: bool,
        target: str | None = None,
        chain: bool = False,
        hostname: bool = False,
        not_after: dt.datetime | None = None,
        proven: bool = True,
        cert: str | None = None,
    ) -> None:
        self._keep(
            (
                attempt,
                target or attempt.target,
                tls_version,
                cipher,
                rule_ids,
                message,
                refused,
                chain,
                hostname,
                cert,
                self._allowed(rule_ids),
                self.opened_by,  # both as they are now: the pytest plugin changes them per test
                not_after,
                proven,
                time.time(),
            )
        )

    def _allowed(self, rule_ids: tuple[str, ...]) -> tuple[str, ...]:
        """The rules a verifyfull_allow mark accepts, of those broken."""
        return tuple(sorted(self.allowed_rules.intersection(rule_ids))) if rule_ids else ()

    def _keep(self, facts: _Pending) -> None:
        """Keep a record's facts; built into the record now only if a listener needs it."""
        with self._lock:
            if not self._listeners:
                # Nobody sees it before `.connections` is read: the frozen record
                # (18 object.__setattr__ calls and a datetime, about 25 µs with
                # the CPU caches cold after a handshake) is built then.
                self._records.append(facts)
                self._unbuilt = True
                return
            record = _build(facts)
            self._records.append(record)
            for listener in self._listeners:  # under the lock: see subscribe()
                listener(record)

    def _built(self) -> tuple[ConnectionRecord, ...]:
        """The records kept, each built once (under the lock)."""
        if self._unbuilt:
            self._records = deque(
                (r if isinstance(r, ConnectionRecord) else _build(r) for r in self._records),
                maxlen=MAX_RECORDS,
            )
            self._unbuilt = False
        return tuple(self._records)  # type: ignore[arg-type]  # all built now

    def _start(self, instruments: dict[str, Callable[[ModuleType], list[Patch]]]) -> None:
        """Wrap each driver now if imported, else when it is (no driver is imported here)."""

        def hook_for(instrument: Callable[[ModuleType], list[Patch]]) -> imports.Hook:
            def hook(module: ModuleType) -> None:
                with active.lock:
                    if active.current() is self:
                        self._patches.extend(instrument(module))

            return hook

        self._finder = imports.install({name: hook_for(i) for name, i in instruments.items()})


def enforce(mode: Mode | str = "refuse", policy: Policy | None = None) -> Enforcement:
    """Judge every connection asyncpg, psycopg 3 and psycopg2 open from now on.

    Idempotent: a second call with the same mode and policy returns the active
    handle; a different one while active is a usage error (stop it first).
    """
    try:
        chosen = Mode(mode)
    except ValueError:
        raise UsageError(f"unknown enforcement mode {mode!r}", "use refuse or audit") from None
    policy = policy or DEFAULT_POLICY
    with active.lock:
        running = active.current()
        if isinstance(running, Enforcement):  # the only kind ever set
            if running.mode is chosen and running.policy == policy:
                return running
            raise UsageError(
                f"enforcement is already active in {running.mode.value} mode",
                "call .stop() on its handle before enforcing another mode or policy",
            )
        enforcement = Enforcement(chosen, policy)
        active.set_current(enforcement)
        enforcement._start(
            {
                "asyncpg": asyncpg_hook.instrument,
                "psycopg": psycopg_hook.instrument,
                "psycopg2": psycopg2_hook.instrument,
            }
        )
        return enforcement
