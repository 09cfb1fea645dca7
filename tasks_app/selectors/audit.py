"""The audit log as admins read it: newest first, filtered by kind of event, actor and dates."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from tasks_app.models import AuditEvent, Workspace

# Kinds of events the audit page filters by: label and the verb prefixes that make it.
AUDIT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "members": ("Members and invitations", ("member.", "membership.", "invitation.", "workspace.")),
    "keys": ("API keys", ("api_key.",)),
    "webhooks": ("Webhooks", ("webhook.",)),
    "retention": ("Retention", ("retention.",)),
    "deletions": ("Deletions", ("task.deleted", "task.purged", "file.deleted", "preset.deleted")),
    "exports": ("Exports", ("review.exported",)),
    "review": ("Review decisions and rules", ("review.decided", "review.auto_accept_rule.", "schema.")),
    "tasks": ("Tasks and files", ("task.", "file.")),
}


def audit_events(
    *,
    workspace: Workspace,
    kind: str = "",
    actor: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """`actor` is "user:<id>" or "key:<uuid>"; `since`/`until` are days, both included."""
    events = AuditEvent.objects.filter(workspace=workspace).select_related("actor_user", "actor_key")
    if kind in AUDIT_KINDS:
        match = Q()
        for prefix in AUDIT_KINDS[kind][1]:
            match |= Q(verb__startswith=prefix)
        events = events.filter(match)
    if actor.startswith("user:") and actor[5:].isdigit():
        events = events.filter(actor_user_id=int(actor[5:]))
    elif actor.startswith("key:"):
        events = events.filter(actor_key_id=_uuid_or_none(actor[4:]))
    elif actor == "system":
        events = events.filter(actor_user__isnull=True, actor_key__isnull=True)
    if since is not None:
        events = events.filter(created_at__gte=_day_start(since))
    if until is not None:
        events = events.filter(created_at__lt=_day_start(until + timedelta(days=1)))
    return events.order_by("-created_at", "-id")


def audit_actors(*, workspace: Workspace) -> list[tuple[str, str]]:
    """(value, label) for everyone who appears in the workspace's log, for the actor filter."""
    rows = (
        AuditEvent.objects.filter(workspace=workspace)
        .values_list("actor_user_id", "actor_user__username", "actor_key_id", "actor_key__prefix", "actor_key__name")
        .distinct()
    )
    actors: dict[str, str] = {}
    for user_id, username, key_id, prefix, key_name in rows:
        if user_id is not None:
            actors[f"user:{user_id}"] = username
        elif key_id is not None:
            actors[f"key:{key_id}"] = f"key {prefix}… {key_name}".strip()
        else:
            actors["system"] = "system"
    return sorted(actors.items(), key=lambda item: item[1].lower())


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
