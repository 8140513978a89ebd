"""Prometheus metrics for runtime enforcement and the guard (extra: verifyfull[metrics]).

    app.mount("/metrics", metrics_app(enforcement=handle, guards=[guard]))   # FastAPI / any ASGI

Exported (Prometheus naming: base units, `_total` counters, bounded labels):
- verifyfull_connections_total{driver,tls_version,verdict}: connections enforcement
  let through; verdict is "verify-full" or the first rule broken (audit mode);
- verifyfull_refusals_total{rule}: connections enforcement refused;
- verifyfull_guard_connections_total{target,result="proven"|"refused"}: the guard's proofs;
- verifyfull_guard_refusals_total{target,rule}: the guard's refusals by the rule named;
- verifyfull_certificate_rotations_total{target}: certificate sets the guard took into use;
- verifyfull_certificate_expiry_seconds{certificate="ca"|"server"|"client",name}: seconds
  left (negative: expired) for the guard's CA and client certificate (files read at scrape,
  so a rotation shows at once), the last proven server certificate of each guard target,
  and each server and client certificate enforcement saw.
Everything is read at scrape time from the handle and the guards (a Collector),
so nothing here runs on a connection's path except one listener call.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from verifyfull.certs.inspect import load_cert_infos

if TYPE_CHECKING:
    from verifyfull.guard.core import Guard
    from verifyfull.runtime.enforce import Enforcement
    from verifyfull.runtime.record import ConnectionRecord


class _EnforcementTotals:
    """Aggregates of every record (labels are bounded: drivers, versions, rule ids)."""

    def __init__(self, enforcement: Enforcement) -> None:
        self._lock = threading.Lock()
        self.connections: Counter[tuple[str, str, str]] = Counter()
        self.refusals: Counter[str] = Counter()
        self.server_not_after: dict[str, dt.datetime] = {}
        self.client_files: dict[str, None] = {}
        for record in enforcement.subscribe(self):
            self(record)

    def __call__(self, record: ConnectionRecord) -> None:
        with self._lock:
            if record.refused:
                self.refusals[record.rule_ids[0] if record.rule_ids else "unknown"] += 1
                return
            verdict = record.rule_ids[0] if record.rule_ids else "verify-full"
            self.connections[(record.driver, record.tls_version or "none", verdict)] += 1
            if record.server_cert_not_after is not None:
                self.server_not_after[record.target] = record.server_cert_not_after
            if record.client_cert and Path(record.client_cert).is_file():
                self.client_files[record.client_cert] = None

    def snapshot(self) -> tuple[Any, ...]:
        with self._lock:
            return (
                dict(self.connections),
                dict(self.refusals),
                dict(self.server_not_after),
                list(self.client_files),
            )


class VerifyfullCollector(Collector):
    """Reads enforcement's totals and the guards' state at each scrape."""

    def __init__(
        self, enforcement: Enforcement | None = None, guards: Sequence[Guard] = ()
    ) -> None:
        self._totals = _EnforcementTotals(enforcement) if enforcement is not None else None
        self._guards = tuple(guards)

    def collect(self) -> Iterator[Metric]:
        connections = CounterMetricFamily(
            "verifyfull_connections",
            "Database connections opened under enforcement, by driver, TLS version and verdict",
            labels=["driver", "tls_version", "verdict"],
        )
        refusals = CounterMetricFamily(
            "verifyfull_refusals", "Connections refused by enforcement, by rule", labels=["rule"]
        )
        proofs = CounterMetricFamily(
            "verifyfull_guard_connections",
            "Connections the guard proved or refused",
            labels=["target", "result"],
        )
        guard_refusals = CounterMetricFamily(
            "verifyfull_guard_refusals",
            "Servers the guard refused, by the rule the refusal named",
            labels=["target", "rule"],
        )
        rotations = CounterMetricFamily(
            "verifyfull_certificate_rotations",
            "Certificate sets the guard took into use after start-up",
            labels=["target"],
        )
        expiry = GaugeMetricFamily(
            "verifyfull_certificate_expiry_seconds",
            "Seconds until the certificate expires (negative: expired)",
            labels=["certificate", "name"],
        )
        now = dt.datetime.now(dt.timezone.utc)
        if self._totals is not None:
            counts, refused, servers, clients = self._totals.snapshot()
            for (driver, version, verdict), count in sorted(counts.items()):
                connections.add_metric([driver, version, verdict], count)
            for rule, count in sorted(refused.items()):
                refusals.add_metric([rule], count)
            for target, not_after in sorted(servers.items()):
                expiry.add_metric(["server", target], (not_after - now).total_seconds())
            for path in clients:
                _add_file_expiry(expiry, "client", Path(path), now)
        for guard in self._guards:
            self._collect_guard(guard, proofs, rotations, expiry, now)
            target = ",".join(f"{h}:{p}" for h, p in guard.target.hosts)
            for rule, count in sorted(guard.proofs.refused_by_rule.items()):
                guard_refusals.add_metric([target, rule], count)
        yield from (connections, refusals, proofs, guard_refusals, rotations, expiry)

    @staticmethod
    def _collect_guard(
        guard: Guard,
        proofs: CounterMetricFamily,
        rotations: CounterMetricFamily,
        expiry: GaugeMetricFamily,
        now: dt.datetime,
    ) -> None:
        target = ",".join(f"{h}:{p}" for h, p in guard.target.hosts)
        proofs.add_metric([target, "proven"], guard.proofs.proven)
        proofs.add_metric([target, "refused"], guard.proofs.refused)
        rotations.add_metric([target], guard.material.rotations)
        # The values come from the set in use (the guard's snapshot), the labels
        # from the configured paths, which stay the same across rotations.
        files = guard.material.libpq_files()
        _add_file_expiry(expiry, "ca", files.ca, now, label=guard.target.ca_file)
        if files.cert is not None:
            _add_file_expiry(expiry, "client", files.cert, now, label=guard.target.cert_file)
        last = guard.proofs.last
        if last is not None and last.server_cert_not_after is not None:
            left = last.server_cert_not_after - now
            expiry.add_metric(["server", target], left.total_seconds())


def _add_file_expiry(
    family: GaugeMetricFamily,
    kind: str,
    path: Path,
    now: dt.datetime,
    *,
    label: Path | None = None,
) -> None:
    """The first certificate in the file (the one in use); unreadable files are skipped."""
    try:
        info = load_cert_infos(path)[0]
    except Exception:  # rotated mid-read, removed: the next scrape sees the new file
        return
    family.add_metric([kind, str(label or path)], (info.not_after - now).total_seconds())


def registry_for(
    enforcement: Enforcement | None = None, guards: Iterable[Guard] = ()
) -> CollectorRegistry:
    """A registry holding verifyfull's metrics only."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(VerifyfullCollector(enforcement, tuple(guards)))
    return registry


def metrics_app(enforcement: Enforcement | None = None, guards: Iterable[Guard] = ()) -> Any:
    """An ASGI app serving the metrics in Prometheus' text format (mount it at /metrics)."""
    return make_asgi_app(registry=registry_for(enforcement, guards))
