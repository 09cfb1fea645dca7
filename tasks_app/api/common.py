"""Helpers the routers share: cursor pagination, list filters, idempotency, the sync wait."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tasks_app import selectors
from tasks_app.choices import TERMINAL_STATUSES
from tasks_app.errors import ApplicationError, RateLimited
from tasks_app.models import Task
from tasks_app.services import redis_state

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def split_list(values: list[str] | None) -> list[str]:
    """Comma-joined (TS SDK) and repeated parameters both arrive here."""
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def parse_when(value: str | None, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    bad = ApplicationError(f"{name}: not an ISO 8601 date-time: {value[:64]!r}")
    try:
        parsed = parse_datetime(value.replace(" ", "+"))  # a bare '+' in a query string arrives as a space
        if parsed is None:
            raise bad
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        return parsed.astimezone(UTC)  # a year-9999 time east of UTC is past what the database can hold
    except (ValueError, OverflowError):  # month 13, hour 25, …
        raise bad from None


def cursor_page(
    queryset: QuerySet, *, field: str, pk: str, cursor: str | None, limit: int | None, sort: str, start, end
) -> tuple[list, bool, str | None]:
    """Contract §6.5: cursor = created_at of the last item; ties never skipped."""
    if sort not in ("asc", "desc"):
        raise ApplicationError("sort: must be 'asc' or 'desc'")
    limit = DEFAULT_LIMIT if limit is None else max(1, min(int(limit), MAX_LIMIT))
    after = parse_when(cursor, "cursor")
    start_at, end_at = parse_when(start, "start"), parse_when(end, "end")
    if start_at:
        queryset = queryset.filter(**{f"{field}__gte": start_at})
    if end_at:
        queryset = queryset.filter(**{f"{field}__lte": end_at})
    if after:
        queryset = queryset.filter(**{f"{field}__{'lt' if sort == 'desc' else 'gt'}": after})
    prefix = "-" if sort == "desc" else ""
    rows = list(queryset.order_by(f"{prefix}{field}", f"{prefix}{pk}")[: limit + 1])
    has_more = len(rows) > limit
    page = rows[:limit]
    if has_more and getattr(rows[limit], field) == getattr(page[-1], field):
        # The next item shares the last one's timestamp; a timestamp cursor would skip it, so end the page
        # before that tie group (unless the whole page is one group, which microseconds make unlikely).
        tied = getattr(page[-1], field)
        trimmed = [row for row in page if getattr(row, field) != tied]
        page = trimmed or page
    next_cursor = None
    if has_more and page:
        next_cursor = getattr(page[-1], field).astimezone(UTC).isoformat().replace("+00:00", "Z")
    return page, has_more, next_cursor


def idempotent_lookup(request, scope: str) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if not key:
        return None
    return redis_state.idempotency_get(f"{request.auth.pk}:{scope}", key[:200])


def idempotent_remember(request, scope: str, value: str) -> None:
    key = request.headers.get("Idempotency-Key")
    if key:
        redis_state.idempotency_set(f"{request.auth.pk}:{scope}", key[:200], value)


def rate_limit(request) -> None:
    redis_state.rate_limit_hit(bucket=str(request.auth.pk), limit=settings.CHUNKR_RATE_LIMIT_PER_MINUTE)


def wait_terminal(task: Task, timeout: float) -> Task:
    """Bounded wait for `async: false`: polls the row, which the worker updates.

    A task can expire (and be purged) or be deleted while we wait, e.g. with a tiny `expires_in` (found by
    `make fuzz-api`); from then on it is unknown, as on every other route: 404.
    """
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        task = selectors.task_get(workspace=task.workspace, task_id=task.pk)
        if task.status in TERMINAL_STATUSES or time.monotonic() >= deadline:
            return task
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def sync_wait_seconds() -> float:
    return float(settings.CHUNKR_SYNC_WAIT_SECONDS)


def as_bool_flag(value: Any) -> bool:
    return bool(value)


SYNC_WAITS_PER_KEY = (
    "Usage limit exceeded: {n} requests with this API key already wait for their result (async: false). "
    "Send async requests and poll, or retry after {seconds} s."
)


class SyncWaits:
    """Who may hold a web thread while a task runs (`async: false`). A web process lends at most CHUNKR_SYNC_WAITERS
    of its threads to such waits, so that health checks and polls always find one free; past that a create answers at
    once with its job (202, which the contract allows for `async: false`). One API key holds at most
    CHUNKR_SYNC_WAITS_PER_KEY of them per process; a create past that is refused (429) before anything is made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_key: Counter[str] = Counter()

    @contextmanager
    def slot(self, key: str) -> Iterator[bool]:
        with self._lock:
            per_key = settings.CHUNKR_SYNC_WAITS_PER_KEY
            if self._by_key[key] >= per_key:
                retry = max(1, min(30, settings.CHUNKR_SYNC_WAIT_SECONDS))
                raise RateLimited(SYNC_WAITS_PER_KEY.format(n=per_key, seconds=retry), retry_after=retry)
            granted = self._total < settings.CHUNKR_SYNC_WAITERS
            if granted:
                self._total += 1
                self._by_key[key] += 1
        try:
            yield granted
        finally:
            if granted:
                with self._lock:
                    self._total -= 1
                    self._by_key[key] -= 1


sync_waits = SyncWaits()
