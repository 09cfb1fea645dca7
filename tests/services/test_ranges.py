"""services/ranges.py's sweep: a range whose process stopped beating goes back to Waiting and out again fairly, or
fails its task after MAX_TASK_ATTEMPTS; a merge that was lost or whose process died is sent again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tasks_app.choices import JobQueue, RangeStatus, TaskStatus
from tasks_app.models import Task, TaskRange
from tasks_app.services.lifecycle import STALE_FAILED
from tasks_app.services.processing import range_bounds
from tasks_app.services.ranges import ranges_requeue_stale
from tests.factories import parse_task, pdf_bytes


def long_task(workspace, statuses, **range_fields):
    task = parse_task(workspace, pdf_bytes("long"))
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.PROCESSING, ranges_total=len(statuses), pages_total=30)
    for index, status in enumerate(statuses):
        TaskRange.objects.create(
            task=task,
            workspace=workspace,
            index=index,
            first_page=index * 10,
            stop_page=(index + 1) * 10,
            status=status,
            queue=JobQueue.PARSE,
            **range_fields,
        )
    return task


def test_ranges_are_of_equal_size_and_short_documents_stay_one_job(settings):
    settings.CHUNKR_RANGE_MIN_PAGES, settings.CHUNKR_RANGE_PAGES = 64, 25
    assert range_bounds(63) == []
    assert range_bounds(64) == [(0, 21), (21, 43), (43, 64)]
    bounds = range_bounds(400)
    assert len(bounds) == 16 and {b - a for a, b in bounds} == {25}
    settings.CHUNKR_OCR_RANGE_MIN_PAGES, settings.CHUNKR_OCR_RANGE_PAGES = 16, 8
    assert range_bounds(15, scanned=True) == [] and len(range_bounds(16, scanned=True)) == 2
    assert len(range_bounds(60, scanned=True)) == 8  # scans are spread from fewer pages, in smaller ranges
    settings.CHUNKR_RANGE_MIN_PAGES = 0
    assert range_bounds(5000) == []


def test_a_range_that_stopped_beating_goes_back_to_waiting(workspace, settings):
    settings.CHUNKR_WORKSPACE_MAX_JOBS = 0
    old = timezone.now() - timedelta(seconds=settings.CHUNKR_LIVENESS_LEASE_SECONDS + 5)
    task = long_task(workspace, [RangeStatus.DONE, RangeStatus.RUNNING, RangeStatus.RUNNING], job_id="j", attempts=1)
    TaskRange.objects.filter(task=task, index=1).update(alive_at=old, job_id="dead")
    TaskRange.objects.filter(task=task, index=2).update(alive_at=timezone.now(), job_id="alive")

    requeued, merges = ranges_requeue_stale()

    assert (requeued, merges) == (1, 0)
    states = dict(TaskRange.objects.filter(task=task).values_list("index", "status"))
    assert states == {0: RangeStatus.DONE, 1: RangeStatus.QUEUED, 2: RangeStatus.RUNNING}  # out again at once
    assert TaskRange.objects.get(task=task, index=1).job_id == ""


def test_a_range_that_kept_dying_fails_its_task(workspace, settings):
    old = timezone.now() - timedelta(seconds=settings.CHUNKR_LIVENESS_LEASE_SECONDS + 5)
    task = long_task(workspace, [RangeStatus.RUNNING, RangeStatus.WAITING], attempts=settings.MAX_TASK_ATTEMPTS)
    TaskRange.objects.filter(task=task).update(alive_at=old, job_id="dead")

    ranges_requeue_stale()

    task.refresh_from_db()
    assert (task.status, task.message) == (TaskStatus.FAILED, STALE_FAILED)
    assert set(TaskRange.objects.filter(task=task).values_list("status", flat=True)) == {RangeStatus.STOPPED}


def test_a_lost_or_dead_merge_is_sent_again(workspace, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.QUEUE_RESEND_AFTER_SECONDS + 5)
    long_task(workspace, [RangeStatus.DONE, RangeStatus.DONE], finished_at=long_ago)  # its merge message was lost
    recent = long_task(workspace, [RangeStatus.DONE, RangeStatus.DONE], finished_at=timezone.now())
    dead = long_task(workspace, [RangeStatus.DONE, RangeStatus.DONE], finished_at=long_ago)
    Task.objects.filter(pk=dead.pk).update(merged_by="m1", job_id="m1", alive_at=long_ago)
    running = long_task(workspace, [RangeStatus.DONE, RangeStatus.DONE], finished_at=long_ago)
    Task.objects.filter(pk=running.pk).update(merged_by="m2", job_id="m2", alive_at=timezone.now())

    requeued, merges = ranges_requeue_stale()

    assert (requeued, merges) == (0, 2)  # the lost one and the dead one; not one just finished, nor a live merge
    assert Task.objects.get(pk=dead.pk).merged_by == ""  # the next merge may claim it
    assert Task.objects.get(pk=running.pk).merged_by == "m2"
    assert Task.objects.get(pk=recent.pk).merged_by == ""
