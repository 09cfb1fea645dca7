"""services/extraction.py: Extract/Split rows that wait for their source, and the job that runs them (here in this
process; through the prefork worker in tests/api/test_extract_api.py)."""

import pytest

from tasks_app.choices import TaskStatus
from tasks_app.models import TaskOutput
from tasks_app.services.extraction import WAITING_FOR_PARSE, task_process_derived
from tasks_app.services.processing import task_process
from tasks_app.services.queue import TASK_QUEUED
from tests.factories import extract_task, parse_task, pdf_bytes

pytestmark = pytest.mark.django_db

SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": "string"}}}


def _extract(workspace, source):
    return extract_task(workspace, source, SCHEMA)


def test_an_extract_waits_for_its_parse_then_runs_with_its_job_recorded(workspace):
    source = parse_task(workspace, pdf_bytes("Invoice number: INV-2041"))
    extract = _extract(workspace, source)
    assert (extract.status, extract.message, extract.input_file_id) == (
        TaskStatus.STARTING,
        WAITING_FOR_PARSE,
        source.input_file_id,
    )
    task_process_derived(task_id=str(extract.pk), job_id="job-1")  # the source is still running: nothing yet
    extract.refresh_from_db()
    assert extract.status == TaskStatus.STARTING

    task_process(task_id=str(source.pk))
    task_process_derived(task_id=str(extract.pk), job_id="job-2")

    extract.refresh_from_db()
    assert (extract.status, extract.job_id, extract.attempts) == (TaskStatus.SUCCEEDED, "job-2", 1), extract.message
    output = TaskOutput.objects.get(task=extract).data
    assert output["results"]["invoice_number"] == "INV-2041" and output["citations"]["invoice_number"]
    task_process_derived(task_id=str(extract.pk), job_id="job-3")  # redelivered: nothing twice
    extract.refresh_from_db()
    assert (extract.job_id, extract.attempts) == ("job-2", 1)


def test_an_extract_over_a_finished_parse_is_queued_at_once(workspace):
    source = parse_task(workspace, pdf_bytes("x"))
    task_process(task_id=str(source.pk))
    source.refresh_from_db()
    assert _extract(workspace, source).message == TASK_QUEUED


def test_an_extract_whose_parse_failed_fails_saying_why(workspace):
    source = parse_task(workspace, b"\x00 not a document \xff" * 40, name="junk.pdf")
    extract = _extract(workspace, source)
    task_process(task_id=str(source.pk))
    task_process_derived(task_id=str(extract.pk))
    extract.refresh_from_db()
    assert extract.status == TaskStatus.FAILED and extract.message.startswith("The Parse task ended Failed:")
