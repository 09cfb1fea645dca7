"""Tasks and their lists, always scoped to a workspace."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from tasks_app.errors import NotFound
from tasks_app.models import Task, Workspace

TASK_NOT_FOUND = "Task not found"


def task_list(*, workspace: Workspace) -> QuerySet[Task]:
    now = timezone.now()
    tasks = Task.objects.filter(workspace=workspace).exclude(expires_at__lte=now)
    return tasks.order_by("-created_at", "-task_id")


def task_get(*, workspace: Workspace, task_id: UUID | str) -> Task:
    # 404, not 403, for other workspaces: we never confirm that an id exists.
    try:
        # input_file: every answer about a task carries its input's URL.
        task = Task.objects.select_related("input_file").get(workspace=workspace, pk=task_id)
    except (Task.DoesNotExist, ValueError, ValidationError):
        raise NotFound(TASK_NOT_FOUND) from None
    if task.is_expired:
        raise NotFound(TASK_NOT_FOUND)
    return task


def task_search(
    *,
    workspace: Workspace,
    status: str | None = None,
    task_type: str | None = None,
    created_from=None,
    created_to=None,
    q: str | None = None,
    created_by: str | None = None,
    sort: str = "-created_at",
) -> QuerySet[Task]:
    """The dashboard list: filters and one sort field, ordered so each choice walks one of Task's indexes.

    `created_by` is a user id, or "api" for tasks created with an API key. Never loads TaskOutput.
    """
    tasks = task_list(workspace=workspace)
    if status:
        tasks = tasks.filter(status=status)
    if task_type:
        tasks = tasks.filter(task_type=task_type)
    if created_from:
        tasks = tasks.filter(created_at__gte=created_from)
    if created_to:
        tasks = tasks.filter(created_at__lte=created_to)
    if q:
        tasks = tasks.filter(file_name__icontains=q)
    if created_by == "api":
        tasks = tasks.filter(created_by_key__isnull=False)
    elif created_by:
        tasks = tasks.filter(created_by_user_id=created_by)
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    tiebreak = "created_at" if field == "status" else "task_id"
    order = [field, tiebreak] if field != "created_at" else [field, "task_id"]
    return tasks.order_by(*[f"-{f}" if descending else f for f in order])
