"""Prometheus metrics: counters the code moves (updates, handling time, sends) and figures read from the
database at scrape time (outbox depth and age, products per status, reviews per decision).

Counters live in each process. With several processes, set PROMETHEUS_MULTIPROC_DIR to an empty folder shared
by the processes of one machine (the client's multiprocess mode) and `/metrics` of any of them adds them all up;
or scrape each process on its own port. The database figures are the same from any process.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.ops import logs

log = logging.getLogger(__name__)
SLOW = 1.0  # seconds: an update handled slower than this is logged at INFO

UPDATES = Counter("umkm_updates", "Updates received, by channel and outcome "
                  "(handled, duplicate, error, refused, malformed, ignored).", ["channel", "outcome"])
HANDLING = Histogram("umkm_update_handling_seconds", "Time to apply one update (one database transaction).",
                     ["channel"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SENDS = Counter("umkm_sends", "Outbox sends, by channel and result (sent, retried, 429, held, failed).",
                ["channel", "result"])

_outcome: ContextVar[list[str] | None] = ContextVar("update_outcome", default=None)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def update(channel: str, outcome: str) -> None:
    """Counts an update that did not reach the engine (refused, malformed, ignored)."""
    UPDATES.labels(channel, outcome).inc()


def timed_update(handle: F) -> F:
    """Decorates `Engine.handle(inbound)`: times and counts it (handled unless `mark_update` said otherwise), and
    logs one line for it (DEBUG when handled or a duplicate within SLOW seconds, else INFO); every line logged
    while it runs carries the channel, event id and masked contact."""

    @wraps(handle)
    async def timed(self: Any, inbound: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = ["handled"]
        token = _outcome.set(outcome)
        started = time.perf_counter()
        with logs.event_context(inbound.channel, inbound.event_id, inbound.address):
            try:
                return await handle(self, inbound, *args, **kwargs)
            finally:
                _outcome.reset(token)
                took = time.perf_counter() - started
                HANDLING.labels(inbound.channel).observe(took)
                UPDATES.labels(inbound.channel, outcome[0]).inc()
                level = logging.INFO if outcome[0] not in ("handled", "duplicate") or took >= SLOW else logging.DEBUG
                log.log(level, "update %s in %.0f ms", outcome[0], took * 1000)

    return timed  # type: ignore[return-value]


def mark_update(outcome: str) -> None:
    """Inside `Engine.handle`: the update turned out a duplicate (or an error)."""
    current = _outcome.get()
    if current is not None:
        current[0] = outcome


def sent(channel: str, result: str) -> None:
    SENDS.labels(channel, result).inc()


# --- figures from the database ---------------------------------------------------------------------------

class _Figures:
    """A collector over one database snapshot (taken just before the scrape)."""

    def __init__(self, figures: Any, now: datetime) -> None:
        self.figures, self.now = figures, now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("umkm_database_up", "1 when the database answered this scrape.")
        up.add_metric([], 0 if self.figures is None else 1)
        yield up
        if self.figures is None:
            return
        depth = GaugeMetricFamily("umkm_outbox_messages", "Outbox messages not sent, by channel and status.",
                                  labels=["channel", "status"])
        age = GaugeMetricFamily("umkm_outbox_oldest_pending_seconds",
                                "Age of the oldest message waiting to be sent, by channel.", labels=["channel"])
        for channel, queue in sorted(self.figures.queues.items()):
            for status in ("pending", "held", "failed"):
                depth.add_metric([channel, status], getattr(queue, status))
            oldest = queue.oldest_pending
            age.add_metric([channel], max((self.now - oldest).total_seconds(), 0) if oldest else 0)
        products = GaugeMetricFamily("umkm_products", "Products by status.", labels=["status"])
        for status, count in sorted(self.figures.products.items()):
            products.add_metric([status], count)
        reviews = GaugeMetricFamily("umkm_reviews", "Review decisions recorded, by decision.", labels=["decision"])
        for decision in sorted({"approved", "revision", "rejected"} | set(self.figures.reviews)):
            reviews.add_metric([decision], self.figures.reviews.get(decision, 0))
        paused = GaugeMetricFamily("umkm_channel_paused", "1 when delivery paused the channel.", labels=["channel"])
        for state in self.figures.channel_states:
            paused.add_metric([state.channel], 1 if state.paused_reason else 0)
        yield from (depth, age, products, reviews, paused)


def _process_counters() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def route(token: str | None, db: Any) -> Route:
    """`GET /metrics`; with `token` set, only for `Authorization: Bearer <token>` (else 401)."""
    from bot.ops import health

    async def metrics(request: Request) -> Response:
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        try:
            figures = await health.snapshot_within(db)
        except Exception as exc:  # the counters are still worth serving
            log.warning("metrics: database figures unavailable (%s)", type(exc).__name__)
            figures = None
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Figures(figures, datetime.now(UTC)))  # type: ignore[arg-type]
        return Response(_process_counters() + generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])
