"""services/webhooks.py without a worker: signatures a Standard Webhooks receiver accepts, rotation, the retry
schedule (time advanced through the services' `now`/`rng` arguments, never waited for), the failing mark, event
selection, review.completed, the audit trail and the create_webhook command."""

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from tasks_app.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tasks_app.services import webhooks
from tasks_app.services.webhooks import (
    MAX_ATTEMPTS,
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    RETRY_JITTER,
    retry_delay,
    webhook_attempt,
    webhook_endpoint_create,
    webhook_endpoint_set_enabled,
    webhook_secret_rotate,
    webhook_send_again,
    webhook_send_test,
)
from tests.factories import parse_task, pdf_bytes
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1", "localhost"]
    with webhook_receiver() as server:
        yield server


def _signatures(headers: dict) -> list[str]:
    return headers["webhook-signature"].split(" ")


def test_a_delivery_verifies_with_the_secret_shown_at_creation(workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    task = parse_task(workspace, pdf_bytes("hook"))  # Starting: one message queued for the endpoint
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert webhook_attempt(delivery_id=str(delivery.pk)) is None  # delivered: no next try

    headers, body = receiver.received[0]
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload == {
        "event_type": "task.parse.updated",
        "task_id": str(task.pk),
        "status": "Starting",
        "message": "Task queued",
    }
    assert headers["webhook-id"] == delivery.msg_id and len(_signatures(headers)) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.webhook_secret_new()).verify(body, headers)


def test_after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new_one(workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    old = endpoint.secret
    new = webhook_secret_rotate(endpoint=endpoint, actor=None)
    assert new != old and new.startswith("whsec_")

    webhook_send_test(endpoint=endpoint, actor=None)
    headers, body = receiver.received[-1]
    assert len(_signatures(headers)) == 2
    for secret in (old, new):  # a receiver still holding the old secret and one already switched both accept it
        assert Webhook(secret).verify(body, headers)["event_type"] == "webhook.test"

    # Rotated 23 h ago: the old secret still signs.
    webhook_secret_rotate(endpoint=endpoint, actor=None, now=timezone.now() - timedelta(hours=23))
    endpoint.refresh_from_db()
    webhook_send_test(endpoint=endpoint, actor=None)
    assert len(_signatures(receiver.received[-1][0])) == 2

    # Rotated a day and a second ago: only the new secret signs.
    newest = webhook_secret_rotate(endpoint=endpoint, actor=None, now=timezone.now() - timedelta(hours=24, seconds=1))
    previous = endpoint.previous_secret
    webhook_send_test(endpoint=endpoint, actor=None)
    headers, body = receiver.received[-1]
    assert len(_signatures(headers)) == 1
    assert Webhook(newest).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(previous).verify(body, headers)


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible jitter, not a secret


def test_retry_delays_grow_carry_jitter_and_span_more_than_a_day():
    rng = seeded(18)
    delays = [retry_delay(n, rng=rng) for n in range(1, MAX_ATTEMPTS)]
    bases = [min(RETRY_BASE_SECONDS * 2 ** (n - 1), RETRY_CAP_SECONDS) for n in range(1, MAX_ATTEMPTS)]
    assert all(base <= delay <= base * (1 + RETRY_JITTER) for base, delay in zip(bases, delays, strict=True))
    uncapped = [d for d, b in zip(delays, bases, strict=True) if b < RETRY_CAP_SECONDS]
    assert len(uncapped) >= 5 and all(a < b for a, b in zip(uncapped, uncapped[1:], strict=False))  # exponential
    assert len({round(d / b, 6) for d, b in zip(delays, bases, strict=True)}) > 1  # jitter, not a fixed factor
    assert retry_delay(3, rng=seeded(1)) != retry_delay(3, rng=seeded(2))
    assert sum(bases) >= 24 * 3600  # even with no jitter at all, the last try comes more than a day after the first
    assert max(delays) < 7200  # below the broker's visibility timeout (settings.CELERY_BROKER_TRANSPORT_OPTIONS)


def test_a_failing_receiver_is_retried_until_the_endpoint_is_marked_failing(
    workspace, receiver, client, make_user, django_capture_on_commit_callbacks
):
    from tasks_app.choices import Role

    receiver.status, receiver.answer = 500, b"boom " * 1000
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    parse_task(workspace, pdf_bytes("never arrives"))
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    delays = []
    for _ in range(MAX_ATTEMPTS):  # the worker's part: each try queues the next with the returned countdown
        with django_capture_on_commit_callbacks(execute=False) as queued:
            delays.append(webhook_attempt(delivery_id=str(delivery.pk), rng=seeded(len(delays))))
        assert len(queued) == (1 if delays[-1] is not None else 0)
    assert delays[-1] is None and all(d is not None for d in delays[:-1])
    assert delays[:8] == sorted(delays[:8]) and sum(delays[:-1]) >= 24 * 3600

    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [a.number for a in attempts] == list(range(1, MAX_ATTEMPTS + 1))
    assert {a.status_code for a in attempts} == {500} and not any(a.succeeded for a in attempts)
    assert len(attempts[0].response_excerpt) == 2048  # the first 2 KB of the answer
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # the same message every time
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.outcome == "failed" and endpoint.failing_since is not None
    assert webhook_attempt(delivery_id=str(delivery.pk)) is None  # a stray redelivery posts nothing more
    assert len(receiver.received) == MAX_ATTEMPTS

    admin = make_user("ada", workspace=workspace, role=Role.ADMIN)
    client.force_login(admin)
    for url in ("/settings/webhooks/", "/tasks/", f"/settings/webhooks/{endpoint.pk}/"):
        page = client.get(url).content.decode()
        assert "data-webhook-failing-banner" in page, url
        assert endpoint.url in page
    client.force_login(make_user("mia", workspace=workspace, role=Role.MEMBER))
    assert "data-webhook-failing-banner" not in client.get("/tasks/").content.decode()  # admins only

    # A message that gets through clears the mark (and the banner).
    receiver.status = 200
    attempt = webhook_send_again(delivery=delivery, actor=admin)
    assert attempt.succeeded and attempt.number == MAX_ATTEMPTS + 1 and attempt.manual
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.failing_since is None and delivery.outcome == "delivered"
    client.force_login(admin)
    assert "data-webhook-failing-banner" not in client.get("/tasks/").content.decode()


def test_enabling_an_endpoint_again_clears_its_failing_mark(workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
    endpoint.refresh_from_db()
    webhook_endpoint_set_enabled(endpoint=endpoint, enabled=False, actor=None)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is not None
    webhook_endpoint_set_enabled(endpoint=endpoint, enabled=True, actor=None)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_a_disabled_endpoint_gets_nothing(workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    parse_task(workspace, pdf_bytes("queued before"))
    queued = WebhookDelivery.objects.get(endpoint=endpoint)
    webhook_endpoint_set_enabled(endpoint=endpoint, enabled=False, actor=None)
    parse_task(workspace, pdf_bytes("quiet"))
    assert list(WebhookDelivery.objects.filter(endpoint=endpoint)) == [queued]
    assert webhook_attempt(delivery_id=str(queued.pk)) is None and receiver.received == []
    queued.refresh_from_db()
    assert queued.outcome == "failed"  # stopped, not pending for ever


def test_an_endpoint_gets_only_the_events_it_subscribed_to(workspace, receiver):
    extract_only = webhook_endpoint_create(
        workspace=workspace, url=receiver.url, event_types=["task.extract.updated"], actor=None
    )
    everything = webhook_endpoint_create(workspace=workspace, url=receiver.url + "/all", actor=None)
    parse_task(workspace, pdf_bytes("parse only"))
    assert not WebhookDelivery.objects.filter(endpoint=extract_only).exists()
    assert list(WebhookDelivery.objects.filter(endpoint=everything).values_list("event_type", flat=True)) == [
        "task.parse.updated"
    ]


def test_unknown_or_no_events_are_refused(workspace, receiver):
    from tasks_app.errors import ApplicationError

    with pytest.raises(ApplicationError, match="Unknown event type"):
        webhook_endpoint_create(workspace=workspace, url=receiver.url, event_types=["task.bogus"], actor=None)
    with pytest.raises(ApplicationError, match="at least one event"):
        webhook_endpoint_create(workspace=workspace, url=receiver.url, event_types=[], actor=None)


def test_review_completed_is_sent_after_the_review_finishes(
    workspace, receiver, make_user, django_capture_on_commit_callbacks
):
    from tasks_app.services.extraction import task_process_derived
    from tasks_app.services.processing import task_process
    from tasks_app.services.review import review_decide
    from tests.factories import extract_task
    from tests.services.test_review import SCHEMA, invoice_pdf

    endpoint = webhook_endpoint_create(
        workspace=workspace, url=receiver.url, event_types=["review.completed"], actor=None
    )
    source = parse_task(workspace, invoice_pdf())
    task_process(task_id=str(source.pk))
    task = extract_task(workspace, source, SCHEMA)
    task_process_derived(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == "Succeeded", task.message
    alice = make_user("alice", workspace=workspace)
    review_decide(task=task, path="invoice_number", action="accept", actor=alice)
    review_decide(task=task, path="total", action="accept", actor=alice)
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()  # not finished yet

    with django_capture_on_commit_callbacks(execute=False) as queued:
        review_decide(task=task, path="issued", action="reject", actor=alice)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    jobs = [c for c in queued if c.__module__ != "tasks_app.services.metrics"]  # beside it, the decision's metric
    assert len(jobs) == 1  # the job goes out when the decision's transaction commits, not before
    assert webhook_attempt(delivery_id=str(delivery.pk)) is None
    headers, body = receiver.received[-1]
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["event_type"] == "review.completed" and payload["task_id"] == str(task.pk)
    assert payload["status"] == "reviewed" and payload["reviewed_at"]
    assert set(payload) == {"event_type", "task_id", "status", "schema_name", "schema_version", "reviewed_at"}


def test_changes_are_audited_without_secrets(workspace, receiver, make_user):
    from tasks_app.choices import Role
    from tasks_app.services.webhooks import webhook_endpoint_delete, webhook_endpoint_update

    admin = make_user("ada", workspace=workspace, role=Role.ADMIN)
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=admin)
    webhook_endpoint_update(
        endpoint=endpoint, url=receiver.url, description="ops", event_types=["review.completed"], actor=admin
    )
    webhook_secret_rotate(endpoint=endpoint, actor=admin)
    webhook_endpoint_set_enabled(endpoint=endpoint, enabled=False, actor=admin)
    webhook_endpoint_set_enabled(endpoint=endpoint, enabled=True, actor=admin)
    secrets = [endpoint.secret, endpoint.previous_secret]
    webhook_endpoint_delete(endpoint=endpoint, actor=admin)
    events = list(AuditEvent.objects.filter(workspace=workspace, verb__startswith="webhook.").order_by("pk"))
    assert [e.verb for e in events] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.deleted",
    ]
    assert all(e.actor_user == admin for e in events)
    assert not any(secret in str(e.data) for e in events for secret in secrets)


def test_a_member_may_not_manage_webhooks(workspace, receiver, make_user):
    from tasks_app.choices import Role
    from tasks_app.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        webhook_endpoint_create(
            workspace=workspace, url=receiver.url, actor=make_user("mia", workspace=workspace, role=Role.MEMBER)
        )


def test_create_webhook_prints_the_secret_as_the_last_line(workspace, receiver):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_webhook", "--workspace", "Acme", "--url", receiver.url, "--events", "task.parse.updated",
        "review.completed", "--description", "ci", stdout=out, stderr=err,
    )  # fmt: skip
    secret = out.getvalue().strip().splitlines()[-1]
    endpoint = WebhookEndpoint.objects.get(workspace=workspace)
    assert secret == endpoint.secret and secret.startswith("whsec_")
    assert endpoint.event_types == ["task.parse.updated", "review.completed"] and endpoint.description == "ci"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="private or local"):
        call_command("create_webhook", "--workspace", "Acme", "--url", "http://10.0.0.5/x", stdout=out, stderr=err)


def test_a_zero_data_retention_task_is_deleted_once_its_result_is_delivered(workspace, receiver, settings, tmp_path):
    """The retention and webhook halves meet: a 2xx for the Succeeded event leaves a tombstone, an earlier
    (Processing) event does not."""
    from tests.services.test_retention import files_of, processed, zdr_on

    settings.MEDIA_ROOT = tmp_path / "media"
    zdr_on(workspace)
    endpoint = webhook_endpoint_create(
        workspace=workspace, url=receiver.url, event_types=["task.parse.updated"], actor=None
    )
    task = processed(workspace, "Confidential figures")
    assert files_of(task, settings.MEDIA_ROOT)
    for delivery in WebhookDelivery.objects.filter(endpoint=endpoint).order_by("created_at"):
        webhook_attempt(delivery_id=str(delivery.pk))
        task.refresh_from_db()
        if delivery.payload["status"] != "Succeeded":
            assert task.zdr_deleted_at is None  # an event that carried no result deletes nothing
    assert [p["status"] for p in (Webhook(endpoint.secret).verify(b, h) for h, b in receiver.received)][
        -1
    ] == "Succeeded"
    assert task.zdr_deleted_at is not None and task.status == "Succeeded"
    assert not files_of(task, settings.MEDIA_ROOT)
