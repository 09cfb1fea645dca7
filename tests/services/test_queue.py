"""services/queue.py on the real Redis: a job goes on its kind's queue when the transaction commits, never
before; a stop order that cannot go out is reported, not raised."""

import pytest
from django.db import transaction

from tasks_app.choices import TaskType
from tasks_app.models import Task
from tasks_app.services import redis_state
from tasks_app.services.queue import job_enqueue, job_send, job_stop
from tests.conftest import jobs_routed_to

PREFIX = "queue-test-"


@pytest.fixture
def queues(redis_url, settings):
    """This test's own queue names (no worker consumes them), emptied before and after."""
    settings.REDIS_URL = redis_url
    redis = redis_state.client()
    names = [PREFIX + q for q in ("default", "parse", "extract", "split", "webhooks")]
    redis.delete(*names)
    with jobs_routed_to(PREFIX):
        yield lambda: {name.removeprefix(PREFIX): redis.llen(name) for name in names}
    redis.delete(*names)


@pytest.mark.django_db(transaction=True)
def test_each_kind_of_task_goes_to_its_queue_once_committed(workspace, queues):
    with transaction.atomic():
        for task_type in (TaskType.PARSE, TaskType.EXTRACT, TaskType.SPLIT):
            job_enqueue(Task.objects.create(workspace=workspace, task_type=task_type))
        job_send("tasks_app.jobs.deliver_webhook_job", "some-delivery")
        assert queues() == {"default": 0, "parse": 0, "extract": 0, "split": 0, "webhooks": 0}  # none before the commit
    assert queues() == {"default": 0, "parse": 1, "extract": 1, "split": 1, "webhooks": 1}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(workspace, queues):
    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue(Task.objects.create(workspace=workspace))
        raise RuntimeError
    assert sum(queues().values()) == 0


def test_a_stop_order_without_a_job_or_a_broker_is_reported_not_raised(redis_url, request):
    import time

    assert job_stop("") is False
    assert job_stop("00000000-0000-0000-0000-000000000000") is True  # the order went out on the real Redis
    request.getfixturevalue("dead_broker")
    started = time.monotonic()
    assert job_stop("00000000-0000-0000-0000-000000000000", timeout=3) is False
    assert time.monotonic() - started < 4  # never longer than its timeout, whatever the broker does


@pytest.mark.django_db(transaction=True)
def test_a_send_that_fails_after_the_commit_is_logged_not_raised(workspace, dead_broker, caplog):
    with transaction.atomic():
        task = Task.objects.create(workspace=workspace)
        job_enqueue(task)
    assert "Could not queue tasks_app.jobs.process_task_job" in caplog.text and str(task.pk) in caplog.text
    assert Task.objects.get(pk=task.pk).status == "Starting"  # the resend sweep's to send


def test_new_work_is_refused_with_503_while_the_broker_is_down(dead_broker):
    from tasks_app.errors import ServiceUnavailable
    from tasks_app.services.queue import QUEUE_DOWN, queue_check

    with pytest.raises(ServiceUnavailable, match=QUEUE_DOWN) as refused:
        queue_check()
    assert refused.value.status == 503 and refused.value.extra["retry_after"] > 0


@pytest.mark.django_db(transaction=True)
def test_queued_task_ids_reads_the_waiting_jobs(workspace, queues):
    from tasks_app.services.queue import queued_task_ids

    with transaction.atomic():
        parse = Task.objects.create(workspace=workspace)
        job_enqueue(parse)
        job_send("tasks_app.jobs.deliver_webhook_job", "not-a-task")
    other = Task.objects.create(workspace=workspace)
    found = queued_task_ids({PREFIX + q for q in ("default", "parse", "extract", "split")})
    assert str(parse.pk) in found and str(other.pk) not in found
