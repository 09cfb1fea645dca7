"""`make screenshots`: refreshes docs/screenshots/ from a live server. Skipped in normal test runs."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tasks_app.models import Task, TaskOutput
from tests.browser.conftest import log_in
from tests.engine.docs import structured_pdf
from tests.factories import pdf_bytes, png_bytes

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

OUT = os.environ.get("CHUNKR_SCREENSHOTS")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not OUT, reason="run by `make screenshots` (set CHUNKR_SCREENSHOTS=<dir>)"),
]

SAMPLE_NAMES = [
    ("Q3-board-minutes.pdf", "Succeeded", 14),
    ("supplier-contract-2024.pdf", "Succeeded", 38),
    ("scanned-receipt-0412.jpg", "Succeeded", 1),
    ("annual-report-2023.pdf", "Processing", 212),
    ("handbook-v7.docx", "Starting", None),
    ("invoice-88213.pdf", "Failed", 2),
    ("floor-plan.tiff", "Succeeded", 3),
    ("research-notes.md", "Cancelled", 5),
    ("pricing-sheet.xlsx", "Succeeded", 4),
    ("whitepaper-draft.pdf", "Succeeded", 27),
]


def seed_list(workspace, users, key) -> None:
    now = timezone.now()
    for i, (name, status, pages) in enumerate(SAMPLE_NAMES):
        created = now - timedelta(hours=3 + i * 7)
        extra = {}
        if status == "Processing":
            extra = {"pages_total": pages, "pages_done": 131, "message": f"Processing page 132 of {pages}"}
        if status == "Failed":
            extra = {"message": "This PDF is password-protected. Upload an unlocked copy."}
        Task.objects.create(
            workspace=workspace,
            file_name=name,
            status=status,
            page_count=pages,
            created_at=created,
            created_by_user=users[i % len(users)] if i % 4 != 2 else None,
            created_by_key=key if i % 4 == 2 else None,
            finished_at=created + timedelta(minutes=2) if status in ("Succeeded", "Failed", "Cancelled") else None,
            expires_at=created + timedelta(days=30) if i % 3 == 0 else None,
            **extra,
        )


def test_refresh_screenshots(page, workspace, make_user, live_worker, tmp_path):
    from tasks_app.choices import Role
    from tasks_app.services.api_keys import api_key_create

    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    mia = make_user("mia", workspace=workspace, role=Role.ADMIN)
    tom = make_user("tom", workspace=workspace, role=Role.MEMBER)
    key, _ = api_key_create(workspace=workspace, name="ingest-bot")
    seed_list(workspace, [mia, tom], key)
    log_in(page, "mia")

    page.goto("/upload/")
    page.select_option("select[name=ocr_strategy]", "Auto")
    page.fill("input[name=target_length]", "512")
    page.select_option("select[name=tokenizer]", "Cl100kBase")
    page.fill("input[name=preset_name]", "Born-digital, 512 tokens")
    page.click("button:has-text('Save preset')")
    expect(page.locator("select[name=preset] option:checked")).to_have_text("Born-digital, 512 tokens")
    report = structured_pdf(tmp_path / "report.pdf", pages=3).read_bytes()
    page.set_input_files(
        "[data-file-input]",
        [
            {"name": "quarterly-report.pdf", "mimeType": "application/pdf", "buffer": report},
            {"name": "memo.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("Short memo", "Page two")},
            {"name": "whiteboard.png", "mimeType": "image/png", "buffer": png_bytes()},
            {"name": "archive.zip", "mimeType": "application/zip", "buffer": b"PK\x05\x06" + b"\x00" * 18},
        ],
    )
    expect(page.locator("[data-upload-result]")).to_have_count(4)
    expect(page.locator('.task-chip[data-status="Succeeded"]')).to_have_count(3, timeout=180_000)
    page.screenshot(path=str(out / "upload.png"))

    page.goto("/tasks/")
    expect(page.locator("tbody tr[data-task-id]")).to_have_count(13)
    page.locator("tbody tr", has_text="floor-plan").locator("input[name=task_ids]").check()
    page.locator("tbody tr", has_text="pricing-sheet").locator("input[name=task_ids]").check()
    expect(page.locator("[data-testid=task-count]")).to_have_text("13 tasks")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "tasks.png"))

    task = Task.objects.get(file_name="quarterly-report.pdf")
    segments = [s for c in TaskOutput.objects.get(task=task).data["chunks"] for s in c["segments"]]
    table = next((s for s in segments if s["segment_type"] == "Table"), segments[0])
    page.goto(f"/tasks/{task.pk}/")
    page.locator(f'.seg[data-segment-id="{table["segment_id"]}"]').click()
    expect(page.locator("#segment-panel [data-detail-segment]")).to_be_visible()
    page.locator(".page-frame").first.scroll_into_view_if_needed()
    text = next(s for s in segments if s["segment_type"] == "Text")
    page.locator(f'.seg[data-segment-id="{text["segment_id"]}"]').hover(position={"x": 40, "y": 10})
    page.wait_for_timeout(400)
    page.screenshot(path=str(out / "viewer.png"))
