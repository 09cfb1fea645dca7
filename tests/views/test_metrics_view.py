"""GET /metrics: who may read it (a bearer token, or a private address when no token is set), and what a real worker
puts in it for a parsed and a failed document."""

import pytest
from django.test import Client

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tests.conftest import wait_for
from tests.factories import encrypted_pdf, parse_task, pdf_bytes
from tests.metrics_scrape import parse, scrape, value


def test_without_a_token_loopback_and_private_addresses_are_answered(db, settings):
    settings.CHUNKR_METRICS_TOKEN = ""
    for address in ("127.0.0.1", "::1", "10.1.2.3", "192.168.0.7", "172.20.0.5"):
        response = Client(REMOTE_ADDR=address).get("/metrics")
        assert response.status_code == 200, address
        assert "chunkr_queue_depth" in response.content.decode()


def test_without_a_token_a_public_address_or_a_proxied_request_is_refused(db, settings):
    settings.CHUNKR_METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="93.184.216.34").get("/metrics").status_code == 403
    # Behind a reverse proxy every client looks private: a forwarded request is not trusted to be. (Not 203.0.113.x:
    # Python counts the documentation ranges as private.)
    proxied = Client(REMOTE_ADDR="127.0.0.1").get("/metrics", headers={"X-Forwarded-For": "93.184.216.34"})
    assert proxied.status_code == 403
    assert "CHUNKR_METRICS_TOKEN" in proxied.content.decode()


def test_with_a_token_only_the_bearer_token_opens_it_from_anywhere(db, settings):
    settings.CHUNKR_METRICS_TOKEN = "s3cret-metrics-token"
    public = Client(REMOTE_ADDR="93.184.216.34")
    assert public.get("/metrics").status_code == 401
    assert public.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    assert public.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert public.get("/metrics", headers={"Authorization": "s3cret-metrics-token"}).status_code == 401
    assert Client().get("/metrics").status_code == 401  # loopback too: the token is the rule once set
    answer = public.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert answer.status_code == 200 and "chunkr_tasks" in answer.content.decode()


def test_it_needs_no_session_no_csrf_and_takes_only_get(db, settings):
    settings.CHUNKR_METRICS_TOKEN = ""
    browser = Client(enforce_csrf_checks=True)
    response = browser.get("/metrics")
    assert response.status_code == 200 and "sessionid" not in response.cookies
    assert browser.post("/metrics").status_code == 405


def test_probes_from_inside_are_not_redirected_to_https(db, settings):
    settings.CHUNKR_METRICS_TOKEN = ""
    settings.SECURE_SSL_REDIRECT = True
    browser = Client()
    assert browser.get("/metrics").status_code == 200
    assert browser.get("/api/v1/ready").status_code == 200
    assert browser.get("/tasks/").status_code == 301  # the rest is


def test_every_family_is_documented_and_parses(db, settings, client):
    settings.CHUNKR_METRICS_TOKEN = ""
    text = client.get("/metrics").content.decode()
    parse(text)  # prometheus_client's own parser accepts it
    for name in (
        "chunkr_queue_depth",
        "chunkr_queue_unacked",
        "chunkr_tasks",
        "chunkr_task_duration_seconds",
        "chunkr_tasks_finished_total",
        "chunkr_pages_processed_total",
        "chunkr_task_failures_total",
        "chunkr_webhook_deliveries_total",
        "chunkr_review_decisions_total",
    ):
        assert f"# HELP {name} " in text and f"# TYPE {name} " in text, name


@pytest.mark.django_db(transaction=True)  # the worker only sees committed rows
def test_the_worker_s_parses_and_failures_show_in_the_scrape(live_worker, workspace, client, settings):
    settings.CHUNKR_METRICS_TOKEN = ""
    before = scrape(client)
    ok = parse_task(workspace, pdf_bytes("first page", "second page"))
    locked = parse_task(workspace, encrypted_pdf())
    for task in (ok, locked):
        wait_for(
            lambda task=task: Task.objects.filter(pk=task.pk, finished_at__isnull=False).exists(),
            timeout=120,
            what="the task to finish",
        )
    assert Task.objects.get(pk=ok.pk).status == TaskStatus.SUCCEEDED
    assert Task.objects.get(pk=locked.pk).status == TaskStatus.FAILED

    def delta(samples, name, **labels):
        return value(samples, name, **labels) - value(before, name, **labels)

    def counted(samples) -> bool:
        failed = delta(samples, "chunkr_task_failures_total", reason="encrypted") == 1
        return failed and delta(samples, "chunkr_tasks_finished_total", type="parse", status="Succeeded") >= 1

    # The worker writes its counts just after its transaction commits, so the scrape may be a moment behind the row.
    wait_for(lambda: counted(scrape(client)), timeout=10, what="both tasks in the scrape")
    after = scrape(client)
    assert delta(after, "chunkr_pages_processed_total", type="parse") >= 2
    assert delta(after, "chunkr_task_duration_seconds_count", type="parse", pages="2-10") >= 1
    # A two-page text PDF takes well under a minute: counted in the 60 s bucket and every one above it.
    assert delta(after, "chunkr_task_duration_seconds_bucket", type="parse", pages="2-10", le="60.0") >= 1
    assert delta(after, "chunkr_task_duration_seconds_bucket", type="parse", pages="2-10", le="+Inf") >= 1
    assert value(after, "chunkr_queue_depth", queue="parse") >= 0
