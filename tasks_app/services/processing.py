"""Runs a claimed parse task through the engine and stores the result. Called by process_task_job."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import PurePath

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from tasks_app import engine
from tasks_app.choices import JobQueue, TaskStatus, TaskType
from tasks_app.models import Task, TaskOutput, TaskRange
from tasks_app.services.dispatch import workspace_dispatch
from tasks_app.services.inputs import url_input_fetch
from tasks_app.services.lifecycle import INTERNAL_ERROR, job_pulse, task_claim, task_ended
from tasks_app.services.outbound import OutboundError
from tasks_app.services.storage import StorageSink, local_copy
from tasks_app.services.webhooks import webhooks_emit_for

logger = logging.getLogger(__name__)

TASK_SUCCEEDED = "Task succeeded"
TASK_CANCELLED = "Task cancelled"
INPUT_MISSING = "The input file is no longer available. Upload it again."
TOO_SLOW = "Processing took longer than {seconds} s and was stopped. Try a shorter document."
# Progress writes and cancellation checks hit the database; once a second is plenty for a progress bar.
DB_POLL_SECONDS = 1.0


def parse_options(task: Task) -> engine.ParseOptions:
    return engine.ParseOptions(
        config=engine.ParseConfig.from_dict(task.configuration),
        limits=engine.EngineLimits(max_bytes=settings.CHUNKR_MAX_UPLOAD_BYTES, max_pages=settings.CHUNKR_MAX_PAGES),
        file_name=task.file_name or None,
        llm_base_url=settings.CHUNKR_LLM_BASE_URL,
        llm_api_key=settings.CHUNKR_LLM_API_KEY,
        llm_model=settings.CHUNKR_LLM_MODEL,
        llm_timeout_s=settings.CHUNKR_LLM_TIMEOUT,
        workers=settings.CHUNKR_PARSE_WORKERS or engine.default_workers(),
        # Our asset view renders a missing page image on first request (storage.open_asset), into a remote store
        # too, then redirects there (storage.asset_available).
        page_images="lazy" if settings.CHUNKR_LAZY_PAGE_IMAGES else "eager",
    )


class _Watch:
    """Progress reporting and cooperative cancellation, throttled to one query a second."""

    def __init__(self, task_id) -> None:
        self.task_id = task_id
        self.last_write = 0.0
        self.last_check = 0.0
        self.cancelled = False

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last_write < DB_POLL_SECONDS:
            return
        self.last_write = now
        Task.objects.filter(pk=self.task_id, status=TaskStatus.PROCESSING).update(
            pages_done=done,
            pages_total=total,
            message=f"Processing page {min(done + 1, total)} of {total}" if done < total else "Finishing",
            heartbeat_at=timezone.now(),
        )

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if self.cancelled or now - self.last_check < DB_POLL_SECONDS:
            return self.cancelled
        self.last_check = now
        row = Task.objects.filter(pk=self.task_id).values("status", "cancel_requested").first()
        # A vanished row (deleted or expired) also stops the work.
        self.cancelled = row is None or row["cancel_requested"] or row["status"] != TaskStatus.PROCESSING
        return self.cancelled


def task_process(*, task_id: str, job_id: str = "") -> None:
    if not Task.objects.filter(pk=task_id, task_type=TaskType.PARSE).exists():
        return
    claimed = task_claim(
        task_id=task_id,
        job_id=job_id,
        previous_state=None,
        message="Processing",
        pages_done=0,
        ranges_total=0,
        merged_by="",
    )
    if not claimed:
        return  # delivered again, cancelled or already done
    webhooks_emit_for(task_id)
    task = Task.objects.select_related("input_file", "workspace").get(pk=task_id)
    sink = StorageSink(prefix=f"tasks/{task.pk}")
    watch = _Watch(task.pk)
    with job_pulse(task.pk, job_id):  # says the process lives, whatever its pages do
        try:
            if task.input_file is None and task.source_url:
                task.input_file = _fetch_url_input(task)
            stored = task.input_file
            if stored is None or not stored.storage_key or stored.deleted_at is not None:
                raise engine.EngineError(INPUT_MISSING)
            suffix = PurePath(stored.storage_key).suffix
            with local_copy(stored.storage_key, suffix=suffix) as path:
                if ranges_split(task, path, sink, job_id):
                    return  # its page ranges' jobs take it from here (services/ranges.py)
                result = engine.parse_document(
                    path, parse_options(task), sink, progress=watch.progress, should_cancel=watch.should_cancel
                )
        except engine.Cancelled:
            sink.delete_all()
            task_finish(task, TaskStatus.CANCELLED, TASK_CANCELLED)
        except engine.EngineError as exc:
            sink.delete_all()
            task_finish(task, TaskStatus.FAILED, exc.user_message)
        except SoftTimeLimitExceeded:
            sink.delete_all()
            task_finish(task, TaskStatus.FAILED, TOO_SLOW.format(seconds=settings.PARSE_SOFT_TIME_LIMIT))
        except Exception:
            ref = uuid.uuid4().hex[:8]
            logger.exception("Parse task %s failed (ref %s)", task.pk, ref)
            sink.delete_all()
            task_finish(task, TaskStatus.FAILED, INTERNAL_ERROR.format(ref=ref))
        else:
            task_store_result(task=task, result=result, asset_keys=sink.keys, sink=sink)


def range_bounds(page_count: int, *, scanned: bool = False) -> list[tuple[int, int]]:
    """The page ranges (0-based, stop excluded) a document of `page_count` pages is processed in; [] = one job.

    CHUNKR_RANGE_MIN_PAGES / CHUNKR_RANGE_PAGES for born-digital pages, CHUNKR_OCR_RANGE_MIN_PAGES /
    CHUNKR_OCR_RANGE_PAGES for scans (a page that needs OCR costs about ten born-digital ones), chosen from
    bench/scale_bench.py (docs/BENCHMARKS.md). Ranges are of equal size give or take a page, so the last one is not
    a straggler."""
    if scanned:
        least, size = settings.CHUNKR_OCR_RANGE_MIN_PAGES, settings.CHUNKR_OCR_RANGE_PAGES
    else:
        least, size = settings.CHUNKR_RANGE_MIN_PAGES, settings.CHUNKR_RANGE_PAGES
    if not least or page_count < max(least, 2):
        return []
    count = max(2, -(-page_count // size))
    edges = [round(i * page_count / count) for i in range(count + 1)]
    return list(zip(edges, edges[1:], strict=False))


def ranges_split(task: Task, path, sink: StorageSink, job_id: str) -> bool:
    """Processes a long PDF as page ranges, each a job of its own on the `parse` or `ocr` queue, taken by whichever
    workers are free wherever they run; the last range to finish queues the merge. True when it did (this job is
    then done); False for the single-job path (short documents, other kinds of input)."""
    info = engine.sniff(path, max_bytes=settings.CHUNKR_MAX_UPLOAD_BYTES)
    if info.kind != "pdf" or info.encrypted or not info.page_count:
        return False
    bounds = range_bounds(info.page_count, scanned=info.scanned)
    if not bounds:
        return False
    # The ranges read the document from the store, not from this machine: a worker elsewhere needs no shared disk.
    sink.put("document.pdf", path.read_bytes(), "application/pdf")
    queue = JobQueue.OCR if info.scanned else JobQueue.PARSE
    total = info.page_count
    with transaction.atomic():
        split = Task.objects.filter(
            pk=task.pk, status=TaskStatus.PROCESSING, job_id=job_id, cancel_requested=False
        ).update(
            ranges_total=len(bounds),
            page_count=total,
            pages_total=total,
            pages_done=0,
            heartbeat_at=timezone.now(),
            message=f"Processing page 1 of {total}",
        )
        if not split:
            raise engine.Cancelled()
        TaskRange.objects.filter(task=task).delete()  # a run before this one's (a redelivery, a legacy re-run)
        TaskRange.objects.bulk_create(
            TaskRange(task=task, workspace_id=task.workspace_id, index=i, first_page=first, stop_page=stop, queue=queue)
            for i, (first, stop) in enumerate(bounds)
        )
        workspace_dispatch(task.workspace_id)
    logger.info("Task %s: %d pages in %d ranges on the %s queue", task.pk, total, len(bounds), queue)
    return True


def _fetch_url_input(task: Task):
    Task.objects.filter(pk=task.pk).update(message="Downloading the input file")
    try:
        stored = url_input_fetch(workspace=task.workspace, url=task.source_url, file_name=task.file_name)
    except OutboundError as exc:
        raise engine.EngineError(f"Could not download the file: {exc}") from None
    Task.objects.filter(pk=task.pk).update(input_file=stored, mime_type=stored.mime_type)
    return stored


def task_finish(task: Task, status: TaskStatus, message: str) -> None:
    changed = Task.objects.filter(pk=task.pk, status=TaskStatus.PROCESSING).update(
        status=status, message=message, finished_at=timezone.now()
    )
    if changed:
        task_ended(task.pk)


def task_store_result(*, task: Task, result: engine.ParseResult, asset_keys: list[str], sink: StorageSink) -> None:
    output = result.to_dict(url_for=lambda key: key)
    message = TASK_SUCCEEDED
    if result.warnings:
        message += ". " + " ".join(result.warnings)
    with transaction.atomic():
        updated = Task.objects.filter(pk=task.pk, status=TaskStatus.PROCESSING, cancel_requested=False).update(
            status=TaskStatus.SUCCEEDED,
            message=message,
            finished_at=timezone.now(),
            page_count=result.page_count,
            pages_done=result.page_count or 0,
            pages_total=result.page_count,
            mime_type=result.mime_type or task.mime_type,
        )
        if updated:
            task_ended(task.pk)
            old = TaskOutput.objects.filter(task=task).values_list("asset_keys", flat=True).first() or []
            TaskOutput.objects.update_or_create(task=task, defaults={"data": output, "asset_keys": asset_keys})
            stale = [key for key in old if key not in set(asset_keys)]
            transaction.on_commit(lambda: [default_storage.delete(key) for key in stale])
    if not updated:
        # Cancelled or deleted while we were finishing: keep nothing partial.
        sink.delete_all()
        task_finish(task, TaskStatus.CANCELLED, TASK_CANCELLED)
