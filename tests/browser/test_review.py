"""Extraction review in Chromium: the schema editor, the extraction view with citations, keyboard review, runs
from the task list on the prefork worker, and what the API then returns."""

import csv
import io
import json
import re
from pathlib import Path

import pymupdf
import pytest
from django.utils import timezone

from tasks_app.choices import TaskStatus, TaskType
from tasks_app.models import ExtractionSchema, Task, TaskOutput
from tasks_app.services.api_keys import api_key_create
from tasks_app.services.extraction import task_process_derived
from tasks_app.services.intake import intake_extract
from tasks_app.services.processing import task_process
from tasks_app.services.schemas import schema_save
from tests.browser.conftest import log_in
from tests.conftest import wait_for
from tests.factories import parse_task

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

pytestmark = pytest.mark.django_db(transaction=True)

INVOICE_LINES = [
    "Northwind Traders Ltd",
    "Invoice number: INV-2041",
    "Invoice date: 2024-03-05",
    "Due date: 2024-04-04",
    "PO number: PO-7781",
    "Customer: Contoso GmbH",
    "Payment terms: Net 30",
    "Subtotal: 100.00",
    "Tax: 20.00",
    "Total: 120.00",
    "Currency: EUR",
    "Amount paid: 95.00",
]
SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "invoice_date": {"type": "string", "format": "date"},
        "due_date": {"type": "string", "format": "date"},
        "po_number": {"type": "string"},
        "customer": {"type": "string"},
        "payment_terms": {"type": "string"},
        "subtotal": {"type": "number"},
        "tax": {"type": "number"},
        "total": {"type": "number"},
        "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
    },
}


def invoice_pdf() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    for i, text in enumerate(INVOICE_LINES):
        page.insert_text((72, 90 + 28 * i), text, fontsize=12)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def parsed(workspace, name="invoice.pdf"):
    task = parse_task(workspace, invoice_pdf(), name=name, configuration={"ocr_strategy": "Auto"})
    task_process(task_id=str(task.pk))  # here, unless the session's prefork worker (if started) took the job first
    wait_for(lambda: Task.objects.get(pk=task.pk).is_terminal, timeout=60, what="the parse to finish")
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED, task.message
    return task


def test_build_paste_try_save_and_diff_a_schema(page, member, workspace):
    source = parsed(workspace)
    log_in(page, "mia")
    page.goto("/schemas/")
    page.click("text=New schema")
    page.fill("input[name=name]", "Invoice")
    # Build visually: the JSON follows.
    page.locator("[data-schema-field=invoice_number] .bf-desc").fill("The invoice's number")
    page.click("[data-add-root]")
    row = page.locator(".bf-row").nth(1)
    row.locator(".bf-name").fill("total")
    row.locator(".bf-type").select_option("number")
    expect(page.locator("#schema-json")).to_have_value(re.compile(r'"total": \{\s*"type": "number"'))
    built = json.loads(page.locator("#schema-json").input_value())
    assert built["properties"]["invoice_number"]["description"] == "The invoice's number"
    # Paste JSON (Pydantic style, with $defs): the builder follows, nested rows by their path.
    pasted = {
        "$defs": {
            "Line": {"type": "object", "properties": {"amount": {"type": "number"}, "label": {"type": "string"}}}
        },
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string"},
            "total": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "line_items": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
        },
        "required": ["invoice_number"],
    }
    page.locator("#schema-json").fill(json.dumps(pasted, indent=2))
    expect(page.locator("[data-schema-field='line_items[].amount']")).to_have_count(1)
    expect(page.locator("[data-schema-field=total] .bf-type")).to_have_value("number")
    expect(page.locator("[data-schema-field=invoice_number] .bf-required")).to_be_checked()
    expect(page.locator("#schema-status")).to_contain_text("Valid schema")
    # An invalid schema: the error names its JSON path and marks the row.
    page.locator("#schema-json").fill(json.dumps({"type": "object", "properties": {"total": {"type": "money"}}}))
    expect(page.locator("#schema-status")).to_contain_text("$.properties.total")
    expect(page.locator("[data-schema-field=total].has-error")).to_have_count(1)
    page.locator("#schema-json").fill(json.dumps(SCHEMA, indent=2))
    expect(page.locator("#schema-status")).to_contain_text("Valid schema")
    # Try it on the parsed invoice: values and their evidence, nothing saved.
    page.select_option("#try-document", str(source.pk))
    page.click("[data-try]")
    result = page.locator("[data-testid=try-result]")
    expect(result.locator("[data-try-field=invoice_number]")).to_contain_text("INV-2041")
    expect(result.locator("[data-try-field=total]")).to_contain_text("120")
    assert not ExtractionSchema.objects.exists() and Task.objects.filter(task_type=TaskType.EXTRACT).count() == 0
    # Save twice with a change: two versions, and their diff.
    page.click("[data-save]")
    expect(page.locator("[role=status]")).to_contain_text("Saved as v1")
    page.locator("[data-schema-field=total] .bf-desc").fill("Amount due, tax included")
    page.click("[data-save]")
    expect(page.locator("[role=status]")).to_contain_text("Saved as v2")
    assert [s.version for s in ExtractionSchema.objects.filter(name="Invoice")] == [2, 1]
    page.click("text=Compare")
    expect(page.locator("[data-testid=schema-diff] .add", has_text="Amount due, tax included")).to_have_count(1)


def test_review_an_invoice_with_the_keyboard_and_the_api_returns_the_reviewed_values(page, member, workspace, client):
    source = parsed(workspace)
    saved, _ = schema_save(workspace=workspace, name="Invoice", schema=SCHEMA, actor=member)
    extract = intake_extract(workspace=workspace, file=str(source.pk), schema=None, schema_ref=saved, actor=member)
    task_process_derived(task_id=str(extract.pk))
    extract.refresh_from_db()
    assert extract.status == TaskStatus.SUCCEEDED, extract.message
    machine = TaskOutput.objects.get(task=extract).data
    assert machine["results"]["total"] == 120.0

    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "mia")
    page.goto(f"/tasks/{extract.pk}/")
    fields = page.locator("[data-field]")
    expect(fields).to_have_count(10)
    # Click a field: its citation lights up, on the page that holds the words.
    page.locator("[data-field=invoice_number]").click()
    lit = page.locator('.cite.is-lit[data-citation-for="invoice_number"]')
    expect(lit).to_have_count(1)
    expect(page.locator('[data-page="1"] [data-citation-for="invoice_number"]')).to_have_count(1)
    # The highlighted box, read back from the PDF, holds the value's text.
    box = lit.bounding_box()
    frame = page.locator('.page-frame[data-page="1"]').bounding_box()
    rect = pymupdf.open(stream=invoice_pdf())[0].rect
    clip = pymupdf.Rect(
        (box["x"] - frame["x"]) / frame["width"] * rect.width,
        (box["y"] - frame["y"]) / frame["height"] * rect.height,
        (box["x"] + box["width"] - frame["x"]) / frame["width"] * rect.width,
        (box["y"] + box["height"] - frame["y"]) / frame["height"] * rect.height,
    )
    assert "INV-2041" in pymupdf.open(stream=invoice_pdf())[0].get_text("text", clip=clip)
    lit.hover()
    expect(page.locator("#seg-tip")).to_contain_text("invoice number")

    # Keyboard only from here: the first field is current.
    page.locator("[data-field=invoice_number]").focus()
    page.keyboard.press("?")
    expect(page.locator("#keys-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # accept invoice_number; the next undecided field becomes current
    expect(page.locator("[data-field=invoice_number]")).to_have_attribute("data-review-state", "accepted")
    assert not errors, errors
    expect(page.locator("[data-field=invoice_date]")).to_have_class(re.compile(r"\bis-current\b"))
    for _ in range(7):  # invoice_date … tax
        page.keyboard.press("a")
    expect(page.locator("[data-field=total]")).to_have_class(re.compile(r"\bis-current\b"))
    # Correct the total by drawing a box over "95.00" on the page (the amount actually paid, for the test's sake).
    page.keyboard.press("e")
    expect(page.locator("[data-field=total] [data-edit]")).to_be_visible()
    words = pymupdf.open(stream=invoice_pdf())[0].search_for("95.00")[0]
    frame = page.locator('.page-frame[data-page="1"]')
    frame.scroll_into_view_if_needed()
    fb = frame.bounding_box()
    x0 = fb["x"] + (words.x0 - 3) / rect.width * fb["width"]
    y0 = fb["y"] + (words.y0 - 3) / rect.height * fb["height"]
    x1 = fb["x"] + (words.x1 + 3) / rect.width * fb["width"]
    y1 = fb["y"] + (words.y1 + 3) / rect.height * fb["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()
    expect(page.locator("[data-field=total] input[name=value]")).to_have_value("95.00")
    page.keyboard.press("Enter")
    total = page.locator("[data-field=total]")
    expect(total).to_have_attribute("data-review-state", "corrected")
    expect(total.locator("[data-value]")).to_have_text("95")
    page.keyboard.press("j")
    page.keyboard.press("r")  # currency: rejected
    expect(page.locator("[data-field=currency]")).to_have_attribute("data-review-state", "rejected")
    expect(page.locator("[data-decided]")).to_have_text("10")
    expect(page.locator("[data-review-status]")).to_have_attribute("data-review-status", "reviewed")

    assert not errors, errors
    # The API returns the reviewed values, and /review each field's history.
    _, key = api_key_create(workspace=workspace, name="t")
    answer = client.get(f"/api/v1/tasks/{extract.pk}", headers={"Authorization": key}).json()
    assert answer["output"]["results"]["total"] == 95.0 and answer["output"]["results"]["currency"] is None
    assert answer["configuration"]["schema_name"] == "Invoice" and answer["configuration"]["schema_version"] == 1
    citation = answer["output"]["citations"]["total"][0]
    assert citation["content"] == "95.00"
    review = client.get(f"/api/v1/tasks/{extract.pk}/review", headers={"Authorization": key}).json()
    states = {f["path"]: f["state"] for f in review["fields"]}
    assert review["status"] == "reviewed" and states["total"] == "corrected" and states["currency"] == "rejected"
    assert [h["value"] for h in next(f for f in review["fields"] if f["path"] == "total")["history"]] == [95.0]

    # The quality page counts these decisions; the CSV export carries the correction.
    page.goto("/schemas/Invoice/stats/")
    expect(page.locator("[data-stat=fields] .stat-value")).to_have_text("10")
    expect(page.locator("[data-stat=accuracy] .stat-value")).to_have_text("80 %")  # total and currency were wrong
    expect(page.locator("[data-stats-field=total] td").nth(2)).to_have_text("0 %")
    expect(page.locator("[data-chart-field=total]")).to_have_count(1)
    page.click("text=Export ▾")
    with page.expect_download() as download:
        page.click("text=CSV (a row per document)")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[1][rows[0].index("total")] == "95" and rows[1][rows[0].index("currency")] == ""


def test_run_a_schema_on_two_documents_from_the_list_on_the_worker(page, member, workspace, live_worker):
    first, second = parsed(workspace, "a.pdf"), parsed(workspace, "b.pdf")
    schema_save(workspace=workspace, name="Invoice", schema=SCHEMA, actor=member)
    log_in(page, "mia")
    for task in (first, second):
        page.check(f"#sel-{task.pk}")
    page.click("button[value=extract]")
    expect(page.locator("[data-testid=bulk-notice]")).to_contain_text("Started 2 extractions with Invoice v1")
    extracts = Task.objects.filter(task_type=TaskType.EXTRACT)
    wait_for(
        lambda: extracts.filter(status=TaskStatus.SUCCEEDED).count() == 2,
        timeout=120,
        what=f"two extractions to succeed: {list(extracts.values_list('status', 'message'))}",
    )
    assert {t.source_task_id for t in extracts} == {first.pk, second.pk}  # each read its own parse: no second parse
    assert Task.objects.filter(task_type=TaskType.PARSE).count() == 2
    # From the viewer too: this document, one schema version.
    known = list(extracts.values_list("pk", flat=True))
    page.goto(f"/tasks/{first.pk}/")
    page.click("[data-extract-menu] summary")
    page.click("text=Run extraction")
    third = wait_for(lambda: Task.objects.filter(task_type=TaskType.EXTRACT).exclude(pk__in=known).first(), timeout=10)
    page.wait_for_url(f"**/tasks/{third.pk}/")
    expect(page.locator("[data-field=invoice_number] [data-value]")).to_have_text("INV-2041", timeout=120_000)

    # Compare versions on the worker: v2 run on the documents reviewed under v1, scored per field.
    from tasks_app.services.review import review_decide

    reviewed = extracts.first()
    for path in SCHEMA["properties"]:
        review_decide(task=reviewed, path=path, action="accept", actor=member)
    v2 = {"type": "object", "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "customer"}}
    schema_save(workspace=workspace, name="Invoice", schema=v2, actor=member)
    page.goto("/schemas/Invoice/stats/")
    page.select_option("select[name=base_version]", "1")
    page.select_option("select[name=new_version]", "2")
    page.click("[data-compare]")
    result = page.locator("[data-testid=compare-result]")
    expect(result).to_be_visible(timeout=120_000)
    expect(result.locator("[data-compare-field=invoice_number] td").nth(3)).to_have_text("1")
    expect(result.locator("[data-compare-field=customer] td").nth(4)).to_have_text("-1")  # v2 no longer asks for it


def test_the_queue_hands_out_documents_low_confidence_first_and_n_moves_on(page, member, workspace, make_user):
    from tasks_app.models import ExtractionReview

    source = parsed(workspace)
    saved, _ = schema_save(workspace=workspace, name="Invoice", schema=SCHEMA, actor=member)
    extracts = []
    for _ in range(3):
        task = intake_extract(workspace=workspace, file=str(source.pk), schema=None, schema_ref=saved, actor=member)
        task_process_derived(task_id=str(task.pk))
        wait_for(lambda pk=task.pk: Task.objects.get(pk=pk).is_terminal, timeout=60, what="the extraction")
        extracts.append(task)
    ExtractionReview.objects.filter(task=extracts[2]).update(low_count=9)  # the least sure comes first
    other = make_user("otto", workspace=workspace)
    ExtractionReview.objects.filter(task=extracts[1]).update(claimed_by=other, claimed_at=timezone.now())

    log_in(page, "mia")
    page.goto("/review/")
    expect(page.locator("[data-review-task]")).to_have_count(3)
    expect(page.locator("[data-review-task]").first).to_have_attribute("data-review-task", str(extracts[2].pk))
    page.click("[data-start-review]")
    page.wait_for_url(f"**/tasks/{extracts[2].pk}/?queue=1")
    assert ExtractionReview.objects.get(task=extracts[2]).claimed_by_id == member.pk
    page.keyboard.press("n")  # otto holds the second: the third in line is next
    page.wait_for_url(f"**/tasks/{extracts[0].pk}/?queue=1")
    expect(page.locator("[data-field]").first).to_be_visible()
    # otto's document says who has it, and refuses decisions while the claim is live.
    page.goto(f"/tasks/{extracts[1].pk}/")
    expect(page.locator(".alert-warn")).to_contain_text("otto is reviewing this document")
    page.locator("[data-field=total]").click()
    page.keyboard.press("a")
    expect(page.locator("[data-review-error]")).to_contain_text("otto is reviewing")
    expect(page.locator("[data-field=total]")).to_have_attribute("data-review-state", "unreviewed")
