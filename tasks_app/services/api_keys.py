from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tasks_app.choices import Role
from tasks_app.errors import ApplicationError
from tasks_app.models import ApiKey, Workspace
from tasks_app.permissions import KEY_ROLES
from tasks_app.services.access import authorize
from tasks_app.services.audit import audit_record

KEY_PREFIX = "ck_"
VISIBLE_PREFIX_LENGTH = 10


def api_key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    workspace: Workspace,
    name: str = "",
    created_by: AbstractBaseUser | None = None,
    role: Role | str = Role.MEMBER,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never stored and cannot be shown again.

    `role` is what the key acts as (member, or viewer for a read-only key); `expires_at` ends it on its own."""
    authorize(actor=created_by, workspace=workspace, action="api_key.manage")
    if role not in KEY_ROLES:
        raise ApplicationError("An API key acts as a member or a viewer (read-only).")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("A key's expiry must be in the future.")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        workspace=workspace,
        name=name[:120],
        prefix=secret[:VISIBLE_PREFIX_LENGTH],
        digest=api_key_digest(secret),
        created_by=created_by,
        role=role,
        expires_at=expires_at,
    )
    audit_record(
        workspace=workspace,
        actor=created_by,
        verb="api_key.created",
        target=key,
        data={"name": key.name, "role": str(role), "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: AbstractBaseUser | ApiKey | None) -> ApiKey:
    authorize(actor=actor, workspace=key.workspace, action="api_key.manage")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(workspace=key.workspace, actor=actor, verb="api_key.revoked", target=key)
    return key
