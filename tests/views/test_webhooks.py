"""Settings › Webhooks through the views: add (secret shown once), detail page, send test event, send again, the
log's filters and pages, rotation, on/off, and who may see any of it."""

import re

import pytest
from standardwebhooks import Webhook

from tasks_app.choices import Role
from tasks_app.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tasks_app.services.webhooks import webhook_attempt, webhook_endpoint_create
from tests.factories import parse_task, pdf_bytes
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def receiver(settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1", "localhost"]
    with webhook_receiver() as server:
        yield server


@pytest.fixture
def admin(login):
    return login("ada", Role.ADMIN)


def _secret(html: str) -> str:
    match = re.search(r"data-webhook-secret>(whsec_[^<]+)<", html)
    assert match, "no secret shown"
    return match.group(1)


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(client, admin, receiver):
    answer = client.post(
        "/settings/webhooks/",
        {"url": receiver.url, "description": "ops", "events": ["task.extract.updated", "review.completed"]},
        headers=HX,
    )
    body = answer.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert answer.status_code == 200 and f'data-webhook="{endpoint.pk}"' in body
    assert _secret(body) == endpoint.secret and 'data-copy-target="new-webhook-secret"' in body
    assert endpoint.event_types == ["task.extract.updated", "review.completed"] and endpoint.description == "ops"
    for url in ("/settings/webhooks/", f"/settings/webhooks/{endpoint.pk}/"):
        assert endpoint.secret not in client.get(url).content.decode()  # never shown again


def test_a_refused_url_says_why_and_adds_nothing(client, admin):
    answer = client.post("/settings/webhooks/", {"url": "http://10.1.2.3/x", "events": ["review.completed"]})
    assert answer.status_code == 400 and "private or local address" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_members_and_other_workspaces_get_no_webhooks(client, login, workspace, other_workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    foreign = webhook_endpoint_create(workspace=other_workspace, url=receiver.url, actor=None)
    login("mia", Role.MEMBER)
    for url in ("/settings/webhooks/", f"/settings/webhooks/{endpoint.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/settings/webhooks/{endpoint.pk}/test/").status_code == 403
    assert 'data-settings-tab="webhooks"' not in client.get("/settings/members/").content.decode()
    login("ada", Role.ADMIN)
    assert client.get(f"/settings/webhooks/{foreign.pk}/").status_code == 404
    assert client.post(f"/settings/webhooks/{foreign.pk}/test/").status_code == 404
    assert client.post(f"/settings/webhooks/{foreign.pk}/rotate/").status_code == 404
    delivery = WebhookDelivery.objects.create(endpoint=foreign, msg_id="msg_x", event_type="webhook.test", payload={})
    assert client.post(f"/settings/webhooks/deliveries/{delivery.pk}/send-again/").status_code == 404


def test_send_test_event_delivers_now_and_the_log_shows_it(client, admin, workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    page = client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert "data-send-test" in page and "data-rotate-secret" in page and "data-webhook-log" in page

    answer = client.post(f"/settings/webhooks/{endpoint.pk}/test/", headers=HX).content.decode()
    assert "Test event: delivered" in answer and "data-webhook-log" in answer
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_type="webhook.test")
    assert f'data-delivery="{delivery.pk}"' in answer and 'data-outcome="delivered"' in answer
    headers, body = receiver.received[-1]
    assert Webhook(endpoint.secret).verify(body, headers)["event_type"] == "webhook.test"

    receiver.status = 500
    failed = client.post(f"/settings/webhooks/{endpoint.pk}/test/", headers=HX).content.decode()
    assert "Test event: failed" in failed and "HTTP 500" in failed
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # a test event never marks the endpoint failing


def test_send_again_is_a_new_attempt_of_the_same_message(client, admin, workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    receiver.status = 503
    parse_task(workspace, pdf_bytes("again"))
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert webhook_attempt(delivery_id=str(delivery.pk)) is not None  # failed: a retry is scheduled

    receiver.status = 200
    answer = client.post(f"/settings/webhooks/deliveries/{delivery.pk}/send-again/", headers=HX).content.decode()
    assert "Sent again: delivered" in answer
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code, a.manual) for a in attempts] == [(1, 503, False), (2, 200, True)]
    assert answer.count(f'data-delivery="{delivery.pk}"') == 2  # a row per attempt
    assert [h["webhook-id"] for h, _ in receiver.received] == [delivery.msg_id, delivery.msg_id]
    delivery.refresh_from_db()
    assert delivery.outcome == "delivered"
    assert webhook_attempt(delivery_id=str(delivery.pk)) is None  # the scheduled retry then sends nothing


def test_the_log_filters_by_event_and_outcome_and_pages(client, admin, workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    for i in range(23):
        parse_task(workspace, pdf_bytes(f"doc {i}"))
    pending = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("created_at")
    for delivery in pending[:22]:
        webhook_attempt(delivery_id=str(delivery.pk))
    receiver.status = 500
    webhook_attempt(delivery_id=str(pending.last().pk))
    client.post(f"/settings/webhooks/{endpoint.pk}/test/")  # a failed test message: outcome failed

    log = f"/settings/webhooks/{endpoint.pk}/log/"
    first = client.get(log, headers=HX).content.decode()
    assert first.count("data-delivery=") == 20 and "Page 1 of 2" in first
    second = client.get(log, {"page": 2}, headers=HX).content.decode()
    assert second.count("data-delivery=") == 4
    assert client.get(log, {"outcome": "pending"}, headers=HX).content.decode().count("data-delivery=") == 1
    assert client.get(log, {"outcome": "failed"}, headers=HX).content.decode().count("data-delivery=") == 1
    delivered = client.get(log, {"outcome": "delivered"}, headers=HX).content.decode()
    assert delivered.count('data-outcome="delivered"') == 20 and "Page 1 of 2" in delivered
    tests_only = client.get(log, {"event": "webhook.test"}, headers=HX).content.decode()
    assert tests_only.count("data-delivery=") == 1 and "task.parse.updated</code>" not in tests_only
    none = client.get(log, {"event": "review.completed"}, headers=HX).content.decode()
    assert "data-delivery=" not in none and "match these filters" in none


def test_rotating_shows_the_new_secret_once_and_both_sign_for_a_day(client, admin, workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    old = endpoint.secret
    answer = client.post(f"/settings/webhooks/{endpoint.pk}/rotate/", headers=HX).content.decode()
    new = _secret(answer)
    assert new != old and "keeps signing beside it" in answer
    client.post(f"/settings/webhooks/{endpoint.pk}/test/")
    headers, body = receiver.received[-1]
    assert Webhook(old).verify(body, headers) and Webhook(new).verify(body, headers)


def test_edit_and_switch_off_and_on(client, admin, workspace, receiver):
    endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
    saved = client.post(
        f"/settings/webhooks/{endpoint.pk}/",
        {"url": receiver.url + "/v2", "description": "new", "events": ["review.completed"]},
        headers=HX,
    ).content.decode()
    assert "Saved." in saved
    endpoint.refresh_from_db()
    assert endpoint.url.endswith("/v2") and endpoint.event_types == ["review.completed"]
    refused = client.post(f"/settings/webhooks/{endpoint.pk}/", {"url": receiver.url}, headers=HX).content.decode()
    assert "at least one event" in refused

    off = client.post(f"/settings/webhooks/{endpoint.pk}/toggle/", {"enabled": "0"}, headers=HX).content.decode()
    assert "disabled" in off and not WebhookEndpoint.objects.get().enabled
    client.post(f"/settings/webhooks/{endpoint.pk}/toggle/", {"enabled": "1", "from": "detail"}, headers=HX)
    assert WebhookEndpoint.objects.get().enabled
    client.post(f"/settings/webhooks/{endpoint.pk}/delete/", headers=HX)
    assert not WebhookEndpoint.objects.exists()
