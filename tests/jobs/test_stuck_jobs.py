"""A job that hangs in the prefork worker users run: a cancel ends it within seconds, the stale sweep frees its
process and runs the task again, and nothing it wrote or started is left behind."""

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskOutput
from tasks_app.services.maintenance import tasks_requeue_stale
from tasks_app.services.tasks import TASK_STOPPED, task_cancel
from tests.conftest import wait_for
from tests.factories import parse_task, pdf_bytes

pytestmark = pytest.mark.django_db(transaction=True)

# Below CHUNKR_RANGE_MIN_PAGES, so one job processes it all (page ranges have their own tests: test_ranges.py).
LONG_REPORT = pdf_bytes(*[f"Page {n} of a long report. " * 20 for n in range(60)])


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def descendants(pid: int) -> set[int]:
    from tests.test_supervisor import descendants as below

    return below(pid)


def hang_the_job(worker, task) -> int:
    """Wait until the task is being processed, then freeze the pool process running it (SIGSTOP): it answers
    nothing and reaches no page boundary, as a process stuck in native code would. Returns its pid."""
    wait_for(
        lambda: Task.objects.filter(pk=task.pk, status="Processing", pages_done__gte=1).exists(),
        timeout=60,
        what=f"processing to start\n{worker.log_tail()}",
    )
    job = wait_for(
        lambda: next((j for j in worker.active() if str(task.pk) in str(j.get("args"))), None),
        timeout=20,
        what="the job in `inspect active`",
    )
    pid = job["worker_pid"]
    os.kill(pid, signal.SIGSTOP)
    assert Task.objects.get(pk=task.pk).job_id == job["id"]
    return pid


def finished(task_id, timeout: float = 120) -> Task:
    return wait_for(
        lambda: Task.objects.filter(pk=task_id, status__in=["Succeeded", "Failed", "Cancelled"]).first(),
        timeout=timeout,
        what="the task to finish",
    )


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to watch the worker's processes")
def test_cancel_of_a_hung_job_ends_it_within_seconds_and_the_worker_goes_on(live_worker, workspace, settings):
    settings.CHUNKR_CANCEL_GRACE_SECONDS = 2
    task = parse_task(workspace, LONG_REPORT, configuration={"ocr_strategy": "Auto"})
    pid = hang_the_job(live_worker, task)
    family = {pid, *descendants(pid)}  # the parse helpers it started, if any

    started = time.monotonic()
    cancelled = task_cancel(task=Task.objects.get(pk=task.pk), actor=None)
    took = time.monotonic() - started

    assert (cancelled.status, cancelled.message) == (TaskStatus.CANCELLED, TASK_STOPPED)
    assert took < 8, f"the cancel took {took:.1f} s"
    wait_for(lambda: not any(alive(p) for p in family), timeout=15, what="the hung process and its helpers to go")
    assert not TaskOutput.objects.filter(task_id=task.pk).exists()
    assert not default_storage.exists(f"tasks/{task.pk}") or default_storage.listdir(f"tasks/{task.pk}") == ([], [])
    # The worker replaced the process and takes new work; the revoked job is not run again.
    fresh = parse_task(workspace, pdf_bytes("after the hang"), configuration={"ocr_strategy": "Auto"})
    assert finished(fresh.pk).status == TaskStatus.SUCCEEDED, live_worker.log_tail()
    time.sleep(1)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CANCELLED


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to watch the worker's processes")
def test_stale_sweep_stops_a_hung_job_and_runs_the_task_again(live_worker, workspace, settings):
    task = parse_task(workspace, pdf_bytes(*[f"Page {n}. " * 30 for n in range(40)]))
    pid = hang_the_job(live_worker, task)

    later = timezone.now() + timedelta(seconds=settings.STALE_TASK_AFTER_SECONDS + 1)
    requeued, failed, cancelled = tasks_requeue_stale(now=later)

    assert (requeued, failed, cancelled) == ([task.pk], 0, 0)
    wait_for(lambda: not alive(pid), timeout=15, what="the hung process to be stopped")
    done = finished(task.pk)
    assert done.status == TaskStatus.SUCCEEDED, f"{done.message}\n{live_worker.log_tail()}"
    assert (done.attempts, done.page_count, done.pages_done) == (2, 40, 40)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to watch the worker's processes")
def test_a_pool_process_killed_mid_parse_has_its_task_finished_exactly_once(live_worker, workspace):
    """The fault drill: SIGKILL the pool process while it parses. Celery hands the job out again (acks_late,
    reject_on_worker_lost); its task is taken again by the same job id and parsed from the start, once."""
    task = parse_task(workspace, LONG_REPORT, configuration={"ocr_strategy": "Auto"})
    pid = hang_the_job(live_worker, task)  # frozen first, so it cannot finish before the kill
    first = Task.objects.get(pk=task.pk).job_id
    os.kill(pid, signal.SIGKILL)

    done = finished(task.pk, timeout=120)

    assert done.status == TaskStatus.SUCCEEDED, f"{done.message}\n{live_worker.log_tail()}"
    assert (done.attempts, done.job_id, done.page_count, done.pages_done) == (2, first, 60, 60)
    assert TaskOutput.objects.filter(task_id=task.pk).count() == 1
    time.sleep(2)
    assert Task.objects.get(pk=task.pk).finished_at == done.finished_at  # not run a third time


def scanned_pdf(pages: int) -> bytes:
    """Pages that are pictures of text: each needs OCR, so a parse of them takes a while."""
    import io

    import pymupdf
    from PIL import Image, ImageDraw

    doc = pymupdf.open()
    for n in range(pages):
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for line in range(30):
            draw.text((90, 90 + line * 52), f"Scanned page {n}, line {line}: amount {line * 13}.20 EUR", fill=0)
        png = io.BytesIO()
        image.save(png, format="PNG")
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=png.getvalue())
    return doc.tobytes()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to watch the worker's processes")
def test_a_frozen_process_misses_its_beats_and_is_replaced_in_seconds_while_a_slow_one_beats_on(
    live_worker, workspace, settings
):
    """Liveness apart from progress: the test worker's jobs beat every second (WORKER_TEST_ENV). With a lease of
    4 s, the sweep at real time (the 15-minute progress lease plays no part) takes the frozen task back and leaves
    the one still working through its scanned pages alone."""
    settings.CHUNKR_LIVENESS_LEASE_SECONDS = 4
    frozen = parse_task(workspace, pdf_bytes(*[f"Page {n}. " * 30 for n in range(60)]))
    pid = hang_the_job(live_worker, frozen)
    busy = parse_task(workspace, scanned_pdf(24), configuration={"ocr_strategy": "All"})
    wait_for(
        lambda: Task.objects.filter(pk=busy.pk, status="Processing", pages_done__gte=1).exists(),
        timeout=60,
        what=f"the scanned document to be processing\n{live_worker.log_tail()}",
    )
    time.sleep(settings.CHUNKR_LIVENESS_LEASE_SECONDS + 2)
    assert Task.objects.get(pk=busy.pk).status == "Processing", "calibration: the slow parse must still run"

    requeued, failed, cancelled = tasks_requeue_stale()

    assert (requeued, failed, cancelled) == ([frozen.pk], 0, 0)
    wait_for(lambda: not alive(pid), timeout=15, what="the frozen process to be stopped")
    done = finished(frozen.pk)
    assert done.status == TaskStatus.SUCCEEDED, f"{done.message}\n{live_worker.log_tail()}"
    assert done.attempts == 2
    slow = Task.objects.get(pk=busy.pk)
    assert slow.attempts == 1 and slow.status in ("Processing", "Succeeded")
    if slow.status == "Processing":
        task_cancel(task=slow, actor=None)  # no work left behind for the next test
