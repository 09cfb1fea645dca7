"""Webhooks: a POST to every enabled, subscribed endpoint on each task status change (contract §10) and when a
document's review is finished.

Signed with the Standard Webhooks scheme the official clients verify: `webhook-id` (the message's, the same on every
retry), `webhook-timestamp` (this attempt's), `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
keyed with the base64-decoded part of the endpoint's `whsec_` secret. For a day after a rotation the old secret signs
too, both signatures space-separated, so receivers can switch without losing a message.

A message (WebhookDelivery) is tried on the `webhooks` queue; each try is a WebhookAttempt row, the delivery log. A
failed try is tried again after `retry_delay(n)` (exponential, capped, with jitter) until `MAX_ATTEMPTS` tries have
spanned more than 24 h; then the message fails and its endpoint is marked failing until a message gets through or an
admin enables it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import time
import uuid
from datetime import datetime, timedelta

import httpx
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tasks_app.choices import TaskType
from tasks_app.errors import ApplicationError
from tasks_app.models import Task, WebhookAttempt, WebhookDelivery, WebhookEndpoint, Workspace
from tasks_app.services.access import authorize
from tasks_app.services.audit import Actor, audit_record
from tasks_app.services.metrics import metrics_webhook_attempt
from tasks_app.services.outbound import OutboundError, PinnedIPTransport, outbound_url_check
from tasks_app.services.queue import DELIVER_WEBHOOK_JOB, job_send
from tasks_app.services.retention import zdr_note_delivered

EVENT_TYPES = {
    TaskType.PARSE: "task.parse.updated",
    TaskType.EXTRACT: "task.extract.updated",
    TaskType.SPLIT: "task.split.updated",
}
REVIEW_COMPLETED = "review.completed"
TEST_EVENT = "webhook.test"
# What an endpoint can subscribe to, with the label the dashboard shows.
EVENT_CHOICES = {
    "task.parse.updated": "Parse task status changed",
    "task.extract.updated": "Extract task status changed",
    "task.split.updated": "Split task status changed",
    REVIEW_COMPLETED: "Review of a document finished",
}
RESPONSE_EXCERPT_BYTES = 2048
DELIVERY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Retries: 10 s doubling to a 1 h cap, plus up to 20 % jitter so that many failed messages do not all come back in
# the same second. The cap stays below the broker's visibility timeout (a countdown longer than it gets a message
# redelivered early). 33 tries span 24.4 h before jitter (tests/services/test_webhooks_delivery.py checks it).
RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 3600
RETRY_JITTER = 0.2
MAX_ATTEMPTS = 33
PREVIOUS_SECRET_VALID = timedelta(hours=24)

URL_REFUSED = "Webhook URL refused: {reason}"
NO_EVENTS = "Choose at least one event to send."
UNKNOWN_EVENT = "Unknown event type: {event}."


def webhook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _sign(secret: str, signed: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def standard_webhook_headers(
    *, secret: str | list[str], msg_id: str, body: str, timestamp: int | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, one signature per secret (space-separated)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    keys = [secret] if isinstance(secret, str) else secret
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(_sign(key, signed) for key in keys),
        "content-type": "application/json",
    }


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> list[str]:
    """The current secret, then the previous one while it is still honoured after a rotation."""
    now = now or timezone.now()
    keys = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and now < endpoint.previous_secret_until:
        keys.append(endpoint.previous_secret)
    return keys


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed try number `attempt` (1-based): exponential, capped, plus jitter."""
    base = min(RETRY_BASE_SECONDS * 2 ** (attempt - 1), RETRY_CAP_SECONDS)
    return base * (1 + (rng or random).uniform(0, RETRY_JITTER))  # noqa: S311 - jitter, not a secret


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        outbound_url_check(url)
    except OutboundError as exc:
        raise ApplicationError(URL_REFUSED.format(reason=exc)) from None
    return url


def _check_events(event_types) -> list[str]:
    events = [e for e in dict.fromkeys(event_types or [])]
    for event in events:
        if event not in EVENT_CHOICES:
            raise ApplicationError(UNKNOWN_EVENT.format(event=event))
    if not events:
        raise ApplicationError(NO_EVENTS)
    return events


@transaction.atomic
def webhook_endpoint_create(
    *,
    workspace: Workspace,
    url: str,
    description: str = "",
    event_types: list[str] | None = None,
    actor: Actor,
) -> WebhookEndpoint:
    """A new endpoint, subscribed to `event_types` (all task events when None). Its secret is on the returned row:
    show it now, the dashboard does not show it again."""
    authorize(actor=actor, workspace=workspace, action="webhook.manage")
    url = _check_url(url)
    events = _check_events(list(EVENT_TYPES.values()) if event_types is None else event_types)
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=url, description=description.strip()[:200], secret=webhook_secret_new(),
        event_types=events,
    )  # fmt: skip
    audit_record(
        workspace=workspace, actor=actor, verb="webhook.created", target=endpoint, data={"url": url, "events": events}
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, description: str, event_types: list[str], actor: Actor
) -> WebhookEndpoint:
    authorize(actor=actor, workspace=endpoint.workspace, action="webhook.manage")
    url = _check_url(url)
    events = _check_events(event_types)
    endpoint.url, endpoint.description, endpoint.event_types = url, description.strip()[:200], events
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["url", "description", "event_types", "updated_at"])
    audit_record(
        workspace=endpoint.workspace, actor=actor, verb="webhook.updated", target=endpoint,
        data={"url": url, "events": events},
    )  # fmt: skip
    return endpoint


@transaction.atomic
def webhook_endpoint_set_enabled(*, endpoint: WebhookEndpoint, enabled: bool, actor: Actor) -> WebhookEndpoint:
    """Switch sending on or off. Enabling clears the failing mark: the admin has looked at it."""
    authorize(actor=actor, workspace=endpoint.workspace, action="webhook.manage")
    endpoint.enabled, endpoint.updated_at = enabled, timezone.now()
    fields = ["enabled", "updated_at"]
    if enabled:
        endpoint.failing_since = None
        fields.append("failing_since")
    endpoint.save(update_fields=fields)
    verb = "webhook.enabled" if enabled else "webhook.disabled"
    audit_record(workspace=endpoint.workspace, actor=actor, verb=verb, target=endpoint, data={"url": endpoint.url})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    authorize(actor=actor, workspace=endpoint.workspace, action="webhook.manage")
    audit_record(
        workspace=endpoint.workspace, actor=actor, verb="webhook.deleted", target=endpoint, data={"url": endpoint.url}
    )
    endpoint.delete()


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint, actor: Actor, now: datetime | None = None) -> str:
    """A new secret (returned: show it once); the old one keeps signing for 24 h beside it."""
    authorize(actor=actor, workspace=endpoint.workspace, action="webhook.manage")
    now = now or timezone.now()
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now + PREVIOUS_SECRET_VALID
    endpoint.secret, endpoint.updated_at = webhook_secret_new(), now
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    audit_record(
        workspace=endpoint.workspace, actor=actor, verb="webhook.secret_rotated", target=endpoint,
        data={"url": endpoint.url, "previous_valid_until": endpoint.previous_secret_until.isoformat()},
    )  # fmt: skip
    return endpoint.secret


def _queue(workspace_id, event_type: str, payload: dict, task_id) -> list[WebhookDelivery]:
    """One message per enabled endpoint subscribed to `event_type`, sent once the transaction commits."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True)
        if event_type in (e.event_types or [])
    ]
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            task_id=task_id,
            msg_id=f"msg_{uuid.uuid4().hex}",
            event_type=event_type,
            payload=payload,
        )  # fmt: skip
        for endpoint in endpoints
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        job_send(DELIVER_WEBHOOK_JOB, str(delivery.pk))
    return deliveries


def webhooks_emit(task: Task) -> None:
    """Queue the task's current status (contract §10.2) for its workspace's endpoints (sent after commit)."""
    event_type = EVENT_TYPES.get(task.task_type, "task.parse.updated")
    payload = {"event_type": event_type, "task_id": str(task.task_id), "status": task.status, "message": task.message}
    _queue(task.workspace_id, event_type, payload, task.task_id)


def webhooks_emit_for(task_id) -> None:
    task = Task.objects.filter(pk=task_id).only("task_id", "workspace_id", "task_type", "status", "message").first()
    if task is not None:
        webhooks_emit(task)


def webhooks_emit_review_completed(review) -> None:
    """A document's review has just finished (every field decided): call in the transaction that says so."""
    reviewed_at = review.reviewed_at or timezone.now()
    payload = {
        "event_type": REVIEW_COMPLETED,
        "task_id": str(review.task_id),
        "status": "reviewed",
        "schema_name": review.schema_name,
        "schema_version": review.schema_version,
        "reviewed_at": reviewed_at.isoformat(),
    }
    _queue(review.workspace_id, REVIEW_COMPLETED, payload, review.task_id)


def _post(delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, number: int, manual: bool) -> WebhookAttempt:
    """POST the message once and record the attempt."""
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = standard_webhook_headers(secret=signing_secrets(endpoint), msg_id=delivery.msg_id, body=body)
    status_code, excerpt = None, ""
    started = time.monotonic()
    try:
        target = outbound_url_check(endpoint.url)
        with httpx.Client(transport=PinnedIPTransport(target), timeout=DELIVERY_TIMEOUT, follow_redirects=False) as c:
            response = c.post(endpoint.url, content=body.encode(), headers=headers)
        status_code = response.status_code
        excerpt = response.content[:RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace")
    except OutboundError as exc:
        excerpt = f"Refused: {exc}"
    except httpx.HTTPError as exc:
        excerpt = f"{type(exc).__name__}: {exc}"[:RESPONSE_EXCERPT_BYTES]
    ok = status_code is not None and 200 <= status_code < 300
    return WebhookAttempt.objects.create(
        delivery=delivery, number=number, request_body=body, status_code=status_code,
        response_excerpt=excerpt.replace("\x00", ""), duration_ms=int((time.monotonic() - started) * 1000),
        succeeded=ok, manual=manual,
    )  # fmt: skip


def _record(delivery: WebhookDelivery, attempt: WebhookAttempt, *, gave_up: bool, next_at: datetime | None) -> None:
    now = attempt.created_at
    changes = {
        "status_code": attempt.status_code,
        "response_excerpt": attempt.response_excerpt,
        "succeeded": attempt.succeeded,
        "last_attempt_at": now,
        "next_attempt_at": None if attempt.succeeded else next_at,
    }
    if attempt.succeeded:
        changes["failed_at"] = None
    elif gave_up:
        changes["failed_at"] = now
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
    metrics_webhook_attempt(succeeded=attempt.succeeded, gave_up=gave_up and delivery.event_type != TEST_EVENT)
    endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
    if attempt.succeeded and delivery.task_id and delivery.event_type in EVENT_TYPES.values():
        # Zero data retention: a task's result delivered by webhook may be what deletes its content.
        zdr_note_delivered(delivery.task_id, event_status=delivery.payload.get("status"))
    if attempt.succeeded:
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
    elif gave_up and delivery.event_type != TEST_EVENT:
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)


def webhook_attempt(*, delivery_id: str, rng: random.Random | None = None) -> float | None:
    """The retry schedule's next try of a message: claims it (one conditional UPDATE, so a redelivered job does not
    post twice), posts once, records it and, when it failed, queues the next try. Returns the seconds until that next
    try, or None when none is due."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.succeeded or delivery.failed_at:
        return None
    if not delivery.endpoint.enabled:  # switched off since: the message stops here (the log says failed, not pending)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(failed_at=timezone.now(), next_attempt_at=None)
        return None
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, attempts=delivery.attempts, succeeded=False, failed_at__isnull=True
    ).update(attempts=F("attempts") + 1, last_attempt_at=timezone.now())
    if not claimed:
        return None
    number = delivery.attempts + 1
    attempt = _post(delivery, delivery.endpoint, number=number, manual=False)
    gave_up = not attempt.succeeded and number >= MAX_ATTEMPTS
    delay = None if attempt.succeeded or gave_up else retry_delay(number, rng=rng)
    _record(delivery, attempt, gave_up=gave_up, next_at=attempt.created_at + timedelta(seconds=delay or 0))
    if delay is not None:
        job_send(DELIVER_WEBHOOK_JOB, str(delivery.pk), countdown=delay)
    return delay


def webhook_send_again(*, delivery: WebhookDelivery, actor: Actor) -> WebhookAttempt:
    """One more try of a message now (same `webhook-id`, a fresh timestamp and signature), whatever its state."""
    endpoint = delivery.endpoint
    authorize(actor=actor, workspace=endpoint.workspace, action="webhook.manage")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    delivery.refresh_from_db(fields=["attempts"])
    attempt = _post(delivery, endpoint, number=delivery.attempts, manual=True)
    # A failed manual try leaves a pending message pending (its schedule goes on) and a failed one failed.
    _record(delivery, attempt, gave_up=False, next_at=delivery.next_attempt_at)
    return attempt


def webhook_send_test(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookAttempt:
    """A `webhook.test` message posted now, whatever the endpoint's events; not retried."""
    authorize(actor=actor, workspace=endpoint.workspace, action="webhook.manage")
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, task_id=None, msg_id=f"msg_{uuid.uuid4().hex}", event_type=TEST_EVENT,
        payload={"event_type": TEST_EVENT, "endpoint_id": str(endpoint.pk), "sent_at": now.isoformat()},
        attempts=1,
    )  # fmt: skip
    attempt = _post(delivery, endpoint, number=1, manual=True)
    _record(delivery, attempt, gave_up=not attempt.succeeded, next_at=None)
    return attempt
