"""Dashboard shell: the access decorator and the settings and schema screens (tasks, upload, viewer: own modules)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tasks_app import selectors
from tasks_app.choices import Role
from tasks_app.errors import ApplicationError
from tasks_app.middleware import SESSION_KEY
from tasks_app.models import ApiKey, WebhookDelivery, WebhookEndpoint
from tasks_app.services.api_keys import api_key_create, api_key_revoke
from tasks_app.services.webhooks import webhook_endpoint_create


def workspace_required(role: Role = Role.VIEWER):
    """Login, a workspace, and at least `role` in it; htmx requests get a client redirect to log in."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
                return login_required(view)(request, *args, **kwargs)
            if request.membership is None:
                return render(request, "tasks_app/no_workspace.html", status=403)
            if not request.membership.has_role(role):
                return HttpResponse("Your role in this workspace does not allow this.", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@require_GET
@workspace_required()
def workspace_settings(request):
    return render(request, "tasks_app/settings.html", _settings_context(request))


@require_POST
@workspace_required(Role.ADMIN)
def api_key_create_view(request):
    name = request.POST.get("name", "").strip()[:120]
    _, secret = api_key_create(workspace=request.workspace, name=name, created_by=request.user)
    context = _settings_context(request) | {"new_secret": secret}
    template = "tasks_app/settings.html" + ("#api-keys" if request.htmx else "")
    return render(request, template, context)


@require_POST
@workspace_required(Role.ADMIN)
def api_key_revoke_view(request, key_id):
    key = get_object_or_404(ApiKey, workspace=request.workspace, pk=key_id)
    api_key_revoke(key=key, actor=request.user)
    template = "tasks_app/settings.html" + ("#api-keys" if request.htmx else "")
    return render(request, template, _settings_context(request))


@require_POST
@workspace_required(Role.ADMIN)
def webhook_create_view(request):
    error = None
    try:
        webhook_endpoint_create(
            workspace=request.workspace,
            url=request.POST.get("url", "").strip(),
            description=request.POST.get("description", ""),
            actor=request.user,
        )
    except ApplicationError as exc:
        error = exc.message
    template = "tasks_app/settings.html" + ("#webhooks" if request.htmx else "")
    return render(request, template, _settings_context(request) | {"webhook_error": error})


@require_POST
@workspace_required(Role.ADMIN)
def webhook_delete_view(request, endpoint_id):
    endpoint = get_object_or_404(WebhookEndpoint, workspace=request.workspace, pk=endpoint_id)
    endpoint.delete()
    template = "tasks_app/settings.html" + ("#webhooks" if request.htmx else "")
    return render(request, template, _settings_context(request))


@require_POST
@login_required
def workspace_switch(request):
    wanted = request.POST.get("workspace_id", "")
    if selectors.workspaces_for_user(user=request.user).filter(workspace_id=wanted).exists():
        request.session[SESSION_KEY] = wanted
    return redirect("tasks")


def _settings_context(request) -> dict:
    return {
        "nav": "settings",
        "api_keys": ApiKey.objects.filter(workspace=request.workspace),
        "members": request.workspace.memberships.select_related("user").order_by("user__username"),
        "can_admin": request.membership.has_role(Role.ADMIN),
        "api_base": _api_base(request),
        "webhooks": WebhookEndpoint.objects.filter(workspace=request.workspace).order_by("created_at"),
        "deliveries": WebhookDelivery.objects.filter(endpoint__workspace=request.workspace)
        .select_related("endpoint")
        .order_by("-created_at")[:10],
    }


def _api_base(request) -> str:
    return request.build_absolute_uri("/api/v1")
