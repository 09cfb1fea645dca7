"""Webhooks: a POST to every enabled endpoint on each task status change (contract §10).

Signed with the Standard Webhooks scheme the official clients verify: `webhook-id`,
`webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with
the base64-decoded part of the endpoint's `whsec_` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid

import httpx
from django.db import transaction
from django.utils import timezone

from tasks_app.choices import TaskType
from tasks_app.errors import ApplicationError
from tasks_app.models import Task, WebhookDelivery, WebhookEndpoint, Workspace
from tasks_app.services.audit import audit_record
from tasks_app.services.outbound import OutboundError, PinnedIPTransport, outbound_url_check
from tasks_app.services.queue import DELIVER_WEBHOOK_JOB, job_send

EVENT_TYPES = {
    TaskType.PARSE: "task.parse.updated",
    TaskType.EXTRACT: "task.extract.updated",
    TaskType.SPLIT: "task.split.updated",
}
RESPONSE_EXCERPT_BYTES = 2048
DELIVERY_TIMEOUT = 10.0


def webhook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def standard_webhook_headers(*, secret: str, msg_id: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
        "content-type": "application/json",
    }


@transaction.atomic
def webhook_endpoint_create(*, workspace: Workspace, url: str, description: str = "", actor) -> WebhookEndpoint:
    try:
        outbound_url_check(url)
    except OutboundError as exc:
        raise ApplicationError(f"Webhook URL refused: {exc}") from None
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=url, description=description[:200], secret=webhook_secret_new()
    )
    audit_record(workspace=workspace, actor=actor, verb="webhook.created", target=endpoint, data={"url": url})
    return endpoint


def webhooks_emit(task: Task) -> None:
    """Queue one delivery per enabled endpoint for the task's current status (after commit)."""
    endpoints = list(WebhookEndpoint.objects.filter(workspace_id=task.workspace_id, enabled=True))
    if not endpoints:
        return
    payload = {
        "event_type": EVENT_TYPES.get(task.task_type, "task.parse.updated"),
        "task_id": str(task.task_id),
        "status": task.status,
        "message": task.message,
    }
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            task_id=task.task_id,
            msg_id=f"msg_{uuid.uuid4().hex}",
            event_type=payload["event_type"],
            payload=payload,
        )
        for endpoint in endpoints
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        job_send(DELIVER_WEBHOOK_JOB, str(delivery.pk))


def webhooks_emit_for(task_id) -> None:
    task = Task.objects.filter(pk=task_id).only("task_id", "workspace_id", "task_type", "status", "message").first()
    if task is not None:
        webhooks_emit(task)


def webhook_deliver(*, delivery: WebhookDelivery) -> bool:
    """POST once; True on 2xx. The job retries False with backoff."""
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = standard_webhook_headers(secret=endpoint.secret, msg_id=delivery.msg_id, body=body)
    status_code, excerpt = None, ""
    try:
        target = outbound_url_check(endpoint.url)
        with httpx.Client(transport=PinnedIPTransport(target), timeout=DELIVERY_TIMEOUT, follow_redirects=False) as c:
            response = c.post(endpoint.url, content=body.encode(), headers=headers)
        status_code, excerpt = response.status_code, response.text[:RESPONSE_EXCERPT_BYTES]
    except OutboundError as exc:
        excerpt = str(exc)
    except httpx.HTTPError as exc:
        excerpt = f"{type(exc).__name__}: {exc}"[:RESPONSE_EXCERPT_BYTES]
    ok = status_code is not None and 200 <= status_code < 300
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts + 1,
        status_code=status_code,
        response_excerpt=excerpt,
        succeeded=ok,
        last_attempt_at=timezone.now(),
    )
    return ok
