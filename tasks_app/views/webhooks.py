"""Settings › Webhooks: endpoints, their secrets and their delivery log."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from tasks_app.errors import ApplicationError
from tasks_app.models import WebhookDelivery, WebhookEndpoint
from tasks_app.services.webhooks import webhook_endpoint_create
from tasks_app.views.access import workspace_required

TEMPLATE = "tasks_app/settings/webhooks.html"


@require_http_methods(["GET", "POST"])
@workspace_required("webhook.manage")
def webhooks_page(request):
    """GET: the page; POST: add an endpoint."""
    error = None
    if request.method == "POST":
        try:
            webhook_endpoint_create(
                workspace=request.workspace,
                url=request.POST.get("url", "").strip(),
                description=request.POST.get("description", ""),
                actor=request.user,
            )
        except ApplicationError as exc:
            error = exc.message
    return _render(request, {"webhook_error": error})


@require_POST
@workspace_required("webhook.manage")
def webhook_delete_view(request, endpoint_id):
    endpoint = get_object_or_404(WebhookEndpoint, workspace=request.workspace, pk=endpoint_id)
    endpoint.delete()
    return _render(request, {})


def _render(request, extra: dict):
    context = {
        "nav": "settings",
        "tab": "webhooks",
        "webhooks": WebhookEndpoint.objects.filter(workspace=request.workspace).order_by("created_at"),
        "deliveries": WebhookDelivery.objects.filter(endpoint__workspace=request.workspace)
        .select_related("endpoint")
        .order_by("-created_at")[:10],
    } | extra
    return render(request, TEMPLATE + ("#webhooks" if request.htmx else ""), context)
