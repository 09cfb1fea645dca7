"""`make screenshots`: refreshes docs/screenshots/ from a live server. Skipped in normal test runs."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tasks_app.models import Task, TaskOutput
from tests.browser.conftest import log_in
from tests.conftest import wait_for
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


def review_invoice_pdf(number: str, total: str) -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    head = [
        ("Northwind Traders Ltd", 18),
        ("12 Harbour Street, Leeds LS1 4AB", 10),
        (f"Invoice number: {number}", 12),
        ("Invoice date: 2024-03-05", 12),
        ("Due date: 2024-04-04", 12),
        ("Customer: Contoso GmbH", 12),
    ]
    y = 80
    for text, size in head:
        page.insert_text((72, y), text, fontsize=size)
        y += size + 14
    y += 10
    for x, text in ((72, "Description"), (330, "Quantity"), (410, "Unit price"), (490, "Amount")):
        page.insert_text((x, y), text, fontsize=11)
    for description, qty, price, amount in (
        ("Paper A4, 80 g", "10", "4.50", "45.00"),
        ("Toner cartridge", "2", "32.50", "65.00"),
        ("Delivery", "1", "10.00", "10.00"),
    ):
        y += 22
        for x, text in ((72, description), (330, qty), (410, price), (490, amount)):
            page.insert_text((x, y), text, fontsize=11)
    for label, value in (("Subtotal:", "120.00"), ("VAT 20%:", "24.00"), ("Total:", total)):
        y += 26
        page.insert_text((400, y), f"{label} {value}", fontsize=12)
    return doc.tobytes()


def test_refresh_review_screenshots(page, workspace, make_user):
    from tasks_app.choices import Role
    from tasks_app.services.extraction import task_process_derived
    from tasks_app.services.intake import intake_extract
    from tasks_app.services.processing import task_process
    from tasks_app.services.review import review_decide
    from tasks_app.services.schemas import schema_save
    from tests.factories import parse_task

    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    mia = make_user("mia", workspace=workspace, role=Role.ADMIN)
    schema = {
        "type": "object",
        "properties": {
            "vendor": {"type": "string", "description": "The seller, usually the first line"},
            "invoice_number": {"type": "string"},
            "invoice_date": {"type": "string", "format": "date"},
            "due_date": {"type": "string", "format": "date"},
            "customer": {"type": "string"},
            "total": {"type": "number", "description": "Amount due, tax included"},
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
            "line_items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "description": {"type": "string"},
                        "quantity": {"type": "integer"},
                        "unit_price": {"type": "number"},
                        "amount": {"type": "number"},
                    },
                },
            },
        },
    }
    saved, _ = schema_save(
        workspace=workspace, name="Invoice", schema=schema, actor=mia, description="Supplier invoices"
    )
    extracts = []
    for i in range(4):
        source = parse_task(
            workspace, review_invoice_pdf(f"INV-20{41 + i}", f"{144 + i}.00"), name=f"invoice-{41 + i}.pdf"
        )
        task_process(task_id=str(source.pk))  # here, unless the session's prefork worker took the job first
        wait_for(lambda pk=source.pk: Task.objects.get(pk=pk).is_terminal, timeout=60, what="the parse")
        extract = intake_extract(workspace=workspace, file=str(source.pk), schema=None, schema_ref=saved, actor=mia)
        task_process_derived(task_id=str(extract.pk))
        wait_for(lambda pk=extract.pk: Task.objects.get(pk=pk).is_terminal, timeout=60, what="the extraction")
        extracts.append(extract)
    first = extracts[0]
    review_decide(task=first, path="invoice_number", action="accept", actor=mia)
    review_decide(task=first, path="invoice_date", action="accept", actor=mia)
    review_decide(task=extracts[1], path="total", action="correct", text="145.00", actor=mia)
    log_in(page, "mia")

    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(f"/schemas/{saved.name}/")
    expect(page.locator("[data-schema-field='line_items[].amount']")).to_have_count(1)
    page.select_option("#try-document", str(first.source_task_id))
    page.click("[data-try]")
    expect(page.locator("[data-testid=try-result]")).to_be_visible()
    page.screenshot(path=str(out / "schema-editor.png"))

    page.goto(f"/tasks/{first.pk}/")
    page.locator("[data-field=total]").click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "extraction-view.png"))

    page.goto("/review/")
    page.screenshot(path=str(out / "review-queue.png"))

    for extract in extracts:  # a few reviewed documents for the quality page
        for path in ("vendor", "invoice_number", "invoice_date", "due_date", "customer", "total"):
            review_decide(task=extract, path=path, action="accept", actor=mia)
        review_decide(task=extract, path="currency", action="correct", text="EUR", actor=mia)
    page.goto(f"/schemas/{saved.name}/stats/")
    page.screenshot(path=str(out / "schema-stats.png"), full_page=True)


def test_refresh_settings_screenshots(page, workspace, make_user):
    """Settings › Members (with an invitation link just made), API keys (a new key shown once), Retention, Usage,
    Audit log (webhooks: test_refresh_webhook_screenshots)."""
    from tasks_app.choices import Role
    from tasks_app.services.api_keys import api_key_create, api_key_revoke
    from tasks_app.services.members import invitation_create

    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    owner = make_user("olga", workspace=workspace, role=Role.OWNER)
    owner.email = "olga@acme.example"
    owner.save()
    for name, role in (("ada", Role.ADMIN), ("mia", Role.MEMBER), ("sam", Role.MEMBER), ("vera", Role.VIEWER)):
        make_user(name, workspace=workspace, role=role)
    invitation_create(workspace=workspace, actor=owner, role=Role.MEMBER, email="li@acme.example")
    invitation_create(workspace=workspace, actor=owner, role=Role.VIEWER)
    api_key_create(workspace=workspace, name="ingestion script", created_by=owner)
    reader, _ = api_key_create(workspace=workspace, name="BI dashboards", created_by=owner, role=Role.VIEWER)
    old, _ = api_key_create(workspace=workspace, name="2025 migration", created_by=owner)
    api_key_revoke(key=old, actor=owner)
    log_in(page, "olga")

    page.goto("/settings/members/")
    form = page.locator("[data-invite-form]")
    form.locator("input[name=email]").fill("noor@acme.example")
    form.get_by_role("button", name="Create invitation").click()
    expect(page.locator("[data-invite-link]")).to_be_visible()
    page.screenshot(path=str(out / "settings-members.png"), full_page=True)

    page.goto("/settings/api-keys/")
    key_form = page.locator("[data-api-key-form]")
    key_form.locator("input[name=name]").fill("nightly export")
    key_form.locator("select[name=expires_in_days]").select_option("90")
    key_form.get_by_role("button", name="Create key").click()
    expect(page.locator("[data-secret]")).to_be_visible()
    page.screenshot(path=str(out / "settings-api-keys.png"), full_page=True)

    page.goto("/settings/retention/")
    page.locator("[data-retention-default]").select_option(label="30 days")
    page.get_by_role("button", name="Save retention").click()
    expect(page.get_by_text("Retention settings saved")).to_be_visible()
    page.screenshot(path=str(out / "settings-retention.png"), full_page=True)

    now = timezone.now()
    for day in range(30):
        for n in range((day * 7) % 5):
            Task.objects.create(
                workspace=workspace,
                file_name=f"scan-{day}-{n}.pdf",
                status="Succeeded" if (day + n) % 6 else "Failed",
                page_count=1 + (day * 3 + n * 5) % 11,
                created_at=now - timedelta(days=day, hours=n),
                finished_at=now - timedelta(days=day, hours=n) + timedelta(minutes=1),
                created_by_user=owner if n % 2 else None,
                created_by_key=reader if not n % 2 else None,
            )
    page.goto("/settings/usage/")
    expect(page.locator("[data-usage-chart]")).to_be_visible()
    page.screenshot(path=str(out / "settings-usage.png"), full_page=True)

    page.goto("/settings/audit/")
    expect(page.locator("[data-audit-log]")).to_be_visible()
    page.screenshot(path=str(out / "settings-audit.png"), full_page=True)


def test_refresh_webhook_screenshots(page, workspace, make_user, settings):
    """Settings › Webhooks: endpoints (a new one's secret shown once) and one endpoint's delivery log."""
    from tasks_app.choices import Role
    from tasks_app.models import WebhookEndpoint
    from tasks_app.services.webhooks import webhook_endpoint_create, webhook_send_test
    from tests.webhook_receiver import webhook_receiver

    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1", "localhost"]
    make_user("ada", workspace=workspace, role=Role.ADMIN)
    with webhook_receiver() as receiver:
        other = webhook_endpoint_create(
            workspace=workspace,
            url=receiver.url,
            description="Review results to the ERP",
            actor=None,
            event_types=["review.completed"],
        )
        for _ in range(3):
            webhook_send_test(endpoint=other, actor=None)
        log_in(page, "ada")
        page.goto("/settings/webhooks/")
        page.fill("[data-webhook-form] input[name=url]", receiver.url + "ingest")
        page.fill("[data-webhook-form] input[name=description]", "Indexing pipeline")
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("[data-webhook-secret]")).to_be_visible()
        page.screenshot(path=str(out / "settings-webhooks.png"), full_page=True)
        endpoint = WebhookEndpoint.objects.get(description="Indexing pipeline")
        page.goto(f"/settings/webhooks/{endpoint.pk}/")
        page.get_by_role("button", name="Send test event").click()
        expect(page.locator('[data-webhook-log] [data-delivery][data-outcome="delivered"]')).to_have_count(1)
        page.screenshot(path=str(out / "settings-webhook-log.png"), full_page=True)
