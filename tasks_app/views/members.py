"""Settings › Members and API keys."""

from __future__ import annotations

from datetime import timedelta

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tasks_app.choices import Role
from tasks_app.errors import ApplicationError
from tasks_app.models import ApiKey
from tasks_app.services.api_keys import api_key_create, api_key_revoke
from tasks_app.views.access import workspace_required

KEY_EXPIRY_CHOICES = [("", "Never"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


@require_GET
@workspace_required("workspace.read")
def settings_home(request):
    return redirect("settings-members")


@require_GET
@workspace_required("workspace.read")
def members_page(request):
    return render(request, "tasks_app/settings/members.html", _members_context(request))


def _members_context(request) -> dict:
    return {
        "nav": "settings",
        "tab": "members",
        "members": request.workspace.memberships.select_related("user").order_by("user__username"),
        "api_base": request.build_absolute_uri("/api/v1"),
    }


@require_GET
@workspace_required("workspace.read")
def api_keys_page(request):
    return _keys_render(request, {})


@require_POST
@workspace_required("api_key.manage")
def api_key_create_view(request):
    """Create a key; its secret is shown once, with a copy button."""
    days = request.POST.get("expires_in_days", "")
    try:
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        key, secret = api_key_create(
            workspace=request.workspace,
            name=request.POST.get("name", "").strip()[:120],
            created_by=request.user,
            role=request.POST.get("role") or Role.MEMBER,
            expires_at=expires_at,
        )
    except (ValueError, OverflowError):
        return _keys_render(request, {"key_error": "Choose an expiry from the list."}, status=400)
    except ApplicationError as exc:
        return _keys_render(request, {"key_error": exc.message}, status=400)
    return _keys_render(request, {"new_secret": secret, "new_key": key})


@require_POST
@workspace_required("api_key.manage")
def api_key_revoke_view(request, key_id):
    key = get_object_or_404(ApiKey, workspace=request.workspace, pk=key_id)
    api_key_revoke(key=key, actor=request.user)
    return _keys_render(request, {})


def _keys_render(request, extra: dict, status: int = 200):
    context = {
        "nav": "settings",
        "tab": "api-keys",
        "api_keys": ApiKey.objects.filter(workspace=request.workspace).select_related("created_by"),
        "api_base": request.build_absolute_uri("/api/v1"),
        "expiry_choices": KEY_EXPIRY_CHOICES,
        "now": timezone.now(),
    } | extra
    template = "tasks_app/settings/api_keys.html" + ("#api-keys" if request.htmx else "")
    return render(request, template, context, status=status)
