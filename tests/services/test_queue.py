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
    names = [PREFIX + q for q in ("default", "parse", "extract", "split")]
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
        assert queues() == {"default": 0, "parse": 0, "extract": 0, "split": 0}  # nothing before the commit
    assert queues() == {"default": 1, "parse": 1, "extract": 1, "split": 1}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(workspace, queues):
    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue(Task.objects.create(workspace=workspace))
        raise RuntimeError
    assert sum(queues().values()) == 0


def test_a_stop_order_without_a_job_or_a_broker_is_reported_not_raised(redis_url):
    import time

    from chunkr_web.celery import app

    assert job_stop("") is False
    assert job_stop("00000000-0000-0000-0000-000000000000") is True  # the order went out on the real Redis
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
    app._pool = None  # noqa: SLF001 - a producer pool for the dead broker
    try:
        started = time.monotonic()
        assert job_stop("00000000-0000-0000-0000-000000000000", timeout=3) is False
        assert time.monotonic() - started < 4  # never longer than its timeout, whatever the broker does
    finally:
        app.conf.broker_url = saved
        app._pool = None  # noqa: SLF001
