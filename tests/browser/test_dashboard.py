import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.models import Task, TaskOutput
from tests.browser.conftest import log_in
from tests.engine.docs import structured_pdf
from tests.factories import pdf_bytes, png_bytes

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

pytestmark = pytest.mark.django_db(transaction=True)  # the live server and the worker see committed rows only


def output_segments(task: Task) -> list[dict]:
    return [s for chunk in TaskOutput.objects.get(task=task).data["chunks"] for s in chunk["segments"]]


def test_upload_watch_progress_and_review_in_the_viewer(page, member, live_worker, tmp_path):
    log_in(page, "mia")
    page.click("nav >> text=Upload")
    page.select_option("select[name=ocr_strategy]", "Auto")  # born-digital PDFs need no OCR: faster
    report = structured_pdf(tmp_path / "report.pdf", pages=3).read_bytes()
    page.set_input_files(
        "[data-file-input]",
        [
            {"name": "report.pdf", "mimeType": "application/pdf", "buffer": report},
            {"name": "memo.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("Short memo", "Page two")},
            {"name": "scan.png", "mimeType": "image/png", "buffer": png_bytes()},
        ],
    )
    results = page.locator("[data-upload-result]")
    expect(results).to_have_count(3)
    chips = page.locator("[data-upload-result] .task-chip")
    expect(chips).to_have_count(3)
    seen = set()
    for _ in range(600):  # the chips poll the server; no reload happens
        seen.update(chips.evaluate_all("els => els.map(e => e.dataset.status)"))
        if page.locator('.task-chip[data-status="Succeeded"]').count() == 3:
            break
        page.wait_for_timeout(200)
    assert page.locator('.task-chip[data-status="Succeeded"]').count() == 3, seen
    assert seen & {"Starting", "Processing"}, seen  # we watched them run
    assert Task.objects.count() == 3

    page.locator("[data-upload-result]", has_text="report.pdf").locator("[data-task-link]").click()
    task = Task.objects.get(file_name="report.pdf")
    page.wait_for_url(f"**/tasks/{task.pk}/")
    segments = output_segments(task)
    frames = page.locator(".page-frame")
    expect(frames).to_have_count(3)
    frames.nth(2).scroll_into_view_if_needed()  # page 3's boxes load when it scrolls into view
    boxes = page.locator(".seg")
    expect(boxes).to_have_count(len(segments))
    assert sorted(boxes.evaluate_all("els => els.map(e => e.dataset.segmentId)")) == sorted(
        s["segment_id"] for s in segments
    )

    # Toggle one type off: its boxes disappear, the others stay.
    kinds = sorted({s["segment_type"] for s in segments}, key=lambda k: -sum(s["segment_type"] == k for s in segments))
    hidden = kinds[0]
    page.locator(f'.type-toggle[data-type="{hidden}"]').click()
    for box in page.locator(f'.seg[data-segment-type="{hidden}"]').all():
        expect(box).to_be_hidden()
    if len(kinds) > 1:
        expect(page.locator(f'.seg[data-segment-type="{kinds[1]}"]').first).to_be_visible()
    page.locator(f'.type-toggle[data-type="{hidden}"]').click()
    expect(page.locator(f'.seg[data-segment-type="{hidden}"]').first).to_be_visible()

    # Click a box: the panel selects that segment and shows its content.
    target = next(s for s in segments if s["page_number"] == 1 and s["text"].strip())
    frames.first.scroll_into_view_if_needed()
    box = page.locator(f'.seg[data-segment-id="{target["segment_id"]}"]')
    box.click()
    expect(box).to_have_class(re.compile(r"\bis-selected\b"))
    detail = page.locator(f'#segment-panel [data-detail-segment="{target["segment_id"]}"]')
    expect(detail).to_be_visible()
    expect(detail.locator("[data-testid=segment-html]")).to_contain_text(target["text"].split()[0])
    detail.locator("[data-tab=json]").click()
    expect(detail.locator("[data-pane=json]")).to_contain_text(target["segment_id"])

    # Keyboard: j moves to the next segment in reading order.
    page.locator("#doc-scroll").focus()
    page.keyboard.press("j")
    expect(page.locator(".seg.is-selected")).not_to_have_attribute("data-segment-id", target["segment_id"])
    page.keyboard.press("k")
    expect(page.locator(".seg.is-selected")).to_have_attribute("data-segment-id", target["segment_id"])

    # Chunks tab: clicking a segment there scrolls to and highlights its box.
    page.locator(".panel-tabs [data-tab=chunks]").click()
    last = segments[-1]
    page.locator(f'#chunk-panel [data-focus-segment="{last["segment_id"]}"]').click()
    focused = page.locator(f'.seg[data-segment-id="{last["segment_id"]}"]')
    expect(focused).to_have_class(re.compile(r"\bis-selected\b"))
    expect(focused).to_be_in_viewport()

    # Downloads are plain links.
    with page.expect_download() as download:
        page.locator("[data-download-menu] summary").click()
        page.locator(".menu-items >> text=Markdown").click()
    assert download.value.suggested_filename == "report.md"


def make_task(workspace, name, user, *, days_ago=0, pages=1, status="Succeeded"):
    created = timezone.now() - timedelta(days=days_ago)
    return Task.objects.create(
        workspace=workspace,
        file_name=name,
        status=status,
        created_by_user=user,
        page_count=pages,
        created_at=created,
        finished_at=created + timedelta(minutes=1),
    )


def test_filter_sort_and_bulk_delete_in_the_list(page, member, workspace):
    for i, name in enumerate(["invoice-a.pdf", "invoice-b.pdf", "contract.pdf", "invoice-c.pdf"]):
        make_task(workspace, name, member, days_ago=i, pages=10 - i)
    log_in(page, "mia")
    rows = page.locator("tbody tr[data-task-id]")
    expect(rows).to_have_count(4)

    page.fill("input[name=q]", "invoice")
    expect(rows).to_have_count(3)
    expect(page).to_have_url(re.compile(r"q=invoice"))
    page.select_option("select[name=status]", "Succeeded")
    expect(page).to_have_url(re.compile(r"status=Succeeded"))

    page.click("th a[data-sort=file_name]")
    expect(page).to_have_url(re.compile(r"sort=file_name"))
    expect(rows.locator(".file-name")).to_have_text(["invoice-a.pdf", "invoice-b.pdf", "invoice-c.pdf"])
    page.click("th a[data-sort=file_name]")
    expect(page).to_have_url(re.compile(r"sort=-file_name"))
    expect(rows.locator(".file-name")).to_have_text(["invoice-c.pdf", "invoice-b.pdf", "invoice-a.pdf"])
    expect(page.locator("[data-testid=task-count]")).to_have_text("3 tasks")

    page.reload()  # everything was in the URL
    expect(rows.locator(".file-name")).to_have_text(["invoice-c.pdf", "invoice-b.pdf", "invoice-a.pdf"])
    expect(page.locator("input[name=q]")).to_have_value("invoice")

    for name in ("invoice-a.pdf", "invoice-c.pdf"):
        rows.filter(has_text=name).locator("input[name=task_ids]").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.click("[data-bulkbar] button[value=delete]")
    expect(page.locator("[data-testid=bulk-notice]")).to_contain_text("Deleted 2 tasks.")
    expect(rows.locator(".file-name")).to_have_text(["invoice-b.pdf"])
    assert sorted(Task.objects.values_list("file_name", flat=True)) == ["contract.pdf", "invoice-b.pdf"]
