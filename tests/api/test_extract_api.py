"""POST /tasks/extract and /tasks/split through the API and a real worker (contract §3.2, §11, §13.5)."""

from __future__ import annotations

import base64

import pytest

from tests.api.test_tasks_api import api  # noqa: F401 - the shared API client fixture
from tests.engine.extract.docs import invoice_inline
from tests.engine.extract.test_split import _packet
from tests.factories import pdf_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture
def invoice(tmp_path):
    return invoice_inline(tmp_path / "invoice.pdf")


def test_extract_from_a_document_parses_first_then_fills_the_schema(api, live_worker, invoice):  # noqa: F811
    path, schema, truth = invoice
    created = api.post("/tasks/extract", {"file": b64(path), "file_name": "invoice.pdf", "schema": schema})
    assert created.status_code == 200, created.content
    body = created.json()
    assert (body["task_type"], body["status"], body["output"]) == ("Extract", "Starting", None)
    assert body["parse_task_id"]
    assert body["configuration"]["schema"] == schema
    assert body["configuration"]["system_prompt"].startswith("You are an expert at structured data extraction")
    assert body["configuration"]["parse_configuration"]["segmentation_strategy"] == "LayoutAnalysis"

    done = api.wait(body["task_id"])
    assert done["status"] == "Succeeded", done["message"]
    results = done["output"]["results"]
    for field in ("invoice_number", "invoice_date", "total", "po_number", "currency"):
        assert results[field] == truth[field], field
    assert len(results["line_items"]) == len(truth["line_items"])
    assert done["output"]["citations"]["invoice_number"][0]["content"] == "INV-2024-0042"
    assert done["output"]["metrics"]["total"]["confidence"] in ("High", "Low")
    assert done["file_info"]["name"] == "invoice.pdf" and done["file_info"]["page_count"] == 1

    # The implicit parse task is an ordinary Parse task in the list, and typed GETs keep to their type.
    parse = api.get(f"/tasks/{body['parse_task_id']}/parse").json()
    assert parse["task_type"] == "Parse" and parse["status"] == "Succeeded"
    assert api.get(f"/tasks/{body['task_id']}/parse").status_code == 404
    assert api.get(f"/tasks/{body['task_id']}/extract").json()["output"]["results"] == results
    listed = api.get("/tasks", task_types="Parse,Extract").json()["tasks"]
    assert {t["task_type"] for t in listed} == {"Parse", "Extract"}


def test_extract_over_an_existing_parse_task_reuses_its_output(api, live_worker, invoice):  # noqa: F811
    path, schema, truth = invoice
    parse = api.post("/tasks/parse", {"file": b64(path)}).json()
    api.wait(parse["task_id"])
    before = len(api.get("/tasks").json()["tasks"])

    created = api.post("/tasks/extract", {"file": parse["task_id"], "schema": schema, "system_prompt": "Be exact."})
    assert created.status_code == 200, created.content
    done = api.wait(created.json()["task_id"])
    assert done["status"] == "Succeeded", done["message"]
    assert done["parse_task_id"] == parse["task_id"]
    assert done["configuration"]["parse_configuration"] is None
    assert done["configuration"]["system_prompt"] == "Be exact."
    assert done["output"]["results"]["invoice_number"] == truth["invoice_number"]
    assert len(api.get("/tasks").json()["tasks"]) == before + 1  # no second parse


def test_extract_request_errors_are_400_or_404_with_a_message(api, live_worker, invoice, other_workspace):  # noqa: F811
    path, schema, _ = invoice
    parse = api.post("/tasks/parse", {"file": b64(path)}).json()
    api.wait(parse["task_id"])
    cases = [
        ({"file": parse["task_id"], "schema": "not an object"}, 400, "schema: must be a JSON object"),
        ({"file": parse["task_id"], "schema": {"type": "object", "properties": {"a": {"type": "tuple"}}}}, 400,
         "$.properties.a"),
        ({"file": parse["task_id"], "schema": schema, "file_name": "x.pdf"}, 400, "not allowed when file is a task"),
        ({"file": parse["task_id"], "schema": schema, "parse_configuration": {}}, 400, "not allowed"),
        ({"file": parse["task_id"], "schema": schema, "topic": "Invoice"}, 400, "topic: only allowed"),
        ({"file": "00000000-0000-4000-8000-000000000000", "schema": schema}, 404, "Task not found"),
        ({"file": b64(path), "schema": schema, "parse_configuration": {"ocr_strategy": "Sometimes"}}, 400,
         "ocr_strategy"),
        ({"schema": schema}, 400, "file"),
    ]  # fmt: skip
    for body, status, message in cases:
        response = api.post("/tasks/extract", body)
        assert response.status_code == status, (body, response.content)
        assert message in response.json()["message"], (body, response.json())

    extract = api.post("/tasks/extract", {"file": parse["task_id"], "schema": schema}).json()
    response = api.post("/tasks/extract", {"file": extract["task_id"], "schema": schema})
    assert response.status_code == 400 and "Extract task" in response.json()["message"]


def test_extract_fails_with_the_reason_when_its_parse_is_cancelled(api, live_worker):  # noqa: F811
    long_pdf = base64.b64encode(pdf_bytes(*(f"Page {n} " + "words " * 200 for n in range(60)))).decode()
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    created = api.post("/tasks/extract", {"file": long_pdf, "schema": schema})
    assert created.status_code == 200, created.content
    assert created.json()["message"] == "Waiting for the parse task to finish"
    assert api.get(f"/tasks/{created.json()['parse_task_id']}/cancel").status_code == 200

    done = api.wait(created.json()["task_id"])
    assert done["status"] == "Failed"
    assert done["message"].startswith("The Parse task ended Cancelled"), done["message"]
    assert done["output"] is None


def test_split_then_extract_one_topic(api, live_worker, tmp_path):  # noqa: F811
    packet = _packet(tmp_path / "packet.pdf")
    topics = [
        {"name": "Invoice", "description": "invoice with invoice number, total amount and bill to"},
        {"name": "Contract", "description": "employment agreement between employer and employee"},
    ]
    created = api.post("/tasks/split", {"file": b64(packet), "topics": topics})
    assert created.status_code == 200, created.content
    split = api.wait(created.json()["task_id"])
    assert split["task_type"] == "Split" and split["status"] == "Succeeded", split["message"]
    assert split["output"]["topics"][0] == {"name": "Invoice", "pages": [1, 2, 3], "confidence": "Low"}
    assert split["output"]["unassigned_pages"] == [5]

    schema = {
        "type": "object",
        "properties": {"employer_terms": {"type": "string"}, "invoice_number": {"type": "string"}},
    }
    per_topic = api.post("/tasks/extract", {"file": split["task_id"], "topic": "Invoice", "schema": schema}).json()
    done = api.wait(per_topic["task_id"])
    assert done["status"] == "Succeeded", done["message"]
    assert done["output"]["results"]["invoice_number"] in ("A-1", "A-2")
    pages = {c["page_number"] for c in done["output"]["citations"]["invoice_number"]}
    assert pages <= {1, 2, 3}  # only the topic's pages, with their original numbers

    assert api.post("/tasks/extract", {"file": split["task_id"], "schema": schema}).status_code == 400  # no topic
    wrong = api.post("/tasks/extract", {"file": split["task_id"], "topic": "Weather", "schema": schema})
    assert wrong.status_code == 400 and "not one of the split's topics" in wrong.json()["message"]
    bad = api.post("/tasks/split", {"file": b64(packet), "topics": [{"name": "a"}, {"name": "a"}]})
    assert bad.status_code == 400 and "duplicate topic name" in bad.json()["message"]
    assert api.post("/tasks/split", {"file": b64(packet), "topics": []}).status_code == 400


def test_async_extract_returns_a_job_that_completes(api, live_worker, invoice):  # noqa: F811
    path, schema, truth = invoice
    created = api.post("/tasks/extract", {"file": b64(path), "schema": schema, "async": True})
    assert created.status_code == 202, created.content
    job = created.json()
    assert job["status"] == "pending" and job["task_type"] == "Extract"
    api.wait(job["job_id"])
    finished = api.get(f"/job/{job['job_id']}").json()
    assert finished["status"] == "completed"
    assert finished["result"]["output"]["results"]["invoice_number"] == truth["invoice_number"]


def test_another_workspaces_parse_task_is_not_found(api, live_worker, other_workspace):  # noqa: F811
    from tests.factories import parse_task

    foreign = parse_task(other_workspace, pdf_bytes("x"))
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    for route, body in (("/tasks/extract", {"schema": schema}), ("/tasks/split", {"topics": [{"name": "t"}]})):
        response = api.post(route, {"file": str(foreign.pk), **body})
        assert response.status_code == 404, response.content
