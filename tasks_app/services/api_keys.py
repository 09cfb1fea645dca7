from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tasks_app.models import ApiKey, Workspace
from tasks_app.services.audit import audit_record

KEY_PREFIX = "ck_"
VISIBLE_PREFIX_LENGTH = 10


def api_key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, workspace: Workspace, name: str = "", created_by: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never stored and cannot be shown again."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        workspace=workspace,
        name=name,
        prefix=secret[:VISIBLE_PREFIX_LENGTH],
        digest=api_key_digest(secret),
        created_by=created_by,
    )
    audit_record(workspace=workspace, actor=created_by, verb="api_key.created", target=key)
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: AbstractBaseUser | ApiKey | None) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(workspace=key.workspace, actor=actor, verb="api_key.revoked", target=key)
    return key
