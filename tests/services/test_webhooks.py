import http.server
import json
import threading

import pytest
from standardwebhooks import Webhook

from tasks_app.models import WebhookDelivery
from tasks_app.services.webhooks import webhook_endpoint_create
from tests.conftest import wait_for
from tests.factories import parse_task, pdf_bytes


@pytest.fixture
def receiver():
    received: list[tuple[dict, bytes]] = []
    fail_first = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if fail_first["n"] > 0:
                fail_first["n"] -= 1
                self.send_response(503)
                self.end_headers()
                return
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", received, fail_first
    server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_each_status_change_is_delivered_signed(live_worker, workspace, receiver, settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    url, received, _ = receiver
    endpoint = webhook_endpoint_create(workspace=workspace, url=url, actor=None)
    task = parse_task(workspace, pdf_bytes("hooked"), configuration={"ocr_strategy": "Auto"})

    wait_for(lambda: len(received) >= 3, timeout=60, what="three webhook deliveries")
    verifier = Webhook(endpoint.secret)
    payloads = [verifier.verify(body, headers) for headers, body in received]
    assert [p["status"] for p in payloads] == ["Starting", "Processing", "Succeeded"]
    assert {p["task_id"] for p in payloads} == {str(task.pk)}
    assert {p["event_type"] for p in payloads} == {"task.parse.updated"}
    assert len({headers["webhook-id"] for headers, _ in received}) == 3
    with pytest.raises(Exception):  # noqa: B017 - any verification failure
        Webhook(endpoint.secret).verify(received[0][1] + b" ", received[0][0])


@pytest.mark.django_db(transaction=True)
def test_failed_delivery_is_retried_with_the_same_message_id(live_worker, workspace, receiver, settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    url, received, fail_first = receiver
    fail_first["n"] = 1
    webhook_endpoint_create(workspace=workspace, url=url, actor=None)
    from django.db import transaction

    from tasks_app.services.tasks import task_cancel

    with transaction.atomic():
        task = parse_task(workspace, pdf_bytes("retry me"))
        task_cancel(task=task, actor=None)

    wait_for(lambda: len(received) >= 2, timeout=60, what="the retried delivery")
    # The receiver has the message before the worker has recorded the answer: wait for the record too.
    wait_for(
        lambda: WebhookDelivery.objects.filter(task_id=task.pk, succeeded=True).count() == 2,
        timeout=10,
        what="both deliveries recorded",
    )
    statuses = sorted(json.loads(body)["status"] for _, body in received)
    assert statuses == ["Cancelled", "Starting"]
    retried = WebhookDelivery.objects.filter(task_id=task.pk, attempts=2)
    assert retried.count() == 1 and retried.get().succeeded
    attempts = retried.get().attempt_rows.order_by("number")
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [(1, 503, False), (2, 204, True)]
    first_id = retried.get().msg_id
    assert first_id in {headers["webhook-id"] for headers, _ in received}


def test_private_webhook_urls_are_refused(workspace):
    from tasks_app.errors import ApplicationError

    with pytest.raises(ApplicationError, match="private or local"):
        webhook_endpoint_create(workspace=workspace, url="http://10.0.0.5/hook", actor=None)
