"""services/tasks.py: task rows on the write side. Create (below the intake), cancel with a truthful outcome,
delete by the state rules, the legacy re-run in place and its cancel."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage

from tasks_app import engine
from tasks_app.choices import TaskStatus
from tasks_app.errors import ApplicationError
from tasks_app.models import AuditEvent, StoredFile, Task
from tasks_app.services.intake import intake_parse, intake_update_legacy
from tasks_app.services.tasks import TASK_STOPPED, task_cancel, task_create_parse, task_delete, tasks_cancel
from tests.factories import parse_task, pdf_bytes, store_file

pytestmark = pytest.mark.django_db


def test_a_new_task_stores_the_normalised_configuration_and_the_workspace_retention(workspace):
    workspace.default_expires_in = 600
    workspace.save()
    stored = store_file(workspace, pdf_bytes())
    task = task_create_parse(
        workspace=workspace, stored_file=stored, configuration=engine.ParseConfig.from_dict({}), actor=None
    )
    assert task.configuration == engine.ParseConfig.from_dict({}).to_dict()
    assert task.expires_at - task.created_at == timedelta(seconds=600)
    assert (task.status, task.file_name, task.mime_type) == (TaskStatus.STARTING, "doc.pdf", "application/pdf")
    assert AuditEvent.objects.filter(verb="task.created", target_id=str(task.pk)).exists()
    forever = task_create_parse(
        workspace=workspace, stored_file=stored, configuration=engine.ParseConfig(), actor=None, expires_in=0
    )
    assert forever.expires_at is None


def test_cancel_of_a_starting_task_is_immediate_and_of_a_finished_one_refused(workspace):
    waiting, done = parse_task(workspace, pdf_bytes()), parse_task(workspace, pdf_bytes())
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.SUCCEEDED)
    done.refresh_from_db()
    outcomes = tasks_cancel(tasks=[waiting, done], actor=None)
    assert [(o.task.status, o.cancelled) for o in outcomes] == [
        (TaskStatus.CANCELLED, True),
        (TaskStatus.SUCCEEDED, False),
    ]
    assert outcomes[1].error == "Task cannot be cancelled: status is Succeeded"
    with pytest.raises(ApplicationError, match="status is Succeeded"):
        task_cancel(task=done, actor=None)


def test_a_processing_task_inside_a_transaction_is_stopped_at_once(workspace, settings):
    """Inside an atomic block the flag is not visible to any worker, so the cancel does not wait for one."""
    settings.CHUNKR_CANCEL_GRACE_SECONDS = 30
    task = parse_task(workspace, pdf_bytes())
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.PROCESSING, job_id="no-such-job")
    task.refresh_from_db()
    (outcome,) = tasks_cancel(tasks=[task], actor=None)
    assert (outcome.cancelled, outcome.task.status, outcome.task.message) == (True, TaskStatus.CANCELLED, TASK_STOPPED)


@pytest.mark.django_db(transaction=True)
def test_a_processing_task_that_finishes_during_the_grace_period_keeps_its_result(workspace, settings, redis_url):
    """A worker that finishes the task while the cancel waits wins: the result stays and the cancel says so."""
    import threading
    import time

    from django.db import connection

    from tests.conftest import jobs_routed_to

    settings.CHUNKR_CANCEL_GRACE_SECONDS = 5
    from tasks_app.services import redis_state

    settings.REDIS_URL = redis_url
    with jobs_routed_to("cancel-test-"):  # a queue no worker reads: this test plays the worker
        task = parse_task(workspace, pdf_bytes())
    redis_state.client().delete("cancel-test-parse")
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.PROCESSING)
    task.refresh_from_db()

    def worker_finishes():
        time.sleep(0.5)
        Task.objects.filter(pk=task.pk, status=TaskStatus.PROCESSING).update(status=TaskStatus.SUCCEEDED)
        connection.close()

    thread = threading.Thread(target=worker_finishes)
    thread.start()
    started = time.monotonic()
    (outcome,) = tasks_cancel(tasks=[task], actor=None)
    thread.join()
    assert (outcome.cancelled, outcome.task.status) == (False, TaskStatus.SUCCEEDED)
    assert outcome.error == "Task finished (Succeeded) before it could be cancelled"
    assert time.monotonic() - started < 3  # it stopped waiting when the task ended


def test_delete_follows_the_state_rules_and_keeps_an_upload_that_is_not_the_tasks_own(
    workspace, django_capture_on_commit_callbacks
):
    upload = store_file(workspace, pdf_bytes(), "upload.pdf")
    by_reference = intake_parse(
        workspace=workspace, file=f"ch://files/{upload.file_id}", configuration=None, actor=None
    )
    import base64

    inline = intake_parse(
        workspace=workspace, file=base64.b64encode(pdf_bytes()).decode(), configuration=None, actor=None
    )
    with pytest.raises(ApplicationError, match="Task cannot be deleted: status is Starting"):
        task_delete(task=inline, actor=None)
    Task.objects.filter(pk__in=[inline.pk, by_reference.pk]).update(status=TaskStatus.FAILED)
    private_key = inline.input_file.storage_key
    with django_capture_on_commit_callbacks(execute=True):
        task_delete(task=Task.objects.get(pk=inline.pk), actor=None)
        task_delete(task=Task.objects.get(pk=by_reference.pk), actor=None)
    assert not Task.objects.exists()
    assert not StoredFile.objects.filter(storage_key=private_key).exists() and not default_storage.exists(private_key)
    assert StoredFile.objects.filter(pk=upload.pk).exists() and default_storage.exists(upload.storage_key)


def test_a_legacy_rerun_in_place_and_its_cancel_restore_the_previous_result(workspace):
    task = parse_task(workspace, pdf_bytes())
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.SUCCEEDED, message="Task succeeded")
    task.refresh_from_db()
    with pytest.raises(ApplicationError, match="unchanged"):
        intake_update_legacy(task=task, changes={}, expires_in=None, actor=None)
    rerun = intake_update_legacy(task=task, changes={"segmentation_strategy": "Page"}, expires_in=None, actor=None)
    assert (rerun.status, rerun.configuration["segmentation_strategy"]) == (TaskStatus.STARTING, "Page")
    restored = task_cancel(task=rerun, actor=None)
    assert (restored.status, restored.message, restored.configuration["segmentation_strategy"]) == (
        TaskStatus.SUCCEEDED,
        "Task succeeded",
        "LayoutAnalysis",
    )
