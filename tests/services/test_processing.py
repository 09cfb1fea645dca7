"""services/processing.py: the parse job's work, here in this process (through the prefork worker in
tests/jobs/). One claim per task, the claiming job recorded, a readable message for every way it can fail."""

import pytest

from tasks_app import engine
from tasks_app.choices import TaskStatus
from tasks_app.models import StoredFile, Task, TaskOutput
from tasks_app.services import processing
from tasks_app.services.processing import INPUT_MISSING, task_process
from tests.factories import parse_task, pdf_bytes

pytestmark = pytest.mark.django_db


def test_a_parse_stores_its_output_and_records_the_job_that_claimed_it(workspace):
    task = parse_task(workspace, pdf_bytes("Quarterly report"), configuration={"segmentation_strategy": "Page"})
    task_process(task_id=str(task.pk), job_id="job-7")
    task.refresh_from_db()
    assert (task.status, task.job_id, task.attempts, task.page_count, task.pages_done) == (
        TaskStatus.SUCCEEDED,
        "job-7",
        1,
        1,
        1,
    )
    output = TaskOutput.objects.get(task=task)
    assert "Quarterly report" in output.data["chunks"][0]["segments"][0]["text"]
    task_process(task_id=str(task.pk), job_id="job-8")  # a second delivery claims nothing
    task.refresh_from_db()
    assert (task.job_id, task.attempts) == ("job-7", 1)


def test_a_task_whose_input_is_gone_fails_with_a_message(workspace):
    task = parse_task(workspace, pdf_bytes())
    StoredFile.objects.filter(pk=task.input_file_id).update(storage_key="")
    task_process(task_id=str(task.pk))
    task.refresh_from_db()
    assert (task.status, task.message) == (TaskStatus.FAILED, INPUT_MISSING)


def test_an_error_of_ours_fails_the_task_with_a_reference_not_a_traceback(workspace, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(processing.engine, "parse_document", broken)
    task = parse_task(workspace, pdf_bytes())
    task_process(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED
    assert task.message.startswith("Internal error while processing the task (ref ") and "KeyError" not in task.message
    ref = task.message.split("(ref ")[1].split(")")[0]
    assert ref in caplog.text and "KeyError" in caplog.text  # the administrators find the traceback by it


def test_a_cancel_seen_between_pages_keeps_nothing(workspace, monkeypatch):
    task = parse_task(workspace, pdf_bytes("one", "two", "three"))
    real = engine.parse_document

    def cancelled_on_the_way(path, options, sink, progress=None, should_cancel=None):
        Task.objects.filter(pk=task.pk).update(cancel_requested=True)
        monkeypatch.setattr(processing, "DB_POLL_SECONDS", 0)
        return real(path, options, sink, progress=progress, should_cancel=should_cancel)

    monkeypatch.setattr(processing.engine, "parse_document", cancelled_on_the_way)
    task_process(task_id=str(task.pk))
    task.refresh_from_db()
    assert (task.status, task.message) == (TaskStatus.CANCELLED, "Task cancelled")
    assert not TaskOutput.objects.filter(task=task).exists()


def test_a_page_with_no_text_is_named_in_the_task_message(workspace):
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Quarterly report", fontsize=12)
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 16, 16), False)
    pix.set_rect(pix.irect, (250, 210, 40))
    picture = doc.new_page(width=4, height=4)
    picture.insert_image(picture.rect, pixmap=pix)
    task = parse_task(workspace, doc.tobytes(), configuration={"ocr_strategy": "Auto", "error_handling": "Continue"})

    task_process(task_id=str(task.pk))

    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    assert task.message == "Task succeeded. No text was found on page 2: images without readable text, or blank."
    segments = [s for c in TaskOutput.objects.get(task=task).data["chunks"] for s in c["segments"]]
    assert [s["segment_type"] for s in segments if s["page_number"] == 2] == ["Picture"]
