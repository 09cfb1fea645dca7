"""services/retention.py and the expiry purge (services/maintenance.py): what retention promises is what storage and
the database hold afterwards. Storage is a fresh directory per test, listed before and after."""

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tasks_app.choices import Role, TaskStatus, ZdrTrigger
from tasks_app.errors import ApplicationError, PermissionDenied
from tasks_app.models import AuditEvent, ExtractionReview, FieldDecision, StoredFile, Task, TaskOutput, WebhookEndpoint
from tasks_app.services.intake import intake_parse
from tasks_app.services.maintenance import tasks_purge_expired
from tasks_app.services.processing import task_process
from tasks_app.services.retention import (
    ZDR_MESSAGE,
    retention_update,
    zdr_note_delivered,
    zdr_note_fetched,
    zdr_sweep,
)
from tests.factories import extract_task, pdf_bytes

pytestmark = pytest.mark.django_db  # nothing is committed, so no worker takes the jobs these queue


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def processed(workspace, *pages: str, **kwargs) -> Task:
    """A parse task made as an API upload makes one (its own input copy), run in-process to Succeeded."""
    data = base64.b64encode(pdf_bytes(*(pages or ("Total 42",)))).decode()
    task = intake_parse(
        workspace=workspace, file=data, file_name="secret.pdf", configuration=None, actor=None, **kwargs
    )
    task_process(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED, task.message
    return task


def zdr_on(workspace, trigger=ZdrTrigger.FIRST, expires_in=None):
    retention_update(
        workspace=workspace, actor=None, default_expires_in=expires_in, zdr_enabled=True, zdr_trigger=trigger
    )
    workspace.refresh_from_db()


def files_of(task: Task, root: Path) -> set[str]:
    stored = StoredFile.objects.get(pk=task.input_file_id)
    return {f for f in stored_files(root) if str(task.pk) in f or str(stored.pk) in f}


def assert_tombstone(task: Task, media: Path, status=TaskStatus.SUCCEEDED) -> Task:
    row = Task.objects.get(pk=task.pk)
    assert row.status == status and row.is_tombstone and row.message == ZDR_MESSAGE
    assert (row.page_count, row.created_at, row.finished_at) == (task.page_count, task.created_at, task.finished_at)
    assert row.file_name == "" and not TaskOutput.objects.filter(task=task).exists()
    stored = StoredFile.objects.get(pk=task.input_file_id)
    assert (stored.storage_key, stored.deleted_at is not None, stored.size > 0) == ("", True, True)
    assert not files_of(task, media)
    return row


def test_purge_deletes_expired_rows_and_their_files_from_storage(workspace, media):
    kept = processed(workspace, "keep me")
    expiring = processed(workspace, "Page one", "Page two", expires_in=60)
    before = stored_files(media)
    assert any(str(expiring.pk) in f for f in before), before  # page images / renditions
    assert any(str(expiring.input_file_id) in f for f in before)  # the input copy
    assert tasks_purge_expired() == 0  # not yet

    assert tasks_purge_expired(now=timezone.now() + timedelta(minutes=2)) == 1

    after = stored_files(media)
    assert not {f for f in after if str(expiring.pk) in f or str(expiring.input_file_id) in f}
    assert after == {f for f in before if str(expiring.pk) not in f and str(expiring.input_file_id) not in f}
    assert files_of(kept, media)
    assert list(Task.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not TaskOutput.objects.filter(task_id=expiring.pk).exists()
    event = AuditEvent.objects.get(workspace=workspace, verb="task.purged")
    assert event.data == {"count": 1, "reason": "expired"}


def test_purge_takes_the_reviewed_values_with_the_task(workspace, media):
    source = processed(workspace, expires_in=60)
    extract = extract_task(workspace, source, expires_in=60)
    Task.objects.filter(pk=extract.pk).update(status=TaskStatus.SUCCEEDED, finished_at=timezone.now())
    review = ExtractionReview.objects.create(task=extract, workspace=workspace, machine_output={"results": {"a": 1}})
    FieldDecision.objects.create(
        review=review, workspace=workspace, path="total", field_key="total", state="accepted", value=42
    )
    assert tasks_purge_expired(now=timezone.now() + timedelta(minutes=2)) == 2
    assert not ExtractionReview.objects.exists() and not FieldDecision.objects.exists()


def test_workspace_default_applies_to_new_tasks_and_an_upload_may_override_it(workspace):
    zdr_on(workspace, expires_in=86400)
    workspace.refresh_from_db()
    default = intake_parse(
        workspace=workspace, file=base64.b64encode(pdf_bytes()).decode(), configuration=None, actor=None
    )
    own = intake_parse(
        workspace=workspace,
        file=base64.b64encode(pdf_bytes()).decode(),
        configuration=None,
        actor=None,
        expires_in=3600,
    )
    assert default.expires_at - default.created_at == timedelta(days=1)
    assert own.expires_at - own.created_at == timedelta(hours=1)
    assert default.zdr == own.zdr == ZdrTrigger.FIRST


def test_zdr_first_fetch_leaves_a_tombstone(workspace, media):
    zdr_on(workspace)
    task = processed(workspace)
    assert files_of(task, media)
    assert zdr_note_fetched(task.pk) is True
    assert_tombstone(task, media)
    assert zdr_note_fetched(task.pk) is False  # once
    assert AuditEvent.objects.filter(workspace=workspace, verb="task.zdr_deleted", target_id=str(task.pk)).count() == 1


def test_zdr_delivery_alone_is_enough_with_whichever_first(workspace, media):
    zdr_on(workspace)
    task = processed(workspace)
    assert zdr_note_delivered(task.pk) is True
    assert_tombstone(task, media)


def test_zdr_both_waits_for_fetch_and_delivery(workspace, media):
    WebhookEndpoint.objects.create(workspace=workspace, url="https://example.org/hook", secret="whsec_x")
    zdr_on(workspace, ZdrTrigger.BOTH)
    fetched_first, delivered_first = processed(workspace), processed(workspace)

    assert zdr_note_fetched(fetched_first.pk) is False
    assert zdr_note_delivered(delivered_first.pk) is False
    assert TaskOutput.objects.filter(task__in=[fetched_first, delivered_first]).count() == 2
    assert files_of(fetched_first, media) and files_of(delivered_first, media)

    assert zdr_note_delivered(fetched_first.pk) is True
    assert zdr_note_fetched(delivered_first.pk) is True
    assert_tombstone(fetched_first, media)
    assert_tombstone(delivered_first, media)


def test_zdr_both_without_a_webhook_endpoint_goes_on_the_fetch(workspace, media):
    zdr_on(workspace, ZdrTrigger.BOTH)
    task = processed(workspace)
    assert zdr_note_fetched(task.pk) is True
    assert_tombstone(task, media)


def test_zdr_is_what_the_workspace_said_when_the_task_was_made(workspace, media):
    before = processed(workspace)
    zdr_on(workspace)
    assert zdr_note_fetched(before.pk) is False
    assert TaskOutput.objects.filter(task=before).exists() and files_of(before, media)


def test_zdr_keeps_a_parse_output_until_the_extract_waiting_on_it_has_read_it(workspace, media):
    zdr_on(workspace)
    source = processed(workspace)
    extract = extract_task(workspace, source)  # Starting: it has yet to read the source's output
    assert zdr_note_fetched(source.pk) is False
    assert TaskOutput.objects.filter(task=source).exists() and files_of(source, media)
    assert zdr_sweep() == 0

    Task.objects.filter(pk=extract.pk).update(status=TaskStatus.SUCCEEDED, finished_at=timezone.now())
    assert zdr_sweep() == 1
    source_row = Task.objects.get(pk=source.pk)
    assert source_row.is_tombstone and not TaskOutput.objects.filter(task=source).exists()
    assert not {f for f in stored_files(media) if str(source.pk) in f}
    # The input is the extract's too (the viewer shows it): it goes with the last task that uses it.
    assert StoredFile.objects.get(pk=source.input_file_id).storage_key
    TaskOutput.objects.create(task=extract, data={"results": {"total": 42}})
    assert zdr_note_fetched(extract.pk) is True
    assert_tombstone(source, media)


def test_zdr_on_an_extract_takes_its_review_and_its_parse_task(workspace, media):
    zdr_on(workspace)
    source = processed(workspace)
    extract = extract_task(workspace, source)
    Task.objects.filter(pk=extract.pk).update(status=TaskStatus.SUCCEEDED, finished_at=timezone.now())
    TaskOutput.objects.create(task=extract, data={"results": {"total": 42}})
    review = ExtractionReview.objects.create(task=extract, workspace=workspace, machine_output={"results": {"a": 1}})
    FieldDecision.objects.create(
        review=review, workspace=workspace, path="total", field_key="total", state="accepted", value=42
    )
    assert zdr_note_fetched(extract.pk) is True
    assert not ExtractionReview.objects.exists() and not FieldDecision.objects.exists()
    assert Task.objects.get(pk=extract.pk).is_tombstone
    assert_tombstone(source, media)  # its result reached the client through the extract


def test_zdr_tombstones_a_failed_task_once_its_error_was_fetched(workspace, media):
    zdr_on(workspace)
    task = processed(workspace)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.FAILED)
    TaskOutput.objects.filter(task=task).delete()
    assert zdr_note_fetched(task.pk) is True
    assert Task.objects.get(pk=task.pk).status == TaskStatus.FAILED
    assert not files_of(task, media)


def test_unfinished_tasks_are_not_touched(workspace):
    zdr_on(workspace)
    task = intake_parse(
        workspace=workspace, file=base64.b64encode(pdf_bytes()).decode(), configuration=None, actor=None
    )
    assert zdr_note_fetched(task.pk) is False
    assert Task.objects.get(pk=task.pk).fetched_at is None


def test_retention_changes_are_audited_and_need_an_admin(workspace, make_user):
    admin = make_user("ada", workspace=workspace, role=Role.ADMIN)
    member = make_user("mo", workspace=workspace, role=Role.MEMBER)
    with pytest.raises(PermissionDenied):
        retention_update(
            workspace=workspace, actor=member, default_expires_in=3600, zdr_enabled=True, zdr_trigger="first"
        )
    with pytest.raises(ApplicationError):
        retention_update(workspace=workspace, actor=admin, default_expires_in=0, zdr_enabled=True, zdr_trigger="first")
    retention_update(workspace=workspace, actor=admin, default_expires_in=86400, zdr_enabled=True, zdr_trigger="both")
    workspace.refresh_from_db()
    assert (workspace.default_expires_in, workspace.zdr_enabled, workspace.zdr_trigger) == (86400, True, "both")
    event = AuditEvent.objects.get(verb="retention.changed")
    assert event.actor_user == admin
    assert event.data == {
        "from": {"default_expires_in": None, "zdr_enabled": False, "zdr_trigger": "first"},
        "to": {"default_expires_in": 86400, "zdr_enabled": True, "zdr_trigger": "both"},
    }


@pytest.fixture
def remote_storage(settings):
    """A store that is not the local disk, as S3 is to the app (STORAGE_BACKEND=s3: inputs read through temporary
    copies): Django's InMemoryStorage, listed the way django-storages lists a bucket. tests/services/test_s3_storage.py
    and tests/api/test_s3_assets.py run against a real S3 server."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    settings.STORAGE_BACKEND = "s3"
    from django.core.files.storage import default_storage

    def listing(prefix: str = "") -> set[str]:
        folders, files = default_storage.listdir(prefix)
        names = {f"{prefix}{name}" for name in files}
        for folder in folders:
            names |= listing(f"{prefix}{folder}/")
        return names

    return listing


def test_remote_storage_keeps_nothing_of_purged_or_tombstoned_tasks(workspace, remote_storage):
    expiring = processed(workspace, "Page one", "Page two", expires_in=60)
    zdr_on(workspace)
    fetched = processed(workspace, "Secret")
    before = remote_storage()
    for task in (expiring, fetched):
        assert {f for f in before if str(task.pk) in f}, before  # document.pdf (page images are lazy)
        assert {f for f in before if str(task.input_file_id) in f}
    assert zdr_note_fetched(fetched.pk)
    assert tasks_purge_expired(now=timezone.now() + timedelta(minutes=2)) == 1
    after = remote_storage()
    for task in (expiring, fetched):
        assert not {f for f in after if str(task.pk) in f or str(task.input_file_id) in f}, after


def test_the_beat_job_purges_expired_tasks_and_finishes_waiting_zdr_deletions(workspace, media):
    from tasks_app.jobs import purge_expired_job

    expired = processed(workspace, expires_in=60)
    Task.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    zdr_on(workspace)
    waited = processed(workspace)
    extract = extract_task(workspace, waited)
    assert zdr_note_fetched(waited.pk) is False  # the extract has yet to read it
    Task.objects.filter(pk=extract.pk).update(status=TaskStatus.FAILED, finished_at=timezone.now())

    assert purge_expired_job() == 1
    assert not Task.objects.filter(pk=expired.pk).exists() and not files_left(expired, media)
    assert Task.objects.get(pk=waited.pk).is_tombstone


def files_left(task: Task, media: Path) -> set[str]:
    return {f for f in stored_files(media) if str(task.pk) in f or str(task.input_file_id) in f}


def test_a_late_delivery_of_an_earlier_event_is_not_the_result(workspace, media):
    zdr_on(workspace)
    task = processed(workspace)
    assert zdr_note_delivered(task.pk, event_status=TaskStatus.PROCESSING) is False
    assert Task.objects.get(pk=task.pk).delivered_at is None
    assert zdr_note_delivered(task.pk, event_status=TaskStatus.SUCCEEDED) is True
