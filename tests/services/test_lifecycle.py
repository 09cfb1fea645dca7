"""services/lifecycle.py: what follows a task's end or removal. Extract/Split tasks waiting on a parse task that
disappears fail, saying why; a stopped job's files go; waiting tasks are released."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.services.maintenance import tasks_purge_expired
from tasks_app.services.tasks import task_delete
from tests.factories import extract_task, parse_task, pdf_bytes


def _waiting_extract(workspace, source):
    return extract_task(workspace, source, expires_in=3600)


def test_a_waiting_extract_fails_when_its_parse_task_expires(workspace):
    source = parse_task(workspace, pdf_bytes("Total 12"), expires_in=1)
    derived = _waiting_extract(workspace, source)
    assert derived.status == TaskStatus.STARTING

    assert tasks_purge_expired(now=timezone.now() + timedelta(seconds=5)) == 1

    derived.refresh_from_db()
    assert derived.status == TaskStatus.FAILED
    assert derived.message == "The task it was waiting for expired."
    assert derived.finished_at is not None


def test_a_waiting_extract_fails_when_its_finished_parse_task_is_deleted(workspace):
    source = parse_task(workspace, pdf_bytes("Total 12"))
    derived = _waiting_extract(workspace, source)
    # The parse finished but the extract job has not run yet (it is still queued).
    type(source).objects.filter(pk=source.pk).update(status=TaskStatus.SUCCEEDED)
    source.refresh_from_db()

    task_delete(task=source, actor=None)

    derived.refresh_from_db()
    assert (derived.status, derived.message) == (TaskStatus.FAILED, "The task it was waiting for was deleted.")


def test_purge_leaves_unrelated_waiting_tasks_alone(workspace):
    expired = parse_task(workspace, pdf_bytes("old"), expires_in=1)
    live = parse_task(workspace, pdf_bytes("new"))
    derived = _waiting_extract(workspace, live)

    tasks_purge_expired(now=timezone.now() + timedelta(seconds=5))

    derived.refresh_from_db()
    assert derived.status == TaskStatus.STARTING
    assert not type(expired).objects.filter(pk=expired.pk).exists()


def test_a_task_stopped_from_outside_loses_the_files_its_output_does_not_name(workspace):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from tasks_app.models import TaskOutput
    from tasks_app.services.lifecycle import task_settle_stopped

    task = parse_task(workspace, pdf_bytes("x"))
    kept = default_storage.save(f"tasks/{task.pk}/pages/0001.png", ContentFile(b"kept"))
    stray = default_storage.save(f"tasks/{task.pk}/crops/half.png", ContentFile(b"stray"))
    TaskOutput.objects.create(task=task, data={"chunks": []}, asset_keys=[kept])
    waiting = _waiting_extract(workspace, task)
    type(task).objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED)

    task_settle_stopped(task.pk)

    assert default_storage.exists(kept) and not default_storage.exists(stray)
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.STARTING  # released: its job decides (and fails it, its source was cancelled)


def test_a_waiting_task_fails_only_while_it_is_still_waiting(workspace):
    from tasks_app.services.lifecycle import task_fail_waiting

    source = parse_task(workspace, pdf_bytes("x"))
    derived = _waiting_extract(workspace, source)
    type(derived).objects.filter(pk=derived.pk).update(status=TaskStatus.PROCESSING)
    task_fail_waiting(derived, "too late")
    derived.refresh_from_db()
    assert derived.status == TaskStatus.PROCESSING


def test_a_job_takes_its_task_once_and_again_only_as_the_same_job_after_its_process_died(workspace, settings):
    from tasks_app.models import Task
    from tasks_app.services.lifecycle import STALE_CANCELLED, STALE_FAILED, task_claim

    task = parse_task(workspace, pdf_bytes())
    assert task_claim(task_id=task.pk, job_id="job-a")
    assert not task_claim(task_id=task.pk, job_id="job-b")  # another job: the task is taken
    assert task_claim(task_id=task.pk, job_id="job-a")  # job-a delivered again: its process died
    row = Task.objects.get(pk=task.pk)
    assert (row.status, row.attempts, row.job_id) == (TaskStatus.PROCESSING, 2, "job-a")

    Task.objects.filter(pk=task.pk).update(attempts=settings.MAX_TASK_ATTEMPTS)
    assert not task_claim(task_id=task.pk, job_id="job-a")  # it killed its worker each time: no more
    row.refresh_from_db()
    assert (row.status, row.message) == (TaskStatus.FAILED, STALE_FAILED)

    cancelled = parse_task(workspace, pdf_bytes())
    assert task_claim(task_id=cancelled.pk, job_id="job-c")
    Task.objects.filter(pk=cancelled.pk).update(cancel_requested=True)
    assert not task_claim(task_id=cancelled.pk, job_id="job-c")
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.message) == (TaskStatus.CANCELLED, STALE_CANCELLED)

    Task.objects.filter(pk=task.pk).update(status=TaskStatus.SUCCEEDED)
    assert not task_claim(task_id=task.pk, job_id="job-a")  # done: a late delivery changes nothing
    assert Task.objects.get(pk=task.pk).status == TaskStatus.SUCCEEDED
