"""Housekeeping run by Celery beat: expired tasks go, stale claims come back, tasks whose job never reached the
queue are queued again."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tasks_app.choices import TERMINAL_STATUSES, RangeStatus, TaskStatus
from tasks_app.models import StoredFile, Task, TaskRange, Workspace
from tasks_app.services.audit import audit_record
from tasks_app.services.dispatch import dispatch_all, task_enqueue
from tasks_app.services.lifecycle import (
    STALE_CANCELLED,
    STALE_FAILED,
    dependents_orphan,
    task_delete_assets,
    task_delete_unkept_files,
    task_settle_stopped,
)
from tasks_app.services.queue import (
    RANGE_JOB_FOR_QUEUE,
    job_enqueue,
    job_send,
    job_stop,
    queued_range_task_ids,
    queued_task_ids,
)
from tasks_app.services.retention import delete_keys, input_scrub
from tasks_app.services.storage import storage_delete_below

logger = logging.getLogger(__name__)
PURGE_BATCH = 500


def tasks_purge_expired(*, now=None) -> int:
    """Delete tasks past `expires_at` in batches: rows, outputs, assets, reviews (their reviewed values) and their own
    input copies, from the database and from storage. One `task.purged` audit event per workspace and run records
    the count, without document content. Returns how many went."""
    now = now or timezone.now()
    purged: Counter = Counter()
    while True:
        batch = list(
            Task.objects.filter(expires_at__lte=now).only("task_id", "workspace_id", "status", "input_file")[
                :PURGE_BATCH
            ]
        )
        if not batch:
            break
        for task in batch:
            # A task still running at expiry is told to stop; its worker finds the row gone and gives up.
            task_delete_assets(task=task)
            with transaction.atomic():
                dependents_orphan(task.pk, reason="expired")
                Task.objects.filter(pk=task.pk).delete()
                stored = StoredFile.objects.filter(pk=task.input_file_id).first() if task.input_file_id else None
                key = input_scrub(stored, keep_for=Q()) if stored else ""
            delete_keys([key] if key else [])
            storage_delete_below(f"tasks/{task.pk}")  # what the output did not name: lazy page images, a stopped job's
            purged[task.workspace_id] += 1
    for workspace_id, count in purged.items():
        audit_record(
            workspace=Workspace(pk=workspace_id),
            actor=None,
            verb="task.purged",
            data={"count": count, "reason": "expired"},
        )
    return sum(purged.values())


STALE_REQUEUED = "Task queued again: its worker stopped reporting progress"


def tasks_requeue_stale(*, now=None) -> tuple[list, int, int]:
    """Processing rows whose process stopped beating for CHUNKR_LIVENESS_LEASE_SECONDS (it died or froze), or whose
    job stopped reporting progress for STALE_TASK_AFTER_SECONDS (it lives but hangs). The job is stopped wherever it
    may still run (so a hung process frees its pool slot), then the task is cancelled if a cancel was asked for,
    failed after MAX_TASK_ATTEMPTS, or queued again from the start.

    Returns (requeued task ids, failed count, cancelled count).
    """
    now = now or timezone.now()
    no_progress = now - timedelta(seconds=settings.STALE_TASK_AFTER_SECONDS)
    no_beat = now - timedelta(seconds=settings.CHUNKR_LIVENESS_LEASE_SECONDS)
    # A long document's own job ends once its ranges are out: ranges and their merge have their own sweep
    # (services/ranges.ranges_requeue_stale).
    stale = Task.objects.filter(status=TaskStatus.PROCESSING, ranges_total=0).filter(
        Q(heartbeat_at__lt=no_progress) | Q(alive_at__lt=no_beat)
    )
    requeued, failed, cancelled = [], 0, 0
    for task_id, job_id, attempts, cancel_requested in stale.values_list(
        "pk", "job_id", "attempts", "cancel_requested"
    ):
        job_stop(job_id)
        if cancel_requested or attempts >= settings.MAX_TASK_ATTEMPTS:
            status = TaskStatus.CANCELLED if cancel_requested else TaskStatus.FAILED
            message = STALE_CANCELLED if cancel_requested else STALE_FAILED
            if Task.objects.filter(pk=task_id, status=TaskStatus.PROCESSING).update(
                status=status, message=message, finished_at=now
            ):
                task_settle_stopped(task_id)
                cancelled += cancel_requested
                failed += not cancel_requested
            continue
        with transaction.atomic():
            if Task.objects.filter(pk=task_id, status=TaskStatus.PROCESSING).update(
                status=TaskStatus.STARTING, message=STALE_REQUEUED, pages_done=0, job_id=""
            ):
                task_delete_unkept_files(task_id)
                task_enqueue(Task.objects.only("pk", "task_type", "workspace_id").get(pk=task_id))
                requeued.append(task_id)
    return requeued, failed, cancelled


def tasks_resend_unqueued(*, now=None) -> list:
    """Starting tasks whose job was sent more than QUEUE_RESEND_AFTER_SECONDS ago and is not in the broker: it never
    got there (the broker was down when their transaction committed) or was lost with it. Their job is sent again;
    a duplicate would be harmless (a job claims its task with one conditional UPDATE). Page ranges likewise. Tasks
    and ranges still waiting for their workspace's turn are dispatched (services/dispatch.py): a dispatch lost with
    a process is made up here. Extract/Split tasks still waiting for their source are left alone: their source's end
    queues them. Returns the ids of the tasks whose job was sent again."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.QUEUE_RESEND_AFTER_SECONDS)
    sent = Task.objects.filter(status=TaskStatus.STARTING, queued_at__isnull=False, queued_at__lt=cutoff).filter(
        Q(source_task__isnull=True) | Q(source_task__status__in=TERMINAL_STATUSES)
    )
    candidates = list(sent.only("pk", "task_type", "queue"))
    ranges = list(
        TaskRange.objects.filter(status=RangeStatus.QUEUED, queued_at__lt=cutoff).only("task_id", "index", "queue")
    )
    resent = []
    queued = queued_task_ids() if candidates else set()
    queued_ranges = queued_range_task_ids() if ranges else set()
    if queued is None or queued_ranges is None:
        return []  # the broker cannot be read: nothing could be sent either; the next sweep tries again
    for task in candidates:
        if str(task.pk) not in queued:
            with transaction.atomic():
                job_enqueue(task)
            resent.append(task.pk)
    for item in ranges:
        if str(item.task_id) not in queued_ranges:
            with transaction.atomic():
                job_send(RANGE_JOB_FOR_QUEUE[item.queue], str(item.task_id), str(item.index))
    dispatch_all()
    return resent
