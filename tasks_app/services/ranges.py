"""The page ranges of a long document (processing.ranges_split made them): each range's job, and the merge.

A range's job claims its row with one conditional UPDATE (Queued → Running, or Running under its own job id when
Celery delivers it again after its worker died: acks_late), reads the document from the store, processes its pages
with the engine (`engine.parse_pages`), and stores its part (JSON) and asset keys on the row. The range that
finishes last — decided under a lock on the task row, so exactly one sees none left — queues the merge, which joins
the parts in page order (`engine.assemble_result`: chunks over the whole document, as in one job) and stores the
result like a single job does. The merge claims the task with `merged_by`, so a second merge message does nothing
and a redelivered one starts over.

Progress is the sum of the ranges' pages, cancel is the task's flag (each range stops at its next page; ranges not
started are Stopped when the task ends: services/lifecycle.task_ended), a range whose process stops beating is
queued again by the stale sweep (`ranges_requeue_stale`), up to MAX_TASK_ATTEMPTS, then the task fails.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from tasks_app import engine
from tasks_app.choices import RangeStatus, TaskStatus
from tasks_app.models import Task, TaskRange
from tasks_app.services.dispatch import workspace_dispatch
from tasks_app.services.lifecycle import INTERNAL_ERROR, STALE_FAILED, job_pulse, row_pulse
from tasks_app.services.processing import (
    DB_POLL_SECONDS,
    TASK_CANCELLED,
    TOO_SLOW,
    parse_options,
    task_finish,
    task_store_result,
)
from tasks_app.services.queue import MERGE_JOB, job_send, job_stop
from tasks_app.services.storage import StorageSink, local_copy

logger = logging.getLogger(__name__)

MERGING = "Joining the pages"
RANGE_REQUEUED = "queued again: its worker stopped answering"


def document_key(task_id) -> str:
    return f"tasks/{task_id}/document.pdf"


class _RangeWatch:
    """A range's progress (its own pages, summed into the task's) and its cancel check, once a second at most."""

    def __init__(self, item: TaskRange, job_id: str) -> None:
        self.item = item
        self.job_id = job_id
        self.last_write = 0.0
        self.last_check = 0.0
        self.cancelled = False

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last_write < DB_POLL_SECONDS:
            return
        self.last_write = now
        TaskRange.objects.filter(pk=self.item.pk, status=RangeStatus.RUNNING, job_id=self.job_id).update(
            pages_done=done
        )
        task_progress(self.item.task_id)

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if self.cancelled or now - self.last_check < DB_POLL_SECONDS:
            return self.cancelled
        self.last_check = now
        mine = TaskRange.objects.filter(pk=self.item.pk, status=RangeStatus.RUNNING, job_id=self.job_id)
        running = mine.filter(task__status=TaskStatus.PROCESSING, task__cancel_requested=False).exists()
        self.cancelled = not running
        return self.cancelled


def task_progress(task_id) -> None:
    """The task's pages done: the sum over its ranges (a range started over counts from its start again)."""
    done = TaskRange.objects.filter(task_id=task_id).aggregate(n=Sum("pages_done"))["n"] or 0
    row = Task.objects.filter(pk=task_id).values("pages_total").first()
    total = (row or {}).get("pages_total") or 0
    Task.objects.filter(pk=task_id, status=TaskStatus.PROCESSING).update(
        pages_done=done,
        heartbeat_at=timezone.now(),
        message=f"Processing page {min(done + 1, total)} of {total}" if done < total else MERGING,
    )


def _range_claim(*, task_id, index: int, job_id: str, worker: str) -> TaskRange | None:
    now = timezone.now()
    claim = {
        "status": RangeStatus.RUNNING,
        "job_id": job_id,
        "worker": worker[:255],
        "attempts": F("attempts") + 1,
        "started_at": now,
        "alive_at": now,
        "pages_done": 0,
    }
    rows = TaskRange.objects.filter(
        task_id=task_id,
        index=index,
        task__status=TaskStatus.PROCESSING,
        task__cancel_requested=False,
        attempts__lt=settings.MAX_TASK_ATTEMPTS,
    )
    if rows.filter(status=RangeStatus.QUEUED).update(**claim) or (
        job_id and rows.filter(status=RangeStatus.RUNNING, job_id=job_id).update(**claim)  # its worker died
    ):
        return TaskRange.objects.select_related("task", "task__workspace").get(task_id=task_id, index=index)
    lost = TaskRange.objects.filter(task_id=task_id, index=index, status=RangeStatus.RUNNING, job_id=job_id)
    if job_id and lost.filter(attempts__gte=settings.MAX_TASK_ATTEMPTS).exists():
        _task_fail(task_id, STALE_FAILED)  # a range that kills its worker every time
    return None


def range_process(*, task_id: str, index: int, job_id: str = "", worker: str = "") -> None:
    """The job of one page range (parse_range_job, ocr_range_job)."""
    item = _range_claim(task_id=task_id, index=int(index), job_id=job_id, worker=worker)
    if item is None:
        return  # stopped, done, or taken by another delivery
    task = item.task
    task_progress(task.pk)
    sink = StorageSink(prefix=f"tasks/{task.pk}")
    watch = _RangeWatch(item, job_id)
    pages = range(item.first_page, item.stop_page)
    last = False
    with row_pulse(TaskRange.objects.filter(pk=item.pk, status=RangeStatus.RUNNING, job_id=job_id), f"range {item.pk}"):
        try:
            with local_copy(document_key(task.pk), suffix=".pdf") as path:
                part = engine.parse_pages(
                    path, pages, parse_options(task), sink, progress=watch.progress, should_cancel=watch.should_cancel
                )
        except engine.Cancelled:
            sink.delete_all()
            task_finish(task, TaskStatus.CANCELLED, TASK_CANCELLED)  # no-op unless the task is still Processing
        except FileNotFoundError:
            sink.delete_all()
            _task_fail(task.pk, "The document's stored copy is no longer available. Upload it again.")
        except engine.EngineError as exc:
            sink.delete_all()
            _task_fail(task.pk, exc.user_message)
        except SoftTimeLimitExceeded:
            sink.delete_all()
            _task_fail(task.pk, TOO_SLOW.format(seconds=settings.PARSE_SOFT_TIME_LIMIT))
        except Exception:
            ref = uuid.uuid4().hex[:8]
            logger.exception("Range %d of task %s failed (ref %s)", item.index, task.pk, ref)
            sink.delete_all()
            _task_fail(task.pk, INTERNAL_ERROR.format(ref=ref))
        else:
            last = _range_done(item, engine.part_to_bytes(part), sink.keys, job_id)
    if last:
        # The last range's worker merges at once, rather than sending the merge through the broker to whichever
        # worker takes it next: one job fewer per document (the range path's cost on one worker is per job). A
        # merge it does not finish is sent again by the stale sweep, as one sent as a message would be.
        ranges_merge(task_id=str(item.task_id), job_id=job_id)


def _range_done(item: TaskRange, part: bytes, keys: list[str], job_id: str) -> bool:
    """Store a finished range's part; True when it was the last range of a task still processing (whose merge
    falls to the caller)."""
    with transaction.atomic():
        # One range end of a task at a time: exactly one of them sees no range left, and queues the merge.
        Task.objects.select_for_update().filter(pk=item.task_id).values_list("pk", flat=True).first()
        stored = TaskRange.objects.filter(pk=item.pk, status=RangeStatus.RUNNING, job_id=job_id).update(
            status=RangeStatus.DONE,
            part=part,
            asset_keys=keys,
            pages_done=item.stop_page - item.first_page,
            finished_at=timezone.now(),
        )
        last = (
            stored
            and _all_ranges_done(item.task_id)
            and Task.objects.filter(pk=item.task_id, status=TaskStatus.PROCESSING).exists()
        )
        workspace_dispatch(item.workspace_id)  # this range's slot is free
    if not stored and TaskRange.objects.filter(pk=item.pk, status=RangeStatus.STOPPED).exists():
        # Its task ended (cancelled, failed) while this range ran its last pages: what it stored is not wanted. (A
        # range taken over by another attempt keeps its files: that attempt writes the same page images.)
        StorageSink(prefix=f"tasks/{item.task_id}", keys=keys).delete_all()
        return False
    task_progress(item.task_id)
    return bool(last)


def _task_fail(task_id, message: str) -> None:
    task = Task.objects.filter(pk=task_id).first()
    if task is not None:
        task_finish(task, TaskStatus.FAILED, message)  # ends the others' ranges too (lifecycle.task_ended)


def ranges_merge(*, task_id: str, job_id: str = "") -> None:
    """The merge job: join the parts in page order and store the result, once."""
    claim = Task.objects.filter(pk=task_id, status=TaskStatus.PROCESSING, ranges_total__gt=0)
    if not _all_ranges_done(task_id):
        return
    now = timezone.now()
    taken = claim.filter(merged_by="").update(merged_by=job_id or "merge", job_id=job_id, alive_at=now)
    if not taken and job_id:
        taken = claim.filter(merged_by=job_id).update(alive_at=now)  # delivered again after its worker died
    if not taken:
        return
    task = Task.objects.select_related("workspace").get(pk=task_id)
    items = list(TaskRange.objects.filter(task_id=task_id).order_by("index"))
    keys = [document_key(task_id)] + [key for item in items for key in item.asset_keys]
    sink = StorageSink(prefix=f"tasks/{task_id}", keys=keys)
    with job_pulse(task.pk, job_id):
        try:
            result = engine.assemble_result(
                [engine.part_from_bytes(bytes(item.part)) for item in items],
                parse_options(task),
                pdf_key=document_key(task_id),
                file_name=task.file_name or "document.pdf",
                mime_type=task.mime_type or "application/pdf",
                page_count=task.pages_total or items[-1].stop_page,
            )
        except Exception:
            ref = uuid.uuid4().hex[:8]
            logger.exception("Merging the ranges of task %s failed (ref %s)", task_id, ref)
            sink.delete_all()
            _task_fail(task_id, INTERNAL_ERROR.format(ref=ref))
            return
        task_store_result(task=task, result=result, asset_keys=keys, sink=sink)
    TaskRange.objects.filter(task_id=task_id).update(part=None)  # joined: the parts are in the output now


def _all_ranges_done(task_id) -> bool:
    return not TaskRange.objects.filter(task_id=task_id).exclude(status=RangeStatus.DONE).exists()


def ranges_requeue_stale(*, now=None) -> tuple[int, int]:
    """Ranges whose process stopped beating for CHUNKR_LIVENESS_LEASE_SECONDS go back to Waiting (then out again,
    fairly) after their job is stopped wherever it may still run; after MAX_TASK_ATTEMPTS their task fails. A merge
    whose process stopped beating, or whose message was lost, is sent again. Returns (ranges requeued, merges sent)."""
    now = now or timezone.now()
    no_beat = now - timedelta(seconds=settings.CHUNKR_LIVENESS_LEASE_SECONDS)
    requeued = 0
    stale = TaskRange.objects.filter(status=RangeStatus.RUNNING, alive_at__lt=no_beat)
    for pk, task_id, workspace_id, job_id, attempts in stale.values_list(
        "pk", "task_id", "workspace_id", "job_id", "attempts"
    ):
        job_stop(job_id)
        if attempts >= settings.MAX_TASK_ATTEMPTS:
            _task_fail(task_id, STALE_FAILED)
            continue
        with transaction.atomic():
            if TaskRange.objects.filter(pk=pk, status=RangeStatus.RUNNING, job_id=job_id).update(
                status=RangeStatus.WAITING, job_id="", pages_done=0
            ):
                logger.warning("Range %s of task %s %s", pk, task_id, RANGE_REQUEUED)
                requeued += 1
                workspace_dispatch(workspace_id)
    merges = 0
    resend_after = now - timedelta(seconds=settings.QUEUE_RESEND_AFTER_SECONDS)
    parents = Task.objects.filter(status=TaskStatus.PROCESSING, ranges_total__gt=0)
    for task_id, merged_by, alive_at, job_id in parents.values_list("pk", "merged_by", "alive_at", "job_id"):
        if not _all_ranges_done(task_id):
            continue
        if merged_by:
            if alive_at and alive_at >= no_beat:
                continue  # a merge is running
            job_stop(job_id)
            if not Task.objects.filter(pk=task_id, merged_by=merged_by).update(merged_by=""):
                continue
        else:
            last_done = TaskRange.objects.filter(task_id=task_id).aggregate(t=Max("finished_at"))["t"]
            if last_done and last_done >= resend_after:
                continue  # its merge message is likely still on its way
        with transaction.atomic():
            job_send(MERGE_JOB, str(task_id))
        merges += 1
    return requeued, merges
