"""Long documents as page ranges across two worker processes, as users run them (prefork, the supervisor's command
line): both workers take ranges, the merged output equals the single pass, cancel stops every range, a range whose
worker is killed is processed again and merged once, and one workspace's backlog never holds up another's page.

The two workers consume a Redis database of their own (their jobs and the jobs they send never reach the session's
worker), with small ranges so that a few generated pages make several."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse

import pytest
import redis
from django.db import transaction

from chunkr_web.celery import app as celery_app
from tasks_app import engine
from tasks_app.choices import RangeStatus, TaskStatus
from tasks_app.models import Task, TaskOutput, TaskRange
from tasks_app.services.dispatch import workspace_busy
from tasks_app.services.processing import parse_options
from tasks_app.services.queue import MERGE_JOB, job_send
from tasks_app.services.storage import open_asset, storage_delete_below
from tasks_app.services.tasks import tasks_cancel
from tests.conftest import WORKER_TEST_ENV, _forget_broker_connections, start_worker_process, wait_for
from tests.engine.docs import scanned_chapters_pdf, structured_pdf
from tests.engine.test_ranges import without_ids
from tests.factories import parse_task

RANGE_ENV = {
    "CHUNKR_RANGE_MIN_PAGES": "6",
    "CHUNKR_RANGE_PAGES": "3",
    "CHUNKR_OCR_RANGE_MIN_PAGES": "6",
    "CHUNKR_OCR_RANGE_PAGES": "3",
    "CELERY_CONCURRENCY": "1",
    "CHUNKR_PARSE_WORKERS": "1",  # one process per worker: what runs where is what the test sees
    "CHUNKR_WORKSPACE_MAX_JOBS": "0",
}
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _other_db(url: str, shift: int) -> str:
    parts = urlparse(url)
    db = int(parts.path.strip("/") or 0)
    return urlunparse(parts._replace(path=f"/{(db + shift) % 16}"))


@contextmanager
def two_workers(django_db_blocker, homes, env, name: str, shift: int):
    """Two prefork workers (one pool process each), each with its own working directory in `homes`, on a Redis
    database of their own (`shift` from the session's: each pair has its own); this process sends its jobs there
    while inside."""
    from django.conf import settings

    from chunkr_web.supervisor import worker_command

    broker = _other_db(settings.REDIS_URL, shift)
    redis.Redis.from_url(broker).flushdb()
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = broker
    _forget_broker_connections()
    workers = []
    try:
        with django_db_blocker.unblock():
            for n, home in enumerate(homes, start=1):
                hostname = f"{name}{n}-{os.getpid()}@{socket.gethostname()}"
                workers.append(
                    start_worker_process(
                        worker_command(hostname=hostname),
                        hostname=hostname,
                        log_path=home / "worker.log",
                        env={**WORKER_TEST_ENV, **RANGE_ENV, **env(home), "REDIS_URL": broker},
                        cwd=home,
                    )
                )
        yield workers
    finally:
        for worker in workers:
            worker.stop()
        celery_app.conf.broker_url = saved
        _forget_broker_connections()


@pytest.fixture(scope="module")
def range_workers(_point_at_test_redis, django_db_setup, django_db_blocker, tmp_path_factory):
    homes = [tmp_path_factory.mktemp(f"range-worker-{n}") for n in (1, 2)]
    with two_workers(django_db_blocker, homes, lambda home: {}, "ranges", 8) as workers:
        yield workers


@pytest.fixture
def ranges_settings(settings, range_workers):
    for name, value in RANGE_ENV.items():
        setattr(settings, name, int(value))
    return range_workers


def long_pdf(tmp_path, pages: int) -> bytes:
    return structured_pdf(tmp_path / f"long-{pages}.pdf", pages=pages).read_bytes()


def submit(workspace, data: bytes, name: str = "long.pdf") -> Task:
    with transaction.atomic():
        return parse_task(workspace, data, name=name)


def finished(task: Task, timeout: float = 120) -> Task:
    wait_for(
        lambda: Task.objects.get(pk=task.pk).status not in (TaskStatus.STARTING, TaskStatus.PROCESSING),
        timeout=timeout,
        interval=0.2,
        what=f"task {task.pk} to finish",
    )
    return Task.objects.get(pk=task.pk)


_CROP = re.compile(r"crops/[0-9a-f-]+\.png")


def comparable(output: dict, task_id) -> dict:
    text = json.dumps(output).replace(f"tasks/{task_id}/", "")
    return without_ids(json.loads(_CROP.sub("crops/<id>.png", text)))


def test_a_long_document_goes_out_in_ranges_to_both_workers_and_merges_like_one_job(
    ranges_settings, workspace, tmp_path
):
    data = long_pdf(tmp_path, 12)
    task = finished(submit(workspace, data))

    assert task.status == TaskStatus.SUCCEEDED, task.message
    assert task.ranges_total == 4 and task.page_count == 12 and task.pages_done == 12
    ranges = list(TaskRange.objects.filter(task=task).order_by("index"))
    assert [(r.first_page, r.stop_page, r.status) for r in ranges] == [
        (0, 3, "Done"),
        (3, 6, "Done"),
        (6, 9, "Done"),
        (9, 12, "Done"),
    ]
    assert {r.worker for r in ranges} == {w.hostname for w in ranges_settings}  # both took ranges
    assert all(r.part is None for r in ranges)  # joined into the output, not kept twice
    # The worker of the last range to finish merged at once, in that range's job (no merge message went out).
    last = max(ranges, key=lambda r: r.finished_at)
    assert task.merged_by == last.job_id != ""

    output = TaskOutput.objects.get(task=task)
    path = tmp_path / "single.pdf"
    path.write_bytes(data)
    options = parse_options(task)
    single = engine.parse_document(path, options, engine.MemorySink()).to_dict(url_for=lambda key: key)
    assert comparable(output.data, task.pk) == comparable(single, task.pk)
    for key in output.asset_keys:  # every asset the output names was stored by whichever worker, or is made
        with open_asset(key) as fh:  # on first request (a lazy page image, from the stored document.pdf)
            assert fh.read(4) in (b"%PDF", b"\x89PNG"), key


def test_cancel_stops_every_range(ranges_settings, workspace, tmp_path):
    task = submit(workspace, long_pdf(tmp_path, 60))
    wait_for(
        lambda: Task.objects.get(pk=task.pk).pages_done >= 3, timeout=90, interval=0.2, what="ranges to make progress"
    )
    outcome = tasks_cancel(tasks=[Task.objects.get(pk=task.pk)], actor=None)[0]

    assert outcome.cancelled, outcome.error
    wait_for(
        lambda: not TaskRange.objects.filter(task=task, status=RangeStatus.RUNNING).exists(),
        timeout=30,
        what="every range to stop",
    )
    statuses = set(TaskRange.objects.filter(task=task).values_list("status", flat=True))
    assert statuses <= {RangeStatus.DONE, RangeStatus.STOPPED} and RangeStatus.STOPPED in statuses
    done = Task.objects.get(pk=task.pk).pages_done
    time.sleep(2)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CANCELLED
    assert Task.objects.get(pk=task.pk).pages_done == done  # nothing runs on
    assert not TaskOutput.objects.filter(task=task).exists()
    assert storage_delete_below(f"tasks/{task.pk}") == 0  # what the ranges had stored went with the cancel
    for worker in ranges_settings:
        assert worker.answers()  # stopped at a page boundary, not by killing the workers


def test_a_range_whose_worker_is_killed_runs_again_and_is_merged_once(ranges_settings, workspace, tmp_path):
    task = submit(workspace, scanned_chapters_pdf(tmp_path / "scan.pdf", pages=12).read_bytes())  # OCR: slow pages

    def running_range():
        """A range job that has just started (its row Running under its id, no page done): killing it now hits it
        mid-range, not after its last page."""
        for worker in ranges_settings:
            for job in worker.active():
                just_started = TaskRange.objects.filter(
                    task=task, job_id=job["id"], status=RangeStatus.RUNNING, pages_done=0
                ).exists()
                if job.get("name", "").endswith("_range_job") and just_started:
                    return job
        return None

    job = wait_for(running_range, timeout=90, interval=0.1, what="a range job to run")
    os.kill(job["worker_pid"], signal.SIGKILL)  # the pool process dies mid-range; Celery starts another
    task = finished(task, timeout=180)

    assert task.status == TaskStatus.SUCCEEDED, task.message
    ranges = list(TaskRange.objects.filter(task=task).order_by("index"))
    killed = [r for r in ranges if r.job_id == job["id"]]
    assert killed and killed[0].attempts == 2  # delivered again (acks_late) and taken over by its own job id
    output = TaskOutput.objects.get(task=task)
    pages = [p["page_number"] for p in output.data["pages"]]
    assert pages == list(range(1, 13))  # every page once: nothing merged twice
    segments = [s["page_number"] for c in output.data["chunks"] for s in c["segments"]]
    assert segments == sorted(segments) and set(segments) == set(range(1, 13))

    revision, merged_by = task.output_revision, task.merged_by
    with transaction.atomic():
        job_send(MERGE_JOB, str(task.pk))  # a late second merge message
    time.sleep(2)
    again = Task.objects.get(pk=task.pk)
    assert (again.output_revision, again.merged_by, again.finished_at) == (revision, merged_by, task.finished_at)


def test_one_workspace_backlog_does_not_hold_up_another_workspace_page(
    ranges_settings, workspace, other_workspace, tmp_path
):
    workspace.max_jobs = 1  # two worker slots: this workspace may hold one, the other stays free
    workspace.save(update_fields=["max_jobs"])
    backlog = [submit(workspace, long_pdf(tmp_path, 4), name=f"batch-{n}.pdf") for n in range(6)]
    assert workspace_busy(workspace.pk) == 1  # the rest wait in the database, not in the broker
    time.sleep(0.5)
    single = submit(other_workspace, long_pdf(tmp_path, 1), name="one-page.pdf")

    single = finished(single, timeout=60)
    assert single.status == TaskStatus.SUCCEEDED
    left = Task.objects.filter(pk__in=[t.pk for t in backlog]).exclude(status=TaskStatus.SUCCEEDED).count()
    assert left >= 3  # the page did not wait for the batch
    for task in backlog:
        assert finished(task, timeout=120).status == TaskStatus.SUCCEEDED  # and the batch still completes


@pytest.fixture
def s3_range_workers(s3_server, s3_bucket, tmp_path, django_db_blocker, settings):
    """Two workers as on two machines: each its own working directory and a media directory that must stay absent,
    sharing only the database, Redis (a database of their own) and the S3 server."""
    for name, value in RANGE_ENV.items():
        setattr(settings, name, int(value))
    settings.MEDIA_ROOT = tmp_path / "web-media"  # nor does the web side need one
    homes = [tmp_path / f"machine-{n}" for n in (1, 2)]
    for home in homes:
        home.mkdir()

    def env(home):
        return {**s3_server.env(s3_bucket), "MEDIA_ROOT": str(home / "media"), "CHUNKR_VAR_DIR": str(home / "var")}

    with two_workers(django_db_blocker, homes, env, "s3ranges", 9) as workers:
        yield workers
    for home in homes:
        assert not (home / "media").exists(), f"a worker wrote to its local media directory {home / 'media'}"


def test_two_workers_without_a_shared_disk_split_one_document_through_s3(
    s3_range_workers, s3_server, s3_bucket, workspace, tmp_path
):
    task = finished(submit(workspace, long_pdf(tmp_path, 12)))

    assert task.status == TaskStatus.SUCCEEDED, task.message
    ranges = list(TaskRange.objects.filter(task=task))
    assert len(ranges) == 4 and {r.worker for r in ranges} == {w.hostname for w in s3_range_workers}
    keys = set(s3_server.keys(s3_bucket))
    assert f"tasks/{task.pk}/document.pdf" in keys
    output = TaskOutput.objects.get(task=task)
    assert [p["page_number"] for p in output.data["pages"]] == list(range(1, 13))
    assert set(output.asset_keys) - keys <= {p["image"] for p in output.data["pages"]}  # all but lazy page images
    last_page = output.data["pages"][-1]["image"]  # made from the stored document on first request, into the store
    with open_asset(last_page) as fh:
        assert fh.read(4) == b"\x89PNG"
    assert last_page in set(s3_server.keys(s3_bucket))
