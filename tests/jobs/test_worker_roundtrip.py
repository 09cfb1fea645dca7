from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.jobs import purge_expired_job
from tasks_app.models import Task, TaskOutput
from tests.conftest import wait_for


@pytest.mark.django_db(transaction=True)  # the worker thread only sees committed rows
def test_worker_purges_expired_task_through_redis(live_worker, workspace):
    now = timezone.now()
    expired = Task.objects.create(
        workspace=workspace,
        file_name="old.pdf",
        created_at=now - timedelta(hours=2),
        expires_at=now - timedelta(hours=1),
    )
    TaskOutput.objects.create(task=expired, data={"chunks": []})
    kept = Task.objects.create(workspace=workspace, file_name="new.pdf", expires_at=now + timedelta(hours=1))

    purge_expired_job.delay()

    wait_for(lambda: not Task.objects.filter(pk=expired.pk).exists(), timeout=30, what="the worker to purge the row")
    assert not TaskOutput.objects.filter(task_id=expired.pk).exists()
    assert Task.objects.filter(pk=kept.pk).exists()


def test_worker_consumes_from_the_test_redis(live_worker, redis_url):
    from urllib.parse import urlparse

    from chunkr_web.celery import app

    wanted = urlparse(redis_url)
    with app.connection_for_write() as conn:
        assert (conn.hostname, conn.port) == (wanted.hostname, wanted.port)
    replies = app.control.ping(timeout=5)
    assert any(live_worker.hostname in reply for reply in replies)


def test_pings_follow_the_broker_once_the_control_mailbox_has_replied(redis_url):
    """A worker pair on a Redis database of its own must hear this process's pings, even after the in-process test
    worker has replied through the control mailbox (which keeps the producer pool it replied through): the order
    that once left `two_workers` waiting 90 s for an answer sent to the session's database."""
    from urllib.parse import urlparse, urlunparse

    from chunkr_web.celery import app
    from tests.conftest import _forget_broker_connections

    assert app.control.mailbox.producer_pool is not None  # what a reply through the mailbox leaves behind
    parts = urlparse(redis_url)
    other_db = (int(parts.path.strip("/") or 0) + 5) % 16
    saved = app.conf.broker_url
    app.conf.broker_url = urlunparse(parts._replace(path=f"/{other_db}"))
    _forget_broker_connections()
    try:
        with app.connection_for_write() as conn, app.control.mailbox(conn).producer_or_acquire() as producer:
            assert producer.connection.virtual_host == str(other_db)
    finally:
        app.conf.broker_url = saved
        _forget_broker_connections()
