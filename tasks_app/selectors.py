"""Read side: querysets for the API and the dashboard, always scoped to a workspace."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from tasks_app.errors import NotFound
from tasks_app.models import ApiKey, Membership, Task, Workspace

TASK_NOT_FOUND = "Task not found"


def api_key_active(*, digest: str) -> ApiKey | None:
    return ApiKey.objects.select_related("workspace").filter(digest=digest, revoked_at__isnull=True).first()


def workspaces_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def task_list(*, workspace: Workspace) -> QuerySet[Task]:
    now = timezone.now()
    tasks = Task.objects.filter(workspace=workspace).exclude(expires_at__lte=now)
    return tasks.order_by("-created_at", "-task_id")


def task_get(*, workspace: Workspace, task_id: UUID | str) -> Task:
    # 404, not 403, for other workspaces: we never confirm that an id exists.
    try:
        task = Task.objects.get(workspace=workspace, pk=task_id)
    except (Task.DoesNotExist, ValueError, ValidationError):
        raise NotFound(TASK_NOT_FOUND) from None
    if task.is_expired:
        raise NotFound(TASK_NOT_FOUND)
    return task
