"""What follows a task's end or its removal, whoever ends it (the worker, a cancel, the stale sweep, a delete or the
retention purge): its webhooks, the Extract/Split tasks waiting on it, and the files it leaves.

An Extract/Split task reads the output of its source task (`Task.source_task`) and stays `Starting` while the source
runs; the source's end releases it, and a source that ends Failed/Cancelled or goes away fails it, saying why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import F
from django.utils import timezone

from tasks_app.choices import RangeStatus, TaskStatus
from tasks_app.models import Task, TaskOutput, TaskRange
from tasks_app.services.dispatch import task_enqueue, workspace_dispatch
from tasks_app.services.metrics import metrics_task_ended
from tasks_app.services.storage import storage_delete_below
from tasks_app.services.webhooks import webhooks_emit_for

logger = logging.getLogger(__name__)

UNFINISHED_RANGES = (RangeStatus.WAITING, RangeStatus.QUEUED, RangeStatus.RUNNING)
# A task that failed for a reason of ours: the reference leads the administrators to the logged traceback.
INTERNAL_ERROR = "Internal error while processing the task (ref {ref}). The administrators can look it up."


def task_ended(task_id) -> None:
    """Call after a conditional UPDATE moved the task to a terminal status: metrics, webhooks, its page ranges that
    will not be needed (their jobs find them Stopped and do nothing; running ones stop at their next page), its
    waiting tasks, then its workspace's next jobs (its slot is free)."""
    metrics_task_ended(task_id)
    webhooks_emit_for(task_id)
    if TaskRange.objects.filter(task_id=task_id, status__in=UNFINISHED_RANGES).update(status=RangeStatus.STOPPED):
        # Ended before its merge (cancelled, failed): what its finished ranges stored is not wanted (ranges still
        # running delete their own at their next page).
        task_delete_unkept_files(task_id)
    dependents_release(task_id)
    workspace_id = Task.objects.filter(pk=task_id).values_list("workspace_id", flat=True).first()
    if workspace_id is not None:
        workspace_dispatch(workspace_id)


def dependents_release(source_id) -> None:
    """Queue the Extract/Split tasks waiting on a task that reached a terminal state (each fails or runs)."""
    waiting = Task.objects.filter(source_task_id=source_id, status=TaskStatus.STARTING)
    for task in waiting.only("pk", "task_type", "workspace_id"):
        task_enqueue(task)


def dependents_orphan(source_id, *, reason: str) -> None:
    """Call just before a task is deleted or purged: fail the Extract/Split tasks still waiting on it.

    Deleting the source nulls their link (SET_NULL), after which nothing would ever release them.
    """
    for task in Task.objects.filter(source_task_id=source_id, status=TaskStatus.STARTING).only("pk"):
        task_fail_waiting(task, f"The task it was waiting for {reason}.")


def task_fail_waiting(task: Task, message: str) -> None:
    """Fail a Starting task that can never run (its source failed or went)."""
    changed = Task.objects.filter(pk=task.pk, status=TaskStatus.STARTING).update(
        status=TaskStatus.FAILED, message=message, finished_at=timezone.now()
    )
    if changed:
        task_ended(task.pk)


def task_settle_stopped(task_id) -> None:
    """After a task whose job was stopped from outside has been ended here: remove what that job wrote and was not
    kept (its own clean-up never ran), tell webhooks, and release the tasks waiting on it."""
    task_delete_unkept_files(task_id)
    task_ended(task_id)


def task_delete_unkept_files(task_id) -> None:
    """Delete the files below the task's folder that its stored output does not name (a stopped job's)."""
    kept = TaskOutput.objects.filter(task_id=task_id).values_list("asset_keys", flat=True).first() or []
    storage_delete_below(f"tasks/{task_id}", keep=set(kept))


def task_delete_assets(*, task: Task) -> None:
    """Delete the files a task wrote (page images, crops). The input file is handled by the caller."""
    row = TaskOutput.objects.filter(task=task).only("asset_keys").first()
    for key in row.asset_keys if row else []:
        try:
            default_storage.delete(key)
        except OSError:
            logger.warning("Could not delete asset %s of task %s", key, task.pk)


# The messages of a task whose job ended outside its own control (maintenance.py's sweeps use them too).
STALE_FAILED = "Processing stopped repeatedly (its worker was lost or hung). Try a smaller document, or ask the admin."
STALE_CANCELLED = "Task cancelled. Its worker had stopped answering, so its job was stopped."


@contextmanager
def job_pulse(task_id, job_id: str) -> Iterator[None]:
    """While inside, a thread of this process writes the task's `alive_at` every CHUNKR_LIVENESS_BEAT_SECONDS,
    whatever the work is doing (a page in native code, a wait on helpers). The stale sweep reads a beat older than
    CHUNKR_LIVENESS_LEASE_SECONDS as a process that died or froze; progress (`heartbeat_at`) has its own, longer
    lease for work that lives but never moves on."""
    with row_pulse(Task.objects.filter(pk=task_id, status=TaskStatus.PROCESSING, job_id=job_id), f"task {task_id}"):
        yield


@contextmanager
def row_pulse(rows, what: str) -> Iterator[None]:
    """While inside, a thread of this process sets `alive_at` on `rows` (a queryset: the row the running job holds)
    every CHUNKR_LIVENESS_BEAT_SECONDS. job_pulse for a task; services/ranges.py for a page range."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.CHUNKR_LIVENESS_BEAT_SECONDS):
                try:
                    rows.update(alive_at=timezone.now())
                except Exception:  # noqa: BLE001 - a lost database for a moment: the next beat tries again
                    logger.warning("Liveness beat of %s failed", what, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"pulse-{what}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def task_claim(*, task_id, job_id: str, **updates) -> bool:
    """Take the task for the job `job_id`: one conditional UPDATE from Starting to Processing, so a second delivery
    of a job that already ran does nothing twice. A job whose process died is delivered again with the same id
    (acks_late + reject_on_worker_lost): it takes its Processing task again and starts it over, after removing what
    the dead attempt wrote; after MAX_TASK_ATTEMPTS the task fails instead (a document that kills its worker each
    time), and a task whose cancel was asked for ends Cancelled. `updates`: fields the job sets as it claims."""
    now = timezone.now()
    claim = {
        "status": TaskStatus.PROCESSING,
        "started_at": now,
        "heartbeat_at": now,
        "alive_at": now,
        "attempts": F("attempts") + 1,
        "job_id": job_id,
        **updates,
    }
    runnable = Task.objects.filter(pk=task_id, cancel_requested=False, attempts__lt=settings.MAX_TASK_ATTEMPTS)
    if runnable.filter(status=TaskStatus.STARTING).update(**claim):
        return True
    if job_id and runnable.filter(status=TaskStatus.PROCESSING, job_id=job_id).update(**claim):
        task_delete_unkept_files(task_id)  # what the dead attempt wrote: page images, crops
        return True
    if job_id:  # a redelivery that may not run: settle its task rather than leave it Processing
        stopped = Task.objects.filter(pk=task_id, status=TaskStatus.PROCESSING, job_id=job_id)
        if stopped.filter(cancel_requested=True).update(
            status=TaskStatus.CANCELLED, message=STALE_CANCELLED, finished_at=now
        ) or stopped.update(status=TaskStatus.FAILED, message=STALE_FAILED, finished_at=now):
            task_settle_stopped(task_id)
    return False
