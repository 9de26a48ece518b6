"""The worker's Prometheus metrics (``prometheus-client``), served at ``/metrics`` by ``bot.web``.

One registry per process, not the library's global one, so what ``/metrics`` shows is exactly the
bot's own series (plus the process collectors, added where the app is served). The core updates
the counters where things happen (the dispatcher, ``Services.send``, the outbound queue, the
scheduler); features may count their own (moderation hits and sanctions). Gauges whose value
lives elsewhere (the database pool, the outbound queues) are read at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_IN = Counter(
    "qunyou_messages_in", "Inbound events accepted (after dedupe)", ["platform"], registry=REGISTRY
)
MESSAGES_OUT = Counter("qunyou_messages_out", "Messages the bot sent", ["platform"], registry=REGISTRY)
DUPLICATES = Counter(
    "qunyou_inbound_duplicates", "Inbound events dropped as already handled", ["platform"], registry=REGISTRY
)
PIPELINE_SECONDS = Histogram(
    "qunyou_pipeline_seconds",
    "Time from an event entering the dispatcher to the end of its handling",
    ["platform"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
MODERATION_HITS = Counter(
    "qunyou_moderation_hits", "Messages the moderation screen matched, by level", ["level"], registry=REGISTRY
)
SANCTIONS = Counter("qunyou_sanctions", "Sanctions applied, by action", ["action"], registry=REGISTRY)
OUTBOUND_WAITING = Gauge(
    "qunyou_outbound_queue_depth", "Outbound calls waiting for a slot or a retry", registry=REGISTRY
)
RATE_LIMITED = Counter(
    "qunyou_outbound_rate_limited", "Platform answers of 429 / retry_after honoured", registry=REGISTRY
)
SCHEDULER_LAG = Histogram(
    "qunyou_scheduler_lag_seconds",
    "How late a job run was claimed after its fire time",
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
JOBS_CLAIMED = Counter(
    "qunyou_jobs_claimed", "Job runs claimed by this worker", ["worker"], registry=REGISTRY
)
ERRORS = Counter("qunyou_errors", "Exceptions caught, by handler", ["handler"], registry=REGISTRY)
DB_POOL_IN_USE = Gauge(
    "qunyou_db_pool_connections_in_use", "Database connections checked out of the pool", registry=REGISTRY
)


def watch_pool(checked_out: Callable[[], int]) -> None:
    """Read the pool's checked-out count at every scrape (the running app's engine)."""
    DB_POOL_IN_USE.set_function(lambda: float(checked_out()))


def errors_so_far() -> float:
    """Every exception counted in ``ERRORS`` since the process started, over all handlers (the
    desk's watchdog takes differences of it for an error rate)."""
    samples = (sample for metric in ERRORS.collect() for sample in metric.samples)
    return sum(sample.value for sample in samples if sample.name.endswith("_total"))
