"""API-key authentication: the official clients send the bare key in `Authorization`.

Each route names the action it performs (`auth=key_auth("task.create")`, actions from tasks_app.permissions); a key
acts with the role it was created with, so a read-only (viewer) key gets 403 on a route that writes. Routes that
name nothing read (`task.read`, the API's default).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.utils import timezone
from ninja.security import APIKeyHeader

from tasks_app import selectors
from tasks_app.errors import PermissionDenied
from tasks_app.models import ApiKey
from tasks_app.permissions import PERMISSIONS, role_allows
from tasks_app.services.api_keys import api_key_digest

# Writing last_used_at on every request would turn each GET into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_secret(header: str | None) -> str:
    """The key an `Authorization` header carries: bare (the official clients) or after `Bearer `; "" for none."""
    secret = (header or "").strip()
    if secret[:7].lower() == "bearer ":
        secret = secret[7:].strip()
    return secret


class ApiKeyAuth(APIKeyHeader):
    param_name = "Authorization"

    def __init__(self, action: str = "task.read") -> None:
        if action not in PERMISSIONS:
            raise KeyError(f"{action!r} is not in tasks_app.permissions.PERMISSIONS")
        self.action = action
        super().__init__()

    def authenticate(self, request, key: str | None) -> ApiKey | None:
        secret = key_secret(key)
        if not secret:
            return None
        api_key = selectors.api_key_active(digest=api_key_digest(secret))
        if api_key is None:
            return None
        if not role_allows(api_key.role, self.action):
            raise PermissionDenied(
                f"This API key is {api_key.role}-only; this request needs a key with the "
                f"{PERMISSIONS[self.action]} role or above."
            )
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key


@cache
def key_auth(action: str) -> ApiKeyAuth:
    return ApiKeyAuth(action)
