"""Celery entry points: take ids, call one service. See STYLE.md §3.3."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from tasks_app.services.comparison import comparison_run
from tasks_app.services.extraction import task_process_derived
from tasks_app.services.maintenance import tasks_purge_expired, tasks_requeue_stale, tasks_resend_unqueued
from tasks_app.services.processing import task_process
from tasks_app.services.ranges import range_process, ranges_merge, ranges_requeue_stale
from tasks_app.services.retention import zdr_sweep
from tasks_app.services.webhooks import webhook_attempt

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def purge_expired_job() -> int:
    purged = tasks_purge_expired()
    if purged:
        logger.info("Purged %d expired tasks", purged)
    tombstoned = zdr_sweep()  # zero data retention deletions that waited for an Extract/Split to read their source
    if tombstoned:
        logger.info("Deleted the content of %d tasks under zero data retention", tombstoned)
    return purged


# Each job records its own id (the Celery message id) on the row it claims, so a cancel or the stale sweep can stop
# exactly that job when its worker no longer answers (services.tasks.tasks_cancel, services.maintenance).
_LONG = {"soft_time_limit": settings.PARSE_SOFT_TIME_LIMIT, "time_limit": settings.PARSE_TIME_LIMIT}


@shared_task(bind=True, ignore_result=True, **_LONG)
def process_task_job(self, task_id: str) -> None:
    task_process(task_id=task_id, job_id=self.request.id or "")


@shared_task(bind=True, ignore_result=True, **_LONG)
def process_scanned_task_job(self, task_id: str) -> None:
    """The same work as process_task_job, on the `ocr` queue: scans and images."""
    task_process(task_id=task_id, job_id=self.request.id or "")


@shared_task(bind=True, ignore_result=True, **_LONG)
def parse_range_job(self, task_id: str, index: str) -> None:
    """One page range of a long document (services/ranges.py), on the `parse` queue."""
    range_process(task_id=task_id, index=int(index), job_id=self.request.id or "", worker=self.request.hostname or "")


@shared_task(bind=True, ignore_result=True, **_LONG)
def ocr_range_job(self, task_id: str, index: str) -> None:
    """One page range of a long scanned document, on the `ocr` queue."""
    range_process(task_id=task_id, index=int(index), job_id=self.request.id or "", worker=self.request.hostname or "")


@shared_task(bind=True, ignore_result=True, **_LONG)
def merge_ranges_job(self, task_id: str) -> None:
    """Joins a long document's ranges in page order, once the last is in."""
    ranges_merge(task_id=task_id, job_id=self.request.id or "")


@shared_task(bind=True, ignore_result=True, **_LONG)
def extract_task_job(self, task_id: str) -> None:
    task_process_derived(task_id=task_id, job_id=self.request.id or "")


@shared_task(bind=True, ignore_result=True, **_LONG)
def split_task_job(self, task_id: str) -> None:
    task_process_derived(task_id=task_id, job_id=self.request.id or "")


@shared_task(ignore_result=True)
def requeue_stale_job() -> int:
    requeued, failed, cancelled = tasks_requeue_stale()
    if requeued or failed or cancelled:
        logger.warning("Stale tasks: %d requeued, %d failed, %d cancelled", len(requeued), failed, cancelled)
    ranges, merges = ranges_requeue_stale()
    if ranges or merges:
        logger.warning("Stale page ranges: %d queued again, %d merges sent again", ranges, merges)
    return len(requeued) + ranges


@shared_task(ignore_result=True)
def resend_unqueued_job() -> int:
    resent = tasks_resend_unqueued()
    if resent:
        logger.warning("Queued %d tasks again whose job had not reached the queue", len(resent))
    return len(resent)


@shared_task(ignore_result=True)
def deliver_webhook_job(delivery_id: str) -> None:
    """One try of a webhook message; a failed one queues the next (services.webhooks.retry_delay, >= 24 h in all)."""
    webhook_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True, **_LONG)
def compare_schema_versions_job(comparison_id: str) -> None:
    comparison_run(comparison_id=comparison_id)
