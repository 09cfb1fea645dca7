"""Settings › Webhooks: endpoints (URL, description, events, on/off), their secrets (shown once) and the delivery log
per endpoint (one row per attempt, filtered and paged), with "send again" and "send test event"."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tasks_app.errors import ApplicationError
from tasks_app.selectors.webhooks import (
    OUTCOMES,
    webhook_delivery_get,
    webhook_endpoint_get,
    webhook_endpoints,
    webhook_log,
)
from tasks_app.services.webhooks import (
    EVENT_CHOICES,
    TEST_EVENT,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_set_enabled,
    webhook_endpoint_update,
    webhook_secret_rotate,
    webhook_send_again,
    webhook_send_test,
)
from tasks_app.views.access import workspace_required

LIST_TEMPLATE = "tasks_app/settings/webhooks.html"
DETAIL_TEMPLATE = "tasks_app/settings/webhook_detail.html"
LOG_PAGE_SIZE = 20


@require_http_methods(["GET", "POST"])
@workspace_required("webhook.manage")
def webhooks_page(request):
    """GET: the endpoints; POST: add one (its secret is shown once, in the answer)."""
    extra: dict = {}
    status = 200
    if request.method == "POST":
        try:
            extra["new_endpoint"] = webhook_endpoint_create(
                workspace=request.workspace,
                url=request.POST.get("url", ""),
                description=request.POST.get("description", ""),
                event_types=request.POST.getlist("events"),
                actor=request.user,
            )
        except ApplicationError as exc:
            extra["webhook_error"], status = exc.message, 400
            extra["form"] = {"url": request.POST.get("url", ""), "events": request.POST.getlist("events")}
    return _list(request, extra, status=status)


@require_POST
@workspace_required("webhook.manage")
def webhook_delete_view(request, endpoint_id):
    endpoint = webhook_endpoint_get(workspace=request.workspace, endpoint_id=endpoint_id)
    webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
    return _list(request, {})


@require_POST
@workspace_required("webhook.manage")
def webhook_toggle_view(request, endpoint_id):
    endpoint = webhook_endpoint_get(workspace=request.workspace, endpoint_id=endpoint_id)
    webhook_endpoint_set_enabled(endpoint=endpoint, enabled=request.POST.get("enabled") == "1", actor=request.user)
    if request.POST.get("from") == "detail":
        return _detail(request, endpoint, {}, partial="endpoint")
    return _list(request, {})


@require_http_methods(["GET", "POST"])
@workspace_required("webhook.manage")
def webhook_detail(request, endpoint_id):
    """GET: the endpoint and its delivery log; POST: change its URL, description or events."""
    endpoint = webhook_endpoint_get(workspace=request.workspace, endpoint_id=endpoint_id)
    extra: dict = {}
    status = 200
    if request.method == "POST":
        try:
            webhook_endpoint_update(
                endpoint=endpoint,
                url=request.POST.get("url", ""),
                description=request.POST.get("description", ""),
                event_types=request.POST.getlist("events"),
                actor=request.user,
            )
            extra["saved"] = True
        except ApplicationError as exc:
            extra["webhook_error"], status = exc.message, 400
            endpoint.refresh_from_db()
    return _detail(request, endpoint, extra, partial="endpoint" if request.method == "POST" else None, status=status)


@require_POST
@workspace_required("webhook.manage")
def webhook_rotate_view(request, endpoint_id):
    endpoint = webhook_endpoint_get(workspace=request.workspace, endpoint_id=endpoint_id)
    secret = webhook_secret_rotate(endpoint=endpoint, actor=request.user)
    return _detail(request, endpoint, {"new_secret": secret, "rotated": True}, partial="endpoint")


@require_GET
@workspace_required("webhook.manage")
def webhook_log_view(request, endpoint_id):
    endpoint = webhook_endpoint_get(workspace=request.workspace, endpoint_id=endpoint_id)
    return _detail(request, endpoint, {}, partial="log")


@require_POST
@workspace_required("webhook.manage")
def webhook_send_test_view(request, endpoint_id):
    endpoint = webhook_endpoint_get(workspace=request.workspace, endpoint_id=endpoint_id)
    attempt = webhook_send_test(endpoint=endpoint, actor=request.user)
    return _detail(request, endpoint, {"result": attempt, "result_label": "Test event"}, partial="log")


@require_POST
@workspace_required("webhook.manage")
def webhook_send_again_view(request, delivery_id):
    delivery = webhook_delivery_get(workspace=request.workspace, delivery_id=delivery_id)
    attempt = webhook_send_again(delivery=delivery, actor=request.user)
    return _detail(request, delivery.endpoint, {"result": attempt, "result_label": "Sent again"}, partial="log")


def _list(request, extra: dict, *, status: int = 200):
    context = {
        "nav": "settings",
        "tab": "webhooks",
        "webhooks": webhook_endpoints(workspace=request.workspace),
        "event_choices": EVENT_CHOICES,
        "form": {"events": list(EVENT_CHOICES)},
    } | extra
    return render(
        request, LIST_TEMPLATE + ("#webhooks" if request.htmx else ""), context, status=_status(request, status)
    )


def _detail(request, endpoint, extra: dict, *, partial: str | None = None, status: int = 200):
    filters = {
        "event": request.GET.get("event") or request.POST.get("event") or "",
        "outcome": request.GET.get("outcome") or request.POST.get("outcome") or "",
    }
    if filters["event"] not in EVENT_CHOICES and filters["event"] != TEST_EVENT:
        filters["event"] = ""
    if filters["outcome"] not in OUTCOMES:
        filters["outcome"] = ""
    attempts = webhook_log(endpoint=endpoint, event_type=filters["event"], outcome=filters["outcome"])
    page = Paginator(attempts, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "settings",
        "tab": "webhooks",
        "endpoint": endpoint,
        "event_choices": EVENT_CHOICES,
        "log_events": EVENT_CHOICES | {TEST_EVENT: "Test event"},
        "outcomes": OUTCOMES,
        "filters": filters,
        "page": page,
    } | extra
    template = DETAIL_TEMPLATE + (f"#{partial}" if partial and request.htmx else "")
    return render(request, template, context, status=_status(request, status))


def _status(request, status: int) -> int:
    # htmx 2 swaps no 4xx answer by default: the form partial with its message goes back as a 200 there.
    return 200 if request.htmx else status
