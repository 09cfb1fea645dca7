import time

import pytest
from django.db import transaction

from tasks_app.choices import TaskStatus
from tasks_app.errors import ApplicationError
from tasks_app.models import Task, TaskOutput
from tasks_app.services.tasks import TASK_STOPPED, task_cancel
from tests.conftest import wait_for
from tests.factories import parse_task, pdf_bytes

pytestmark = pytest.mark.django_db(transaction=True)  # the worker thread only sees committed rows


def terminal(task_id) -> Task:
    return wait_for(
        lambda: Task.objects.filter(pk=task_id, status__in=["Succeeded", "Failed", "Cancelled"]).first(),
        timeout=120,
        what="the task to finish",
    )


def test_parse_job_goes_through_the_worker_and_stores_segments(live_worker, workspace):
    task = parse_task(
        workspace, pdf_bytes("Quarterly report", "Second page text"), configuration={"ocr_strategy": "Auto"}
    )
    assert task.status == TaskStatus.STARTING

    done = terminal(task.pk)

    assert done.status == TaskStatus.SUCCEEDED, done.message
    assert done.started_at and done.finished_at and done.started_at <= done.finished_at
    assert (done.page_count, done.pages_done, done.attempts) == (2, 2, 1)
    output = TaskOutput.objects.get(task=done).data
    segments = [s for chunk in output["chunks"] for s in chunk["segments"]]
    assert {s["page_number"] for s in segments} == {1, 2}
    text = " ".join(s["text"] for s in segments)
    assert "Quarterly report" in text and "Second page text" in text
    assert len(output["pages"]) == 2


def test_garbage_input_fails_with_a_readable_message(live_worker, workspace):
    task = parse_task(workspace, b"\x00\x01 this is not a document \xff" * 50, name="report.pdf")
    done = terminal(task.pk)
    assert done.status == TaskStatus.FAILED
    assert "Traceback" not in done.message and len(done.message) > 10
    assert not TaskOutput.objects.filter(task=done).exists()


def test_cancel_while_starting_is_immediate_and_the_worker_leaves_it_alone(live_worker, workspace):
    from django.db import transaction

    with transaction.atomic():  # the job is only sent on commit, so the cancel lands first
        task = parse_task(workspace, pdf_bytes("to be cancelled"))
        cancelled = task_cancel(task=task, actor=None)
    assert cancelled.status == TaskStatus.CANCELLED and cancelled.completed
    time.sleep(2)  # give the worker the message it must ignore
    again = Task.objects.get(pk=task.pk)
    assert (again.status, again.attempts, again.started_at) == (TaskStatus.CANCELLED, 0, None)


def test_cancel_while_processing_stops_at_a_page_boundary_and_keeps_nothing(live_worker, workspace):
    from django.core.files.storage import default_storage

    long_pdf = pdf_bytes(*[f"Page {n} of a long report. " * 20 for n in range(150)])
    task = parse_task(workspace, long_pdf, configuration={"ocr_strategy": "Auto"})
    wait_for(
        lambda: Task.objects.filter(pk=task.pk, status="Processing", pages_done__gte=1).exists(),
        timeout=60,
        what="processing to start",
    )
    task_cancel(task=Task.objects.get(pk=task.pk), actor=None)
    done = terminal(task.pk)
    assert done.status == TaskStatus.CANCELLED
    assert done.pages_done < 150
    assert not TaskOutput.objects.filter(task=done).exists()
    assert (
        not default_storage.exists(f"tasks/{task.pk}/pages") or not default_storage.listdir(f"tasks/{task.pk}/pages")[1]
    )


def test_a_redelivered_message_does_nothing_twice(live_worker, workspace):
    from tasks_app.jobs import process_task_job

    task = parse_task(workspace, pdf_bytes("once"), configuration={"ocr_strategy": "Auto"})
    done = terminal(task.pk)
    assert done.status == TaskStatus.SUCCEEDED
    process_task_job.apply(args=[str(task.pk)])  # the same message again, as a Redis redelivery would bring it
    again = Task.objects.get(pk=task.pk)
    assert (again.attempts, again.finished_at) == (1, done.finished_at)


def test_cancel_with_a_stale_status_follows_the_worker_to_processing(workspace, settings):
    """The caller read Starting; the worker claimed the task before the cancel's UPDATE: still cancellable. No worker
    runs the job here, so none stops at a page boundary: after the grace period the cancel ends the task itself."""
    settings.CHUNKR_CANCEL_GRACE_SECONDS = 1
    with transaction.atomic():  # whichever worker takes the job finds it claimed below and leaves it
        task = parse_task(workspace, pdf_bytes("racing"))
    stale = Task.objects.get(pk=task.pk)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.PROCESSING)  # what the worker's claim does

    cancelled = task_cancel(task=stale, actor=None)

    assert (cancelled.status, cancelled.cancel_requested) == (TaskStatus.CANCELLED, True)
    assert cancelled.message == TASK_STOPPED and cancelled.finished_at


def test_cancel_of_a_task_that_finished_meanwhile_is_refused_with_its_status(workspace):
    task = parse_task(workspace, pdf_bytes("racing"))
    stale = Task.objects.get(pk=task.pk)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.SUCCEEDED)

    with pytest.raises(ApplicationError, match="status is Succeeded"):
        task_cancel(task=stale, actor=None)


@pytest.fixture
def llm_endpoint(settings):
    """A local OpenAI-compatible server, configured the way an operator would (CHUNKR_LLM_* settings)."""
    from tests.engine.llm_server import FakeLlm

    fake = FakeLlm()
    settings.CHUNKR_LLM_BASE_URL = fake.url
    settings.CHUNKR_LLM_MODEL = "vision-test"
    settings.CHUNKR_LLM_TIMEOUT = 1
    yield fake
    fake.close()


LLM_PAGES = {
    "ocr_strategy": "Auto",
    "segmentation_strategy": "Page",
    "segment_processing": {"Page": {"strategy": "LLM"}},
}


def test_llm_segments_use_the_configured_endpoint_and_its_timeout(inproc_worker, workspace, llm_endpoint):
    from tests.engine.llm_server import completion

    llm_endpoint.steps = [lambda body: (200, completion("# Written by the model"), 0)]
    done = terminal(parse_task(workspace, pdf_bytes("Quarterly report"), configuration=LLM_PAGES).pk)
    assert done.status == TaskStatus.SUCCEEDED, done.message
    (segment,) = [s for c in TaskOutput.objects.get(task=done).data["chunks"] for s in c["segments"]]
    assert segment["content"] == "# Written by the model" and segment["text"] == "Quarterly report"
    assert llm_endpoint.requests[0]["model"] == "vision-test"

    # CHUNKR_LLM_TIMEOUT = 1 s against a server that takes 3 s: Continue keeps Auto and says so; Fail fails.
    llm_endpoint.steps = [lambda body: (200, completion("too late"), 3)]
    keep_going = {**LLM_PAGES, "error_handling": "Continue"}
    done = terminal(parse_task(workspace, pdf_bytes("Quarterly report"), configuration=keep_going).pk)
    assert done.status == TaskStatus.SUCCEEDED and "did not answer within 1 s" in done.message
    llm_endpoint.steps = [lambda body: (500, {"error": "down"}, 0)]
    done = terminal(parse_task(workspace, pdf_bytes("Quarterly report"), configuration=LLM_PAGES).pk)
    assert done.status == TaskStatus.FAILED
    assert done.message.startswith("The LLM could not produce content for a Page segment on page 1")
