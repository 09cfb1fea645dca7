"""GET /api/v1/tasks/{id}/review (extension) and reviewed values in every answer about the task."""

import pytest

from tasks_app.choices import TaskStatus
from tasks_app.services.extraction import task_process_derived
from tasks_app.services.processing import task_process
from tasks_app.services.review import review_decide
from tests.factories import extract_task, parse_task, pdf_bytes

pytestmark = pytest.mark.django_db

SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}}}


@pytest.fixture
def extraction(workspace):
    source = parse_task(workspace, pdf_bytes("Invoice number: INV-7\nTotal: 10.00"))
    task_process(task_id=str(source.pk))
    task = extract_task(workspace, source, SCHEMA)
    task_process_derived(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED, task.message
    return task


def _get(client, key, path):
    return client.get(f"/api/v1{path}", headers={"Authorization": key})


def test_a_correction_is_what_every_route_returns_and_review_shows_its_history(client, api_key, extraction, make_user):
    before = _get(client, api_key, f"/tasks/{extraction.pk}").json()  # cached answer, before the correction
    assert before["output"]["results"]["total"] == 10.0
    assert _get(client, api_key, f"/tasks/{extraction.pk}/review").json()["status"] == "unreviewed"

    review_decide(
        task=extraction,
        path="total",
        action="correct",
        text="12.5",
        actor=make_user("alice", workspace=extraction.workspace),
    )

    for path in (f"/tasks/{extraction.pk}", f"/tasks/{extraction.pk}/extract"):
        answer = _get(client, api_key, path)
        assert answer.status_code == 200, path
        assert answer.json()["output"]["results"]["total"] == 12.5, path
    job = _get(client, api_key, f"/job/{extraction.pk}").json()  # the async-jobs surface (legacy v1 is parse only)
    assert job["result"]["output"]["results"]["total"] == 12.5
    review = _get(client, api_key, f"/tasks/{extraction.pk}/review").json()
    assert (review["status"], review["fields_total"], review["fields_decided"]) == ("in_review", 2, 1)
    fields = {f["path"]: f for f in review["fields"]}
    assert fields["total"]["machine_value"] == 10.0 and fields["total"]["value"] == 12.5
    assert fields["total"]["state"] == "corrected" and fields["total"]["reviewer"] == "alice"
    assert [h["value"] for h in fields["total"]["history"]] == [12.5]
    assert fields["invoice_number"]["state"] is None and fields["invoice_number"]["history"] == []


def test_review_of_a_parse_task_or_another_workspace_s_task(client, api_key, extraction, other_workspace):
    answer = _get(client, api_key, f"/tasks/{extraction.source_task_id}/review")
    assert answer.status_code == 404
    from tasks_app.services.api_keys import api_key_create

    _, other_key = api_key_create(workspace=other_workspace, name="other")
    assert _get(client, other_key, f"/tasks/{extraction.pk}/review").status_code == 404


def test_the_review_route_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "get" in spec["paths"]["/api/v1/tasks/{task_id}/review"]


def test_export_route_returns_reviewed_rows_of_arrays_of_objects(client, api_key, workspace, make_user):
    import csv
    import io

    from tasks_app.services.intake import intake_extract
    from tasks_app.services.schemas import schema_save

    schema = {
        "type": "object",
        "properties": {
            "line_items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"description": {"type": "string"}, "amount": {"type": "number"}},
                },
            }
        },
    }
    alice = make_user("alice", workspace=workspace)
    saved, _ = schema_save(workspace=workspace, name="Lines", schema=schema, actor=alice)
    source = parse_task(workspace, table_pdf())
    task_process(task_id=str(source.pk))
    task = intake_extract(workspace=workspace, file=str(source.pk), schema=None, schema_ref=saved, actor=alice)
    task_process_derived(task_id=str(task.pk))
    task.refresh_from_db()
    rows = TaskOutput_rows(task)
    answer = client.get(
        "/api/v1/reviews/export", {"schema": "Lines", "format": "csv-items"}, headers={"Authorization": api_key}
    )
    assert answer.status_code == 200, answer.content
    lines = list(csv.reader(io.StringIO(answer.content.decode())))
    assert lines[0] == ["task_id", "array", "row", "description", "amount"]
    assert len(lines) - 1 == len(rows)
    if rows:
        review_decide(task=task, path="line_items[0].amount", action="correct", text="11", actor=alice)
        again = client.get(
            "/api/v1/reviews/export", {"schema": "Lines", "format": "csv-items"}, headers={"Authorization": api_key}
        )
        assert list(csv.reader(io.StringIO(again.content.decode())))[1][4] == "11"
    missing = client.get("/api/v1/reviews/export", {"schema": "Nope"}, headers={"Authorization": api_key})
    assert missing.status_code == 404 and missing.json()["message"]


def table_pdf() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    for y, (description, amount) in enumerate((("Description", "Amount"), ("Paper A4", "10.00"), ("Toner", "20.00"))):
        page.insert_text((72, 100 + 24 * y), description, fontsize=12)
        page.insert_text((300, 100 + 24 * y), amount, fontsize=12)
    return doc.tobytes()


def TaskOutput_rows(task):  # noqa: N802
    from tasks_app.models import TaskOutput

    return TaskOutput.objects.get(task=task).data["results"]["line_items"]
