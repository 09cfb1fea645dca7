"""The services' half of the permission check: may this actor (a user, an API key, or None for the system itself:
commands, jobs) perform `action` in `workspace`? Views and routes check first and answer 403 early; services check
again so that no skin can skip it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from tasks_app.choices import Role
from tasks_app.errors import PermissionDenied
from tasks_app.models import ApiKey, Membership, Workspace
from tasks_app.permissions import PERMISSIONS, role_allows


def actor_role(*, actor, workspace: Workspace) -> Role | None:
    """The role `actor` holds in `workspace`; None when it holds none."""
    if isinstance(actor, ApiKey):
        return Role(actor.role) if actor.workspace_id == workspace.pk else None
    if isinstance(actor, AbstractBaseUser):
        cache = actor.__dict__.setdefault("_workspace_roles", {})
        if workspace.pk not in cache:
            cache[workspace.pk] = (
                Membership.objects.filter(user=actor, workspace=workspace).values_list("role", flat=True).first()
            )
        role = cache[workspace.pk]
        return Role(role) if role else None
    return None


def authorize(*, actor, workspace: Workspace, action: str) -> None:
    """Raise PermissionDenied unless `actor` may do `action` here. `actor=None` is the system (commands, jobs)."""
    if actor is None:
        return
    role = actor_role(actor=actor, workspace=workspace)
    if not role_allows(role, action):
        raise PermissionDenied(f"Your role in this workspace does not allow this (needs {PERMISSIONS[action]}).")


def role_cache_forget(actor) -> None:
    """Drop a user's cached roles after their membership changed."""
    if isinstance(actor, AbstractBaseUser):
        actor.__dict__.pop("_workspace_roles", None)
