"""An admin sets the workspace's retention (24 hours, zero data retention) and reads the usage chart, in Chromium."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.choices import Role, TaskStatus
from tasks_app.models import Task
from tests.browser.conftest import PASSWORD, log_in
from tests.factories import parse_task, pdf_bytes

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("CHUNKR_RETENTION_SHOTS")  # a folder: the pages' screenshots are saved there when set


@pytest.fixture
def admin(workspace, make_user):
    return make_user("ada", workspace=workspace, role=Role.ADMIN, password=PASSWORD)


def test_admin_sets_24_hours_and_zero_data_retention(page, admin, workspace):
    log_in(page, "ada")
    page.goto("/settings/")
    page.click("[data-settings-tab=retention]")
    form = page.locator("[data-retention-form]")
    expect(form).to_be_visible()
    page.select_option("[data-retention-default]", label="24 hours")
    page.check("[data-zdr]")
    page.locator("[data-zdr-trigger] input[value=both]").check()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/retention-before-save.png", full_page=True)
    page.click("[data-retention-form] button[type=submit]")
    expect(page.locator("[data-retention-saved]")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/retention.png", full_page=True)
    workspace.refresh_from_db()
    assert (workspace.default_expires_in, workspace.zdr_enabled, workspace.zdr_trigger) == (86400, True, "both")

    page.reload()
    expect(page.locator("[data-retention-default]")).to_have_value("86400")
    expect(page.locator("[data-zdr]")).to_be_checked()
    expect(page.locator("[data-zdr-trigger] input[value=both]")).to_be_checked()


def test_usage_page_renders_its_chart(page, admin, workspace):
    now = timezone.now()
    for days_ago, pages in [(0, 12), (0, 3), (2, 7), (5, 20), (9, 4), (14, 9), (20, 1), (27, 15)]:
        task = parse_task(workspace, pdf_bytes())
        Task.objects.filter(pk=task.pk).update(
            status=TaskStatus.SUCCEEDED,
            page_count=pages,
            created_at=now - timedelta(days=days_ago),
            created_by_user=admin,
        )
    log_in(page, "ada")
    page.goto("/settings/usage/")
    chart = page.locator("svg[data-usage-chart]")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(30)
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 60
    tallest = max(chart.locator("rect.bar").evaluate_all("bars => bars.map(b => b.getBBox().height)"))
    assert tallest > 100  # 20 pages on one day: the peak bar fills the chart's height
    expect(page.locator("[data-usage-table=members]")).to_contain_text("ada")
    expect(page.locator("[data-usage-csv]")).to_have_attribute("href", "/settings/usage.csv")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/usage.png", full_page=True)


def test_a_zdr_tombstone_is_listed_as_deleted(page, admin, workspace):
    from tasks_app.services.processing import task_process
    from tasks_app.services.retention import zdr_note_fetched

    workspace.zdr_enabled = True
    workspace.save()
    task = parse_task(workspace, pdf_bytes("Private words"), name="private.pdf")
    task_process(task_id=str(task.pk))
    assert zdr_note_fetched(task.pk)
    log_in(page, "ada")
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_have_attribute("data-tombstone", "")
    expect(row).to_contain_text("Deleted (zero data retention)")
    expect(row).to_contain_text("Succeeded")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/tombstone-list.png")
    row.locator("a").first.click()
    expect(page.locator("section[data-tombstone]")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Private words")
