"""services/review.py and services/schemas.py: decisions change what every reader gets, history stays, claims hold."""

import io

import pymupdf
import pytest
from django.utils import timezone

from tasks_app import engine, selectors
from tasks_app.choices import FieldState, ReviewStatus, Role, TaskStatus
from tasks_app.errors import ApplicationError
from tasks_app.models import AuditEvent, ExtractionReview, TaskOutput
from tasks_app.presenters import task_version
from tasks_app.services.extraction import task_process_derived
from tasks_app.services.processing import task_process
from tasks_app.services.review import PageBox, review_claim, review_decide, review_for
from tasks_app.services.schemas import schema_save
from tests.factories import extract_task, parse_task

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "total": {"type": "number"},
        "issued": {"type": "string", "format": "date"},
    },
}


def invoice_pdf() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    lines = ["ACME Supplies Ltd", "Invoice number: INV-2041", "Date: 2024-03-05", "Total: 120.50 EUR", "Paid 99.00"]
    for i, text in enumerate(lines):
        page.insert_text((72, 100 + 30 * i), text, fontsize=12)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.fixture
def extraction(workspace):
    source = parse_task(workspace, invoice_pdf())
    task_process(task_id=str(source.pk))
    task = extract_task(workspace, source, SCHEMA)
    task_process_derived(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED, task.message
    return task


def test_a_succeeded_extraction_opens_its_review_with_the_machine_output(extraction):
    review = ExtractionReview.objects.get(task=extraction)
    assert (review.status, review.field_count, review.decided_count) == (ReviewStatus.UNREVIEWED, 3, 0)
    assert review.machine_output["results"]["invoice_number"] == "INV-2041"


def test_accept_correct_reject_change_the_stored_output_and_keep_history(extraction, make_user):
    alice = make_user("alice", workspace=extraction.workspace)
    version = task_version(extraction)
    review_decide(task=extraction, path="invoice_number", action="accept", actor=alice)
    review_decide(task=extraction, path="total", action="correct", text="1.234,50", actor=alice)
    review_decide(task=extraction, path="issued", action="reject", actor=alice)

    output = TaskOutput.objects.get(task=extraction).data
    assert output["results"] == {"invoice_number": "INV-2041", "total": 1234.5, "issued": None}
    assert output["citations"]["total"] == [] and output["citations"]["issued"] == []  # typed: no evidence
    assert output["citations"]["invoice_number"]  # accepted: the machine's evidence stays
    extraction.refresh_from_db()
    assert task_version(extraction) != version  # cached API answers cannot outlive a correction

    review = review_for(task=extraction)
    assert (review.status, review.decided_count) == (ReviewStatus.REVIEWED, 3)
    fields = {f.path: f for f in selectors.review_fields(review=review, output=output)}
    assert fields["total"].machine_value == 120.5 and fields["total"].value == 1234.5
    assert fields["total"].state == FieldState.CORRECTED and fields["total"].reviewer == "alice"

    review_decide(task=extraction, path="total", action="correct", text="120.50", actor=alice)
    fields = {
        f.path: f for f in selectors.review_fields(review=review, output=TaskOutput.objects.get(task=extraction).data)
    }
    assert [d.state for d in fields["total"].history] == [FieldState.CORRECTED, FieldState.CORRECTED]
    assert [d.value for d in fields["total"].history] == [1234.5, 120.5]
    assert AuditEvent.objects.filter(verb="review.decided", target_id=str(extraction.pk)).count() == 4


def test_a_box_drawn_over_words_makes_the_value_and_its_citation(extraction, make_user):
    alice = make_user("alice", workspace=extraction.workspace)
    parse_output = selectors.parse_output_of(task=extraction)
    page = parse_output["pages"][0]
    doc = pymupdf.open(stream=invoice_pdf())
    points = doc[0].rect  # the output's page units are pixels of the page image; the test reasons in PDF points
    scale = page["page_width"] / points.width
    # "Paid 99.00" was written at x=72, baseline y=220 (12 pt): a box (in % of the page) around its number only.
    box = PageBox(
        page=1,
        left=100 / points.width * 100,
        top=208 / points.height * 100,
        width=60 / points.width * 100,
        height=16 / points.height * 100,
    )
    review_decide(task=extraction, path="total", action="correct", boxes=[box], actor=alice)
    output = TaskOutput.objects.get(task=extraction).data
    assert output["results"]["total"] == 99.0
    citation = output["citations"]["total"][0]
    assert citation["content"] == "99.00" and citation["page_number"] == 1
    [bbox] = citation["bboxes"]
    clip = pymupdf.Rect(bbox["left"], bbox["top"], bbox["left"] + bbox["width"], bbox["top"] + bbox["height"]) / scale
    words = doc[0].get_text("text", clip=clip)
    assert words.strip() == "99.00"  # the cited box, read back from the PDF, holds the value's text


def test_a_value_that_does_not_fit_the_type_or_path_is_a_clear_400(extraction, make_user):
    alice = make_user("alice", workspace=extraction.workspace)
    with pytest.raises(ApplicationError, match="'lots' is not a number"):
        review_decide(task=extraction, path="total", action="correct", text="lots", actor=alice)
    with pytest.raises(ApplicationError, match="not a field of this extraction"):
        review_decide(task=extraction, path="nope", action="accept", actor=alice)
    with pytest.raises(ApplicationError, match="No words inside the box"):
        review_decide(task=extraction, path="total", action="correct", boxes=[PageBox(1, 90, 90, 5, 5)], actor=alice)
    assert TaskOutput.objects.get(task=extraction).data["results"]["total"] == 120.5


def test_a_live_claim_keeps_a_second_reviewer_out_until_it_lapses(extraction, make_user):
    alice, bob = make_user("alice", workspace=extraction.workspace), make_user("bob", workspace=extraction.workspace)
    review = review_claim(review=review_for(task=extraction), user=alice)
    assert review.status == ReviewStatus.IN_REVIEW
    with pytest.raises(ApplicationError, match="alice is reviewing"):
        review_claim(review=review, user=bob)
    with pytest.raises(ApplicationError, match="alice is reviewing"):
        review_decide(task=extraction, path="total", action="accept", actor=bob)
    ExtractionReview.objects.filter(pk=review.pk).update(claimed_at=timezone.now() - selectors.CLAIM_IDLE)
    review.refresh_from_db()
    review_claim(review=review, user=bob)
    review_decide(task=extraction, path="total", action="accept", actor=bob)


def test_saving_a_changed_schema_adds_a_version_and_an_unchanged_one_does_not(workspace, make_user):
    alice = make_user("alice", workspace=workspace)
    v1, created = schema_save(workspace=workspace, name="Invoice", schema=SCHEMA, actor=alice)
    assert (v1.version, created) == (1, True)
    same, created = schema_save(workspace=workspace, name="Invoice", schema=dict(SCHEMA), actor=alice)
    assert (same.pk, created) == (v1.pk, False)
    changed = {**SCHEMA, "properties": {**SCHEMA["properties"], "currency": {"type": "string"}}}
    v2, created = schema_save(workspace=workspace, name="Invoice", schema=changed, actor=alice)
    assert (v2.version, created) == (2, True)
    assert [s.version for s in selectors.schema_versions(workspace=workspace, name="Invoice")] == [2, 1]
    with pytest.raises(ApplicationError, match=r"Invalid schema at \$\.properties\.x"):
        schema_save(
            workspace=workspace,
            name="Invoice",
            schema={"type": "object", "properties": {"x": {"type": "nope"}}},
            actor=alice,
        )


def test_leaf_paths_round_trip_through_rows_and_odd_keys():
    schema = {
        "type": "object",
        "properties": {
            "line_items": {"type": "array", "items": {"type": "object", "properties": {"amount": {"type": "number"}}}},
            "odd": {"type": "object", "properties": {"net (EUR)": {"type": "integer"}}},
        },
    }
    leaves = engine.leaf_fields(schema, {"line_items": [{"amount": 1}, {"amount": 2}]})
    assert [leaf.path for leaf in leaves] == ["line_items[0].amount", "line_items[1].amount", 'odd["net (EUR)"]']
    assert all(engine.path_parse(leaf.path) == leaf.keys for leaf in leaves)


def test_stats_count_the_latest_human_decisions_and_recommend_auto_accept_from_them(workspace, make_user):
    from tasks_app.models import FieldDecision
    from tasks_app.services.review import auto_accept_set

    alice = make_user("alice", workspace=workspace, role=Role.ADMIN)  # admins switch auto-accept rules
    saved, _ = schema_save(workspace=workspace, name="Invoice", schema=SCHEMA, actor=alice)
    source = parse_task(workspace, invoice_pdf())
    task_process(task_id=str(source.pk))
    tasks = []
    for _ in range(3):
        task = extract_task(workspace, source, saved.ordered_schema)
        task.configuration |= {"schema_name": "Invoice", "schema_version": 1}
        task.save(update_fields=["configuration"])
        task_process_derived(task_id=str(task.pk))
        tasks.append(task)
    confidence = {f.path: f.confidence for f in selectors.review_fields(review=review_for(task=tasks[0]), output=None)}
    for task in tasks:
        review_decide(task=task, path="invoice_number", action="accept", actor=alice)
    review_decide(task=tasks[0], path="total", action="correct", text="1", actor=alice)
    review_decide(
        task=tasks[0], path="total", action="correct", text="120.50", actor=alice
    )  # back: the machine was right
    review_decide(task=tasks[1], path="total", action="correct", text="99", actor=alice)
    stats = selectors.review_stats(workspace=workspace, schema_name="Invoice", schema_version=1)
    by_key = {f.field_key: f for f in stats.fields}
    assert (by_key["invoice_number"].all.right, by_key["invoice_number"].all.n) == (3, 3)
    assert (by_key["total"].all.right, by_key["total"].all.n) == (1, 2)  # only the latest decision per field counts
    assert stats.documents_with_decisions == 3 and stats.all.n == 5
    bucket = by_key["invoice_number"].high if confidence["invoice_number"] == "High" else by_key["invoice_number"].low
    assert bucket.n == 3
    assert not by_key["invoice_number"].recommend  # 3 reviews are not evidence enough
    assert round(selectors.wilson_lower(312, 315), 3) == 0.972

    # A rule: later extractions get the field's High values as `auto`, marked, and outside the accuracy figures.
    auto_accept_set(
        workspace=workspace, schema_name="Invoice", field_key="invoice_number", enabled=True, actor=alice, evidence={}
    )
    later = extract_task(workspace, source, saved.ordered_schema)
    later.configuration |= {"schema_name": "Invoice", "schema_version": 1}
    later.save(update_fields=["configuration"])
    task_process_derived(task_id=str(later.pk))
    autos = FieldDecision.objects.filter(review__task=later, state=FieldState.AUTO)
    assert [d.path for d in autos] == (["invoice_number"] if confidence["invoice_number"] == "High" else [])
    again = selectors.review_stats(workspace=workspace, schema_name="Invoice")
    assert again.all.n == 5 and again.auto == autos.count()
    assert AuditEvent.objects.filter(verb="review.auto_accept_rule.enabled").count() == 1


def test_compare_versions_scores_a_new_version_against_the_reviewed_values(workspace, make_user):
    from tasks_app.models import SchemaComparison
    from tasks_app.services.comparison import comparison_run, comparison_start
    from tasks_app.services.intake import intake_extract

    alice = make_user("alice", workspace=workspace)
    v1, _ = schema_save(workspace=workspace, name="Invoice", schema=SCHEMA, actor=alice)
    source = parse_task(workspace, invoice_pdf())
    task_process(task_id=str(source.pk))
    task = intake_extract(workspace=workspace, file=str(source.pk), schema=None, schema_ref=v1, actor=alice)
    task_process_derived(task_id=str(task.pk))
    task.refresh_from_db()
    with pytest.raises(ApplicationError, match="No document is fully reviewed"):
        comparison_start(workspace=workspace, schema_name="Invoice", base_version=1, new_version=1, actor=alice)
    review_decide(task=task, path="invoice_number", action="accept", actor=alice)
    review_decide(task=task, path="total", action="correct", text="99.00", actor=alice)  # the machine said 120.5
    review_decide(task=task, path="issued", action="correct", text="2024-03-05", actor=alice)
    # v2 describes total as the amount paid: the extractor still reads the labelled total, so nothing improves, and
    # a field v2 drops (issued) can no longer match.
    v2_schema = {"type": "object", "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}}}
    schema_save(workspace=workspace, name="Invoice", schema=v2_schema, actor=alice)
    comparison = comparison_start(
        workspace=workspace, schema_name="Invoice", base_version=1, new_version=2, actor=alice
    )
    assert (comparison.status, comparison.documents_total) == (TaskStatus.STARTING, 1)
    comparison_run(comparison_id=str(comparison.pk))
    comparison_run(comparison_id=str(comparison.pk))  # delivered twice: run once
    comparison = SchemaComparison.objects.get(pk=comparison.pk)
    assert comparison.status == TaskStatus.SUCCEEDED and comparison.documents_done == 1
    assert comparison.result["invoice_number"] == {"n": 1, "before": 1, "after": 1}
    assert comparison.result["total"] == {"n": 1, "before": 0, "after": 0}
    assert comparison.result["issued"]["n"] == 1 and comparison.result["issued"]["after"] == 0  # v2 has no such field
