"""Housekeeping run by Celery beat: expired tasks go, stale claims come back."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskOutput

logger = logging.getLogger(__name__)
PURGE_BATCH = 500


def task_delete_assets(*, task: Task) -> None:
    """Delete the files a task wrote (page images, crops). The input file is handled by the caller."""
    row = TaskOutput.objects.filter(task=task).only("asset_keys").first()
    for key in row.asset_keys if row else []:
        try:
            default_storage.delete(key)
        except OSError:
            logger.warning("Could not delete asset %s of task %s", key, task.pk)


def tasks_purge_expired(*, now=None) -> int:
    """Delete tasks past `expires_at`, with their outputs and assets. Returns how many went."""
    from tasks_app.services.extraction import dependents_orphan  # extraction → tasks → this module

    now = now or timezone.now()
    purged = 0
    while True:
        batch = list(Task.objects.filter(expires_at__lte=now).only("task_id", "status", "input_file")[:PURGE_BATCH])
        if not batch:
            return purged
        for task in batch:
            # A task still running at expiry is told to stop; its worker finds the row gone and gives up.
            task_delete_assets(task=task)
            with transaction.atomic():
                dependents_orphan(task.pk, reason="expired")
                Task.objects.filter(pk=task.pk).delete()
            purged += 1


def tasks_requeue_stale(*, now=None) -> tuple[list, int]:
    """Processing rows whose worker died go back to Starting, or fail after MAX_TASK_ATTEMPTS.

    Returns (requeued task ids, failed count). The caller re-enqueues the requeued ids.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STALE_TASK_AFTER_SECONDS)
    stale = Task.objects.filter(status=TaskStatus.PROCESSING, heartbeat_at__lt=cutoff)
    failed = stale.filter(attempts__gte=settings.MAX_TASK_ATTEMPTS).update(
        status=TaskStatus.FAILED,
        message="Processing stopped repeatedly (the worker was lost). Try a smaller document or contact the admin.",
        finished_at=now,
    )
    requeue_ids = list(stale.values_list("task_id", flat=True))
    Task.objects.filter(task_id__in=requeue_ids, status=TaskStatus.PROCESSING).update(
        status=TaskStatus.STARTING, message="Task queued again after a worker was lost", pages_done=0
    )
    return requeue_ids, failed
