"""services/metrics.py: counters kept in Redis by the services that do the work, read back by /metrics; a failure's
reason told from the message its task keeps; a Redis that is down costs a metric, never a job."""

import pytest
from celery import current_app

from tasks_app import engine
from tasks_app.choices import TaskStatus
from tasks_app.models import Task, WebhookDelivery
from tasks_app.services import metrics
from tasks_app.services.extraction import task_process_derived
from tasks_app.services.lifecycle import INTERNAL_ERROR, STALE_FAILED
from tasks_app.services.metrics import FAILURE_REASONS, failure_reason, metrics_task_ended, pages_bucket
from tasks_app.services.processing import INPUT_MISSING, TOO_SLOW, task_process
from tasks_app.services.queue import queue_names
from tasks_app.services.review import review_decide
from tasks_app.services.tasks import task_cancel
from tasks_app.services.webhooks import MAX_ATTEMPTS, webhook_attempt, webhook_endpoint_create, webhook_send_test
from tests.conftest import jobs_routed_to
from tests.factories import encrypted_pdf, extract_task, parse_task, pdf_bytes
from tests.metrics_scrape import scrape, value
from tests.services.test_review import SCHEMA, invoice_pdf
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Metrics are written when the transaction commits; the test's transaction never does, so inside this block
    the on-commit callbacks run as it ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (INPUT_MISSING, "input_missing"),
        (TOO_SLOW.format(seconds=3600), "timeout"),
        (INTERNAL_ERROR.format(ref="1a2b3c4d"), "internal"),
        (STALE_FAILED, "worker_lost"),
        ("The document has 2500 pages; the limit is 2000.", "too_large"),
        ("The image is too large to process (12000x12000 pixels).", "too_large"),
        ("The PDF is damaged and could not be opened.", "corrupt"),
        ("Page 3 is damaged and could not be read.", "corrupt"),
        ("Unsupported file type: ZIP archives are not read; upload the document itself.", "unsupported"),
        ("The file is empty.", "empty"),
        ("configuration.ocr_strategy: must be one of Auto, All (got 'x')", "config"),
        ("The Parse task ended Failed: The file is empty.", "source_failed"),
        ("The task it was waiting for was deleted.", "source_failed"),
        ("The source task has been deleted.", "source_failed"),
        ("Could not download the file: the server answered 404", "download_failed"),
        ("Extraction endpoint answered HTTP 500.", "llm"),
        ("tesseract failed: segfault", "ocr_unavailable"),
        ("Something nobody planned for", "other"),
    ],
)
def test_a_failure_reason_is_told_from_the_message_its_task_keeps(message, reason):
    assert failure_reason(message) == reason


def test_every_engine_error_has_a_reason_of_its_own():
    errors = [getattr(engine, name) for name in dir(engine) if isinstance(getattr(engine, name), type)]
    errors = [e for e in errors if issubclass(e, engine.EngineError) and e is not engine.EngineError]
    assert len(errors) >= 14
    for error in errors:
        if error.default_message != engine.EngineError.default_message:
            assert failure_reason(error.default_message) not in ("other",), error
    assert set(FAILURE_REASONS) >= {"timeout", "input_missing", "unsupported", "encrypted", "too_large", "internal"}


def test_page_count_buckets():
    assert [pages_bucket(n) for n in (None, 0, 1, 2, 10, 11, 63, 64, 399, 400, 5000)] == [
        "unknown", "unknown", "1", "2-10", "2-10", "11-63", "11-63", "64-399", "64-399", "400+", "400+"
    ]  # fmt: skip


def test_a_parse_that_succeeds_and_one_that_fails_are_counted(client, workspace, committed):
    before = scrape(client)
    with committed():
        ok = parse_task(workspace, pdf_bytes("one", "two", "three"))
        task_process(task_id=str(ok.pk))
        locked = parse_task(workspace, encrypted_pdf())
        task_process(task_id=str(locked.pk))
    assert Task.objects.get(pk=ok.pk).status == TaskStatus.SUCCEEDED
    assert Task.objects.get(pk=locked.pk).status == TaskStatus.FAILED

    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("chunkr_tasks_finished_total", type="parse", status="Succeeded") == 1
    assert delta("chunkr_tasks_finished_total", type="parse", status="Failed") == 1
    assert delta("chunkr_pages_processed_total", type="parse") == 3
    assert delta("chunkr_task_failures_total", reason="encrypted") == 1
    assert delta("chunkr_task_duration_seconds_count", type="parse", pages="2-10") == 1
    assert delta("chunkr_task_duration_seconds_bucket", type="parse", pages="2-10", le="+Inf") == 1
    assert delta("chunkr_task_duration_seconds_sum", type="parse", pages="2-10") > 0
    # The encrypted PDF failed before its pages were counted.
    assert delta("chunkr_task_duration_seconds_count", type="parse", pages="unknown") == 1


def test_a_task_cancelled_before_it_started_is_counted_without_a_duration(client, workspace, committed):
    before = scrape(client)
    with committed():
        task = parse_task(workspace, pdf_bytes("never runs"))
        task_cancel(task=task, actor=None)
    after = scrape(client)
    name, labels = "chunkr_tasks_finished_total", {"type": "parse", "status": "Cancelled"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    assert value(after, "chunkr_task_failures_total", reason="cancelled") == value(
        before, "chunkr_task_failures_total", reason="cancelled"
    )  # a cancel is no failure


def test_webhook_outcomes_are_counted(client, workspace, settings, committed):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1", "localhost"]
    before = scrape(client)
    with webhook_receiver() as receiver, committed():
        endpoint = webhook_endpoint_create(workspace=workspace, url=receiver.url, actor=None)
        parse_task(workspace, pdf_bytes("hook"))
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        webhook_attempt(delivery_id=str(delivery.pk))  # delivered
        receiver.status = 500
        parse_task(workspace, pdf_bytes("hook again"))
        failing = WebhookDelivery.objects.filter(endpoint=endpoint).exclude(pk=delivery.pk).get()
        webhook_attempt(delivery_id=str(failing.pk))  # failed, tried again later
        WebhookDelivery.objects.filter(pk=failing.pk).update(attempts=MAX_ATTEMPTS - 1)
        webhook_attempt(delivery_id=str(failing.pk))  # the last try: given up
        webhook_send_test(endpoint=endpoint, actor=None)  # a failed test message is no message given up
    after = scrape(client)
    name = "chunkr_webhook_deliveries_total"
    for outcome, count in (("delivered", 1), ("failed_attempt", 2), ("gave_up", 1)):
        assert value(after, name, outcome=outcome) - value(before, name, outcome=outcome) == count, outcome


def test_review_decisions_are_counted(client, workspace, make_user, committed):
    source = parse_task(workspace, invoice_pdf())
    task_process(task_id=str(source.pk))
    extraction = extract_task(workspace, source, SCHEMA)
    task_process_derived(task_id=str(extraction.pk))
    extraction.refresh_from_db()
    assert extraction.status == TaskStatus.SUCCEEDED, extraction.message
    alice = make_user("alice", workspace=workspace)
    before = scrape(client)
    with committed():
        review_decide(task=extraction, path="invoice_number", action="accept", actor=alice)
        review_decide(task=extraction, path="total", action="correct", text="99", actor=alice)
        review_decide(task=extraction, path="issued", action="reject", actor=alice)
    after = scrape(client)
    for decision in ("accepted", "corrected", "rejected"):
        name = "chunkr_review_decisions_total"
        assert value(after, name, decision=decision) - value(before, name, decision=decision) == 1, decision


def test_queue_depth_counts_the_messages_waiting_in_each_queue(client, workspace):
    # Queues no worker reads, so the messages stay where they were put.
    with jobs_routed_to("metrics-probe-"):
        names = queue_names()
        assert "metrics-probe-parse" in names
        broker = metrics._broker()
        broker.delete(*names)
        try:
            for _ in range(3):
                current_app.send_task("tasks_app.jobs.process_task_job", args=["00000000-0000-0000-0000-000000000000"])
            current_app.send_task("tasks_app.jobs.deliver_webhook_job", args=["00000000-0000-0000-0000-000000000000"])
            samples = scrape(client)
        finally:
            broker.delete(*names)
    assert value(samples, "chunkr_queue_depth", queue="metrics-probe-parse") == 3
    assert value(samples, "chunkr_queue_depth", queue="metrics-probe-webhooks") == 1
    assert value(samples, "chunkr_queue_depth", queue="metrics-probe-default") == 0
    assert ("chunkr_queue_unacked", frozenset()) in samples


def test_tasks_by_status_come_from_the_database(client, workspace):
    before = scrape(client)
    parse_task(workspace, pdf_bytes("waiting"))
    after = scrape(client)
    assert value(after, "chunkr_tasks", status="Starting") - value(before, "chunkr_tasks", status="Starting") == 1
    assert ("chunkr_tasks", frozenset({("status", "Processing")})) in after


def test_a_redis_that_is_down_costs_the_metric_never_the_job(client, workspace, settings, committed):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # refused at once
    with committed():
        task = parse_task(workspace, pdf_bytes("still parsed"))
        task_process(task_id=str(task.pk))
        metrics_task_ended(task.pk)  # once more, directly: it must not raise either
    assert Task.objects.get(pk=task.pk).status == TaskStatus.SUCCEEDED
    samples = scrape(client)  # the scrape still answers, with what it could read
    assert value(samples, "chunkr_metrics_store_up") == 0
    assert ("chunkr_tasks", frozenset({("status", "Succeeded")})) in samples
