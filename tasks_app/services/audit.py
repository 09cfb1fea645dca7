from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from tasks_app.models import ApiKey, AuditEvent, Workspace

Actor = AbstractBaseUser | ApiKey | None


def actor_fields(actor: Actor) -> dict:
    """The `created_by_user` / `created_by_key` pair for a row made by `actor`."""
    return {
        "created_by_user": actor if isinstance(actor, AbstractBaseUser) else None,
        "created_by_key": actor if isinstance(actor, ApiKey) else None,
    }


def audit_record(
    *, workspace: Workspace, actor: Actor, verb: str, target: Any = None, data: dict | None = None
) -> AuditEvent:
    """Record who did what; call inside the transaction that makes the change."""
    target_type = target_id = ""
    if target is not None:
        target_type = type(target).__name__.lower()
        target_id = str(target.pk)
    return AuditEvent.objects.create(
        workspace=workspace,
        actor_user=actor if isinstance(actor, AbstractBaseUser) else None,
        actor_key=actor if isinstance(actor, ApiKey) else None,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        data=data or {},
    )
