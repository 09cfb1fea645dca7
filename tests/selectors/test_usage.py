"""selectors/usage.py: a workspace's pages and tasks per day, per member or key, by type and status."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.choices import Role, TaskStatus, TaskType
from tasks_app.models import ApiKey, Task
from tasks_app.selectors.usage import workspace_usage
from tests.factories import extract_task, parse_task, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(workspace, make_user):
    """Six tasks over three days: alice's, an API key's and the system's, some failed, one extract."""
    alice = make_user("alice", workspace=workspace, role=Role.MEMBER)
    key = ApiKey.objects.create(workspace=workspace, name="ci", prefix="ch_ci", digest="d" * 64)
    today = timezone.localdate()
    noon = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time())) + timedelta(hours=12)

    def task(days_ago, pages, status=TaskStatus.SUCCEEDED, user=None, api_key=None):
        t = parse_task(workspace, pdf_bytes())
        Task.objects.filter(pk=t.pk).update(
            created_at=noon - timedelta(days=days_ago),
            page_count=pages,
            status=status,
            created_by_user=user,
            created_by_key=api_key,
        )
        return t

    src = task(0, 3, user=alice)
    task(0, 5, api_key=key)
    task(1, 2, user=alice)
    task(1, 7, status=TaskStatus.FAILED, user=alice)  # failed: a task, but no pages processed
    task(40, 11, user=alice)  # outside the 30 days
    ext = extract_task(workspace, Task.objects.get(pk=src.pk))
    Task.objects.filter(pk=ext.pk).update(status=TaskStatus.SUCCEEDED, created_by_user=alice, created_at=noon)
    return today


def test_pages_and_tasks_per_day(workspace, made):
    usage = workspace_usage(workspace=workspace)
    assert len(usage.per_day) == 30 and usage.per_day[-1][0] == made
    days = {day: (tasks, pages) for day, tasks, pages in usage.per_day}
    assert days[made] == (3, 8)  # two parses (3 + 5 pages) and the extract, whose pages are its parse's
    assert days[made - timedelta(days=1)] == (2, 2)
    assert sum(t for t, _ in days.values()) == usage.total_tasks == 5
    assert usage.total_pages == 10


def test_per_member_or_key_and_by_status_and_type(workspace, made):
    usage = workspace_usage(workspace=workspace)
    assert usage.per_creator == [("alice", 4, 5), ("API · ci", 1, 5)]  # most pages, then most tasks
    assert usage.per_status_type == [
        (TaskType.EXTRACT, TaskStatus.SUCCEEDED, 1),
        (TaskType.PARSE, TaskStatus.FAILED, 1),
        (TaskType.PARSE, TaskStatus.SUCCEEDED, 3),
    ]


def test_tombstones_count_purged_tasks_do_not_and_other_workspaces_never(workspace, other_workspace, made):
    first = Task.objects.filter(workspace=workspace, page_count=3, task_type=TaskType.PARSE).get()
    Task.objects.filter(pk=first.pk).update(zdr_deleted_at=timezone.now())
    assert workspace_usage(workspace=workspace).total_pages == 10
    Task.objects.filter(pk=first.pk).delete()
    assert workspace_usage(workspace=workspace).total_pages == 7
    assert workspace_usage(workspace=other_workspace).total_tasks == 0
