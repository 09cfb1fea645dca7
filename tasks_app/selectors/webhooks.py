"""Webhook endpoints and their delivery log, scoped to a workspace."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from tasks_app.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, Workspace

OUTCOMES = ("delivered", "failed", "pending")


def webhook_endpoints(*, workspace: Workspace) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(workspace=workspace).order_by("created_at", "pk")


def webhook_endpoint_get(*, workspace: Workspace, endpoint_id: UUID) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, workspace=workspace, pk=endpoint_id)


def webhook_delivery_get(*, workspace: Workspace, delivery_id: UUID) -> WebhookDelivery:
    return get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint", "endpoint__workspace"),
        endpoint__workspace=workspace,
        pk=delivery_id,
    )


def webhooks_failing(*, workspace: Workspace) -> list[WebhookEndpoint]:
    """Endpoints that gave up on a message and have not delivered one since: the admins' banner."""
    return list(webhook_endpoints(workspace=workspace).filter(failing_since__isnull=False))


def webhook_log(*, endpoint: WebhookEndpoint, event_type: str = "", outcome: str = "") -> QuerySet[WebhookAttempt]:
    """One row per attempt, newest first; `outcome` filters by the message's state (delivered, failed, pending)."""
    attempts = WebhookAttempt.objects.filter(delivery__endpoint=endpoint).select_related("delivery")
    if event_type:
        attempts = attempts.filter(delivery__event_type=event_type)
    if outcome == "delivered":
        attempts = attempts.filter(delivery__succeeded=True)
    elif outcome == "failed":
        attempts = attempts.filter(delivery__succeeded=False, delivery__failed_at__isnull=False)
    elif outcome == "pending":
        attempts = attempts.filter(delivery__succeeded=False, delivery__failed_at__isnull=True)
    return attempts.order_by("-created_at", "-number")
