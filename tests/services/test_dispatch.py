"""services/dispatch.py on the real PostgreSQL and Redis: a workspace's jobs go to the broker only while it has
free slots, the rest wait in the database and go oldest first as its jobs end; each job goes to its kind's queue."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from tasks_app.choices import JobQueue, RangeStatus, TaskStatus
from tasks_app.models import Task, TaskRange
from tasks_app.services import redis_state
from tasks_app.services.dispatch import workspace_busy, workspace_dispatch
from tasks_app.services.intake import intake_parse
from tasks_app.services.lifecycle import task_ended
from tests.conftest import jobs_routed_to
from tests.engine.docs import scanned_chapters_pdf
from tests.factories import extract_task, parse_task, pdf_bytes, png_bytes, store_file

PREFIX = "dispatch-test-"
pytestmark = pytest.mark.django_db(transaction=True)  # jobs are sent when the transaction commits
NAMES = ("default", "parse", "ocr", "extract", "split", "webhooks", "maintenance")


@pytest.fixture
def broker(redis_url, settings):
    """This test's own queues (no worker reads them): what each holds, by job name and first argument."""
    settings.REDIS_URL = redis_url
    redis = redis_state.client()
    names = [PREFIX + q for q in NAMES]
    redis.delete(*names)

    def held() -> dict[str, list[tuple[str, str]]]:
        out = {}
        for name in NAMES:
            jobs = []
            for raw in redis.lrange(PREFIX + name, 0, -1):
                headers = json.loads(raw)["headers"]
                jobs.append((headers["task"].rsplit(".", 1)[1], headers["argsrepr"]))
            if jobs:
                out[name] = jobs
        return out

    with jobs_routed_to(PREFIX):
        yield held
    redis.delete(*names)


def test_a_workspace_gets_its_cap_and_the_rest_wait_oldest_first(workspace, other_workspace, settings, broker):
    settings.CHUNKR_WORKSPACE_MAX_JOBS = 2
    held = broker
    tasks = [parse_task(workspace, pdf_bytes(f"doc {n}")) for n in range(5)]
    other = parse_task(other_workspace, pdf_bytes("theirs"))

    sent = [t.pk for t in Task.objects.filter(queued_at__isnull=False).order_by("created_at")]
    assert sent == [tasks[0].pk, tasks[1].pk, other.pk]  # two of ours, and the other workspace's at once
    assert workspace_busy(workspace.pk) == 2

    Task.objects.filter(pk=tasks[0].pk).update(status=TaskStatus.SUCCEEDED, finished_at=timezone.now())
    task_ended(tasks[0].pk)  # its slot frees: the oldest waiting one goes
    assert Task.objects.get(pk=tasks[2].pk).queued_at is not None
    assert Task.objects.get(pk=tasks[3].pk).queued_at is None
    parse_jobs = [args for _, args in held()["parse"]]
    assert len(parse_jobs) == 4 and str(tasks[2].pk) in parse_jobs[0]  # kombu pushes at the head


def test_a_workspace_may_have_its_own_share(workspace, settings, broker):
    settings.CHUNKR_WORKSPACE_MAX_JOBS = 1
    workspace.max_jobs = 0  # an operator gave this one no cap
    workspace.save(update_fields=["max_jobs"])
    for n in range(3):
        parse_task(workspace, pdf_bytes(f"doc {n}"))
    assert workspace_busy(workspace.pk) == 3


def test_ranges_of_a_started_document_go_before_new_tasks(workspace, settings, broker):
    settings.CHUNKR_WORKSPACE_MAX_JOBS = 2
    held = broker
    long = parse_task(workspace, pdf_bytes("long"))
    Task.objects.filter(pk=long.pk).update(status=TaskStatus.PROCESSING, ranges_total=3)
    later = parse_task(workspace, pdf_bytes("later"))  # queued: the long one's own job no longer holds a slot
    TaskRange.objects.bulk_create(
        TaskRange(task=long, workspace=workspace, index=i, first_page=i, stop_page=i + 1, queue=JobQueue.OCR)
        for i in range(3)
    )
    newest = parse_task(workspace, pdf_bytes("newest"))  # one slot left, and ranges wait: a range goes first

    assert list(TaskRange.objects.order_by("index").values_list("status", flat=True)) == [
        RangeStatus.QUEUED,
        RangeStatus.WAITING,
        RangeStatus.WAITING,
    ]
    assert Task.objects.get(pk=later.pk).queued_at is not None
    assert Task.objects.get(pk=newest.pk).queued_at is None
    assert held()["ocr"] == [("ocr_range_job", f"['{long.pk}', '0']")]  # a scanned document's ranges: OCR queue


def test_an_extract_waits_for_its_source_without_taking_a_slot(workspace, settings, broker):
    settings.CHUNKR_WORKSPACE_MAX_JOBS = 1
    source = parse_task(workspace, pdf_bytes("source"))
    extract = extract_task(workspace, source)
    assert Task.objects.get(pk=extract.pk).queued_at is None and workspace_busy(workspace.pk) == 1

    Task.objects.filter(pk=source.pk).update(status=TaskStatus.SUCCEEDED, finished_at=timezone.now())
    task_ended(source.pk)
    assert Task.objects.get(pk=extract.pk).queued_at is not None


def test_scans_and_images_go_to_the_ocr_queue(workspace, settings, broker, tmp_path):
    settings.CHUNKR_WORKSPACE_MAX_JOBS = 0
    held = broker

    def submit(data: bytes, name: str) -> str:
        task = intake_parse(workspace=workspace, file=store_file(workspace, data, name), configuration=None, actor=None)
        return Task.objects.get(pk=task.pk).queue

    scan = scanned_chapters_pdf(tmp_path / "scan.pdf", pages=1).read_bytes()
    assert submit(pdf_bytes("born digital"), "text.pdf") == "parse"
    assert submit(png_bytes(), "photo.png") == "ocr"
    assert submit(scan, "scan.pdf") == "ocr"
    jobs = held()
    assert [name for name, _ in jobs["parse"]] == ["process_task_job"]
    assert [name for name, _ in jobs["ocr"]] == ["process_scanned_task_job"] * 2


def test_dispatch_of_a_full_workspace_sends_nothing(workspace, settings, broker):
    settings.CHUNKR_WORKSPACE_MAX_JOBS = 1
    parse_task(workspace, pdf_bytes("one"))
    parse_task(workspace, pdf_bytes("two"))
    assert workspace_dispatch(workspace.pk) == 0
