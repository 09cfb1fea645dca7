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
