"""The services' half of the permission check: may this actor (a user, an API key, or None for the system itself:
commands, jobs) perform `action` in `workspace`? Views and routes check first and answer 403 early; services check
again so that no skin can skip it."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser

from tasks_app.choices import Role
from tasks_app.errors import PermissionDenied
from tasks_app.models import ApiKey, Membership, Task, Workspace
from tasks_app.permissions import PERMISSIONS, role_allows


def actor_role(*, actor, workspace: Workspace | UUID) -> Role | None:
    """The role `actor` holds in `workspace` (the row or its id); None when it holds none."""
    workspace_id = getattr(workspace, "pk", workspace)
    if isinstance(actor, ApiKey):
        return Role(actor.role) if actor.workspace_id == workspace_id else None
    if isinstance(actor, AbstractBaseUser):
        cache = actor.__dict__.setdefault("_workspace_roles", {})
        if workspace_id not in cache:
            cache[workspace_id] = (
                Membership.objects.filter(user=actor, workspace_id=workspace_id).values_list("role", flat=True).first()
            )
        role = cache[workspace_id]
        return Role(role) if role else None
    return None


def authorize(*, actor, workspace: Workspace | UUID, action: str) -> None:
    """Raise PermissionDenied unless `actor` may do `action` here. `actor=None` is the system (commands, jobs)."""
    if actor is None:
        return
    role = actor_role(actor=actor, workspace=workspace)
    if not role_allows(role, action):
        raise PermissionDenied(f"Your role in this workspace does not allow this (needs {PERMISSIONS[action]}).")


def authorize_task_change(*, actor, task: Task) -> None:
    """Cancel, change or delete `task`: people act on their own tasks, admins on everyone's; an API key acts on its
    workspace's tasks (the API has no notion of whose a task is)."""
    authorize(actor=actor, workspace=task.workspace_id, action="task.change")
    if isinstance(actor, AbstractBaseUser) and task.created_by_user_id != actor.pk:
        authorize(actor=actor, workspace=task.workspace_id, action="task.change_any")


def role_cache_forget(actor) -> None:
    """Drop a user's cached roles after their membership changed."""
    if isinstance(actor, AbstractBaseUser):
        actor.__dict__.pop("_workspace_roles", None)
