"""Review and schema pages: who may do what, other workspaces' objects are 404, bad input is a clear 400."""

import json

import pytest

from tasks_app.choices import Role, TaskStatus
from tasks_app.models import ExtractionSchema, FieldDecision
from tasks_app.services.extraction import task_process_derived
from tasks_app.services.schemas import schema_save
from tests.factories import extract_task

pytestmark = pytest.mark.django_db

SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}}}


@pytest.fixture
def extraction(workspace, processed):
    source = processed("Invoice number: INV-9\nTotal: 12.00")
    task = extract_task(workspace, source, SCHEMA)
    task_process_derived(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED, task.message
    return task


def test_a_viewer_reads_the_extraction_but_cannot_decide_or_save_schemas(client, login, extraction, workspace):
    login("val", Role.VIEWER)
    page = client.get(f"/tasks/{extraction.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-field="invoice_number"' in body and 'data-review-state="unreviewed"' in body
    assert 'aria-label="Accept"' not in body  # no buttons for what they may not do
    answer = client.post(f"/tasks/{extraction.pk}/review/decide/", {"path": "total", "action": "accept"})
    assert answer.status_code == 403 and not FieldDecision.objects.exists()
    answer = client.post("/schemas/save/", {"name": "X", "schema_json": json.dumps(SCHEMA)})
    assert answer.status_code == 403 and not ExtractionSchema.objects.exists()


def test_a_member_decides_and_bad_input_is_a_clear_400(client, login, extraction):
    login("mia", Role.MEMBER)
    answer = client.post(f"/tasks/{extraction.pk}/review/decide/", {"path": "total", "action": "correct", "value": "x"})
    assert answer.status_code == 400 and "'x' is not a number" in answer.json()["error"]
    answer = client.post(
        f"/tasks/{extraction.pk}/review/decide/", {"path": "total", "action": "correct", "boxes": "1:a,b"}
    )
    assert answer.status_code == 400 and "page:left,top,width,height" in answer.json()["error"]
    answer = client.post(
        f"/tasks/{extraction.pk}/review/decide/", {"path": "total", "action": "correct", "value": "13"}
    )
    assert answer.status_code == 200
    data = answer.json()
    assert (data["state"], data["decided"], data["total"]) == ("corrected", 1, 2)
    assert 'data-review-state="corrected"' in data["html"]


def test_another_workspace_s_extraction_review_and_schema_are_404(
    client, make_user, other_workspace, extraction, workspace
):
    schema_save(workspace=workspace, name="Invoice", schema=SCHEMA, actor=None)
    client.force_login(make_user("oscar", workspace=other_workspace, role=Role.ADMIN))
    assert client.get(f"/tasks/{extraction.pk}/").status_code == 404
    assert (
        client.post(f"/tasks/{extraction.pk}/review/decide/", {"path": "total", "action": "accept"}).status_code == 404
    )
    assert client.get(f"/tasks/{extraction.pk}/review/pick/", {"boxes": "1:0,0,50,50"}).status_code == 404
    assert client.get("/schemas/Invoice/").status_code == 404
    assert client.get("/schemas/Invoice/diff/").status_code == 404
    assert "INV" not in client.get("/review/").content.decode()


def test_saving_an_invalid_schema_shows_the_json_path_and_keeps_the_text(client, login):
    login("mia", Role.MEMBER)
    text = '{"type": "object", "properties": {"total": {"type": "money"}}}'
    answer = client.post("/schemas/save/", {"name": "Invoice", "schema_json": text})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "$.properties.total" in body and "money" in body
    check = client.post("/schemas/check/", {"schema_json": "{not json"}).json()
    assert check["ok"] is False and "not valid JSON" in check["error"]


def _saved_extraction(workspace, processed, actor):
    from tasks_app.services.intake import intake_extract

    saved, _ = schema_save(workspace=workspace, name="Invoice", schema=SCHEMA_ITEMS, actor=actor)
    source = processed("Invoice number: INV-9", "Total: 12.00")
    task = intake_extract(workspace=workspace, file=str(source.pk), schema=None, schema_ref=saved, actor=actor)
    task_process_derived(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED, task.message
    return task


SCHEMA_ITEMS = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "total": {"type": "number"},
        "parties": {"type": "array", "items": {"type": "string"}},
    },
}


def test_stats_page_and_the_auto_accept_switch_is_for_admins(client, login, workspace, processed):
    from tasks_app.models import AuditEvent, AutoAcceptRule
    from tasks_app.services.review import review_decide

    mia = login("mia", Role.MEMBER)
    task = _saved_extraction(workspace, processed, mia)
    review_decide(task=task, path="total", action="correct", text="13", actor=mia)
    page = client.get("/schemas/Invoice/stats/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-stats-field="total"' in body and 'data-testid="reliability-chart"' in body
    assert client.post("/schemas/Invoice/auto-accept/", {"field_key": "total", "enabled": "1"}).status_code == 403
    login("ada", Role.ADMIN)
    assert client.post("/schemas/Invoice/auto-accept/", {"field_key": "total", "enabled": "1"}).status_code == 302
    assert AutoAcceptRule.objects.filter(field_key="total").exists()
    assert AuditEvent.objects.filter(verb="review.auto_accept_rule.enabled").exists()
    assert client.post("/schemas/Invoice/auto-accept/", {"field_key": "nope", "enabled": "1"}).status_code == 400


def test_exports_carry_the_reviewed_values(client, login, workspace, processed):
    import csv
    import io

    from tasks_app.models import AuditEvent
    from tasks_app.services.review import review_decide

    mia = login("mia", Role.MEMBER)
    task = _saved_extraction(workspace, processed, mia)
    review_decide(task=task, path="total", action="correct", text="13", actor=mia)
    review_decide(task=task, path="parties", action="correct", text="Acme Inc.; Beta LLC", actor=mia)
    documents = client.get("/schemas/Invoice/export/", {"format": "json", "version": "1"})
    assert documents["Content-Disposition"] == 'attachment; filename="Invoice-v1.json"'
    [document] = json.loads(documents.content)
    assert document["task_id"] == str(task.pk) and document["results"]["total"] == 13
    assert document["review_status"] == "in_review"
    rows = list(csv.reader(io.StringIO(client.get("/schemas/Invoice/export/", {"format": "csv"}).content.decode())))
    assert rows[0] == ["task_id", "file_name", "review_status", "invoice_number", "total", "parties"]
    assert rows[1][4:] == ["13", "Acme Inc.; Beta LLC"]
    assert client.get("/schemas/Invoice/export/", {"format": "xml"}).status_code == 400
    assert AuditEvent.objects.filter(verb="review.exported").count() == 2


def test_mangled_ids_boxes_and_oversized_values_are_clear_answers_not_errors(client, login, extraction, processed):
    login("mia", Role.MEMBER)
    decide = f"/tasks/{extraction.pk}/review/decide/"
    answer = client.post(decide, {"path": "total", "action": "correct", "boxes": "x:1,2,3,4"})
    assert answer.status_code == 400 and "page:left,top,width,height" in answer.json()["error"]
    answer = client.post(decide, {"path": "total", "action": "correct", "value": "9" * 10_001})
    assert answer.status_code == 400 and "at most 10,000 characters" in answer.json()["error"]
    assert client.post(f"/tasks/{extraction.source_task_id}/extract/", {"schema_id": "nope"}).status_code == 400
    bulk = client.post(
        "/tasks/bulk/", {"action": "extract", "task_ids": [str(extraction.source_task_id)], "schema_id": "junk"}
    )
    assert bulk.status_code == 302  # back to the list, which says "Choose a schema."
    assert client.get("/review/next/", {"after": "not-a-uuid"}).status_code == 302
