"""services/maintenance.py: what beat runs. Expired tasks go with their outputs and files; tasks whose job stopped
reporting progress are queued again, failed after their last attempt, or cancelled when a cancel was asked for.

The sweep against a real hung job of the prefork worker: tests/jobs/test_stuck_jobs.py."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskOutput
from tasks_app.services.maintenance import (
    STALE_CANCELLED,
    STALE_FAILED,
    STALE_REQUEUED,
    tasks_purge_expired,
    tasks_requeue_stale,
    tasks_resend_unqueued,
)
from tests.factories import parse_task, pdf_bytes

pytestmark = pytest.mark.django_db  # nothing is committed, so no worker takes the jobs these queue


def _stale_processing(workspace, *, attempts=1, cancel_requested=False) -> Task:
    task = parse_task(workspace, pdf_bytes("stuck"))
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.PROCESSING,
        attempts=attempts,
        cancel_requested=cancel_requested,
        heartbeat_at=timezone.now() - timedelta(hours=1),
        job_id="no-such-job",
    )
    return task


def test_stale_sweep_ends_a_cancelled_task_instead_of_running_it_again(workspace):
    task = _stale_processing(workspace, cancel_requested=True)
    assert tasks_requeue_stale() == ([], 0, 1)
    row = Task.objects.get(pk=task.pk)
    assert (row.status, row.message, row.completed) == (TaskStatus.CANCELLED, STALE_CANCELLED, True)


def test_stale_sweep_fails_a_task_after_its_last_attempt(workspace, settings):
    task = _stale_processing(workspace, attempts=settings.MAX_TASK_ATTEMPTS)
    assert tasks_requeue_stale() == ([], 1, 0)
    row = Task.objects.get(pk=task.pk)
    assert (row.status, row.message) == (TaskStatus.FAILED, STALE_FAILED)


def test_stale_sweep_leaves_a_task_that_reports_progress(workspace):
    task = _stale_processing(workspace)
    Task.objects.filter(pk=task.pk).update(heartbeat_at=timezone.now())
    assert tasks_requeue_stale() == ([], 0, 0)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PROCESSING


def test_a_requeued_task_starts_again_from_the_first_page_and_loses_the_stopped_jobs_files(workspace):
    task = _stale_processing(workspace)
    Task.objects.filter(pk=task.pk).update(pages_done=7)
    leftover = default_storage.save(f"tasks/{task.pk}/crops/half-written.png", ContentFile(b"png"))
    requeued, failed, cancelled = tasks_requeue_stale()
    row = Task.objects.get(pk=task.pk)
    assert (requeued, failed, cancelled) == ([task.pk], 0, 0)
    assert (row.status, row.message, row.pages_done, row.job_id) == (TaskStatus.STARTING, STALE_REQUEUED, 0, "")
    assert not default_storage.exists(leftover)


def test_expired_tasks_go_with_their_outputs_and_files(workspace):
    old = parse_task(workspace, pdf_bytes("old"), expires_in=1)
    kept = parse_task(workspace, pdf_bytes("kept"), expires_in=3600)
    asset = default_storage.save(f"tasks/{old.pk}/pages/0001.png", ContentFile(b"png"))
    TaskOutput.objects.create(task=old, data={"chunks": []}, asset_keys=[asset])
    assert tasks_purge_expired(now=timezone.now() + timedelta(seconds=5)) == 1
    assert not Task.objects.filter(pk=old.pk).exists() and not TaskOutput.objects.filter(task_id=old.pk).exists()
    assert not default_storage.exists(asset)
    assert Task.objects.filter(pk=kept.pk).exists()


@pytest.fixture
def own_queues(redis_url, settings):
    """Jobs go to queues of this test's own (no worker reads them), emptied before and after."""
    from tasks_app.services import redis_state
    from tests.conftest import jobs_routed_to

    settings.REDIS_URL = redis_url
    names = [f"resend-test-{q}" for q in ("default", "parse", "ocr", "extract", "split", "maintenance")]
    redis_state.client().delete(*names)
    with jobs_routed_to("resend-test-"):
        yield
    redis_state.client().delete(*names)


def test_a_starting_task_whose_job_never_reached_the_queue_gets_it_again(
    workspace, settings, own_queues, django_capture_on_commit_callbacks
):
    from tasks_app.services.queue import job_enqueue, queued_task_ids
    from tests.factories import extract_task

    settings.CHUNKR_WORKSPACE_MAX_JOBS = 0  # lost jobs here, not fairness: every task may go at once
    old = timezone.now() - timedelta(seconds=settings.QUEUE_RESEND_AFTER_SECONDS + 5)
    lost, queued, fresh = (parse_task(workspace, pdf_bytes()) for _ in range(3))
    running = parse_task(workspace, pdf_bytes())
    waiting = extract_task(workspace, running)  # waits for its source: its source's end queues it
    held = parse_task(workspace, pdf_bytes())  # its dispatch was lost with its process: never sent
    Task.objects.filter(pk__in=[lost.pk, queued.pk, running.pk]).update(created_at=old, queued_at=old)
    Task.objects.filter(pk__in=[waiting.pk, held.pk]).update(created_at=old, queued_at=None)
    Task.objects.filter(pk=running.pk).update(status=TaskStatus.PROCESSING)
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue(queued)  # the only job the broker holds
    before = queued_task_ids()  # (a worker of this test session may hold other tests' jobs: only ours count)
    assert str(queued.pk) in before and str(lost.pk) not in before

    with django_capture_on_commit_callbacks(execute=True):
        resent = tasks_resend_unqueued()

    assert resent == [lost.pk]  # not the queued one, not the one sent moments ago, not the waiting extract
    after = queued_task_ids()
    assert {str(queued.pk), str(lost.pk), str(held.pk)} <= after  # the held one is dispatched by the sweep
    assert str(waiting.pk) not in after and str(fresh.pk) not in after
    assert Task.objects.get(pk=held.pk).queued_at is not None


def test_the_resend_sweep_sends_nothing_while_it_cannot_read_the_broker(workspace):
    from chunkr_web.celery import app

    task = parse_task(workspace, pdf_bytes())
    Task.objects.filter(pk=task.pk).update(created_at=timezone.now() - timedelta(hours=1))
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        assert tasks_resend_unqueued() == []
    finally:
        app.conf.broker_url = saved
