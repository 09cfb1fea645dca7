"""tasks_app/selectors/: the read side, always scoped to a workspace; other workspaces' and expired tasks are
not found, exactly as unknown ids are."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app import selectors
from tasks_app.choices import TaskStatus
from tasks_app.errors import NotFound
from tasks_app.models import Task, TaskOutput
from tasks_app.services.api_keys import api_key_create, api_key_digest, api_key_revoke
from tests.factories import parse_task, pdf_bytes

pytestmark = pytest.mark.django_db


def test_task_get_finds_only_the_workspaces_own_live_tasks(workspace, other_workspace):
    mine = parse_task(workspace, pdf_bytes())
    theirs = parse_task(other_workspace, pdf_bytes())
    expired = parse_task(workspace, pdf_bytes(), expires_in=1)
    Task.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert selectors.task_get(workspace=workspace, task_id=str(mine.pk)) == mine
    assert selectors.task_get(workspace=workspace, task_id=mine.pk.hex) == mine  # ids without dashes too
    for task_id in (theirs.pk, expired.pk, uuid.uuid4(), "not-a-uuid", ""):
        with pytest.raises(NotFound, match=selectors.TASK_NOT_FOUND):
            selectors.task_get(workspace=workspace, task_id=task_id)


def test_task_list_is_newest_first_and_leaves_out_expired_and_foreign_tasks(workspace, other_workspace):
    first, second = parse_task(workspace, pdf_bytes()), parse_task(workspace, pdf_bytes())
    parse_task(other_workspace, pdf_bytes())
    gone = parse_task(workspace, pdf_bytes())
    Task.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    Task.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert list(selectors.task_list(workspace=workspace)) == [second, first]


def test_task_search_filters_and_sorts_on_the_dashboards_fields(workspace, make_user):
    ada = make_user("ada", workspace=workspace)
    report = parse_task(workspace, pdf_bytes(), name="Annual Report.pdf")
    invoice = parse_task(workspace, pdf_bytes(), name="invoice-17.pdf")
    Task.objects.filter(pk=report.pk).update(created_by_user=ada, status=TaskStatus.SUCCEEDED, page_count=9)
    Task.objects.filter(pk=invoice.pk).update(page_count=2)
    search = lambda **kw: list(selectors.task_search(workspace=workspace, **kw))  # noqa: E731
    assert search(q="annual") == [report.__class__.objects.get(pk=report.pk)]
    assert [t.pk for t in search(status=TaskStatus.SUCCEEDED)] == [report.pk]
    assert [t.pk for t in search(created_by=str(ada.pk))] == [report.pk]
    assert search(created_by="api") == []  # no task here was made with an API key
    assert [t.pk for t in search(sort="page_count")] == [invoice.pk, report.pk]
    assert [t.pk for t in search(sort="-page_count")] == [report.pk, invoice.pk]
    assert search(created_from=timezone.now() + timedelta(minutes=1)) == []


def test_outputs_are_read_as_of_the_row_the_caller_holds(workspace):
    task = parse_task(workspace, pdf_bytes())
    finished = timezone.now()
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.SUCCEEDED, finished_at=finished)
    TaskOutput.objects.create(task=task, data={"chunks": [{"n": 12345678901234567890}]}, asset_keys=[])
    held = Task.objects.get(pk=task.pk)
    assert selectors.task_output(task=held) == {"chunks": [{"n": 12345678901234567890}]}  # no float rounding
    assert selectors.task_outputs(task_ids=[task.pk])[task.pk]["chunks"][0]["n"] == 12345678901234567890
    Task.objects.filter(pk=task.pk).update(finished_at=finished + timedelta(seconds=1))  # finished again since
    assert selectors.task_output(task=held) is None
    assert selectors.task_outputs_as_read(tasks=[held]) == {}


def test_an_api_key_resolves_while_active_and_to_its_workspaces_tasks_only(workspace, other_workspace):
    key, secret = api_key_create(workspace=workspace)
    mine, theirs = parse_task(workspace, pdf_bytes()), parse_task(other_workspace, pdf_bytes())
    digest = api_key_digest(secret)
    assert selectors.api_key_active(digest=digest) == key
    since = timezone.now() - timedelta(minutes=1)
    keyed = selectors.task_for_key(digest=digest, task_id=mine.pk, used_since=since)
    assert keyed.task.pk == mine.pk and keyed.task.input_file.original_name == "doc.pdf"
    assert selectors.task_for_key(digest=digest, task_id=theirs.pk, used_since=since) is None
    api_key_revoke(key=key, actor=None)
    assert selectors.api_key_active(digest=digest) is None
    assert selectors.task_for_key(digest=digest, task_id=mine.pk, used_since=since) is None


def test_the_viewer_index_holds_boxes_by_page_and_reads_one_segment_by_its_path(workspace):
    from tasks_app.services.processing import task_process

    task = parse_task(workspace, pdf_bytes("First page words", "Second page words"))
    task_process(task_id=str(task.pk))
    task.refresh_from_db()
    index = selectors.task_viewer_index(task=task)
    assert [p["page_number"] for p in index.pages] == [1, 2] and set(index.boxes_by_page) == {1, 2}
    box = index.boxes_by_page[2][0]
    segment = selectors.task_segment(task=task, index=index, segment_id=box["segment_id"])
    assert segment["page_number"] == 2 and "Second page words" in segment["text"]
    assert selectors.task_segment(task=task, index=index, segment_id="nope") is None
    assert index.segment_count == len(selectors.task_output_segments(task=task))
