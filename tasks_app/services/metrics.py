"""Prometheus metrics: what the services count, kept in Redis, and the collector /metrics reads them with.

Workers run on several machines in prefork pools and the web in several gunicorn processes, so counters kept in a
process's memory would never add up. Each event is one pipeline of HINCRBY/HINCRBYFLOAT on the broker's Redis (keys
under `chunkr:metrics:`), written once the transaction that made it commits; the collector reads those hashes, the
queues' lengths and one GROUP BY over the tasks at scrape time. Recording never raises: a metric lost to a Redis
hiccup must never fail the job that did the work (logged at debug).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections.abc import Iterable, Iterator

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import CollectorRegistry

from tasks_app import engine
from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.services.queue import queue_names

logger = logging.getLogger(__name__)

PREFIX = "chunkr:metrics:"
FINISHED = PREFIX + "tasks_finished"  # [type, status] -> count
PAGES = PREFIX + "pages_processed"  # [type] -> pages
FAILURES = PREFIX + "task_failures"  # [reason] -> count
DURATION_BUCKETS = PREFIX + "task_duration:bucket"  # [type, pages, le] -> count (this bucket only, not cumulative)
DURATION_SUM = PREFIX + "task_duration:sum"  # [type, pages] -> seconds
WEBHOOKS = PREFIX + "webhook_deliveries"  # [outcome] -> count
DECISIONS = PREFIX + "review_decisions"  # [decision] -> count
REDIS_TIMEOUT = 1.0

# Seconds: a one-page text PDF takes about half a second, a scanned book tens of minutes (the hard limit is an hour).
SECONDS_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
# Page-count buckets, as the `pages` label: (highest page count in it, label).
PAGE_BUCKETS = ((1, "1"), (10, "2-10"), (63, "11-63"), (399, "64-399"), (math.inf, "400+"))
NO_PAGES = "unknown"  # a task that failed before its document was read

WEBHOOK_OUTCOMES = ("delivered", "failed_attempt", "gave_up")

# Why a task failed, as a small fixed vocabulary: the row keeps only the message the user reads, so the reason is
# told by that message. Engine errors with their own default message are matched exactly (first), then these
# patterns, in order. tests/services/test_metrics.py checks every message constant of the services against them.
_BY_DEFAULT_MESSAGE = {
    engine.UnsupportedFileType.default_message: "unsupported",
    engine.EncryptedDocument.default_message: "encrypted",
    engine.CorruptDocument.default_message: "corrupt",
    engine.EmptyDocument.default_message: "empty",
    engine.TooLarge.default_message: "too_large",
    engine.TooManyPages.default_message: "too_large",
    engine.ImageTooLarge.default_message: "too_large",
    engine.ConverterMissing.default_message: "unsupported",
    engine.ConversionFailed.default_message: "corrupt",
    engine.Cancelled.default_message: "cancelled",
    engine.PageTimeout.default_message: "timeout",
    engine.OcrUnavailable.default_message: "ocr_unavailable",
    engine.LlmUnavailable.default_message: "llm",
    engine.LlmError.default_message: "llm",
    engine.ConfigError.default_message: "config",
    engine.ParseOutputInvalid.default_message: "source_failed",
    engine.SchemaError.default_message: "config",
}
_BY_PATTERN = (
    ("internal", r"^Internal error"),
    ("worker_lost", r"^Processing stopped repeatedly"),
    ("timeout", r"took (longer than|too long)|did not answer within|timed out"),
    ("input_missing", r"^The input file is no longer available|^The input file of this task is gone"),
    ("download_failed", r"^Could not download the file"),
    ("source_failed", r"^The (task it was waiting for|source task|\w+ task ended|parse output|parse task this)"),
    ("encrypted", r"password-protected|encrypted"),
    ("unsupported", r"^Unsupported file type|LibreOffice"),
    ("too_large", r"too large|too many pages|; the limit is \d+"),
    ("empty", r"is empty|has no pages"),
    ("corrupt", r"damaged|not a valid document|could not be (read|opened|decoded|converted)"),
    ("ocr_unavailable", r"^OCR is not available|tesseract|rapidocr"),
    ("llm", r"LLM|language model|endpoint answered HTTP|request was abandoned|failed after \d+ attempt"),
    ("config", r"^[\w.\[\]$]+: (must|unknown|at most|duplicate)"),
    ("cancelled", r"[Cc]ancelled"),
)
_PATTERNS = tuple((reason, re.compile(pattern)) for reason, pattern in _BY_PATTERN)
FAILURE_REASONS = tuple(dict.fromkeys([*_BY_DEFAULT_MESSAGE.values(), *(r for r, _ in _BY_PATTERN), "other"]))


def failure_reason(message: str) -> str:
    """The failure's reason (one of FAILURE_REASONS) from the message a Failed task keeps."""
    message = (message or "").strip()
    if message in _BY_DEFAULT_MESSAGE:
        return _BY_DEFAULT_MESSAGE[message]
    return next((reason for reason, pattern in _PATTERNS if pattern.search(message)), "other")


def pages_bucket(page_count: int | None) -> str:
    if not page_count or page_count < 1:
        return NO_PAGES
    return next(label for top, label in PAGE_BUCKETS if page_count <= top)


def seconds_bucket(seconds: float) -> str:
    """The `le` of the first histogram bucket holding `seconds`."""
    return next((_le(top) for top in SECONDS_BUCKETS if seconds <= top), "+Inf")


def _le(value: float) -> str:
    return f"{float(value)}"


def _field(*labels: str) -> str:
    return json.dumps(list(labels), separators=(",", ":"))


@functools.lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)


def _store() -> redis.Redis:
    return _client(settings.REDIS_URL)


def _increment(*changes: tuple[str, str, float]) -> None:
    """Apply (hash, field, amount) changes in one round trip; never raises."""
    try:
        pipe = _store().pipeline(transaction=False)
        for key, field, amount in changes:
            if isinstance(amount, int):
                pipe.hincrby(key, field, amount)
            else:
                pipe.hincrbyfloat(key, field, amount)
        pipe.execute()
    except Exception:  # noqa: BLE001 - a metric must never fail the work it counts
        logger.debug("Could not record metrics %s", [c[:2] for c in changes], exc_info=True)


def _after_commit(record) -> None:
    """Run `record` once the current transaction commits (at once outside one): a rolled-back end counts nothing."""
    try:
        transaction.on_commit(record)
    except Exception:  # noqa: BLE001
        logger.debug("Could not schedule a metric", exc_info=True)


# --- Recording ------------------------------------------------------------------------------------------------------


def metrics_task_ended(task_id) -> None:
    """Count a task that reached a terminal status: by type and status, its duration and pages, its failure's reason.
    Called from lifecycle.task_ended, which every terminal transition passes."""
    _after_commit(lambda: _task_ended_record(task_id))


def _task_ended_record(task_id) -> None:
    try:
        row = (
            Task.objects.filter(pk=task_id)
            .values("task_type", "status", "message", "page_count", "started_at", "finished_at")
            .first()
        )
    except Exception:  # noqa: BLE001
        logger.debug("Could not read task %s for its metrics", task_id, exc_info=True)
        return
    if row is None or row["status"] not in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED):
        return
    task_type, status = str(row["task_type"]).lower(), str(row["status"])
    changes: list[tuple[str, str, float]] = [(FINISHED, _field(task_type, status), 1)]
    if status == TaskStatus.SUCCEEDED and row["page_count"]:
        changes.append((PAGES, _field(task_type), int(row["page_count"])))
    if status == TaskStatus.FAILED:
        changes.append((FAILURES, _field(failure_reason(row["message"])), 1))
    if row["started_at"] and row["finished_at"]:  # a task cancelled before it started has no duration
        seconds = max(0.0, (row["finished_at"] - row["started_at"]).total_seconds())
        pages = pages_bucket(row["page_count"])
        changes.append((DURATION_BUCKETS, _field(task_type, pages, seconds_bucket(seconds)), 1))
        changes.append((DURATION_SUM, _field(task_type, pages), float(seconds)))
    _increment(*changes)


def metrics_webhook(outcome: str) -> None:
    """Count one webhook try: `delivered`, `failed_attempt` (another try follows) or `gave_up` (the last one). At
    once, not on commit: the POST happened, whatever becomes of the transaction that records it."""
    _increment((WEBHOOKS, _field(outcome), 1))


def metrics_webhook_attempt(*, succeeded: bool, gave_up: bool) -> None:
    metrics_webhook("delivered" if succeeded else "gave_up" if gave_up else "failed_attempt")


def metrics_review_decision(decision: str) -> None:
    """Count one decision on a reviewed field (accepted, corrected, rejected, auto)."""
    _after_commit(lambda: _increment((DECISIONS, _field(str(decision)), 1)))


# --- Reading (at scrape time) ---------------------------------------------------------------------------------------


def _broker() -> redis.Redis:
    return _client(current_app.conf.broker_url)


def _labels(field: str) -> list[str]:
    try:
        labels = json.loads(field)
    except ValueError:
        return []
    return [str(label) for label in labels] if isinstance(labels, list) else []


class ChunkrCollector:
    """Reads the counters, the queues and the tasks' statuses when Prometheus scrapes."""

    def collect(self) -> Iterator:
        yield from self._tasks_by_status()
        try:
            yield from self._queues()
        except redis.RedisError:
            logger.warning("/metrics: the broker cannot be read; queue depths left out", exc_info=True)
        up = GaugeMetricFamily("chunkr_metrics_store_up", "1 when the Redis holding the counters answered this scrape")
        try:
            counters = self._read_counters()
        except redis.RedisError:
            logger.warning("/metrics: the metrics store cannot be read; counters left out", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._counter_families(counters)

    def _tasks_by_status(self) -> Iterable:
        family = GaugeMetricFamily("chunkr_tasks", "Tasks by status now", labels=["status"])
        counts = dict.fromkeys(TaskStatus.values, 0)
        try:
            counts |= {row["status"]: row["n"] for row in Task.objects.values("status").annotate(n=Count("pk"))}
        except Exception:  # noqa: BLE001 - a scrape must still show the queues when the database is down
            logger.warning("/metrics: the database cannot be read; task counts left out", exc_info=True)
            return []
        for status, n in sorted(counts.items()):
            family.add_metric([status], n)
        return [family]

    def _queues(self) -> Iterable:
        names = sorted(queue_names())
        pipe = _broker().pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
        pipe.hlen("unacked")
        *lengths, unacked = pipe.execute()
        depth = GaugeMetricFamily("chunkr_queue_depth", "Messages waiting in each Celery queue", labels=["queue"])
        for name, length in zip(names, lengths, strict=True):
            depth.add_metric([name], length)
        taken = GaugeMetricFamily("chunkr_queue_unacked", "Messages taken by a worker and not yet acknowledged")
        taken.add_metric([], unacked)
        return [depth, taken]

    def _read_counters(self) -> dict[str, dict]:
        keys = (FINISHED, PAGES, FAILURES, DURATION_BUCKETS, DURATION_SUM, WEBHOOKS, DECISIONS)
        pipe = _store().pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        return {
            key: {field.decode(): value for field, value in found.items()}
            for key, found in zip(keys, pipe.execute(), strict=True)
        }

    def _counter_families(self, counters: dict[str, dict]) -> Iterable:
        def counter(name: str, doc: str, key: str, labels: list[str], fixed: Iterable[tuple[str, ...]] = ()):
            family = CounterMetricFamily(name, doc, labels=labels)
            values = {tuple(f): 0.0 for f in fixed}
            for field, value in counters[key].items():
                parts = _labels(field)
                if len(parts) == len(labels):
                    values[tuple(parts)] = float(value)
            for parts, value in sorted(values.items()):
                family.add_metric(list(parts), value)
            return family

        yield counter("chunkr_tasks_finished", "Tasks that reached a terminal status", FINISHED, ["type", "status"])
        yield counter("chunkr_pages_processed", "Pages of the tasks that succeeded", PAGES, ["type"])
        yield counter(
            "chunkr_task_failures", "Failed tasks by reason", FAILURES, ["reason"], [(r,) for r in FAILURE_REASONS]
        )
        yield counter(
            "chunkr_webhook_deliveries",
            "Webhook tries by outcome",
            WEBHOOKS,
            ["outcome"],
            [(o,) for o in WEBHOOK_OUTCOMES],
        )
        yield counter("chunkr_review_decisions", "Review decisions on fields", DECISIONS, ["decision"])
        yield self._durations(counters[DURATION_BUCKETS], counters[DURATION_SUM])

    def _durations(self, buckets: dict[str, bytes], sums: dict[str, bytes]) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "chunkr_task_duration_seconds",
            "Seconds from a task's start to its end, by type and page-count bucket",
            labels=["type", "pages"],
        )
        per_series: dict[tuple[str, str], dict[str, float]] = {}
        for field, value in buckets.items():
            parts = _labels(field)
            if len(parts) == 3:
                per_series.setdefault((parts[0], parts[1]), {})[parts[2]] = float(value)
        for field in sums:
            parts = _labels(field)
            if len(parts) == 2:
                per_series.setdefault((parts[0], parts[1]), {})
        for (task_type, pages), counts in sorted(per_series.items()):
            running, cumulative = 0.0, []
            for le in [*(_le(top) for top in SECONDS_BUCKETS), "+Inf"]:
                running += counts.get(le, 0.0)
                cumulative.append((le, running))
            total = float(sums.get(_field(task_type, pages), 0))
            family.add_metric([task_type, pages], cumulative, sum_value=total)
        return family


registry = CollectorRegistry(auto_describe=False)
registry.register(ChunkrCollector())
